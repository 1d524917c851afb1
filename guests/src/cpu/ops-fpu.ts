/**
 * x87 instructions (escape opcodes D8..DF, WAIT) and 0F AE FXSAVE/FXRSTOR. The ModRM byte
 * selects memory forms (reg = operation) or register forms (reg and rm together).
 */
import type { Cpu } from "./cpu.js";
import { Cr0, Flag, Seg } from "./constants.js";
import { effectiveAddress } from "./decoder.js";
import { Vector } from "./fault.js";
import { materializeFlags, testCondition } from "./flags.js";
import { fxrstor, fxsave, loadEnvironment, restoreState, saveState, storeEnvironment } from "./fpu-environment.js";
import {
  bcdFromDouble, bitsFromDouble, bitsFromSingle, doubleFromBcd, doubleFromBits, doubleFromExtended, doubleFromInt64,
  extendedFromDouble, int64FromDouble, roundByControl, singleFromBits,
} from "./fpu-formats.js";
import {
  checkFpuAvailable, checkPendingFpuException, checkResult, popStack, pushStack, readStack,
  setCondition, signalFpuException, writeStack,
} from "./fpu-stack.js";
import { FpuStatus } from "./fpu-state.js";
import type { DecodedInstruction } from "./instruction.js";

const pair = new Int32Array(2);
const triple = new Int32Array(3);
const bcd = new Uint8Array(10);

/** FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ. */
const CONSTANTS = [1, Math.log2(10), Math.LOG2E, Math.PI, Math.log10(2), Math.LN2, 0];

/** 9B WAIT/FWAIT. */
export function fpuWait(cpu: Cpu): void {
  if ((cpu.cr0 & (Cr0.MP | Cr0.TS)) === (Cr0.MP | Cr0.TS)) cpu.raise(Vector.NM);
  checkPendingFpuException(cpu);
}

/** Applies arithmetic operation `op` (ModRM reg numbering: ADD MUL COM COMP SUB SUBR DIV DIVR). */
function arithmetic(cpu: Cpu, op: number, a: number, b: number): number {
  let r: number;
  switch (op) {
    case 0: r = a + b; break;
    case 1: r = a * b; break;
    case 4: r = a - b; break;
    case 5: r = b - a; break;
    case 6:
      if (b === 0 && !Number.isNaN(a) && a !== 0 && Number.isFinite(a)) signalFpuException(cpu, FpuStatus.ZE);
      r = a / b;
      break;
    default:
      if (a === 0 && !Number.isNaN(b) && b !== 0 && Number.isFinite(b)) signalFpuException(cpu, FpuStatus.ZE);
      r = b / a;
      break;
  }
  const divisor = op === 6 ? b : op === 7 ? a : 1;
  if (divisor !== 0) checkResult(cpu, r, a, b);
  return r;
}

/** FCOM-style comparison into C3/C2/C0; `quiet` (FUCOM) only complains about empty registers. */
function compare(cpu: Cpu, a: number, b: number, quiet: boolean): void {
  if (Number.isNaN(a) || Number.isNaN(b)) {
    if (!quiet) signalFpuException(cpu, FpuStatus.IE);
    setCondition(cpu, true, true, false, true);
  } else {
    setCondition(cpu, a === b, false, false, a < b);
  }
}

/** FCOMI/FUCOMI: the result goes to ZF/PF/CF. */
function compareToEflags(cpu: Cpu, a: number, b: number, quiet: boolean): void {
  materializeFlags(cpu);
  let f = cpu.eflags & ~(Flag.ZF | Flag.PF | Flag.CF | Flag.OF | Flag.SF | Flag.AF);
  if (Number.isNaN(a) || Number.isNaN(b)) {
    if (!quiet) signalFpuException(cpu, FpuStatus.IE);
    f |= Flag.ZF | Flag.PF | Flag.CF;
  } else if (a === b) f |= Flag.ZF;
  else if (a < b) f |= Flag.CF;
  cpu.eflags = f;
  cpu.fpu.statusWord &= ~FpuStatus.C1;
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

/** Converts to an integer of `bits` by the rounding control; out of range → IE and the indefinite. */
function toInteger(cpu: Cpu, value: number, bits: number): number {
  const rounded = roundByControl(value, (cpu.fpu.controlWord >> 10) & 3);
  const limit = bits === 64 ? 9223372036854775808 : Math.pow(2, bits - 1);
  if (Number.isNaN(rounded) || rounded >= limit || rounded < -limit) {
    signalFpuException(cpu, FpuStatus.IE);
    return -limit;
  }
  if (rounded !== value) signalFpuException(cpu, FpuStatus.PE);
  return rounded;
}

function loadMemoryOperand(cpu: Cpu, seg: number, offset: number, format: number): number {
  switch (format) {
    case 0: return singleFromBits(cpu.read32(seg, offset));
    case 1: return cpu.read32(seg, offset);
    case 2: return doubleFromBits(cpu.read32(seg, offset), cpu.read32(seg, offset + 4));
    default: return (cpu.read16(seg, offset) << 16) >> 16;
  }
}

/** D8..DF with a ModRM byte. */
export function fpuEscape(cpu: Cpu, insn: DecodedInstruction): void {
  checkFpuAvailable(cpu);
  const escape = insn.opcode & 7;
  const reg = insn.reg;
  if (insn.mod !== 3) {
    const seg = insn.segment;
    const offset = effectiveAddress(cpu, insn);
    // FLDENV/FLDCW/FNSTENV/FNSTCW, FRSTOR/FNSAVE/FNSTSW neither wait nor update the pointers.
    const control = (escape === 1 && reg >= 4) || (escape === 5 && (reg === 4 || reg === 6 || reg === 7));
    if (!control) checkPendingFpuException(cpu);
    memoryForm(cpu, insn, escape, reg, seg, offset);
    if (!control) recordInstruction(cpu, insn, offset);
    return;
  }
  const isControl = (escape === 3 && (insn.rm === 2 || insn.rm === 3) && reg === 4) || (escape === 7 && reg === 4 && insn.rm === 0);
  if (!isControl) checkPendingFpuException(cpu);
  registerForm(cpu, escape, reg, insn.rm);
  if (!isControl) recordInstruction(cpu, insn, 0);
}

function memoryForm(cpu: Cpu, insn: DecodedInstruction, escape: number, reg: number, seg: number, offset: number): void {
  const f = cpu.fpu;
  switch (escape) {
    case 0: case 2: case 4: case 6: {
      // Arithmetic with m32real, m32int, m64real, m16int.
      const b = loadMemoryOperand(cpu, seg, offset, escape >> 1);
      const a = readStack(cpu, 0);
      if (reg === 2 || reg === 3) {
        compare(cpu, a, b, false);
        if (reg === 3) popStack(cpu);
      } else {
        writeStack(cpu, 0, arithmetic(cpu, reg, a, b));
      }
      return;
    }
    case 1:
      switch (reg) {
        case 0: pushStack(cpu, singleFromBits(cpu.read32(seg, offset))); return;
        case 2: case 3: {
          const v = readStack(cpu, 0);
          cpu.write32(seg, offset, bitsFromSingle(v));
          if (reg === 3) popStack(cpu);
          return;
        }
        case 4: loadEnvironment(cpu, seg, offset, insn.opSize32); return;
        case 5: f.controlWord = cpu.read16(seg, offset) | 0x40; return;
        case 6: storeEnvironment(cpu, seg, offset, insn.opSize32); f.controlWord |= 0x3f; return;
        case 7: cpu.write16(seg, offset, f.controlWord); return;
        default: cpu.raise(Vector.UD);
      }
      return;
    case 3:
      switch (reg) {
        case 0: pushStack(cpu, cpu.read32(seg, offset)); return;
        case 2: case 3: {
          const v = toInteger(cpu, readStack(cpu, 0), 32);
          cpu.write32(seg, offset, v | 0);
          if (reg === 3) popStack(cpu);
          return;
        }
        case 5: pushStack(cpu, doubleFromExtended(cpu.read32(seg, offset), cpu.read32(seg, offset + 4), cpu.read16(seg, offset + 8))); return;
        case 7: {
          extendedFromDouble(readStack(cpu, 0), triple);
          cpu.linear(seg, offset, 10, true);
          cpu.write32(seg, offset, triple[0]);
          cpu.write32(seg, offset + 4, triple[1]);
          cpu.write16(seg, offset + 8, triple[2]);
          popStack(cpu);
          return;
        }
        default: cpu.raise(Vector.UD);
      }
      return;
    case 5:
      switch (reg) {
        case 0: pushStack(cpu, doubleFromBits(cpu.read32(seg, offset), cpu.read32(seg, offset + 4))); return;
        case 2: case 3: {
          bitsFromDouble(readStack(cpu, 0), pair);
          cpu.linear(seg, offset, 8, true);
          cpu.write32(seg, offset, pair[0]);
          cpu.write32(seg, offset + 4, pair[1]);
          if (reg === 3) popStack(cpu);
          return;
        }
        case 4: restoreState(cpu, seg, offset, insn.opSize32); return;
        case 6: saveState(cpu, seg, offset, insn.opSize32); return;
        case 7: cpu.write16(seg, offset, f.status); return;
        default: cpu.raise(Vector.UD);
      }
      return;
    default: // 7
      switch (reg) {
        case 0: pushStack(cpu, (cpu.read16(seg, offset) << 16) >> 16); return;
        case 2: case 3: {
          const v = toInteger(cpu, readStack(cpu, 0), 16);
          cpu.write16(seg, offset, v);
          if (reg === 3) popStack(cpu);
          return;
        }
        case 4: {
          for (let i = 0; i < 10; i++) bcd[i] = cpu.read8(seg, offset + i);
          pushStack(cpu, doubleFromBcd(bcd));
          return;
        }
        case 5: pushStack(cpu, doubleFromInt64(cpu.read32(seg, offset), cpu.read32(seg, offset + 4))); return;
        case 6: {
          const v = readStack(cpu, 0);
          const rounded = roundByControl(v, (f.controlWord >> 10) & 3);
          cpu.linear(seg, offset, 10, true);
          if (!(Math.abs(rounded) < 1e18)) {
            signalFpuException(cpu, FpuStatus.IE);
            bcd.fill(0xff, 7); bcd.fill(0, 0, 7); bcd[7] = 0xc0; bcd[8] = 0xff; bcd[9] = 0xff;
          } else {
            bcdFromDouble(rounded, bcd);
          }
          for (let i = 0; i < 10; i++) cpu.write8(seg, offset + i, bcd[i]);
          popStack(cpu);
          return;
        }
        case 7: {
          const v = toInteger(cpu, readStack(cpu, 0), 64);
          int64FromDouble(v, pair);
          cpu.linear(seg, offset, 8, true);
          cpu.write32(seg, offset, pair[0]);
          cpu.write32(seg, offset + 4, pair[1]);
          popStack(cpu);
          return;
        }
        default: cpu.raise(Vector.UD);
      }
  }
}

function registerForm(cpu: Cpu, escape: number, reg: number, i: number): void {
  const f = cpu.fpu;
  switch (escape) {
    case 0: {
      const a = readStack(cpu, 0);
      const b = readStack(cpu, i);
      if (reg === 2 || reg === 3) {
        compare(cpu, a, b, false);
        if (reg === 3) popStack(cpu);
      } else {
        writeStack(cpu, 0, arithmetic(cpu, reg, a, b));
      }
      return;
    }
    case 4: case 6: {
      // ST(i) = ST(i) op ST(0); the SUB/SUBR and DIV/DIVR encodings are swapped here.
      if (escape === 6 && reg === 3) {
        if (i !== 1) cpu.raise(Vector.UD);
        compare(cpu, readStack(cpu, 0), readStack(cpu, 1), false);
        popStack(cpu);
        popStack(cpu);
        return;
      }
      const a = readStack(cpu, i);
      const b = readStack(cpu, 0);
      if (reg === 2 || reg === 3) {
        compare(cpu, b, a, false);
        if (reg === 3 || escape === 6) popStack(cpu);
        return;
      }
      writeStack(cpu, i, arithmetic(cpu, reg >= 4 ? reg ^ 1 : reg, a, b));
      if (escape === 6) popStack(cpu);
      return;
    }
    case 1: registerFormD9(cpu, reg, i); return;
    case 2:
      if (reg < 4) {
        const cc = reg === 0 ? 2 : reg === 1 ? 4 : reg === 2 ? 6 : 0xa;
        const v = readStack(cpu, i);
        if (testCondition(cpu, cc)) writeStack(cpu, 0, v);
        return;
      }
      if (reg === 5 && i === 1) {
        compare(cpu, readStack(cpu, 0), readStack(cpu, 1), true);
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
        if (testCondition(cpu, cc)) writeStack(cpu, 0, v);
        return;
      }
      if (reg === 4) {
        if (i === 2) { f.statusWord &= ~(0x3f | FpuStatus.SF | FpuStatus.ES | FpuStatus.B); return; } // FNCLEX
        if (i === 3) { f.reset(); return; } // FNINIT
        if (i === 0 || i === 1 || i === 4) return; // FENI/FDISI/FSETPM: no-ops after the 287
        cpu.raise(Vector.UD);
      }
      if (reg === 5 || reg === 6) { compareToEflags(cpu, readStack(cpu, 0), readStack(cpu, i), reg === 5); return; }
      cpu.raise(Vector.UD);
      return;
    case 5:
      switch (reg) {
        case 0: f.empty[(f.top + i) & 7] = 1; return; // FFREE
        case 1: exchange(cpu, i); return;
        case 2: case 3: writeStack(cpu, i, readStack(cpu, 0)); if (reg === 3) popStack(cpu); return;
        case 4: case 5: compare(cpu, readStack(cpu, 0), readStack(cpu, i), true); if (reg === 5) popStack(cpu); return;
        default: cpu.raise(Vector.UD);
      }
      return;
    default: // 7
      if (reg === 4 && i === 0) { cpu.regs[0] = (cpu.regs[0] & ~0xffff) | f.status; return; } // FNSTSW AX
      if (reg === 5 || reg === 6) { compareToEflags(cpu, readStack(cpu, 0), readStack(cpu, i), reg === 5); popStack(cpu); return; }
      if (reg === 0) { f.empty[(f.top + i) & 7] = 1; popStack(cpu); return; } // FFREEP
      if (reg === 1) { exchange(cpu, i); return; }
      if (reg === 2 || reg === 3) { writeStack(cpu, i, readStack(cpu, 0)); popStack(cpu); return; }
      cpu.raise(Vector.UD);
  }
}

function exchange(cpu: Cpu, i: number): void {
  const a = readStack(cpu, 0);
  const b = readStack(cpu, i);
  writeStack(cpu, 0, b);
  writeStack(cpu, i, a);
  cpu.fpu.statusWord &= ~FpuStatus.C1;
}

function registerFormD9(cpu: Cpu, reg: number, i: number): void {
  const f = cpu.fpu;
  switch (reg) {
    case 0: pushStack(cpu, readStack(cpu, i)); return; // FLD ST(i)
    case 1: exchange(cpu, i); return;
    case 2: if (i !== 0) cpu.raise(Vector.UD); return; // FNOP
    case 3: writeStack(cpu, i, readStack(cpu, 0)); popStack(cpu); return; // FSTP1 alias
    case 4:
      switch (i) {
        case 0: writeStack(cpu, 0, -readStack(cpu, 0)); f.statusWord &= ~FpuStatus.C1; return;
        case 1: writeStack(cpu, 0, Math.abs(readStack(cpu, 0))); f.statusWord &= ~FpuStatus.C1; return;
        case 4: compare(cpu, readStack(cpu, 0), 0, false); return; // FTST
        case 5: examine(cpu); return;
        default: cpu.raise(Vector.UD);
      }
      return;
    case 5:
      if (i === 7) cpu.raise(Vector.UD);
      pushStack(cpu, CONSTANTS[i]);
      return;
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
  else if (Math.abs(v) < 2.2250738585072014e-308) setCondition(cpu, true, true, sign, false);
  else setCondition(cpu, false, true, sign, false);
}

const TWO_63 = 9223372036854775808;

/** D9 F0..F7. */
function transcendentalA(cpu: Cpu, i: number): void {
  const f = cpu.fpu;
  switch (i) {
    case 0: writeStack(cpu, 0, Math.expm1(readStack(cpu, 0) * Math.LN2)); return; // F2XM1
    case 1: { // FYL2X
      const x = readStack(cpu, 0), y = readStack(cpu, 1);
      if (x === 0 && Number.isFinite(y) && y !== 0) signalFpuException(cpu, FpuStatus.ZE);
      else if (x < 0) signalFpuException(cpu, FpuStatus.IE);
      writeStack(cpu, 1, y * Math.log2(x));
      popStack(cpu);
      return;
    }
    case 2: { // FPTAN
      const x = readStack(cpu, 0);
      if (Math.abs(x) >= TWO_63) { f.statusWord |= FpuStatus.C2; return; }
      f.statusWord &= ~FpuStatus.C2;
      writeStack(cpu, 0, Math.tan(x));
      pushStack(cpu, 1);
      return;
    }
    case 3: { // FPATAN
      const x = readStack(cpu, 0), y = readStack(cpu, 1);
      writeStack(cpu, 1, Math.atan2(y, x));
      popStack(cpu);
      return;
    }
    case 4: { // FXTRACT
      const v = readStack(cpu, 0);
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
      writeStack(cpu, 1, (y * Math.log1p(x)) / Math.LN2);
      popStack(cpu);
      return;
    }
    case 2: { // FSQRT
      const x = readStack(cpu, 0);
      if (x < 0) signalFpuException(cpu, FpuStatus.IE);
      writeStack(cpu, 0, Math.sqrt(x));
      return;
    }
    case 3: { // FSINCOS
      const x = readStack(cpu, 0);
      if (Math.abs(x) >= TWO_63) { f.statusWord |= FpuStatus.C2; return; }
      f.statusWord &= ~FpuStatus.C2;
      writeStack(cpu, 0, Math.sin(x));
      pushStack(cpu, Math.cos(x));
      return;
    }
    case 4: writeStack(cpu, 0, roundByControl(readStack(cpu, 0), (f.controlWord >> 10) & 3)); return; // FRNDINT
    case 5: { // FSCALE
      const x = readStack(cpu, 0), s = Math.trunc(readStack(cpu, 1));
      writeStack(cpu, 0, s > 2000 ? x * Infinity : s < -2000 ? x * 0 : x * Math.pow(2, s));
      return;
    }
    case 6: case 7: { // FSIN, FCOS
      const x = readStack(cpu, 0);
      if (Math.abs(x) >= TWO_63) { f.statusWord |= FpuStatus.C2; return; }
      f.statusWord &= ~FpuStatus.C2;
      writeStack(cpu, 0, i === 6 ? Math.sin(x) : Math.cos(x));
      return;
    }
  }
}

/** FPREM (truncating quotient) and FPREM1 (round-to-nearest quotient); always completes. */
function remainder(cpu: Cpu, ieee: boolean): void {
  const a = readStack(cpu, 0);
  const b = readStack(cpu, 1);
  if (b === 0 || !Number.isFinite(a) || Number.isNaN(b)) {
    signalFpuException(cpu, FpuStatus.IE);
    writeStack(cpu, 0, NaN);
    return;
  }
  let r = a % b;
  let q = Math.trunc(a / b);
  if (ieee) {
    const half = Math.abs(b) / 2;
    if (Math.abs(r) > half || (Math.abs(r) === half && Math.abs(q) % 2 === 1)) {
      r -= Math.sign(a) * Math.sign(b) * Math.abs(b);
      q += Math.sign(a) * Math.sign(b);
    }
  }
  const bits = Math.abs(q) % 8;
  writeStack(cpu, 0, r);
  setCondition(cpu, (bits & 2) !== 0, false, (bits & 1) !== 0, (bits & 4) !== 0);
}

/** 0F AE: FXSAVE (/0), FXRSTOR (/1); the SSE forms are not implemented. */
export function fxsaveGroup(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.mod === 3 || insn.reg > 1) cpu.raise(Vector.UD);
  checkFpuAvailable(cpu);
  const offset = effectiveAddress(cpu, insn);
  if (insn.reg === 0) fxsave(cpu, insn.segment, offset);
  else fxrstor(cpu, insn.segment, offset);
}

