import { MachineMemory, PAGE_SIZE, PAGE_SHIFT } from "./machine-memory.js";
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
    /** Bus mastering gate: the PCI command register's bus master bit. */
    private readonly busMasterEnabled: () => boolean = () => true,
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
    if (!this.allow(busAddress, into.length, DmaDirection.ToDevice)) {
      into.fill(0xff);
      return false;
    }
    into.set(this.memory.bytes.subarray(busAddress, busAddress + into.length));
    return true;
  }

  write(busAddress: number, from: Uint8Array): boolean {
    if (!this.allow(busAddress, from.length, DmaDirection.FromDevice)) return false;
    this.memory.bytes.set(from, busAddress);
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
    if (!this.busMasterEnabled()) {
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
    for (let page = first; page <= last; page++) {
      if (direction & DmaDirection.ToDevice && this.readable[page] === 0) return false;
      if (direction & DmaDirection.FromDevice && this.writable[page] === 0) return false;
    }
    return true;
  }

  private adjust(address: number, length: number, direction: DmaDirection, delta: 1 | -1): void {
    if (!Number.isInteger(address) || address < 0 || length <= 0 || address + length > this.memory.size) {
      throw new RangeError(`DMA mapping [0x${address.toString(16)}, +${length}) is outside machine memory`);
    }
    const first = Math.floor(address / PAGE_SIZE);
    const last = Math.floor((address + length - 1) / PAGE_SIZE);
    for (let page = first; page <= last; page++) {
      if (direction & DmaDirection.ToDevice) this.readable[page] = Math.max(0, this.readable[page]! + delta);
      if (direction & DmaDirection.FromDevice) this.writable[page] = Math.max(0, this.writable[page]! + delta);
    }
  }
}
