import { PCI_COMMAND, PCI_CONFIG_HEADER_END, PCI_CONFIG_SPACE_SIZE, PciConfigSpace, type AccessWidth, type PciHeaderSpec } from "@vmk/kernel";

/** One device-specific configuration register of a chipset function, as its datasheet tables it. */
export interface ChipsetRegister {
  readonly name: string;
  readonly offset: number;
  readonly width: 1 | 2 | 4;
  readonly resetValue: number;
  /** Bits software may change; the rest read back as the reset value. */
  readonly writeMask: number;
  /**
   * Registers whose writability depends on their own value (a lock bit): returns the bits writable
   * now and the value the register settles to after a write.
   */
  readonly dynamic?: {
    writableBits(current: number): number;
    settle(written: number): number;
  };
}

/**
 * A type-0 header (the kernel's PciConfigSpace) plus the device-specific registers above 0x40 that a
 * chipset function keeps there (PAM, SMRAM, PIRQ routing). The header's generic rules stay in the
 * kernel class; only the bytes the register table names are writable here.
 */
export class ChipsetConfigSpace extends PciConfigSpace {
  private readonly deviceWriteMask = new Uint8Array(PCI_CONFIG_SPACE_SIZE);
  private readonly deviceResetBytes = new Uint8Array(PCI_CONFIG_SPACE_SIZE);
  private readonly registerByName = new Map<string, ChipsetRegister>();
  private readonly dynamicRegisters: ChipsetRegister[] = [];

  constructor(
    header: PciHeaderSpec,
    readonly registers: readonly ChipsetRegister[],
    /** The command register value at power-on (host bridges come up decoding memory). */
    private readonly resetCommand = 0,
  ) {
    super(header);
    for (const register of registers) {
      if (register.offset < PCI_CONFIG_HEADER_END || register.offset + register.width > PCI_CONFIG_SPACE_SIZE || register.offset % register.width !== 0) {
        throw new RangeError(`${register.name}: register at 0x${register.offset.toString(16)} is not a naturally aligned device-specific register`);
      }
      this.registerByName.set(register.name, register);
      if (register.dynamic) this.dynamicRegisters.push(register);
      for (let i = 0; i < register.width; i++) {
        this.deviceWriteMask[register.offset + i] = (register.writeMask >>> (8 * i)) & 0xff;
        this.deviceResetBytes[register.offset + i] = (register.resetValue >>> (8 * i)) & 0xff;
      }
    }
    this.resetDeviceSpecific();
  }

  override write(offset: number, width: AccessWidth, value: number): void {
    if (offset >= PCI_CONFIG_HEADER_END && offset + width <= PCI_CONFIG_SPACE_SIZE && offset % width === 0) {
      const dynamicBefore = this.dynamicRegisters.map((register) => this.read(register.offset, register.width));
      for (let i = 0; i < width; i++) {
        const at = offset + i;
        const mask = this.deviceWriteMask[at]!;
        this.bytes[at] = (this.bytes[at]! & ~mask) | ((value >>> (8 * i)) & mask);
      }
      this.dynamicRegisters.forEach((register, index) => {
        if (register.offset + register.width <= offset || offset + width <= register.offset) return;
        const before = dynamicBefore[index]!;
        const writable = register.dynamic!.writableBits(before);
        const written = this.read(register.offset, register.width);
        this.setRegisterBits(register.name, register.dynamic!.settle((before & ~writable) | (written & writable)));
      });
    }
    // The header part, and the write listeners, stay with the kernel's rules (bytes above 0x40 are read-only there).
    super.write(offset, width, value);
  }

  override reset(): void {
    super.reset();
    this.resetDeviceSpecific();
  }

  /** A device-specific register's current value, by its datasheet name. */
  register(name: string): number {
    const register = this.registerByName.get(name);
    if (!register) throw new Error(`no chipset register named ${name}`);
    return this.read(register.offset, register.width);
  }

  /** Hardware-side update of a register's bits regardless of the software write mask (lock bits, status). */
  setRegisterBits(name: string, value: number): void {
    const register = this.registerByName.get(name);
    if (!register) throw new Error(`no chipset register named ${name}`);
    for (let i = 0; i < register.width; i++) this.bytes[register.offset + i] = (value >>> (8 * i)) & 0xff;
  }

  private resetDeviceSpecific(): void {
    for (const register of this.registers) {
      for (let i = 0; i < register.width; i++) this.bytes[register.offset + i] = this.deviceResetBytes[register.offset + i]!;
    }
    this.bytes[PCI_COMMAND] = this.resetCommand & 0xff;
    this.bytes[PCI_COMMAND + 1] = (this.resetCommand >>> 8) & 0xff;
  }
}
