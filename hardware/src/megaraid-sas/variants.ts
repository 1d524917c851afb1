import type { BarSpec } from "@vmk/kernel";

export type MegaRaidVariantName = "sas1078" | "perc5" | "sas1064r";

/**
 * How the firmware talks on the register BAR. xscale (Intel IOP333 based 1064R and PERC 5): status
 * word in outbound message 0, frames posted as (address >> 3) | count, reply interrupt in the
 * write-one-to-clear outbound interrupt status. ppc (the SAS1078's PowerPC core): status word in
 * scratch pad 0, frames posted as address | count << 1 | 1, reply interrupt in the outbound doorbell
 * cleared through the doorbell clear register.
 */
export type RegisterFlavour = "xscale" | "ppc";

export interface MegaRaidVariant {
  readonly name: MegaRaidVariantName;
  readonly modelName: string;
  /** What CTRL_GET_INFO reports as the product: the retail board these IDs belong to. */
  readonly productName: string;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revisionId: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
  readonly flavour: RegisterFlavour;
  readonly registerBar: number;
  readonly ioBar: number;
  readonly bars: readonly BarSpec[];
  /** MSI vectors requested, as log2. */
  readonly msiMultipleMessage: number;
  /** External SAS ports of the board (CTRL_GET_INFO device port count). */
  readonly ports: number;
  /** On-board cache memory in MiB. */
  readonly memoryMiB: number;
  readonly alarm: boolean;
}

/**
 * PCI identities from the PCI ID repository; BAR layouts as the boards decode them. The 1078 is a PCIe
 * part with 64-bit BARs: registers at BAR0 (256 KiB), I/O mirror at BAR2, a second 256 KiB window at
 * BAR3. The IOP333-based boards (PERC 5 is Dell's 8408E) put the registers in a 64 KiB prefetchable
 * window at BAR0, the I/O mirror at BAR1 and a 128 KiB window at BAR2. Linux maps the first memory BAR.
 */
export const MEGARAID_VARIANTS: Readonly<Record<MegaRaidVariantName, MegaRaidVariant>> = {
  sas1078: {
    name: "sas1078",
    modelName: "LSI Logic MegaRAID SAS 1078",
    productName: "MegaRAID SAS 8708EM2",
    vendorId: 0x1000,
    deviceId: 0x0060,
    revisionId: 0x04,
    subsystemVendorId: 0x1000,
    subsystemId: 0x1013,
    flavour: "ppc",
    registerBar: 0,
    ioBar: 2,
    bars: [
      { index: 0, kind: "memory", size: 0x40000, is64: true },
      { index: 2, kind: "io", size: 0x100 },
      { index: 3, kind: "memory", size: 0x40000, is64: true },
    ],
    msiMultipleMessage: 2,
    ports: 8,
    memoryMiB: 256,
    alarm: true,
  },
  perc5: {
    name: "perc5",
    modelName: "Dell PowerEdge Expandable RAID controller 5",
    productName: "PERC 5/i Integrated",
    vendorId: 0x1028,
    deviceId: 0x0015,
    revisionId: 0x00,
    subsystemVendorId: 0x1028,
    subsystemId: 0x1f03,
    flavour: "xscale",
    registerBar: 0,
    ioBar: 1,
    bars: [
      { index: 0, kind: "memory", size: 0x10000, prefetchable: true },
      { index: 1, kind: "io", size: 0x100 },
      { index: 2, kind: "memory", size: 0x20000 },
    ],
    msiMultipleMessage: 0,
    ports: 8,
    memoryMiB: 256,
    alarm: false,
  },
  sas1064r: {
    name: "sas1064r",
    modelName: "LSI Logic MegaRAID SAS 1064R",
    productName: "MegaRAID SAS 8408E",
    vendorId: 0x1000,
    deviceId: 0x0411,
    revisionId: 0x00,
    subsystemVendorId: 0x1000,
    subsystemId: 0x1001,
    flavour: "xscale",
    registerBar: 0,
    ioBar: 1,
    bars: [
      { index: 0, kind: "memory", size: 0x10000, prefetchable: true },
      { index: 1, kind: "io", size: 0x100 },
      { index: 2, kind: "memory", size: 0x20000 },
    ],
    msiMultipleMessage: 0,
    ports: 8,
    memoryMiB: 256,
    alarm: true,
  },
};
