/**
 * The processor state a boot protocol hands to a kernel, as plain data: what the loader decided,
 * independent of how the CPU stores it. `applyInitialCpuState` loads it into vmk's CPU.
 */

/** A segment register: the visible selector and the descriptor cache behind it. */
export interface SegmentRegisterState {
  selector: number;
  base: number;
  /** Byte-granular limit as the cache holds it (0xFFFFFFFF for a flat 4 GiB segment). */
  limit: number;
  /**
   * Descriptor bits 8..23 of the high dword, the form the CPU's segment cache keeps: access byte
   * (P, DPL, S, type) in bits 0..7, then limit 19:16, AVL, L, D/B, G. 0xC09B is flat 32-bit code.
   */
  attributes: number;
}

export interface DescriptorTableRegister {
  base: number;
  limit: number;
}

export interface GeneralRegisters {
  eax: number;
  ecx: number;
  edx: number;
  ebx: number;
  esp: number;
  ebp: number;
  esi: number;
  edi: number;
}

export interface InitialCpuState {
  registers: GeneralRegisters;
  eip: number;
  eflags: number;
  segments: {
    es: SegmentRegisterState;
    cs: SegmentRegisterState;
    ss: SegmentRegisterState;
    ds: SegmentRegisterState;
    fs: SegmentRegisterState;
    gs: SegmentRegisterState;
  };
  gdtr: DescriptorTableRegister;
  /** Limit 0: any interrupt or exception before the kernel loads its own IDT shuts the machine down. */
  idtr: DescriptorTableRegister;
  cr0: number;
  /** The A20 gate must be open: the platform's gate (port 0x92 / i8042) as well as the CPU's mask. */
  a20Enabled: boolean;
}

/** Linux's boot GDT selectors (arch/x86/include/asm/segment.h): entries 2 and 3. */
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;
/** Present, DPL 0, execute/read code, accessed; 4 KiB granularity, 32-bit. */
export const FLAT_CODE_ATTRIBUTES = 0xc09b;
/** Present, DPL 0, read/write data, accessed; 4 KiB granularity, 32-bit (B). */
export const FLAT_DATA_ATTRIBUTES = 0xc093;
export const CR0_PE = 0x1;
/** Always set on a 486 and later (the x87 is built in). */
export const CR0_ET = 0x10;
/** EFLAGS with only the always-one bit: IF clear, DF clear. */
export const EFLAGS_INTERRUPTS_OFF = 0x2;

function flat(selector: number, attributes: number): SegmentRegisterState {
  return { selector, base: 0, limit: 0xffffffff, attributes };
}

export interface FlatProtectedModeEntry {
  eip: number;
  gdtBase: number;
  gdtLimit: number;
  registers?: Partial<GeneralRegisters>;
}

/**
 * 32-bit protected mode without paging, flat 4 GiB code at BOOT_CS and data at BOOT_DS in every data
 * segment register, interrupts off: the entry state of both the Linux 32-bit boot protocol and
 * multiboot.
 */
export function flatProtectedModeState(entry: FlatProtectedModeEntry): InitialCpuState {
  const data = () => flat(BOOT_DS, FLAT_DATA_ATTRIBUTES);
  return {
    registers: { eax: 0, ecx: 0, edx: 0, ebx: 0, esp: 0, ebp: 0, esi: 0, edi: 0, ...entry.registers },
    eip: entry.eip,
    eflags: EFLAGS_INTERRUPTS_OFF,
    segments: { es: data(), cs: flat(BOOT_CS, FLAT_CODE_ATTRIBUTES), ss: data(), ds: data(), fs: data(), gs: data() },
    gdtr: { base: entry.gdtBase, limit: entry.gdtLimit },
    idtr: { base: 0, limit: 0 },
    cr0: CR0_PE | CR0_ET,
    a20Enabled: true,
  };
}
