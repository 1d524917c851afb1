/** struct multiboot_info (Multiboot Specification 0.6.96, section 3.3). */
export const MultibootInfoOffset = {
  Flags: 0,
  MemLower: 4,
  MemUpper: 8,
  BootDevice: 12,
  Cmdline: 16,
  ModsCount: 20,
  ModsAddr: 24,
  Syms: 28,
  MmapLength: 44,
  MmapAddr: 48,
  DrivesLength: 52,
  DrivesAddr: 56,
  ConfigTable: 60,
  BootLoaderName: 64,
  ApmTable: 68,
} as const;

/** Size of the structure up to and including the VBE and framebuffer fields, all zeroed. */
export const MULTIBOOT_INFO_SIZE = 116;

export const MultibootInfoFlag = {
  Memory: 1 << 0,
  BootDevice: 1 << 1,
  Cmdline: 1 << 2,
  Modules: 1 << 3,
  MemoryMap: 1 << 6,
  BootLoaderName: 1 << 9,
} as const;

/** What EAX holds when the kernel is entered. */
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

/** One module entry: mod_start, mod_end (exclusive), string, reserved. */
export const MULTIBOOT_MODULE_SIZE = 16;
/** One mmap entry: size (of the rest: 20), base_addr u64, length u64, type. */
export const MULTIBOOT_MMAP_ENTRY_SIZE = 24;
