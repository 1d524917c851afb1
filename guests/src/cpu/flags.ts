/**
 * Lazy arithmetic flags: ALU instructions record their operands and result, and the six status
 * flags are computed only when something reads them. While lazyOp is NONE, cpu.eflags holds them.
 * INC/DEC keep CF in cpu.eflags because they do not change it.
 */
import type { Cpu } from "./cpu.js";
import { ARITH_FLAGS } from "./constants.js";

/**
 * Mirrors the six arithmetic bits of constants.ts Flag: the package build transforms each file on
 * its own, so an imported const enum would be a property load on these hot paths (ops-fast.test.ts
 * checks the copy).
 */
export const enum ArithFlag { CF = 1 << 0, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, OF = 1 << 11 }

export const enum LazyOp { NONE = 0, ADD = 1, ADC = 2, SUB = 3, SBB = 4, LOGIC = 5, INC = 6, DEC = 7 }

export const PARITY_EVEN = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let bits = 0;
  for (let b = i; b; b >>= 1) bits += b & 1;
  PARITY_EVEN[i] = bits & 1 ? 0 : 1;
}

export function sizeMask(bits: number): number {
  return bits === 32 ? 0xffffffff : (1 << bits) - 1;
}

/** Records an ALU result; operands and result are unsigned and already truncated to `bits`. */
export function setLazy(cpu: Cpu, op: LazyOp, bits: number, a: number, b: number, result: number): void {
  cpu.lazyOp = op;
  cpu.lazyBits = bits;
  cpu.lazyA = a;
  cpu.lazyB = b;
  cpu.lazyResult = result;
}

export function getCF(cpu: Cpu): boolean {
  return lazyCarry(cpu.lazyOp, cpu.lazyA, cpu.lazyB, cpu.lazyResult, cpu.lazyCarryIn, cpu.eflags) !== 0;
}

/** CF (0/1) of a lazy record given as values (operands may be int32 or unsigned), for getCF and the JIT. */
export function lazyCarry(op: number, a: number, b: number, result: number, carryIn: number, eflags: number): number {
  a >>>= 0; b >>>= 0; result >>>= 0;
  switch (op) {
    case LazyOp.ADD: return result < a ? 1 : 0;
    case LazyOp.ADC: return (carryIn ? result <= a : result < a) ? 1 : 0;
    case LazyOp.SUB: return a < b ? 1 : 0;
    case LazyOp.SBB: return (carryIn ? a <= b : a < b) ? 1 : 0;
    case LazyOp.LOGIC: return 0;
    default: return eflags & ArithFlag.CF; // NONE, INC, DEC
  }
}

export function getZF(cpu: Cpu): boolean {
  return cpu.lazyOp === LazyOp.NONE ? (cpu.eflags & ArithFlag.ZF) !== 0 : cpu.lazyResult === 0;
}

export function getSF(cpu: Cpu): boolean {
  return cpu.lazyOp === LazyOp.NONE ? (cpu.eflags & ArithFlag.SF) !== 0 : ((cpu.lazyResult >>> (cpu.lazyBits - 1)) & 1) !== 0;
}

export function getPF(cpu: Cpu): boolean {
  return cpu.lazyOp === LazyOp.NONE ? (cpu.eflags & ArithFlag.PF) !== 0 : PARITY_EVEN[cpu.lazyResult & 0xff] === 1;
}

export function getAF(cpu: Cpu): boolean {
  switch (cpu.lazyOp) {
    case LazyOp.NONE: return (cpu.eflags & ArithFlag.AF) !== 0;
    case LazyOp.LOGIC: return false;
    default: return ((cpu.lazyA ^ cpu.lazyB ^ cpu.lazyResult) & 0x10) !== 0;
  }
}

export function getOF(cpu: Cpu): boolean {
  const a = cpu.lazyA, b = cpu.lazyB, r = cpu.lazyResult, top = cpu.lazyBits - 1;
  switch (cpu.lazyOp) {
    case LazyOp.NONE: return (cpu.eflags & ArithFlag.OF) !== 0;
    case LazyOp.ADD: case LazyOp.ADC: case LazyOp.INC: return (((a ^ r) & (b ^ r)) >>> top & 1) !== 0;
    case LazyOp.SUB: case LazyOp.SBB: case LazyOp.DEC: return (((a ^ b) & (a ^ r)) >>> top & 1) !== 0;
    default: return false;
  }
}

/** Folds the lazy state into cpu.eflags and returns the architectural EFLAGS value. */
export function materializeFlags(cpu: Cpu): number {
  if (cpu.lazyOp !== LazyOp.NONE) {
    let f = cpu.eflags & ~ARITH_FLAGS;
    if (getCF(cpu)) f |= ArithFlag.CF;
    if (getPF(cpu)) f |= ArithFlag.PF;
    if (getAF(cpu)) f |= ArithFlag.AF;
    if (getZF(cpu)) f |= ArithFlag.ZF;
    if (getSF(cpu)) f |= ArithFlag.SF;
    if (getOF(cpu)) f |= ArithFlag.OF;
    cpu.eflags = f;
    cpu.lazyOp = LazyOp.NONE;
  }
  return cpu.eflags;
}

/** Sets flags eagerly from a result (SF/ZF/PF) plus explicit CF, OF and AF. */
export function setResultFlags(cpu: Cpu, bits: number, result: number, cf: boolean, of: boolean, af: boolean): void {
  let f = cpu.eflags & ~ARITH_FLAGS;
  if (cf) f |= ArithFlag.CF;
  if (PARITY_EVEN[result & 0xff]) f |= ArithFlag.PF;
  if (af) f |= ArithFlag.AF;
  if ((result & sizeMask(bits)) === 0) f |= ArithFlag.ZF;
  if ((result >>> (bits - 1)) & 1) f |= ArithFlag.SF;
  if (of) f |= ArithFlag.OF;
  cpu.eflags = f;
  cpu.lazyOp = LazyOp.NONE;
}

/** Replaces only the given arithmetic flag bits after making the others concrete. */
export function writeArithFlags(cpu: Cpu, mask: number, values: number): void {
  materializeFlags(cpu);
  cpu.eflags = (cpu.eflags & ~mask) | (values & mask);
}

/**
 * Folds only CF into cpu.eflags, for INC/DEC, which keep CF but replace the lazy record. A record
 * of NONE, INC or DEC already has CF in cpu.eflags.
 */
export function settleCarry(cpu: Cpu): void {
  const op = cpu.lazyOp;
  if (op === LazyOp.NONE || op === LazyOp.INC || op === LazyOp.DEC) return;
  cpu.eflags = (cpu.eflags & ~ArithFlag.CF) | lazyCarry(op, cpu.lazyA, cpu.lazyB, cpu.lazyResult, cpu.lazyCarryIn, cpu.eflags);
}

/** Jcc/SETcc/CMOVcc condition codes 0..15. */
export function testCondition(cpu: Cpu, cc: number): boolean {
  const op = cpu.lazyOp;
  // After CMP/SUB the conditions are plain comparisons of the recorded (truncated, unsigned) operands.
  if (op === LazyOp.SUB) {
    const a = cpu.lazyA, b = cpu.lazyB;
    let r: boolean;
    switch (cc >> 1) {
      case 1: r = a < b; break;
      case 2: r = cpu.lazyResult === 0; break;
      case 3: r = a < b || cpu.lazyResult === 0; break;
      case 6: { const shift = 32 - cpu.lazyBits; r = (a << shift) < (b << shift); break; }
      case 7: { const shift = 32 - cpu.lazyBits; r = (a << shift) <= (b << shift); break; }
      default: return testConditionSlow(cpu, cc);
    }
    return (cc & 1) !== 0 ? !r : r;
  }
  if ((cc >> 1) === 2) return (op === LazyOp.NONE ? (cpu.eflags & ArithFlag.ZF) !== 0 : cpu.lazyResult === 0) !== ((cc & 1) !== 0);
  return testConditionSlow(cpu, cc);
}

function testConditionSlow(cpu: Cpu, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(cpu); break;
    case 1: r = getCF(cpu); break;
    case 2: r = getZF(cpu); break;
    case 3: r = getCF(cpu) || getZF(cpu); break;
    case 4: r = getSF(cpu); break;
    case 5: r = getPF(cpu); break;
    case 6: r = getSF(cpu) !== getOF(cpu); break;
    default: r = getZF(cpu) || getSF(cpu) !== getOF(cpu); break;
  }
  return (cc & 1) !== 0 ? !r : r;
}
