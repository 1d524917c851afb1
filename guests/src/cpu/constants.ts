/** Architectural numbering shared by every part of the CPU. */

export const enum Reg { EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7 }

/** Segment register numbers as ModRM encodes them; LDTR and TR share the segment caches. */
export const enum Seg { ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7 }

export const enum Flag {
  CF = 1 << 0, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8, IF = 1 << 9,
  DF = 1 << 10, OF = 1 << 11, IOPL = 3 << 12, NT = 1 << 14, RF = 1 << 16, VM = 1 << 17,
  AC = 1 << 18, VIF = 1 << 19, VIP = 1 << 20, ID = 1 << 21,
}

/** The six flags the lazy evaluator owns. */
export const ARITH_FLAGS = 0x8d5;
/** Bit 1 always reads as one. */
export const EFLAGS_FIXED_ONE = 0x2;
/** Bits a 686 lets software change (no VIF/VIP semantics without VME, but they are storable). */
export const EFLAGS_WRITABLE = 0x3f7fd5;

export const enum Cr0 {
  PE = 1 << 0, MP = 1 << 1, EM = 1 << 2, TS = 1 << 3, ET = 1 << 4, NE = 1 << 5,
  WP = 1 << 16, AM = 1 << 18, NW = 1 << 29, CD = 1 << 30, PG = 1 << 31,
}

export const enum Cr4 { VME = 1 << 0, PVI = 1 << 1, TSD = 1 << 2, DE = 1 << 3, PSE = 1 << 4, PGE = 1 << 7, PCE = 1 << 8, OSFXSR = 1 << 9 }

export const enum Msr {
  TSC = 0x10, APIC_BASE = 0x1b, SYSENTER_CS = 0x174, SYSENTER_ESP = 0x175, SYSENTER_EIP = 0x176,
}
