import type { DmaPort, FaultRecord } from "@vmk/kernel";

export interface GuestDmaPortOptions {
  /** Name of the requester in fault records ("0000:00:03.0"). */
  requester: string;
  /** Guest RAM, mapped at guest-physical 0. */
  ram: Uint8Array;
  faults: FaultRecord;
  /** The function's bus master enable bit. */
  busMasterEnabled: () => boolean;
  /** Called after a device writes guest RAM, so the CPU can drop decoded code from those bytes. */
  onRamWritten?: (address: number, length: number) => void;
}

/**
 * DMA of a guest's virtual PCI device: bus addresses are guest-physical addresses (the i440FX has no
 * IOMMU), and only RAM is reachable; peer-to-peer writes into another device's BAR are not modelled
 * and are blocked. Blocked accesses never throw: reads fill all-ones, and every one is recorded.
 */
export class GuestDmaPort implements DmaPort {
  blocked = 0;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(private readonly options: GuestDmaPortOptions) {
    this.bytes = options.ram;
    this.view = new DataView(options.ram.buffer, options.ram.byteOffset, options.ram.byteLength);
  }

  read(busAddress: number, into: Uint8Array): boolean {
    if (!this.allow(busAddress, into.length, false)) {
      into.fill(0xff);
      return false;
    }
    into.set(this.bytes.subarray(busAddress, busAddress + into.length));
    return true;
  }

  write(busAddress: number, from: Uint8Array): boolean {
    if (!this.allow(busAddress, from.length, true)) return false;
    this.bytes.set(from, busAddress);
    this.options.onRamWritten?.(busAddress, from.length);
    return true;
  }

  readU32(busAddress: number): number {
    if (!this.allow(busAddress, 4, false)) return 0xffffffff;
    return this.view.getUint32(busAddress, true);
  }

  writeU32(busAddress: number, value: number): boolean {
    if (!this.allow(busAddress, 4, true)) return false;
    this.view.setUint32(busAddress, value >>> 0, true);
    this.options.onRamWritten?.(busAddress, 4);
    return true;
  }

  private allow(address: number, length: number, write: boolean): boolean {
    const { faults, requester } = this.options;
    if (!this.options.busMasterEnabled()) {
      this.blocked++;
      faults.record({ kind: "dma-bus-master-disabled", address, length, write, requester });
      return false;
    }
    if (Number.isInteger(address) && address >= 0 && length >= 0 && address + length <= this.bytes.length) return true;
    this.blocked++;
    faults.record({ kind: "dma-blocked", address, length, write, requester, detail: "DMA outside guest RAM" });
    return false;
  }
}
