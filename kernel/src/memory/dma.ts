import { MachineMemory, PAGE_SHIFT } from "./machine-memory.js";
import type { FaultRecord } from "../io/fault-record.js";

export enum DmaDirection {
  /** Memory → device (TX buffers, descriptors the device reads). */
  ToDevice = 1,
  /** Device → memory (RX buffers). */
  FromDevice = 2,
  Bidirectional = 3,
}

/**
 * The device side of DMA: what a device model uses to read and write memory by bus address. The host
 * implementation goes through an IOMMU domain; a guest's virtual devices get one over guest-physical
 * memory. A blocked access returns false and leaves the destination filled with all-ones; it never throws.
 */
export interface DmaPort {
  read(busAddress: number, into: Uint8Array): boolean;
  write(busAddress: number, from: Uint8Array): boolean;
  readU32(busAddress: number): number;
  writeU32(busAddress: number, value: number): boolean;
  /** Count of blocked accesses so far (devices surface it in their error statistics). */
  readonly blocked: number;
}

/** Whatever holds the bus master bit of the requester: its PCI configuration space. */
export interface BusMasterGate {
  readonly busMasterEnabled: boolean;
}

const ALWAYS_MASTER: BusMasterGate = { busMasterEnabled: true };
/** Transfers up to this many bytes (descriptors, status write-backs) are copied byte by byte. */
const SMALL_COPY = 32;

/**
 * An IOMMU domain: the set of machine pages one device may reach, with the direction allowed. Bus
 * addresses equal machine addresses (identity-mapped IOMMU), but only mapped pages pass. Mappings are
 * reference-counted per page because several buffers can share a page.
 */
export class DmaDomain implements DmaPort {
  private readonly readable: Uint16Array;
  private readonly writable: Uint16Array;
  blocked = 0;

  constructor(
    readonly requester: string,
    private readonly memory: MachineMemory,
    private readonly faults: FaultRecord,
    /** Bus mastering gate: the PCI command register's bus master bit, read at every access. */
    private readonly busMaster: BusMasterGate = ALWAYS_MASTER,
  ) {
    this.readable = new Uint16Array(memory.pageCount);
    this.writable = new Uint16Array(memory.pageCount);
  }

  map(address: number, length: number, direction: DmaDirection): void {
    this.adjust(address, length, direction, +1);
  }

  unmap(address: number, length: number, direction: DmaDirection): void {
    this.adjust(address, length, direction, -1);
  }

  /** Drops every mapping: the device's memory access is revoked (driver unloaded or quarantined). */
  revokeAll(): void {
    this.readable.fill(0);
    this.writable.fill(0);
  }

  mappedPages(): number {
    let count = 0;
    for (let i = 0; i < this.readable.length; i++) if (this.readable[i] || this.writable[i]) count++;
    return count;
  }

  isMapped(address: number, length: number, direction: DmaDirection): boolean {
    return this.check(address, length, direction);
  }

  read(busAddress: number, into: Uint8Array): boolean {
    const length = into.length;
    if (!this.allow(busAddress, length, DmaDirection.ToDevice)) {
      into.fill(0xff);
      return false;
    }
    const bytes = this.memory.bytes;
    // Below this size a byte loop beats allocating a subarray view for TypedArray.set.
    if (length <= SMALL_COPY) for (let i = 0; i < length; i++) into[i] = bytes[busAddress + i]!;
    else into.set(bytes.subarray(busAddress, busAddress + length));
    return true;
  }

  write(busAddress: number, from: Uint8Array): boolean {
    const length = from.length;
    if (!this.allow(busAddress, length, DmaDirection.FromDevice)) return false;
    const bytes = this.memory.bytes;
    if (length <= SMALL_COPY) for (let i = 0; i < length; i++) bytes[busAddress + i] = from[i]!;
    else bytes.set(from, busAddress);
    return true;
  }

  readU32(busAddress: number): number {
    if (!this.allow(busAddress, 4, DmaDirection.ToDevice)) return 0xffffffff;
    return this.memory.view.getUint32(busAddress, true);
  }

  writeU32(busAddress: number, value: number): boolean {
    if (!this.allow(busAddress, 4, DmaDirection.FromDevice)) return false;
    this.memory.view.setUint32(busAddress, value >>> 0, true);
    return true;
  }

  private allow(address: number, length: number, direction: DmaDirection): boolean {
    if (!this.busMaster.busMasterEnabled) {
      this.blocked++;
      this.faults.record({ kind: "dma-bus-master-disabled", address, length, write: direction === DmaDirection.FromDevice, requester: this.requester });
      return false;
    }
    if (this.check(address, length, direction)) return true;
    this.blocked++;
    this.faults.record({
      kind: "dma-blocked",
      address,
      length,
      write: direction === DmaDirection.FromDevice,
      requester: this.requester,
      detail: `${direction === DmaDirection.FromDevice ? "write to" : "read from"} memory not mapped for this device`,
    });
    return false;
  }

  private check(address: number, length: number, direction: DmaDirection): boolean {
    if (!Number.isInteger(address) || address < 0 || length < 0 || address + length > this.memory.size) return false;
    if (length === 0) return true;
    const first = address >>> PAGE_SHIFT;
    const last = (address + length - 1) >>> PAGE_SHIFT;
    const readable = direction & DmaDirection.ToDevice ? this.readable : undefined;
    const writable = direction & DmaDirection.FromDevice ? this.writable : undefined;
    for (let page = first; page <= last; page++) {
      if (readable !== undefined && readable[page] === 0) return false;
      if (writable !== undefined && writable[page] === 0) return false;
    }
    return true;
  }

  private adjust(address: number, length: number, direction: DmaDirection, delta: 1 | -1): void {
    if (!Number.isInteger(address) || address < 0 || length <= 0 || address + length > this.memory.size) {
      throw new RangeError(`DMA mapping [0x${address.toString(16)}, +${length}) is outside machine memory`);
    }
    const first = address >>> PAGE_SHIFT;
    const last = (address + length - 1) >>> PAGE_SHIFT;
    const readable = direction & DmaDirection.ToDevice ? this.readable : undefined;
    const writable = direction & DmaDirection.FromDevice ? this.writable : undefined;
    for (let page = first; page <= last; page++) {
      // Counts never go below zero: an unbalanced unmap leaves the page unmapped rather than wrapping.
      if (readable !== undefined) {
        const count = readable[page]! + delta;
        readable[page] = count < 0 ? 0 : count;
      }
      if (writable !== undefined) {
        const count = writable[page]! + delta;
        writable[page] = count < 0 ? 0 : count;
      }
    }
  }
}
