import { GuestMemory } from "./guest-memory.js";

/**
 * The CPU's view of the machine around it. The PC platform implements these interfaces;
 * the CPU never knows which device sits behind an address or port.
 */

/** Device memory and everything physical that is not plain RAM. Widths are 1, 2 or 4 bytes. */
export interface MmioHandler {
  mmioRead(address: number, size: 1 | 2 | 4): number;
  mmioWrite(address: number, size: 1 | 2 | 4, value: number): void;
}

/** The I/O port space (IN/OUT/INS/OUTS). Widths are 1, 2 or 4 bytes. */
export interface PortHandler {
  portIn(port: number, size: 1 | 2 | 4): number;
  portOut(port: number, size: 1 | 2 | 4, value: number): void;
}

/** Maskable external interrupts, driven by the interrupt controller. */
export interface InterruptSource {
  hasPending(): boolean;
  /** INTA cycle: returns the vector and lets the controller move the request in-service. */
  acknowledge(): number;
}

/**
 * Everything the CPU needs from the platform. RAM (memory.ram) is mapped at guest-physical 0;
 * physical addresses beyond it, and holes registered with PhysicalMemory.addMmioRange, go to `mmio`.
 */
export interface CpuBus extends MmioHandler, PortHandler {
  readonly memory: GuestMemory;
}

/** A bus with RAM only: unmapped reads float high, writes vanish, ports read all-ones. */
export class RamOnlyBus implements CpuBus {
  readonly memory: GuestMemory;
  constructor(ramBytes: number) {
    this.memory = new GuestMemory(ramBytes);
  }
  get ram(): Uint8Array {
    return this.memory.ram;
  }
  mmioRead(_address: number, size: 1 | 2 | 4): number {
    return size === 4 ? -1 : (1 << (size * 8)) - 1;
  }
  mmioWrite(): void {}
  portIn(_port: number, size: 1 | 2 | 4): number {
    return size === 4 ? -1 : (1 << (size * 8)) - 1;
  }
  portOut(): void {}
}
