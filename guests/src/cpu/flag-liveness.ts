/**
 * Which instructions' flags nobody can see: both translators skip recording them. An instruction's
 * flags are dead when a later instruction of its block replaces all six arithmetic flags and only
 * instructions that neither read flags, fault nor leave come between.
 */
import type { DecodedInstruction } from "./instruction.js";

/** Register or immediate operands only: the instruction cannot fault on memory or store into code. */
function registerOnly(insn: DecodedInstruction): boolean {
  return !insn.hasModrm || insn.mod === 3;
}

/** Replaces every arithmetic flag without reading any, and cannot fault (so no one sees the flags before). */
function overwritesFlags(insn: DecodedInstruction): boolean {
  const op = insn.opcode;
  if (!registerOnly(insn)) return false;
  if (op < 0x40 && (op & 7) < 6) {
    const aluOp = (op >> 3) & 7;
    return aluOp !== 2 && aluOp !== 3; // not ADC/SBB
  }
  if (op >= 0x80 && op <= 0x83) return insn.reg !== 2 && insn.reg !== 3;
  if (op === 0x84 || op === 0x85 || op === 0xa8 || op === 0xa9) return true;
  // IMUL's two- and three-operand forms; SHL/SHR/SAR by a constant that is not 0 (mod 32).
  if (op === 0x1af || op === 0x69 || op === 0x6b) return true;
  if ((op === 0xc0 || op === 0xc1) && insn.reg >= 4 && (insn.imm & 0x1f) !== 0) return true;
  if ((op === 0xd0 || op === 0xd1) && insn.reg >= 4) return true;
  return (op === 0xf6 || op === 0xf7) && (insn.reg === 0 || insn.reg === 1 || insn.reg === 3);
}

/** Neither reads nor writes flags, cannot fault and cannot leave the block. */
function flagNeutral(insn: DecodedInstruction): boolean {
  const op = insn.opcode;
  if (op === 0x8d) return insn.mod !== 3;
  if (!registerOnly(insn)) return false;
  return (op >= 0x88 && op <= 0x8b) || (op >= 0xb0 && op <= 0xbf) || (op >= 0x90 && op <= 0x97) ||
    op === 0x1b6 || op === 0x1b7 || op === 0x1be || op === 0x1bf;
}

/**
 * Whether the flags instruction `i` sets are dead: a later instruction of the block replaces them
 * all with only flag-neutral ones between, so no branch, exit, handler or fault can observe them.
 * Instruction `i` itself must not touch memory (a store into code would leave right after it).
 */
export function flagsDeadAfter(list: readonly DecodedInstruction[], i: number): boolean {
  if (!registerOnly(list[i])) return false;
  for (let j = i + 1; j < list.length; j++) {
    if (overwritesFlags(list[j])) return true;
    if (!flagNeutral(list[j])) return false;
  }
  return false;
}
