/**
 * Where vmk's loaders put what they build in guest RAM. Everything sits in conventional memory
 * between the real-mode IVT/BDA and the EBDA, which every boot protocol leaves to the boot loader.
 */
export const BootMemory = {
  /** The flat boot GDT (4 descriptors). */
  Gdt: 0x5000,
  /** Initial ESP: a small stack below the boot data, for kernels that push before they set their own. */
  StackTop: 0x7000,
  /** Linux's zero page (struct boot_params), 4 KiB. */
  BootParams: 0x7000,
  /** Linux's command line. */
  CommandLine: 0x8000,
  /** Multiboot's information structures, strings and memory map are allocated upward in [start, end). */
  BootDataStart: 0x7000,
  BootDataEnd: 0x80000,
  /** Where protected-mode kernels are loaded: the first byte above the legacy hole. */
  HighMemory: 0x100000,
} as const;

export interface MemoryRange {
  start: number;
  /** One past the last byte. */
  end: number;
}
