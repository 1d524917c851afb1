import type { BarSpec } from "@vmk/kernel";
import { IO_BAR_SIZE, MMIO_SIZE } from "./registers.js";

export type E1000VariantName = "82540EM" | "82545EM";

/** What tells the two chips apart to software: PCI identity, BAR layout, capabilities, EEPROM words. */
export interface E1000Variant {
  readonly name: E1000VariantName;
  readonly modelName: string;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revisionId: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
  /** Index of the register (memory) BAR; a 64-bit BAR also takes the next slot. */
  readonly registerBar: number;
  readonly registerBar64: boolean;
  readonly ioBar: number;
  /** The 82545EM has an MSI capability; the 82540EM does not. */
  readonly msi: boolean;
  readonly eepromImageVersion: number;
  /** Printed board assembly number stored in EEPROM words 08h/09h. */
  readonly pbaNumber: number;
}

/**
 * The 82540EM is a 32-bit PCI part: memory BAR0 (32-bit), flash BAR1, I/O BAR2. The 82545EM is a
 * PCI-X part with 64-bit BARs: memory BAR0/1, flash BAR2/3, I/O BAR4 (SDM 4.1, base address registers).
 * Subsystem IDs are those of Intel's retail boards (PRO/1000 MT Desktop and MT Server Adapter).
 */
export const E1000_VARIANTS: Readonly<Record<E1000VariantName, E1000Variant>> = {
  "82540EM": {
    name: "82540EM",
    modelName: "Intel 82540EM Gigabit Ethernet Controller",
    vendorId: 0x8086,
    deviceId: 0x100e,
    revisionId: 0x02,
    subsystemVendorId: 0x8086,
    subsystemId: 0x001e,
    registerBar: 0,
    registerBar64: false,
    ioBar: 2,
    msi: false,
    eepromImageVersion: 0x2010,
    pbaNumber: 0xa15f0a,
  },
  "82545EM": {
    name: "82545EM",
    modelName: "Intel 82545EM Gigabit Ethernet Controller (Copper)",
    vendorId: 0x8086,
    deviceId: 0x100f,
    revisionId: 0x01,
    subsystemVendorId: 0x8086,
    subsystemId: 0x1001,
    registerBar: 0,
    registerBar64: true,
    ioBar: 4,
    msi: true,
    eepromImageVersion: 0x2010,
    pbaNumber: 0xa19a0a,
  },
};

export function variantBars(variant: E1000Variant): BarSpec[] {
  return [
    { index: variant.registerBar, kind: "memory", size: MMIO_SIZE, is64: variant.registerBar64, prefetchable: false },
    { index: variant.ioBar, kind: "io", size: IO_BAR_SIZE },
  ];
}
