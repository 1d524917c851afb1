import type { AccessWidth, IoRegionHandler } from "@vmk/kernel";

/** One byte-wide register of a legacy ISA device, as its datasheet's register table lists it. */
export interface PortRegister {
  readonly name: string;
  /** Absent for write-only registers: the ISA bus floats high. */
  readonly read?: () => number;
  /** Absent for read-only registers: the write is ignored, as the chip ignores it. */
  readonly write?: (value: number) => void;
}

const FLOATING_BUS = 0xff;

/**
 * The port window of an 8-bit ISA device. The chips on the PC's ISA/LPC side decode bytes only; a
 * 16- or 32-bit IN/OUT reaches them as consecutive byte cycles (the bridge splits it), so the low
 * byte goes to the addressed port and the higher bytes to the ports after it.
 *
 * `registerAt` picks the register behind an offset; banked devices (the UART's DLAB) choose a bank
 * there instead of branching inside every handler.
 */
export class PortRegisterFile implements IoRegionHandler {
  constructor(private readonly registerAt: (offset: number) => PortRegister | undefined) {}

  static fromTable(table: readonly PortRegister[]): PortRegisterFile {
    return new PortRegisterFile((offset) => table[offset]);
  }

  read(offset: number, width: AccessWidth): number {
    let value = 0;
    for (let i = 0; i < width; i++) value |= this.readByte(offset + i) << (8 * i);
    return value >>> 0;
  }

  write(offset: number, width: AccessWidth, value: number): void {
    for (let i = 0; i < width; i++) this.writeByte(offset + i, (value >>> (8 * i)) & 0xff);
  }

  readByte(offset: number): number {
    const register = this.registerAt(offset);
    return register?.read ? register.read() & 0xff : FLOATING_BUS;
  }

  writeByte(offset: number, value: number): void {
    this.registerAt(offset)?.write?.(value & 0xff);
  }
}
