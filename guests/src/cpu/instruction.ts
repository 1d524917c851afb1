/**
 * One decoded instruction. The decoder fills a preallocated record so decoding allocates nothing
 * and a translator can consume the same record.
 */
import type { Cpu } from "./cpu.js";
import { Seg } from "./constants.js";

export const enum Prefix { LOCK = 1, REP = 2, REPNE = 4, OPSIZE = 8, ADSIZE = 16 }

/**
 * PAUSE (F3 90) decodes to an opcode slot of its own past the 0F page: unlike NOP it ends a
 * block and stalls (see PAUSE_STALL_CYCLES), so the tables indexed by opcode hold OPCODE_SLOTS.
 */
export const PAUSE_OPCODE = 0x200;
export const OPCODE_SLOTS = 0x201;

export class DecodedInstruction {
  /** 0x00..0xFF one-byte opcodes, 0x100..0x1FF the 0F page, PAUSE_OPCODE for PAUSE. */
  opcode = 0;
  length = 0;
  prefixes = 0;
  /** Segment for the memory operand: the override if any, else DS or SS by base register. */
  segment: number = Seg.DS;
  /** The explicit segment override, or -1. */
  segOverride = -1;
  opSize32 = false;
  addrSize32 = false;
  hasModrm = false;
  mod = 0;
  reg = 0;
  rm = 0;
  /** Effective address = disp + regs[base] + (regs[index] << scale); -1 means absent. */
  eaBase = -1;
  eaIndex = -1;
  eaScale = 0;
  eaDisp = 0;
  imm = 0;
  /** Second immediate: the selector of a far pointer, or ENTER's nesting level. */
  imm2 = 0;
  /** Decoded for a 32-bit code segment (the default operand and address size). */
  code32 = false;
  /** Offset of the following instruction (already wrapped to 16 bits in 16-bit code). */
  nextEip = 0;
  /** The handler of the opcode (HANDLERS), bound when the instruction is cached (ops-fast.ts bindHandler). */
  exec: (cpu: Cpu, insn: DecodedInstruction) => void = unbound;
  /** Its specialised form (ops-fast.ts Fast), which the interpreter runs inline instead of calling exec; 0 for none. */
  kind = 0;

  copyFrom(other: DecodedInstruction): void {
    this.opcode = other.opcode; this.length = other.length; this.prefixes = other.prefixes;
    this.segment = other.segment; this.segOverride = other.segOverride;
    this.opSize32 = other.opSize32; this.addrSize32 = other.addrSize32; this.hasModrm = other.hasModrm;
    this.mod = other.mod; this.reg = other.reg; this.rm = other.rm;
    this.eaBase = other.eaBase; this.eaIndex = other.eaIndex; this.eaScale = other.eaScale; this.eaDisp = other.eaDisp;
    this.imm = other.imm; this.imm2 = other.imm2; this.nextEip = other.nextEip; this.code32 = other.code32;
    this.exec = other.exec; this.kind = other.kind;
  }
}

function unbound(): void {
  throw new Error("decoded instruction executed before a handler was bound to it");
}
