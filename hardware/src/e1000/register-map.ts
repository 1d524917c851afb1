import * as R from "./registers.js";

export type RegisterRead = (index: number) => number;
export type RegisterWrite = (index: number, value: number) => void;

/**
 * rw: read/write storage (masked by `writable`); ro: writes ignored; wo: reads return 0;
 * rc: read has side effects (clear-on-read). Handlers replace the default behaviour.
 */
export type RegisterAccess = "rw" | "ro" | "wo" | "rc";

export interface RegisterDefinition {
  name: string;
  offset: number;
  /** Consecutive dwords sharing the definition (MTA, RA, VFTA...). */
  count?: number;
  reset?: number;
  writable?: number;
  access: RegisterAccess;
  read?: RegisterRead;
  write?: RegisterWrite;
}

/** Behaviour behind the registers that do more than store bits. */
export interface E1000RegisterHandlers {
  writeControl: RegisterWrite;
  readStatus: RegisterRead;
  readEepromControl: RegisterRead;
  writeEepromControl: RegisterWrite;
  writeEepromRead: RegisterWrite;
  writeExtendedControl: RegisterWrite;
  writeMdiControl: RegisterWrite;
  readInterruptCause: RegisterRead;
  writeInterruptCause: RegisterWrite;
  writeInterruptCauseSet: RegisterWrite;
  writeInterruptMaskSet: RegisterWrite;
  writeInterruptMaskClear: RegisterWrite;
  writeInterruptThrottle: RegisterWrite;
  writeReceiveControl: RegisterWrite;
  writeReceiveDelayTimer: RegisterWrite;
  writeTransmitControl: RegisterWrite;
  writeTransmitTail: RegisterWrite;
  readPacketBufferAllocation: RegisterRead;
  readStatistic: RegisterRead;
}

const ALL = 0xffffffff;

/** The 82540EM/82545EM register map (SDM table 13-2), minus the flash and packet-buffer diagnostics. */
export function e1000RegisterMap(h: E1000RegisterHandlers): RegisterDefinition[] {
  const map: RegisterDefinition[] = [
    { name: "CTRL", offset: R.CTRL, access: "rw", writable: R.CTRL_WRITABLE, write: h.writeControl },
    { name: "STATUS", offset: R.STATUS, access: "ro", read: h.readStatus },
    { name: "EECD", offset: R.EECD, access: "rw", reset: R.EECD_FWE_DISABLED, read: h.readEepromControl, write: h.writeEepromControl },
    { name: "EERD", offset: R.EERD, access: "rw", write: h.writeEepromRead },
    { name: "CTRL_EXT", offset: R.CTRL_EXT, access: "rw", writable: R.CTRL_EXT_WRITABLE, write: h.writeExtendedControl },
    { name: "MDIC", offset: R.MDIC, access: "rw", reset: R.MDIC_READY, write: h.writeMdiControl },
    { name: "FCAL", offset: R.FCAL, access: "rw", writable: ALL },
    { name: "FCAH", offset: R.FCAH, access: "rw", writable: 0xffff },
    { name: "FCT", offset: R.FCT, access: "rw", writable: 0xffff },
    { name: "VET", offset: R.VET, access: "rw", writable: 0xffff, reset: 0x8100 },
    { name: "ICR", offset: R.ICR, access: "rc", read: h.readInterruptCause, write: h.writeInterruptCause },
    { name: "ITR", offset: R.ITR, access: "rw", writable: 0xffff, write: h.writeInterruptThrottle },
    { name: "ICS", offset: R.ICS, access: "wo", write: h.writeInterruptCauseSet },
    { name: "IMS", offset: R.IMS, access: "rw", write: h.writeInterruptMaskSet },
    { name: "IMC", offset: R.IMC, access: "wo", write: h.writeInterruptMaskClear },
    { name: "RCTL", offset: R.RCTL, access: "rw", writable: R.RCTL_WRITABLE, write: h.writeReceiveControl },
    { name: "FCTTV", offset: R.FCTTV, access: "rw", writable: 0xffff },
    { name: "TXCW", offset: R.TXCW, access: "rw", writable: 0xc000ffff },
    { name: "RXCW", offset: R.RXCW, access: "ro" },
    { name: "TCTL", offset: R.TCTL, access: "rw", writable: R.TCTL_WRITABLE, write: h.writeTransmitControl },
    { name: "TIPG", offset: R.TIPG, access: "rw", writable: 0x3fffffff, reset: 0x00602008 },
    { name: "AIT", offset: R.AIT, access: "rw", writable: 0xffff },
    { name: "LEDCTL", offset: R.LEDCTL, access: "rw", writable: ALL, reset: 0x07068302 },
    { name: "PBA", offset: R.PBA, access: "rw", writable: 0x7f, reset: 0x30, read: h.readPacketBufferAllocation },
    { name: "FCRTL", offset: R.FCRTL, access: "rw", writable: 0x8000fff8 },
    { name: "FCRTH", offset: R.FCRTH, access: "rw", writable: 0x0000fff8 },
    { name: "RDFH", offset: R.RDFH, access: "rw", writable: 0x1fff },
    { name: "RDFT", offset: R.RDFT, access: "rw", writable: 0x1fff },
    { name: "RDFHS", offset: R.RDFHS, access: "rw", writable: 0x1fff },
    { name: "RDFTS", offset: R.RDFTS, access: "rw", writable: 0x1fff },
    { name: "RDFPC", offset: R.RDFPC, access: "rw", writable: 0x1fff },
    { name: "RDBAL", offset: R.RDBAL, access: "rw", writable: 0xfffffff0 },
    { name: "RDBAH", offset: R.RDBAH, access: "rw", writable: ALL },
    { name: "RDLEN", offset: R.RDLEN, access: "rw", writable: 0x000fff80 },
    { name: "RDH", offset: R.RDH, access: "rw", writable: 0xffff },
    { name: "RDT", offset: R.RDT, access: "rw", writable: 0xffff },
    { name: "RDTR", offset: R.RDTR, access: "rw", writable: 0xffff, write: h.writeReceiveDelayTimer },
    { name: "RXDCTL", offset: R.RXDCTL, access: "rw", writable: 0x013f3f3f, reset: 0x00010000 },
    { name: "RADV", offset: R.RADV, access: "rw", writable: 0xffff },
    { name: "RSRPD", offset: R.RSRPD, access: "rw", writable: 0xfff },
    { name: "TXDMAC", offset: R.TXDMAC, access: "rw", writable: 1 },
    { name: "TDFH", offset: R.TDFH, access: "rw", writable: 0x1fff },
    { name: "TDFT", offset: R.TDFT, access: "rw", writable: 0x1fff },
    { name: "TDFHS", offset: R.TDFHS, access: "rw", writable: 0x1fff },
    { name: "TDFTS", offset: R.TDFTS, access: "rw", writable: 0x1fff },
    { name: "TDFPC", offset: R.TDFPC, access: "rw", writable: 0x1fff },
    { name: "TDBAL", offset: R.TDBAL, access: "rw", writable: 0xfffffff0 },
    { name: "TDBAH", offset: R.TDBAH, access: "rw", writable: ALL },
    { name: "TDLEN", offset: R.TDLEN, access: "rw", writable: 0x000fff80 },
    { name: "TDH", offset: R.TDH, access: "rw", writable: 0xffff },
    { name: "TDT", offset: R.TDT, access: "rw", writable: 0xffff, write: h.writeTransmitTail },
    { name: "TIDV", offset: R.TIDV, access: "rw", writable: 0xffff },
    { name: "TXDCTL", offset: R.TXDCTL, access: "rw", writable: 0xff3f3f3f },
    { name: "TADV", offset: R.TADV, access: "rw", writable: 0xffff },
    { name: "TSPMT", offset: R.TSPMT, access: "rw", writable: ALL, reset: 0x01000400 },
    { name: "RXCSUM", offset: R.RXCSUM, access: "rw", writable: 0x3ff, reset: R.RXCSUM_IPOFL | R.RXCSUM_TUOFL },
    { name: "MTA", offset: R.MTA, count: R.MTA_ENTRIES, access: "rw", writable: ALL },
    { name: "RA", offset: R.RA, count: 2 * R.RA_ENTRIES, access: "rw", writable: ALL },
    { name: "VFTA", offset: R.VFTA, count: R.VFTA_ENTRIES, access: "rw", writable: ALL },
    { name: "WUC", offset: R.WUC, access: "rw", writable: 0xf },
    { name: "WUFC", offset: R.WUFC, access: "rw", writable: 0x000f00ff },
    { name: "WUS", offset: R.WUS, access: "ro" },
    { name: "MANC", offset: R.MANC, access: "rw", writable: ALL },
    { name: "IPAV", offset: R.IPAV, access: "rw", writable: 0x1000f },
    { name: "IP4AT", offset: R.IP4AT, count: 8, access: "rw", writable: ALL },
    { name: "IP6AT", offset: R.IP6AT, count: 4, access: "rw", writable: ALL },
    { name: "WUPL", offset: R.WUPL, access: "ro" },
    { name: "WUPM", offset: R.WUPM, count: 32, access: "ro" },
    { name: "FFLT", offset: R.FFLT, count: 8, access: "rw", writable: 0x7ff },
    { name: "FFMT", offset: R.FFMT, count: 128, access: "rw", writable: 0xf },
    { name: "FFVT", offset: R.FFVT, count: 128, access: "rw", writable: 0xff },
  ];
  const statistics: [string, number][] = [
    ["CRCERRS", R.CRCERRS], ["ALGNERRC", R.ALGNERRC], ["SYMERRS", R.SYMERRS], ["RXERRC", R.RXERRC], ["MPC", R.MPC],
    ["SCC", R.SCC], ["ECOL", R.ECOL], ["MCC", R.MCC], ["LATECOL", R.LATECOL], ["COLC", R.COLC], ["DC", R.DC],
    ["TNCRS", R.TNCRS], ["SEC", R.SEC], ["CEXTERR", R.CEXTERR], ["RLEC", R.RLEC], ["XONRXC", R.XONRXC],
    ["XONTXC", R.XONTXC], ["XOFFRXC", R.XOFFRXC], ["XOFFTXC", R.XOFFTXC], ["FCRUC", R.FCRUC], ["PRC64", R.PRC64],
    ["PRC127", R.PRC127], ["PRC255", R.PRC255], ["PRC511", R.PRC511], ["PRC1023", R.PRC1023], ["PRC1522", R.PRC1522],
    ["GPRC", R.GPRC], ["BPRC", R.BPRC], ["MPRC", R.MPRC], ["GPTC", R.GPTC], ["GORCL", R.GORCL], ["GORCH", R.GORCH],
    ["GOTCL", R.GOTCL], ["GOTCH", R.GOTCH], ["RNBC", R.RNBC], ["RUC", R.RUC], ["RFC", R.RFC], ["ROC", R.ROC],
    ["RJC", R.RJC], ["MGTPRC", R.MGTPRC], ["MGTPDC", R.MGTPDC], ["MGTPTC", R.MGTPTC], ["TORL", R.TORL],
    ["TORH", R.TORH], ["TOTL", R.TOTL], ["TOTH", R.TOTH], ["TPR", R.TPR], ["TPT", R.TPT], ["PTC64", R.PTC64],
    ["PTC127", R.PTC127], ["PTC255", R.PTC255], ["PTC511", R.PTC511], ["PTC1023", R.PTC1023], ["PTC1522", R.PTC1522],
    ["MPTC", R.MPTC], ["BPTC", R.BPTC], ["TSCTC", R.TSCTC], ["TSCTFC", R.TSCTFC],
  ];
  for (const [name, offset] of statistics) map.push({ name, offset, access: "rc", read: h.readStatistic });
  return map;
}

/**
 * Decoded register file: dispatch arrays indexed by dword, so an access costs one array load and
 * one call. Unimplemented offsets read 0 and ignore writes, like the chip's reserved space.
 */
export class RegisterFile {
  private readonly readers: RegisterRead[];
  private readonly writers: RegisterWrite[];
  private readonly names: (string | undefined)[];
  private readonly resetValues: Uint32Array;
  private readonly writeMasks: Uint32Array;

  constructor(
    private readonly regs: Uint32Array,
    definitions: readonly RegisterDefinition[],
  ) {
    const dwords = regs.length;
    const readZero: RegisterRead = () => 0;
    const ignore: RegisterWrite = () => {};
    const readStored: RegisterRead = (index) => regs[index]!;
    const writeMasked: RegisterWrite = (index, value) => {
      const mask = this.writeMasks[index]!;
      regs[index] = ((regs[index]! & ~mask) | (value & mask)) >>> 0;
    };
    this.readers = new Array<RegisterRead>(dwords).fill(readZero);
    this.writers = new Array<RegisterWrite>(dwords).fill(ignore);
    this.names = new Array<string | undefined>(dwords).fill(undefined);
    this.resetValues = new Uint32Array(dwords);
    this.writeMasks = new Uint32Array(dwords);
    for (const definition of definitions) {
      const count = definition.count ?? 1;
      for (let i = 0; i < count; i++) {
        const index = (definition.offset >>> 2) + i;
        if (this.names[index] !== undefined) throw new Error(`register map: ${definition.name} overlaps ${this.names[index]}`);
        this.names[index] = count > 1 ? `${definition.name}[${i}]` : definition.name;
        this.resetValues[index] = definition.reset ?? 0;
        this.writeMasks[index] = definition.writable ?? 0;
        this.readers[index] = definition.read ?? (definition.access === "wo" ? readZero : readStored);
        this.writers[index] = definition.write ?? (definition.access === "ro" || definition.access === "rc" ? ignore : writeMasked);
      }
    }
  }

  read(offset: number): number {
    const index = offset >>> 2;
    return this.readers[index]!(index) >>> 0;
  }

  write(offset: number, value: number): void {
    const index = offset >>> 2;
    this.writers[index]!(index, value >>> 0);
  }

  /** The masked store a plain register does; handlers call it to keep their stored part. */
  store(index: number, value: number): void {
    const mask = this.writeMasks[index]!;
    this.regs[index] = ((this.regs[index]! & ~mask) | (value & mask)) >>> 0;
  }

  nameOf(offset: number): string | undefined {
    return this.names[offset >>> 2];
  }

  /** Every register back to its reset value. */
  reset(): void {
    this.regs.set(this.resetValues);
  }
}
