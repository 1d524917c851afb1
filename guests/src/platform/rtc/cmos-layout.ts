/**
 * The PC/AT CMOS memory map the BIOS and older operating systems read: configuration bytes below
 * the clock's own registers, including the memory sizes that kernels without an e820 map fall back on.
 */
export const CmosOffset = {
  ShutdownStatus: 0x0f,
  FloppyTypes: 0x10,
  HardDiskTypes: 0x12,
  Equipment: 0x14,
  BaseMemoryLow: 0x15,
  BaseMemoryHigh: 0x16,
  ExtendedMemoryLow: 0x17,
  ExtendedMemoryHigh: 0x18,
  ChecksumHigh: 0x2e,
  ChecksumLow: 0x2f,
  ExtendedMemoryCopyLow: 0x30,
  ExtendedMemoryCopyHigh: 0x31,
  Century: 0x32,
  MemoryAbove16MLow: 0x34,
  MemoryAbove16MHigh: 0x35,
} as const;

/** The range the standard checksum at 0x2E/0x2F covers. */
const CHECKSUM_FIRST = 0x10;
const CHECKSUM_LAST = 0x2d;
const KIB = 1024;
const MIB = 1024 * KIB;
const CONVENTIONAL_LIMIT = 640 * KIB;
const EQUIPMENT_COPROCESSOR = 0x02;

export interface CmosConfiguration {
  /** Guest RAM in bytes. */
  ramBytes: number;
}

function putWord(memory: number[], low: number, high: number, value: number): void {
  memory[low] = value & 0xff;
  memory[high] = (value >> 8) & 0xff;
}

/** Fills the configuration bytes of a 128-byte CMOS image (the clock registers are left alone). */
export function writeCmosConfiguration(memory: number[], config: CmosConfiguration): void {
  const ram = Math.min(config.ramBytes, 4 * 1024 * MIB);
  memory[CmosOffset.ShutdownStatus] = 0;
  memory[CmosOffset.FloppyTypes] = 0;
  memory[CmosOffset.HardDiskTypes] = 0;
  memory[CmosOffset.Equipment] = EQUIPMENT_COPROCESSOR;
  putWord(memory, CmosOffset.BaseMemoryLow, CmosOffset.BaseMemoryHigh, Math.floor(Math.min(ram, CONVENTIONAL_LIMIT) / KIB));
  const extendedKib = Math.min(Math.floor(Math.max(ram - MIB, 0) / KIB), 0xffff);
  putWord(memory, CmosOffset.ExtendedMemoryLow, CmosOffset.ExtendedMemoryHigh, extendedKib);
  putWord(memory, CmosOffset.ExtendedMemoryCopyLow, CmosOffset.ExtendedMemoryCopyHigh, extendedKib);
  const above16M = Math.min(Math.floor(Math.max(ram - 16 * MIB, 0) / (64 * KIB)), 0xffff);
  putWord(memory, CmosOffset.MemoryAbove16MLow, CmosOffset.MemoryAbove16MHigh, above16M);
  updateCmosChecksum(memory);
}

/** The AT checksum: the 16-bit sum of 0x10-0x2D, stored big-endian at 0x2E. */
export function updateCmosChecksum(memory: number[]): void {
  let sum = 0;
  for (let offset = CHECKSUM_FIRST; offset <= CHECKSUM_LAST; offset++) sum += memory[offset]!;
  memory[CmosOffset.ChecksumHigh] = (sum >> 8) & 0xff;
  memory[CmosOffset.ChecksumLow] = sum & 0xff;
}
