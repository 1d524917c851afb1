import type { AccessWidth, AddressSpace } from "@vmk/kernel";
import type { CpuBus, PortHandler } from "../cpu/bus.js";
import type { GuestMemory } from "../cpu/guest-memory.js";

/**
 * What the vCPU sees of the PC: RAM at guest-physical 0, every other physical address decoded by the
 * guest's MMIO space (PCI memory BARs; nobody's addresses read all-ones and are recorded), and the
 * platform's port space.
 */
export class PcCpuBus implements CpuBus {
  constructor(
    readonly memory: GuestMemory,
    private readonly mmio: AddressSpace,
    private readonly ports: PortHandler,
  ) {}

  mmioRead(address: number, size: AccessWidth): number {
    return this.mmio.read(address >>> 0, size);
  }

  mmioWrite(address: number, size: AccessWidth, value: number): void {
    this.mmio.write(address >>> 0, size, value);
  }

  portIn(port: number, size: AccessWidth): number {
    return this.ports.portIn(port, size);
  }

  portOut(port: number, size: AccessWidth, value: number): void {
    this.ports.portOut(port, size, value);
  }
}
