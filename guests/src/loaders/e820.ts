import { alignDown, hex, mebibytes } from "./address-arithmetic.js";

/** Address range types of the BIOS INT 15h, AX=E820h memory map (ACPI spec, "System Address Map"). */
export const E820Type = { Ram: 1, Reserved: 2, AcpiReclaimable: 3, AcpiNvs: 4, Unusable: 5 } as const;
export type E820Type = (typeof E820Type)[keyof typeof E820Type];

export interface E820Entry {
  address: number;
  size: number;
  type: E820Type;
}

/** Bytes per entry in boot_params and INT 15h buffers: u64 address, u64 size, u32 type. */
export const E820_ENTRY_SIZE = 20;
export const E820_MAX_BOOT_PARAMS_ENTRIES = 128;

export const LEGACY_HOLE_START = 0xa0000;
export const HIGH_MEMORY_START = 0x100000;
/** Where the i440FX board's 32-bit PCI memory window starts; RAM must end below it. */
export const DEFAULT_PCI_HOLE_START = 0xe000_0000;
const FOUR_GIB = 2 ** 32;

export interface E820Options {
  /** Guest RAM, mapped from guest-physical 0. */
  ramBytes: number;
  /** The extended BIOS data area at the top of conventional memory; 1 KiB as PC BIOSes reserve it, 0 for none. */
  ebdaBytes?: number;
  /** Start of the PCI hole below 4 GiB. */
  pciHoleStart?: number;
  /** A firmware ROM mapped just below 4 GiB (SeaBIOS: 256 KiB); none for direct boots. */
  firmwareRomBytes?: number;
}

/**
 * The PC memory map as firmware reports it: conventional RAM up to the EBDA, the legacy hole (EBDA,
 * VGA window, option and system ROMs) reserved up to 1 MiB, RAM from 1 MiB to the end of RAM, and the
 * firmware ROM below 4 GiB if there is one. Guest RAM is one block from address 0, so all of it must
 * end below the PCI hole; there is no remapping above 4 GiB.
 */
export function buildE820Map(options: E820Options): E820Entry[] {
  const { ramBytes } = options;
  const ebda = options.ebdaBytes ?? 1024;
  const pciHoleStart = options.pciHoleStart ?? DEFAULT_PCI_HOLE_START;
  if (!Number.isInteger(ramBytes) || ramBytes <= HIGH_MEMORY_START) {
    throw new RangeError(`guest RAM of ${ramBytes} bytes is too small: a PC needs memory above 1 MiB`);
  }
  if (ramBytes > pciHoleStart) {
    throw new RangeError(`${mebibytes(ramBytes)} of RAM does not fit below the PCI hole at ${hex(pciHoleStart)}; vmk maps guest RAM only below it`);
  }
  if (ebda < 0 || ebda % 1024 !== 0 || ebda >= LEGACY_HOLE_START) throw new RangeError(`EBDA size ${ebda} must be a multiple of 1 KiB below 640 KiB`);
  const conventionalEnd = LEGACY_HOLE_START - ebda;
  const entries: E820Entry[] = [
    { address: 0, size: conventionalEnd, type: E820Type.Ram },
    { address: conventionalEnd, size: HIGH_MEMORY_START - conventionalEnd, type: E820Type.Reserved },
    { address: HIGH_MEMORY_START, size: ramBytes - HIGH_MEMORY_START, type: E820Type.Ram },
  ];
  const rom = options.firmwareRomBytes ?? 0;
  if (rom > 0) entries.push({ address: FOUR_GIB - rom, size: rom, type: E820Type.Reserved });
  return entries;
}

/** Writes entries in the 20-byte boot_params / INT 15h layout; returns the number written. */
export function writeE820Entries(view: DataView, offset: number, entries: readonly E820Entry[]): number {
  entries.forEach((entry, index) => {
    const at = offset + index * E820_ENTRY_SIZE;
    writeU64(view, at, entry.address);
    writeU64(view, at + 8, entry.size);
    view.setUint32(at + 16, entry.type, true);
  });
  return entries.length;
}

export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % FOUR_GIB, true);
  view.setUint32(offset + 4, Math.floor(value / FOUR_GIB), true);
}

/** The end of the highest usable RAM range, clipped at 4 GiB: where "as high as possible" starts. */
export function usableRamEndBelow4G(entries: readonly E820Entry[]): number {
  let end = 0;
  for (const entry of entries) {
    if (entry.type !== E820Type.Ram) continue;
    end = Math.max(end, Math.min(entry.address + entry.size, FOUR_GIB));
  }
  return end;
}

/** True when [address, address + size) lies entirely inside one usable RAM range. */
export function isUsableRam(entries: readonly E820Entry[], address: number, size: number): boolean {
  return entries.some((e) => e.type === E820Type.Ram && address >= e.address && address + size <= e.address + e.size);
}

/** Conventional memory (below 1 MiB) and contiguous extended memory from 1 MiB, in KiB, as INT 12h/E801h report them. */
export function legacyMemorySizes(entries: readonly E820Entry[]): { lowerKiB: number; upperKiB: number } {
  const low = entries.find((e) => e.type === E820Type.Ram && e.address === 0);
  const high = entries.find((e) => e.type === E820Type.Ram && e.address <= HIGH_MEMORY_START && e.address + e.size > HIGH_MEMORY_START);
  return {
    lowerKiB: low ? Math.floor(Math.min(low.size, LEGACY_HOLE_START) / 1024) : 0,
    upperKiB: high ? alignDown(Math.min(high.address + high.size, FOUR_GIB) - HIGH_MEMORY_START, 1024) / 1024 : 0,
  };
}
