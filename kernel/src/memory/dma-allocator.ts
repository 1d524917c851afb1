import { AddressTable } from "./address-table.js";
import { DmaDirection, type DmaDomain } from "./dma.js";
import { MachineMemory, PAGE_SIZE } from "./machine-memory.js";

/** Memory both the CPU (driver) and the device see: a CPU view and the bus address to program. */
export interface CoherentBuffer {
  readonly busAddress: number;
  readonly machineAddress: number;
  readonly size: number;
  /** The CPU's view of the buffer. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  free(): void;
}

export class DmaMappingError extends Error {}

/**
 * The driver side of DMA for one device: coherent allocations and streaming mappings, all entered in
 * the device's IOMMU domain, all released together when the device is released.
 */
export class DmaAllocator {
  private readonly coherent = new Map<number, CoherentBuffer>();
  /**
   * Streaming mappings by bus address, each a number (see encodeMapping) so that mapping a packet
   * allocates nothing. An address mapped more than once keeps its further mappings in sharedStreaming.
   */
  private readonly streaming = new AddressTable();
  private readonly sharedStreaming = new Map<number, number[]>();
  /** Highest bus address the device can generate (dma_set_mask). */
  mask = 0xffffffff;

  constructor(
    private readonly memory: MachineMemory,
    private readonly domain: DmaDomain,
    private readonly owner: string,
  ) {}

  allocCoherent(size: number): CoherentBuffer {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError(`coherent DMA size must be a positive integer (got ${size})`);
    const pages = Math.ceil(size / PAGE_SIZE);
    const run = this.memory.allocPages(pages, this.owner, Math.min(this.memory.size, this.mask + 1));
    this.domain.map(run.address, pages * PAGE_SIZE, DmaDirection.Bidirectional);
    const buffer: CoherentBuffer = {
      busAddress: run.address,
      machineAddress: run.address,
      size,
      bytes: this.memory.bytes.subarray(run.address, run.address + size),
      view: new DataView(this.memory.buffer, run.address, size),
      free: () => this.freeCoherent(buffer),
    };
    this.coherent.set(run.address, buffer);
    return buffer;
  }

  /**
   * Maps `length` bytes of machine memory at `machineAddress` for one transfer. The memory must be
   * allocated and reachable under the device's DMA mask, otherwise this is a mapping error (as
   * dma_mapping_error reports), never a silent corruption.
   */
  mapSingle(machineAddress: number, length: number, direction: DmaDirection): number {
    if (length <= 0 || !this.memory.isAllocated(machineAddress, length)) {
      throw new DmaMappingError(`dma_map_single: [0x${machineAddress.toString(16)}, +${length}) is not allocated machine memory`);
    }
    if (machineAddress + length - 1 > this.mask) throw new DmaMappingError(`dma_map_single: 0x${machineAddress.toString(16)} is above the DMA mask 0x${this.mask.toString(16)}`);
    this.domain.map(machineAddress, length, direction);
    const mapping = encodeMapping(length, direction);
    if (!this.streaming.add(machineAddress, mapping)) {
      const shared = this.sharedStreaming.get(machineAddress);
      if (shared) shared.push(mapping);
      else this.sharedStreaming.set(machineAddress, [mapping]);
    }
    return machineAddress;
  }

  unmapSingle(busAddress: number, length: number, direction: DmaDirection): void {
    const mapping = encodeMapping(length, direction);
    const shared = this.sharedStreaming.size === 0 ? undefined : this.sharedStreaming.get(busAddress);
    if (this.streaming.deleteIfValue(busAddress, mapping)) {
      // Another mapping of the same address, if any, takes the first place.
      if (shared) {
        this.streaming.set(busAddress, shared.pop()!);
        if (shared.length === 0) this.sharedStreaming.delete(busAddress);
      }
    } else {
      const index = shared ? shared.indexOf(mapping) : -1;
      if (index < 0) throw new DmaMappingError(`dma_unmap_single: no mapping of ${length} bytes at 0x${busAddress.toString(16)}`);
      shared!.splice(index, 1);
      if (shared!.length === 0) this.sharedStreaming.delete(busAddress);
    }
    this.domain.unmap(busAddress, length, direction);
  }

  outstanding(): { coherent: number; streaming: number } {
    let streaming = this.streaming.size;
    for (const list of this.sharedStreaming.values()) streaming += list.length;
    return { coherent: this.coherent.size, streaming };
  }

  /** Frees every coherent buffer and drops every mapping of the device. */
  releaseAll(): void {
    for (const buffer of [...this.coherent.values()]) this.freeCoherent(buffer);
    this.streaming.clear();
    this.sharedStreaming.clear();
    this.domain.revokeAll();
  }

  private freeCoherent(buffer: CoherentBuffer): void {
    if (!this.coherent.delete(buffer.machineAddress)) throw new DmaMappingError(`dma_free_coherent: 0x${buffer.machineAddress.toString(16)} is not allocated`);
    this.domain.unmap(buffer.machineAddress, Math.ceil(buffer.size / PAGE_SIZE) * PAGE_SIZE, DmaDirection.Bidirectional);
    this.memory.freeRun(buffer.machineAddress);
  }
}

/** A streaming mapping's length and direction as one number (directions fit in two bits). */
function encodeMapping(length: number, direction: DmaDirection): number {
  return length * 4 + direction;
}
