/**
 * x87 instructions (escape opcodes D8..DF, WAIT) and 0F AE FXSAVE/FXRSTOR. The ModRM byte
 * selects memory forms (reg = operation) or register forms (reg and rm together).
 *
 * Exceptions follow SDM vol. 1 8.5 in priority order: stack fault (#IS), invalid operation
 * (#IA), denormal operand (#D), divide by zero (#Z), then the rounding ones (#O, #U, #P).
 * Unmasked #IS/#IA/#D/#Z leave destination and TOP alone (fpu-stack.ts "aborted"); unmasked
 * #O/#U deliver a register result with its exponent wrapped, and suppress stores to memory.
 */
import type { Cpu } from "./cpu.js";
import { Cr0, Flag, Seg } from "./constants.js";
import { effectiveAddress } from "./decoder.js";
import { Vector } from "./fault.js";
import { materializeFlags, testCondition } from "./flags.js";
import { fxrstor, fxsave, loadEnvironment, restoreState, saveState, storeEnvironment } from "./fpu-environment.js";
import {
  bcdFromDouble, bitsFromDouble, bitsFromSingle, doubleFromBcd, doubleFromBits, doubleFromExtended, doubleFromInt64,
  extendedFromDouble, int64FromDouble, singleFromBits,
} from "./fpu-formats.js";
import {
  DOUBLE_FORMAT, exact, exactAdd, exactDivide, exactMultiply, exactSqrt, exponentOf, type FpuFormat, isDenormal,
  outcome, REGISTER_SINGLE_FORMAT, Rounding, roundToFormat, roundToIntegral, scaleBy, SINGLE_FORMAT,
} from "./fpu-rounding.js";
import {
  beginFpuInstruction, checkFpuAvailable, checkPendingFpuException, checkPushRoom, fpuAborted, isMasked, popStack,
  pushStack, readStack, recomputeErrorSummary, setC1, setCondition, signalFpuException, signalFpuExceptionKeepingResult,
  signalStoreException,
  updateFerr, writeStack,
} from "./fpu-stack.js";
import { FpuStatus } from "./fpu-state.js";
import type { DecodedInstruction } from "./instruction.js";

const pair = new Int32Array(2);
const triple = new Int32Array(3);
const bcd = new Uint8Array(10);

/**
 * FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ, each with the double next to it on the far side
 * of the true constant (equal for the exact ones), so that RC picks the directed rounding.
 */
const CONSTANTS = [1, Math.log2(10), Math.LOG2E, Math.PI, Math.log10(2), Math.LN2, 0];
const CONSTANTS_OTHER_SIDE = [1, nextAfter(Math.log2(10), 1), nextAfter(Math.LOG2E, 1), nextAfter(Math.PI, 1),
  nextAfter(Math.log10(2), -1), nextAfter(Math.LN2, 1), 0];

/** The adjacent double of positive v: one unit in the last place up (+1) or down (-1). */
function nextAfter(v: number, direction: number): number {
  const b = new Float64Array([v]);
  const w = new Uint32Array(b.buffer);
  const low = w[0] + direction;
  w[0] = low >>> 0;
  if (low > 0xffffffff) w[1] += 1;
  else if (low < 0) w[1] -= 1;
  return b[0];
}

/** 9B WAIT/FWAIT. */
export function fpuWait(cpu: Cpu): void {
  if ((cpu.cr0 & (Cr0.MP | Cr0.TS)) === (Cr0.MP | Cr0.TS)) cpu.raise(Vector.NM);
  checkPendingFpuException(cpu);
}

function roundingControl(cpu: Cpu): number {
  return (cpu.fpu.controlWord >> 10) & 3;
}

/** Precision control governs FADD/FSUB/FMUL/FDIV/FSQRT (SDM vol. 1 8.1.5.2). */
function precisionFormat(cpu: Cpu): FpuFormat {
  return ((cpu.fpu.controlWord >> 8) & 3) === 0 ? REGISTER_SINGLE_FORMAT : DOUBLE_FORMAT;
}

/** Turns the last rounding's outcome into flags and C1; `store` for memory destinations. */
function reportRounding(cpu: Cpu, store: boolean): void {
  const r = outcome.flags;
  setC1(cpu, (r & Rounding.UP) !== 0);
  let flags = 0;
  if ((r & Rounding.OVERFLOW) !== 0) flags |= FpuStatus.OE;
  if ((r & Rounding.UNDERFLOW) !== 0) flags |= FpuStatus.UE;
  if ((r & Rounding.INEXACT) !== 0) flags |= FpuStatus.PE;
  if (flags === 0) return;
  if (store) signalStoreException(cpu, flags);
  else signalFpuException(cpu, flags);
}

/** Rounds the exact result in `exact` to a register under PC/RC and signals what happened. */
function roundRegister(cpu: Cpu, hi: number, lo: number, exp: number, format: FpuFormat): number {
  const v = roundToFormat(hi, lo, exp, format, roundingControl(cpu), isMasked(cpu, FpuStatus.UE), isMasked(cpu, FpuStatus.OE));
  reportRounding(cpu, false);
  return v;
}

/** #D for a denormal operand; false when that exception is unmasked (the instruction stops). */
function checkDenormal(cpu: Cpu, a: number, b: number, memoryDenormal: boolean): boolean {
  if (memoryDenormal || isDenormal(a) || isDenormal(b)) signalFpuException(cpu, FpuStatus.DE);
  return !fpuAborted();
}

/** The indefinite for an invalid operation (masked response). */
function invalid(cpu: Cpu): number {
  signalFpuException(cpu, FpuStatus.IE);
  return NaN;
}

/**
 * Arithmetic operation `op` (ModRM reg numbering: ADD MUL COM COMP SUB SUBR DIV DIVR) on ST
 * operand a and source b, exactly rounded per PC and RC.
 */
function arithmetic(cpu: Cpu, op: number, a: number, b: number, memoryDenormal: boolean): number {
  if (a !== a || b !== b) return NaN; // QNaN operands propagate without an exception
  const format = precisionFormat(cpu);
  if (op === 1) {
    if ((a === 0 && !Number.isFinite(b)) || (b === 0 && !Number.isFinite(a))) return invalid(cpu);
    if (!checkDenormal(cpu, a, b, memoryDenormal)) return NaN;
    if (a === 0 || b === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return roundRegister(cpu, a * b, 0, 0, format);
    exactMultiply(a, b);
    return roundRegister(cpu, exact.hi, exact.lo, exact.exp, format);
  }
  if (op >= 6) {
    const x = op === 6 ? a : b;
    const y = op === 6 ? b : a;
    if ((x === 0 && y === 0) || (!Number.isFinite(x) && !Number.isFinite(y))) return invalid(cpu);
    if (y === 0 && Number.isFinite(x)) {
      // A zero divisor is found before a denormal dividend: #Z alone (as a P6 reports it).
      signalFpuException(cpu, FpuStatus.ZE);
      return roundRegister(cpu, x / y, 0, 0, format);
    }
    if (!checkDenormal(cpu, a, b, memoryDenormal)) return NaN;
    if (x === 0 || !Number.isFinite(x) || !Number.isFinite(y)) return roundRegister(cpu, x / y, 0, 0, format);
    exactDivide(x, y);
    return roundRegister(cpu, exact.hi, exact.lo, exact.exp, format);
  }
  // ADD, SUB (a - b), SUBR (b - a) as one addition.
  const x = op === 5 ? b : a;
  const y = op === 0 ? b : op === 4 ? -b : -a;
  if (x === -y && !Number.isFinite(x)) return invalid(cpu);
  if (!checkDenormal(cpu, a, b, memoryDenormal)) return NaN;
  if (x === 0 && y === 0) {
    setC1(cpu, false);
    // Zeros of unlike sign sum to +0, or to -0 when rounding down (IEEE 754 6.3).
    return Object.is(x, y) ? x : roundingControl(cpu) === 1 ? -0 : 0;
  }
  if (x === 0 || y === 0 || !Number.isFinite(x) || !Number.isFinite(y)) return roundRegister(cpu, x + y, 0, 0, format);
  exactAdd(x, y);
  if (exact.hi === 0) {
    setC1(cpu, false);
    return roundingControl(cpu) === 1 ? -0 : 0;
  }
  return roundRegister(cpu, exact.hi, exact.lo, exact.exp, format);
}

/** FCOM-style comparison into C3/C2/C0; `quiet` (FUCOM) takes QNaNs without #IA. */
function compare(cpu: Cpu, a: number, b: number, quiet: boolean, memoryDenormal: boolean): void {
  if (a !== a || b !== b) {
    if (!quiet) signalFpuException(cpu, FpuStatus.IE);
    setCondition(cpu, true, true, false, true);
    return;
  }
  if (!checkDenormal(cpu, a, b, memoryDenormal)) return;
  setCondition(cpu, a === b, false, false, a < b);
}

/** FCOMI/FUCOMI: the result goes to ZF/PF/CF. */
function compareToEflags(cpu: Cpu, a: number, b: number, quiet: boolean): void {
  let result = 0;
  if (a !== a || b !== b) {
    if (!quiet) signalFpuException(cpu, FpuStatus.IE);
    result = Flag.ZF | Flag.PF | Flag.CF;
  } else {
    checkDenormal(cpu, a, b, false);
    if (a === b) result = Flag.ZF;
    else if (a < b) result = Flag.CF;
  }
  cpu.fpu.statusWord &= ~FpuStatus.C1;
  if (fpuAborted()) return;
  materializeFlags(cpu);
  cpu.eflags = (cpu.eflags & ~(Flag.ZF | Flag.PF | Flag.CF | Flag.OF | Flag.SF | Flag.AF)) | result;
}

function recordInstruction(cpu: Cpu, insn: DecodedInstruction, offset: number): void {
  const f = cpu.fpu;
  f.lastIp = cpu.instructionStart;
  f.lastCs = cpu.segSel[Seg.CS];
  f.lastOpcode = ((insn.opcode & 7) << 8) | (insn.mod << 6) | (insn.reg << 3) | insn.rm;
  if (insn.mod !== 3) {
    f.lastDataPointer = offset;
    f.lastDataSelector = cpu.segSel[insn.segment];
  }
}

/**
 * Converts to an integer of `bits` by the rounding control (#P, C1 = rounded up); NaN, ∞ and
 * out of range are #IA with the integer indefinite as masked result.
 */
function toInteger(cpu: Cpu, value: number, bits: number): number {
  const rounded = roundToIntegral(value, roundingControl(cpu));
  const limit = bits === 64 ? 9223372036854775808 : Math.pow(2, bits - 1);
  if (rounded !== rounded || rounded >= limit || rounded < -limit) {
    setC1(cpu, false);
    signalFpuException(cpu, FpuStatus.IE);
    return -limit;
  }
  reportRounding(cpu, false);
  return rounded;
}

/** Set by loadMemoryOperand: the operand was denormal / a signaling NaN in its own format. */
let memoryDenormal = false;
let memorySignaling = false;

function classifySingle(bits: number): void {
  const exponent = (bits >>> 23) & 0xff;
  const fraction = bits & 0x7fffff;
  memoryDenormal = exponent === 0 && fraction !== 0;
  memorySignaling = exponent === 0xff && fraction !== 0 && (fraction & 0x400000) === 0;
}

function classifyDouble(low: number, high: number): void {
  const exponent = (high >>> 20) & 0x7ff;
  const fraction = (high & 0xfffff) | low;
  memoryDenormal = exponent === 0 && fraction !== 0;
  memorySignaling = exponent === 0x7ff && fraction !== 0 && (high & 0x80000) === 0;
}

function loadMemoryOperand(cpu: Cpu, seg: number, offset: number, format: number): number {
  memoryDenormal = false;
  memorySignaling = false;
  switch (format) {
    case 0: {
      const bits = cpu.read32(seg, offset);
      classifySingle(bits);
      return singleFromBits(bits);
    }
    case 1: return cpu.read32(seg, offset);
    case 2: {
      const low = cpu.read32(seg, offset);
      const high = cpu.read32(seg, offset + 4);
      classifyDouble(low, high);
      return doubleFromBits(low, high);
    }
    default: return (cpu.read16(seg, offset) << 16) >> 16;
  }
}

/**
 * FLD m32/m64: #IS first, then #IA for a signaling NaN and #D for a denormal. An unmasked #D
 * still loads the (normalised) value, as the host CPU shows; an unmasked #IA does not.
 */
function loadReal(cpu: Cpu, value: number): void {
  if (!checkPushRoom(cpu)) {
    pushStack(cpu, NaN);
    return;
  }
  setC1(cpu, false);
  if (memorySignaling) signalFpuException(cpu, FpuStatus.IE);
  else if (memoryDenormal) signalFpuExceptionKeepingResult(cpu, FpuStatus.DE);
  pushStack(cpu, value);
}

/** FST/FSTP m32/m64: rounded to the memory format (#O/#U/#P, C1); NaN is stored as the indefinite. */
function storeReal(cpu: Cpu, value: number, format: FpuFormat): number {
  if (value !== value) {
    setC1(cpu, false);
    return NaN;
  }
  const v = roundToFormat(value, 0, 0, format, roundingControl(cpu), isMasked(cpu, FpuStatus.UE), isMasked(cpu, FpuStatus.OE));
  reportRounding(cpu, true);
  return v;
}

/** Waiting x87 instructions without a ModRM memory operand that still never wait (SDM 8.3.11). */
function isNoWaitRegisterForm(escape: number, reg: number, rm: number): boolean {
  return (escape === 3 && reg === 4 && rm <= 4) || (escape === 7 && reg === 4 && rm === 0);
}

/** D8..DF with a ModRM byte. */
export function fpuEscape(cpu: Cpu, insn: DecodedInstruction): void {
  checkFpuAvailable(cpu);
  beginFpuInstruction();
  const escape = insn.opcode & 7;
  const reg = insn.reg;
  if (insn.mod !== 3) {
    const seg = insn.segment;
    const offset = effectiveAddress(cpu, insn);
    // FNSTENV, FNSTCW, FNSAVE, FNSTSW never wait; FLDENV, FLDCW, FRSTOR wait but, being control
    // instructions, leave the instruction and data pointers alone (SDM vol. 1 8.1.8).
    const noWait = (escape === 1 && reg >= 6) || (escape === 5 && reg >= 6);
    const control = noWait || (escape === 1 && (reg === 4 || reg === 5)) || (escape === 5 && reg === 4);
    if (!noWait) checkPendingFpuException(cpu);
    memoryForm(cpu, insn, escape, reg, seg, offset);
    if (!control) recordInstruction(cpu, insn, offset);
    updateFerr(cpu);
    return;
  }
  const noWait = isNoWaitRegisterForm(escape, reg, insn.rm);
  if (!noWait) checkPendingFpuException(cpu);
  registerForm(cpu, escape, reg, insn.rm);
  if (!noWait) recordInstruction(cpu, insn, 0);
  updateFerr(cpu);
}

function memoryForm(cpu: Cpu, insn: DecodedInstruction, escape: number, reg: number, seg: number, offset: number): void {
  const f = cpu.fpu;
  switch (escape) {
    case 0: case 2: case 4: case 6: {
      // Arithmetic with m32real, m32int, m64real, m16int.
      const b = loadMemoryOperand(cpu, seg, offset, escape >> 1);
      const a = readStack(cpu, 0);
      if (memorySignaling) signalFpuException(cpu, FpuStatus.IE);
      if (reg === 2 || reg === 3) {
        compare(cpu, a, b, false, memoryDenormal);
        if (reg === 3) popStack(cpu);
      } else {
        writeStack(cpu, 0, arithmetic(cpu, reg, a, b, memoryDenormal));
      }
      return;
    }
    case 1:
      switch (reg) {
        case 0: loadReal(cpu, loadMemoryOperand(cpu, seg, offset, 0)); return;
        case 2: case 3: {
          // The destination is checked first: a page fault must leave the status word alone.
          cpu.linear(seg, offset, 4, true);
          const v = readStack(cpu, 0);
          if (fpuAborted()) return;
          const bits = bitsFromSingle(storeReal(cpu, v, SINGLE_FORMAT));
          if (fpuAborted()) return;
          cpu.write32(seg, offset, bits);
          if (reg === 3) popStack(cpu);
          return;
        }
        case 4: loadEnvironment(cpu, seg, offset, insn.opSize32); recomputeErrorSummary(cpu); return;
        case 5: f.controlWord = cpu.read16(seg, offset) | 0x40; recomputeErrorSummary(cpu); return;
        case 6: storeEnvironment(cpu, seg, offset, insn.opSize32); f.controlWord |= 0x3f; return;
        case 7: cpu.write16(seg, offset, f.controlWord); return;
        default: cpu.raise(Vector.UD);
      }
      return;
    case 3:
      switch (reg) {
        case 0: if (checkPushRoom(cpu)) setC1(cpu, false); pushStack(cpu, cpu.read32(seg, offset)); return;
        case 2: case 3: {
          cpu.linear(seg, offset, 4, true);
          const v = toInteger(cpu, readStack(cpu, 0), 32);
          if (fpuAborted()) return;
          cpu.write32(seg, offset, v | 0);
          if (reg === 3) popStack(cpu);
          return;
        }
        case 5: {
          const v = doubleFromExtended(cpu.read32(seg, offset), cpu.read32(seg, offset + 4), cpu.read16(seg, offset + 8));
          if (checkPushRoom(cpu)) setC1(cpu, false);
          pushStack(cpu, v);
          return;
        }
        case 7: {
          cpu.linear(seg, offset, 10, true);
          const v = readStack(cpu, 0);
          if (fpuAborted()) return;
          extendedFromDouble(v, triple);
          cpu.write32(seg, offset, triple[0]);
          cpu.write32(seg, offset + 4, triple[1]);
          cpu.write16(seg, offset + 8, triple[2]);
          setC1(cpu, false);
          popStack(cpu);
          return;
        }
        default: cpu.raise(Vector.UD);
      }
      return;
    case 5:
      switch (reg) {
        case 0: loadReal(cpu, loadMemoryOperand(cpu, seg, offset, 2)); return;
        case 2: case 3: {
          cpu.linear(seg, offset, 8, true);
          const v = readStack(cpu, 0);
          if (fpuAborted()) return;
          bitsFromDouble(storeReal(cpu, v, DOUBLE_FORMAT), pair);
          if (fpuAborted()) return;
          cpu.write32(seg, offset, pair[0]);
          cpu.write32(seg, offset + 4, pair[1]);
          if (reg === 3) popStack(cpu);
          return;
        }
        case 4: restoreState(cpu, seg, offset, insn.opSize32); recomputeErrorSummary(cpu); return;
        case 6: saveState(cpu, seg, offset, insn.opSize32); return;
        case 7: cpu.write16(seg, offset, f.status); return;
        default: cpu.raise(Vector.UD);
      }
      return;
    default: // 7
      switch (reg) {
        case 0: {
          const v = (cpu.read16(seg, offset) << 16) >> 16;
          if (checkPushRoom(cpu)) setC1(cpu, false);
          pushStack(cpu, v);
          return;
        }
        case 2: case 3: {
          cpu.linear(seg, offset, 2, true);
          const v = toInteger(cpu, readStack(cpu, 0), 16);
          if (fpuAborted()) return;
          cpu.write16(seg, offset, v);
          if (reg === 3) popStack(cpu);
          return;
        }
        case 4: {
          for (let i = 0; i < 10; i++) bcd[i] = cpu.read8(seg, offset + i);
          if (checkPushRoom(cpu)) setC1(cpu, false);
          pushStack(cpu, doubleFromBcd(bcd));
          return;
        }
        case 5: {
          const v = doubleFromInt64(cpu.read32(seg, offset), cpu.read32(seg, offset + 4));
          if (checkPushRoom(cpu)) setC1(cpu, false);
          pushStack(cpu, v);
          return;
        }
        case 6: {
          cpu.linear(seg, offset, 10, true);
          const v = readStack(cpu, 0);
          if (fpuAborted()) return;
          const rounded = roundToIntegral(v, roundingControl(cpu));
          if (!(Math.abs(rounded) < 1e18)) {
            setC1(cpu, false);
            signalFpuException(cpu, FpuStatus.IE);
            if (fpuAborted()) return;
            // The packed BCD indefinite: FFFF C000000000000000.
            bcd.fill(0, 0, 7); bcd[7] = 0xc0; bcd[8] = 0xff; bcd[9] = 0xff;
          } else {
            reportRounding(cpu, false);
            bcdFromDouble(rounded, bcd);
          }
          for (let i = 0; i < 10; i++) cpu.write8(seg, offset + i, bcd[i]);
          popStack(cpu);
          return;
        }
        case 7: {
          cpu.linear(seg, offset, 8, true);
          const v = toInteger(cpu, readStack(cpu, 0), 64);
          if (fpuAborted()) return;
          int64FromDouble(v, pair);
          cpu.write32(seg, offset, pair[0]);
          cpu.write32(seg, offset + 4, pair[1]);
          popStack(cpu);
          return;
        }
        default: cpu.raise(Vector.UD);
      }
  }
}

/** FST/FSTP ST(i): a register copy, C1 cleared; no rounding (both ends are registers). */
function copyTop(cpu: Cpu, i: number, pop: boolean): void {
  const v = readStack(cpu, 0);
  if (!fpuAborted()) setC1(cpu, false);
  writeStack(cpu, i, v);
  if (pop) popStack(cpu);
}

function registerForm(cpu: Cpu, escape: number, reg: number, i: number): void {
  const f = cpu.fpu;
  switch (escape) {
    case 0: {
      const a = readStack(cpu, 0);
      const b = readStack(cpu, i);
      if (reg === 2 || reg === 3) {
        compare(cpu, a, b, false, false);
        if (reg === 3) popStack(cpu);
      } else {
        writeStack(cpu, 0, arithmetic(cpu, reg, a, b, false));
      }
      return;
    }
    case 4: case 6: {
      // ST(i) = ST(i) op ST(0); the SUB/SUBR and DIV/DIVR encodings are swapped here.
      if (escape === 6 && reg === 3) {
        if (i !== 1) cpu.raise(Vector.UD);
        compare(cpu, readStack(cpu, 0), readStack(cpu, 1), false, false);
        popStack(cpu);
        popStack(cpu);
        return;
      }
      const a = readStack(cpu, i);
      const b = readStack(cpu, 0);
      if (reg === 2 || reg === 3) {
        compare(cpu, b, a, false, false);
        if (reg === 3 || escape === 6) popStack(cpu);
        return;
      }
      writeStack(cpu, i, arithmetic(cpu, reg >= 4 ? reg ^ 1 : reg, a, b, false));
      if (escape === 6) popStack(cpu);
      return;
    }
    case 1: registerFormD9(cpu, reg, i); return;
    case 2:
      if (reg < 4) {
        const cc = reg === 0 ? 2 : reg === 1 ? 4 : reg === 2 ? 6 : 0xa;
        const v = readStack(cpu, i);
        if (!fpuAborted()) setC1(cpu, false);
        if (testCondition(cpu, cc)) writeStack(cpu, 0, v);
        return;
      }
      if (reg === 5 && i === 1) {
        compare(cpu, readStack(cpu, 0), readStack(cpu, 1), true, false);
        popStack(cpu);
        popStack(cpu);
        return;
      }
      cpu.raise(Vector.UD);
      return;
    case 3:
      if (reg < 4) {
        const cc = reg === 0 ? 3 : reg === 1 ? 5 : reg === 2 ? 7 : 0xb;
        const v = readStack(cpu, i);
        if (!fpuAborted()) setC1(cpu, false);
        if (testCondition(cpu, cc)) writeStack(cpu, 0, v);
        return;
      }
      if (reg === 4) {
        if (i === 2) { f.statusWord &= ~(0x3f | FpuStatus.SF | FpuStatus.ES | FpuStatus.B); return; } // FNCLEX
        if (i === 3) { f.reset(); return; } // FNINIT
        if (i === 0 || i === 1 || i === 4) return; // FNENI/FNDISI/FNSETPM: no-ops after the 287
        cpu.raise(Vector.UD);
      }
      if (reg === 5 || reg === 6) { compareToEflags(cpu, readStack(cpu, 0), readStack(cpu, i), reg === 5); return; }
      cpu.raise(Vector.UD);
      return;
    case 5:
      switch (reg) {
        case 0: f.empty[(f.top + i) & 7] = 1; return; // FFREE
        case 1: exchange(cpu, i); return;
        case 2: case 3: copyTop(cpu, i, reg === 3); return;
        case 4: case 5: compare(cpu, readStack(cpu, 0), readStack(cpu, i), true, false); if (reg === 5) popStack(cpu); return;
        default: cpu.raise(Vector.UD);
      }
      return;
    default: // 7
      if (reg === 4 && i === 0) { cpu.regs[0] = (cpu.regs[0] & ~0xffff) | f.status; return; } // FNSTSW AX
      if (reg === 5 || reg === 6) { compareToEflags(cpu, readStack(cpu, 0), readStack(cpu, i), reg === 5); popStack(cpu); return; }
      if (reg === 0) { f.empty[(f.top + i) & 7] = 1; popStack(cpu); return; } // FFREEP
      if (reg === 1) { exchange(cpu, i); return; }
      if (reg === 2 || reg === 3) { copyTop(cpu, i, true); return; }
      cpu.raise(Vector.UD);
  }
}

function exchange(cpu: Cpu, i: number): void {
  const a = readStack(cpu, 0);
  const b = readStack(cpu, i);
  if (!fpuAborted()) cpu.fpu.statusWord &= ~FpuStatus.C1;
  writeStack(cpu, 0, b);
  writeStack(cpu, i, a);
}

function registerFormD9(cpu: Cpu, reg: number, i: number): void {
  const f = cpu.fpu;
  switch (reg) {
    case 0: { // FLD ST(i)
      const v = readStack(cpu, i);
      if (checkPushRoom(cpu) && !fpuAborted()) setC1(cpu, false);
      pushStack(cpu, v);
      return;
    }
    case 1: exchange(cpu, i); return;
    case 2: if (i !== 0) cpu.raise(Vector.UD); return; // FNOP
    case 3: copyTop(cpu, i, true); return; // FSTP1 alias
    case 4:
      switch (i) {
        case 0: case 1: { // FCHS, FABS
          const v = readStack(cpu, 0);
          if (!fpuAborted()) f.statusWord &= ~FpuStatus.C1;
          writeStack(cpu, 0, i === 0 ? -v : Math.abs(v));
          return;
        }
        case 4: compare(cpu, readStack(cpu, 0), 0, false, false); return; // FTST
        case 5: examine(cpu); return;
        default: cpu.raise(Vector.UD);
      }
      return;
    case 5: {
      if (i === 7) cpu.raise(Vector.UD);
      if (checkPushRoom(cpu)) setC1(cpu, false);
      // The constant rounded per RC: nearest is the plain double, directed rounding may take its neighbour.
      const near = CONSTANTS[i];
      const other = CONSTANTS_OTHER_SIDE[i];
      const rc = roundingControl(cpu);
      const wantAbove = rc === 2;
      const wantBelow = rc === 1 || rc === 3; // all constants are positive: chop = down
      const v = (wantAbove && other > near) || (wantBelow && other < near) ? other : near;
      pushStack(cpu, v);
      return;
    }
    case 6: transcendentalA(cpu, i); return;
    default: transcendentalB(cpu, i); return;
  }
}

/** FXAM: class of ST(0) in C3/C2/C0, sign in C1. */
function examine(cpu: Cpu): void {
  const f = cpu.fpu;
  const r = f.top;
  const v = f.st[r];
  const sign = v < 0 || Object.is(v, -0);
  if (f.empty[r]) setCondition(cpu, true, false, sign, true);
  else if (Number.isNaN(v)) setCondition(cpu, false, false, sign, true);
  else if (!Number.isFinite(v)) setCondition(cpu, false, true, sign, true);
  else if (v === 0) setCondition(cpu, true, false, sign, false);
  else if (isDenormal(v)) setCondition(cpu, true, true, sign, false);
  else setCondition(cpu, false, true, sign, false);
}

const TWO_63 = 9223372036854775808;

/**
 * Result of a transcendental computed with Math: not the x87 microcode's 64-bit result, so only
 * `exactResult` cases are flagged exact; the rest are #P (C1 left clear: the direction is unknown),
 * and a result in the denormal range is #U.
 */
function transcendentalResult(cpu: Cpu, value: number, exactResult: boolean): number {
  setC1(cpu, false);
  if (value !== value || exactResult) return value;
  signalFpuException(cpu, isDenormal(value) ? FpuStatus.PE | FpuStatus.UE : FpuStatus.PE);
  return value;
}

/** The usual front of a one-operand function: NaN passes, ∞ is #IA when `infiniteInvalid`, then #D. */
function unaryOperand(cpu: Cpu, x: number, infiniteInvalid: boolean): boolean {
  if (x !== x) return false;
  if (infiniteInvalid && !Number.isFinite(x)) {
    writeStack(cpu, 0, invalid(cpu));
    return false;
  }
  return checkDenormal(cpu, x, 0, false);
}

/**
 * FPTAN (tan, then 1.0 pushed) and FSINCOS (sin, then cos pushed). Masked invalid operands (∞)
 * and NaNs still push: both registers get the NaN, as a P6 does.
 */
function twoResults(cpu: Cpu, tangent: boolean): void {
  const f = cpu.fpu;
  const x = readStack(cpu, 0);
  if (Math.abs(x) >= TWO_63 && Number.isFinite(x)) { f.statusWord |= FpuStatus.C2; return; }
  if (!checkPushRoom(cpu)) { pushStack(cpu, NaN); return; }
  f.statusWord &= ~FpuStatus.C2;
  if (x !== x || !Number.isFinite(x)) {
    const v = x !== x ? x : invalid(cpu);
    writeStack(cpu, 0, v);
    pushStack(cpu, v);
    return;
  }
  if (!checkDenormal(cpu, x, 0, false)) return;
  writeStack(cpu, 0, transcendentalResult(cpu, tangent ? Math.tan(x) : Math.sin(x), x === 0));
  pushStack(cpu, tangent ? 1 : transcendentalResult(cpu, Math.cos(x), x === 0));
}

/** D9 F0..F7. */
function transcendentalA(cpu: Cpu, i: number): void {
  const f = cpu.fpu;
  switch (i) {
    case 0: { // F2XM1
      const x = readStack(cpu, 0);
      if (!unaryOperand(cpu, x, false)) return;
      const r = x === -Infinity ? -1 : Math.expm1(x * Math.LN2);
      writeStack(cpu, 0, transcendentalResult(cpu, r, x === 0 || x === 1 || x === -1 || !Number.isFinite(x)));
      return;
    }
    case 1: { // FYL2X
      const x = readStack(cpu, 0), y = readStack(cpu, 1);
      if (x !== x || y !== y) { writeStack(cpu, 1, NaN); popStack(cpu); return; }
      if (x < 0 || (x === 0 && y === 0) || (x === 1 && !Number.isFinite(y)) || (x === Infinity && y === 0)) {
        writeStack(cpu, 1, invalid(cpu));
        popStack(cpu);
        return;
      }
      if (!checkDenormal(cpu, x, y, false)) return;
      if (x === 0 && Number.isFinite(y)) signalFpuException(cpu, FpuStatus.ZE);
      const log = Math.log2(x);
      const r = y * log;
      // log2 is exact for powers of two; then only the product can round.
      const exactLog = x > 0 && Number.isFinite(x) && Number.isInteger(log) && Math.pow(2, log) === x;
      writeStack(cpu, 1, transcendentalResult(cpu, r, !Number.isFinite(r) || r === 0 || (exactLog && r / log === y)));
      popStack(cpu);
      return;
    }
    case 2: twoResults(cpu, true); return; // FPTAN
    case 3: { // FPATAN
      const x = readStack(cpu, 0), y = readStack(cpu, 1);
      if (x === x && y === y && !checkDenormal(cpu, x, y, false)) return;
      const r = Math.atan2(y, x);
      // Exact only when the angle is zero: y = 0 with x positive, or a finite y over x = +∞.
      const zeroAngle = (y === 0 && (x > 0 || Object.is(x, 0))) || (x === Infinity && Number.isFinite(y));
      writeStack(cpu, 1, transcendentalResult(cpu, r, zeroAngle));
      popStack(cpu);
      return;
    }
    case 4: { // FXTRACT
      const v = readStack(cpu, 0);
      if (fpuAborted()) return;
      if (!checkPushRoom(cpu)) { pushStack(cpu, NaN); return; }
      if (v === 0) {
        signalFpuException(cpu, FpuStatus.ZE);
        writeStack(cpu, 0, -Infinity);
        pushStack(cpu, v);
        return;
      }
      if (!Number.isFinite(v)) {
        writeStack(cpu, 0, Number.isNaN(v) ? v : Infinity);
        pushStack(cpu, v);
        return;
      }
      if (!checkDenormal(cpu, v, 0, false)) return;
      const exponent = Math.floor(Math.log2(Math.abs(v)));
      let significand = v / Math.pow(2, exponent);
      let e = exponent;
      if (Math.abs(significand) >= 2) { significand /= 2; e++; }
      else if (Math.abs(significand) < 1) { significand *= 2; e--; }
      writeStack(cpu, 0, e);
      pushStack(cpu, significand);
      return;
    }
    case 5: remainder(cpu, true); return; // FPREM1
    case 6: f.top = (f.top - 1) & 7; f.statusWord &= ~FpuStatus.C1; return; // FDECSTP
    default: f.top = (f.top + 1) & 7; f.statusWord &= ~FpuStatus.C1; return; // FINCSTP
  }
}

/** D9 F8..FF. */
function transcendentalB(cpu: Cpu, i: number): void {
  const f = cpu.fpu;
  switch (i) {
    case 0: remainder(cpu, false); return; // FPREM
    case 1: { // FYL2XP1
      const x = readStack(cpu, 0), y = readStack(cpu, 1);
      if (x !== x || y !== y) { writeStack(cpu, 1, NaN); popStack(cpu); return; }
      if ((x === 0 && !Number.isFinite(y)) || x < -1) { writeStack(cpu, 1, invalid(cpu)); popStack(cpu); return; }
      if (!checkDenormal(cpu, x, y, false)) return;
      const r = (y * Math.log1p(x)) / Math.LN2;
      writeStack(cpu, 1, transcendentalResult(cpu, r, x === 0 || y === 0 || !Number.isFinite(r)));
      popStack(cpu);
      return;
    }
    case 2: { // FSQRT
      const x = readStack(cpu, 0);
      if (x !== x) return;
      if (x < 0) { writeStack(cpu, 0, invalid(cpu)); return; } // -0 is allowed: sqrt(-0) = -0
      if (!checkDenormal(cpu, x, 0, false)) return;
      if (x === 0 || x === Infinity) { setC1(cpu, false); writeStack(cpu, 0, x); return; }
      exactSqrt(x);
      writeStack(cpu, 0, roundRegister(cpu, exact.hi, exact.lo, exact.exp, precisionFormat(cpu)));
      return;
    }
    case 3: twoResults(cpu, false); return; // FSINCOS
    case 4: { // FRNDINT
      const x = readStack(cpu, 0);
      if (!unaryOperand(cpu, x, false)) return;
      const r = roundToIntegral(x, roundingControl(cpu));
      reportRounding(cpu, false);
      writeStack(cpu, 0, r);
      return;
    }
    case 5: { // FSCALE: ST(0) × 2^trunc(ST(1)), rounded once (#O/#U/#P)
      const x = readStack(cpu, 0), s = readStack(cpu, 1);
      if (x !== x || s !== s) { writeStack(cpu, 0, NaN); return; }
      if ((x === 0 && s === Infinity) || (!Number.isFinite(x) && s === -Infinity)) { writeStack(cpu, 0, invalid(cpu)); return; }
      if (!checkDenormal(cpu, x, s, false)) return;
      if (x === 0 || !Number.isFinite(x)) { setC1(cpu, false); writeStack(cpu, 0, x); return; }
      if (!Number.isFinite(s)) { setC1(cpu, false); writeStack(cpu, 0, s > 0 ? x * Infinity : x * 0); return; }
      const power = Math.max(-4000, Math.min(4000, Math.trunc(s)));
      writeStack(cpu, 0, roundRegister(cpu, x, 0, power, DOUBLE_FORMAT));
      return;
    }
    case 6: case 7: { // FSIN, FCOS
      const x = readStack(cpu, 0);
      if (x !== x) return;
      if (Math.abs(x) >= TWO_63 && Number.isFinite(x)) { f.statusWord |= FpuStatus.C2; return; }
      f.statusWord &= ~FpuStatus.C2;
      if (!unaryOperand(cpu, x, true)) return;
      writeStack(cpu, 0, transcendentalResult(cpu, i === 6 ? Math.sin(x) : Math.cos(x), x === 0));
      return;
    }
  }
}

/**
 * FPREM (truncated quotient) and FPREM1 (quotient rounded to nearest). With exponents at least
 * 64 apart only a partial remainder is produced (C2 = 1, C0/C1/C3 clear), reducing by the
 * divisor scaled by 2^(D - N) with a chopped quotient; N = 32 + (D mod 32) is what a P6 does
 * (found against the host CPU). fmod is exact, so every result here is exact.
 */
function remainder(cpu: Cpu, ieee: boolean): void {
  const a = readStack(cpu, 0);
  const b = readStack(cpu, 1);
  if (a !== a || b !== b) { writeStack(cpu, 0, NaN); return; }
  if (b === 0 || !Number.isFinite(a)) {
    writeStack(cpu, 0, invalid(cpu));
    return;
  }
  if (!checkDenormal(cpu, a, b, false)) return;
  if (!Number.isFinite(b) || a === 0) {
    writeStack(cpu, 0, a);
    setCondition(cpu, false, false, false, false);
    return;
  }
  const absA = Math.abs(a);
  const absB = Math.abs(b);
  const d = exponentOf(absA) - exponentOf(absB);
  if (d >= 64) {
    const partial = absA % scaleBy(absB, d - 32 - (d & 31));
    writeStack(cpu, 0, a < 0 ? -partial : partial);
    setCondition(cpu, false, true, false, false);
    return;
  }
  let r = absA % absB;
  // The quotient's low three bits: the remainder modulo 8·|b| exceeds r by (q mod 8)·|b|.
  let q = Math.round((absA % (absB * 8) - r) / absB) & 7;
  if (ieee && (r > absB / 2 || (r === absB / 2 && (q & 1) === 1))) {
    r -= absB;
    q = (q + 1) & 7;
  }
  writeStack(cpu, 0, a < 0 ? -r : r); // a zero remainder keeps the dividend's sign
  if (isDenormal(r)) signalFpuException(cpu, isMasked(cpu, FpuStatus.UE) ? 0 : FpuStatus.UE);
  setCondition(cpu, (q & 2) !== 0, false, (q & 1) !== 0, (q & 4) !== 0);
}

/** 0F AE: FXSAVE (/0), FXRSTOR (/1); the SSE forms are not implemented. Neither waits. */
export function fxsaveGroup(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.mod === 3 || insn.reg > 1) cpu.raise(Vector.UD);
  checkFpuAvailable(cpu);
  const offset = effectiveAddress(cpu, insn);
  if (insn.reg === 0) fxsave(cpu, insn.segment, offset);
  else {
    fxrstor(cpu, insn.segment, offset);
    recomputeErrorSummary(cpu);
  }
}
