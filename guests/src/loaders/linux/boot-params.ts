import { E820_ENTRY_SIZE, E820_MAX_BOOT_PARAMS_ENTRIES, writeE820Entries, type E820Entry } from "../e820.js";
import { LoadFlag, SetupHeaderOffset } from "./setup-header.js";

/** struct boot_params ("the zero page", Documentation/arch/x86/zero-page.rst): 4 KiB. */
export const BOOT_PARAMS_SIZE = 0x1000;

export const BootParamsOffset = {
  ScreenInfo: 0x000,
  /** struct screen_info: KiB of extended memory (legacy). */
  ScreenInfoExtMemK: 0x002,
  /** struct screen_info: 0 = no VGA/EGA adapter: Linux's vgacon stays away and the console is serial. */
  ScreenInfoOrigVideoIsVga: 0x00f,
  AltMemK: 0x1e0,
  E820Entries: 0x1e8,
  /** Must be 0 when the loader copied the header correctly; otherwise Linux zeroes fields it distrusts. */
  Sentinel: 0x1ef,
  SetupHeader: 0x1f1,
  /** Where the copied setup header must stop: the padding and EDD MBR signatures follow. */
  SetupHeaderLimit: 0x290,
  E820Table: 0x2d0,
} as const;

/** type_of_loader for a boot loader without an assigned ID (boot.rst: 0xFF = undefined). */
export const TYPE_OF_LOADER_UNDEFINED = 0xff;
/**
 * heap_end_ptr for CAN_USE_HEAP: the setup heap ends 0xFE00 past the real-mode code, so 16-bit setup
 * code (if something ever runs it) gets the usual 64 KiB segment minus its stack.
 */
export const SETUP_HEAP_END = 0xfe00;

export interface BootParamsInput {
  /** The bzImage file: its setup header is copied into the zero page. */
  image: Uint8Array;
  headerEnd: number;
  commandLineAddress: number;
  ramdisk: { address: number; size: number } | undefined;
  code32Start: number;
  e820: readonly E820Entry[];
  /** KiB of contiguous memory above 1 MiB (alt_mem_k / ext_mem_k fallbacks for kernels without e820). */
  extendedMemoryKiB: number;
}

/**
 * Builds boot_params as the 32-bit boot protocol expects it: zeroed, the kernel's setup header copied
 * to 0x1F1, then the loader's fields (loader type, heap, command line, initrd, e820 table) filled in.
 * screen_info stays zero: no VGA, so the kernel's console is what the command line names (ttyS0).
 */
export function buildBootParams(input: BootParamsInput): Uint8Array {
  if (input.e820.length > E820_MAX_BOOT_PARAMS_ENTRIES) {
    throw new RangeError(`boot_params holds at most ${E820_MAX_BOOT_PARAMS_ENTRIES} e820 entries, not ${input.e820.length}`);
  }
  const params = new Uint8Array(BOOT_PARAMS_SIZE);
  const view = new DataView(params.buffer);
  const headerEnd = Math.min(input.headerEnd, BootParamsOffset.SetupHeaderLimit);
  params.set(input.image.subarray(BootParamsOffset.SetupHeader, headerEnd), BootParamsOffset.SetupHeader);

  view.setUint8(SetupHeaderOffset.TypeOfLoader, TYPE_OF_LOADER_UNDEFINED);
  // KEEP_SEGMENTS clear: our GDT backs __BOOT_CS/__BOOT_DS, so the kernel may reload them at entry.
  view.setUint8(SetupHeaderOffset.Loadflags, (view.getUint8(SetupHeaderOffset.Loadflags) | LoadFlag.CanUseHeap) & ~LoadFlag.KeepSegments);
  view.setUint16(SetupHeaderOffset.HeapEndPtr, SETUP_HEAP_END, true);
  view.setUint32(SetupHeaderOffset.Code32Start, input.code32Start, true);
  view.setUint32(SetupHeaderOffset.CmdLinePtr, input.commandLineAddress, true);
  view.setUint32(SetupHeaderOffset.RamdiskImage, input.ramdisk?.address ?? 0, true);
  view.setUint32(SetupHeaderOffset.RamdiskSize, input.ramdisk?.size ?? 0, true);

  view.setUint16(BootParamsOffset.ScreenInfoExtMemK, Math.min(input.extendedMemoryKiB, 0xffff), true);
  view.setUint32(BootParamsOffset.AltMemK, input.extendedMemoryKiB, true);
  view.setUint8(BootParamsOffset.E820Entries, writeE820Entries(view, BootParamsOffset.E820Table, input.e820));
  return params;
}

/** The e820 table back out of a zero page (for tests and diagnostics). */
export function readBootParamsE820(params: Uint8Array): E820Entry[] {
  const view = new DataView(params.buffer, params.byteOffset, params.byteLength);
  const count = view.getUint8(BootParamsOffset.E820Entries);
  const entries: E820Entry[] = [];
  for (let i = 0; i < count; i++) {
    const at = BootParamsOffset.E820Table + i * E820_ENTRY_SIZE;
    entries.push({
      address: view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32,
      size: view.getUint32(at + 8, true) + view.getUint32(at + 12, true) * 2 ** 32,
      type: view.getUint32(at + 16, true) as E820Entry["type"],
    });
  }
  return entries;
}
