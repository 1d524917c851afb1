import { PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, type AccessWidth, type PciDeviceModel, type PciDevicePort } from "@vmk/kernel";
import { ChipsetConfigSpace, type ChipsetRegister } from "./chipset-config-space.js";

export const I440FX_VENDOR_ID = 0x8086;
export const I440FX_DEVICE_ID = 0x1237;

export const I440fxRegister = { Pam0: 0x59, Drb0: 0x60, Smram: 0x72 } as const;

/** SMRAM control (0x72) bits. */
export const SmramBit = { Open: 0x40, Close: 0x20, Lock: 0x10, Enable: 0x08, BaseSegment: 0x07 } as const;
/** C_BASE_SEG is hard-wired to 010b: SMRAM lives at 0xA0000. */
const SMRAM_BASE_SEGMENT_A = 0x02;

const PAM_REGISTERS: ChipsetRegister[] = Array.from({ length: 7 }, (_, index) => ({
  name: `PAM${index}`,
  offset: I440fxRegister.Pam0 + index,
  width: 1 as const,
  resetValue: 0,
  // PAM0's low nibble is reserved; every other PAM register has two RE/WE pairs.
  writeMask: index === 0 ? 0x30 : 0x33,
}));

const DRB_REGISTERS: ChipsetRegister[] = Array.from({ length: 8 }, (_, index) => ({
  name: `DRB${index}`,
  offset: I440fxRegister.Drb0 + index,
  width: 1 as const,
  resetValue: 0x01,
  writeMask: 0xff,
}));

const SMRAM_REGISTER: ChipsetRegister = {
  name: "SMRAM",
  offset: I440fxRegister.Smram,
  width: 1,
  resetValue: SMRAM_BASE_SEGMENT_A,
  writeMask: SmramBit.Open | SmramBit.Close | SmramBit.Lock | SmramBit.Enable,
  dynamic: {
    // Once D_LCK is set only D_CLS stays writable, until the next reset.
    writableBits: (current) => (current & SmramBit.Lock ? SmramBit.Close : SmramBit.Open | SmramBit.Close | SmramBit.Lock | SmramBit.Enable),
    settle: (value) => ((value & SmramBit.Lock ? value & ~SmramBit.Open : value) & ~SmramBit.BaseSegment) | SMRAM_BASE_SEGMENT_A,
  },
};

/** What the CPU sees in one legacy BIOS/option-ROM segment, as a PAM nibble selects it. */
export interface ShadowRegion {
  start: number;
  size: number;
  /** Reads go to DRAM (else to PCI: the ROM). */
  readEnable: boolean;
  /** Writes go to DRAM (else to PCI). */
  writeEnable: boolean;
}

/**
 * The 82441FX PCI and Memory Controller (PMC) of an i440FX board at 00:00.0. Its programmable
 * attribute maps, DRAM row boundaries and SMRAM control are stored with their access rules; the
 * memory map itself does not follow PAM yet (direct-boot guests never shadow a BIOS).
 */
export class I440fxHostBridge implements PciDeviceModel {
  readonly modelName = "Intel 82441FX PMC [Natoma]";
  readonly config = new ChipsetConfigSpace(
    { vendorId: I440FX_VENDOR_ID, deviceId: I440FX_DEVICE_ID, revisionId: 0x02, classCode: 0x060000 },
    [...PAM_REGISTERS, ...DRB_REGISTERS, SMRAM_REGISTER],
    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
  );

  barRead(_bar: number, _offset: number, width: AccessWidth): number {
    return width === 4 ? 0xffffffff : (1 << (8 * width)) - 1;
  }

  barWrite(): void {}

  attach(_port: PciDevicePort): void {}

  reset(): void {
    this.config.reset();
  }

  /** The 13 shadowable segments below 1 MiB: 0xC0000-0xEFFFF in 16 KiB pieces, 0xF0000-0xFFFFF whole. */
  shadowRegions(): ShadowRegion[] {
    const regions: ShadowRegion[] = [];
    for (let pam = 1; pam <= 6; pam++) {
      const value = this.config.register(`PAM${pam}`);
      for (let half = 0; half < 2; half++) {
        const nibble = (value >>> (4 * half)) & 0x3;
        regions.push({ start: 0xc0000 + (pam - 1) * 0x8000 + half * 0x4000, size: 0x4000, readEnable: (nibble & 1) !== 0, writeEnable: (nibble & 2) !== 0 });
      }
    }
    const bios = (this.config.register("PAM0") >>> 4) & 0x3;
    regions.push({ start: 0xf0000, size: 0x10000, readEnable: (bios & 1) !== 0, writeEnable: (bios & 2) !== 0 });
    return regions;
  }

  get smramControl(): number {
    return this.config.register("SMRAM");
  }
}
