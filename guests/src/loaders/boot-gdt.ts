import { BootMemory } from "./boot-memory-layout.js";
import { GuestRamWriter } from "./guest-ram-writer.js";

/** Four descriptors: two null entries (Linux leaves GDT entry 1 unused), flat code at 0x10, flat data at 0x18. */
export const BOOT_GDT_LIMIT = 4 * 8 - 1;

const FLAT_CODE_DESCRIPTOR = [0x0000ffff, 0x00cf9b00] as const;
const FLAT_DATA_DESCRIPTOR = [0x0000ffff, 0x00cf9300] as const;

/**
 * Writes the boot GDT into guest memory: the protocol requires the selectors the kernel starts with to
 * be backed by a loaded GDT, since the kernel may reload a segment register before it has its own.
 */
export function writeBootGdt(ram: GuestRamWriter, base: number = BootMemory.Gdt): { base: number; limit: number } {
  ram.fill(base, BOOT_GDT_LIMIT + 1, 0);
  ram.writeU32(base + 0x10, FLAT_CODE_DESCRIPTOR[0]);
  ram.writeU32(base + 0x14, FLAT_CODE_DESCRIPTOR[1]);
  ram.writeU32(base + 0x18, FLAT_DATA_DESCRIPTOR[0]);
  ram.writeU32(base + 0x1c, FLAT_DATA_DESCRIPTOR[1]);
  return { base, limit: BOOT_GDT_LIMIT };
}
