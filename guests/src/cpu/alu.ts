/**
 * Integer arithmetic kernels shared by the handlers: the eight classic ALU operations with lazy
 * flags, shifts/rotates with Intel's flag rules, and 32x32→64 multiply / 64÷32 divide done in
 * 16-bit pieces so every intermediate stays exact in a double.
 */
import type { Cpu } from "./cpu.js";
import { Flag } from "./constants.js";
import { Vector } from "./fault.js";
import { getCF, LazyOp, materializeFlags, PARITY_EVEN, setLazy, setResultFlags, settleCarry, sizeMask } from "./flags.js";

export const enum AluOp { ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7 }

/** Runs ALU operation `op` on `bits`-wide operands and returns the (unsigned) result. */
export function alu(cpu: Cpu, op: number, bits: number, a: number, b: number): number {
  const mask = sizeMask(bits);
  a = (a & mask) >>> 0;
  b = (b & mask) >>> 0;
  let r: number;
  switch (op) {
    case AluOp.ADD:
      r = ((a + b) & mask) >>> 0;
      setLazy(cpu, LazyOp.ADD, bits, a, b, r);
      return r;
    case AluOp.OR:
      r = ((a | b) & mask) >>> 0;
      setLazy(cpu, LazyOp.LOGIC, bits, a, b, r);
      return r;
    case AluOp.ADC: {
      const carry = getCF(cpu) ? 1 : 0;
      r = ((a + b + carry) & mask) >>> 0;
      cpu.lazyCarryIn = carry;
      setLazy(cpu, LazyOp.ADC, bits, a, b, r);
      return r;
    }
    case AluOp.SBB: {
      const borrow = getCF(cpu) ? 1 : 0;
      r = ((a - b - borrow) & mask) >>> 0;
      cpu.lazyCarryIn = borrow;
      setLazy(cpu, LazyOp.SBB, bits, a, b, r);
      return r;
    }
    case AluOp.AND:
      r = ((a & b) & mask) >>> 0;
      setLazy(cpu, LazyOp.LOGIC, bits, a, b, r);
      return r;
    case AluOp.XOR:
      r = ((a ^ b) & mask) >>> 0;
      setLazy(cpu, LazyOp.LOGIC, bits, a, b, r);
      return r;
    default: // SUB, CMP
      r = ((a - b) & mask) >>> 0;
      setLazy(cpu, LazyOp.SUB, bits, a, b, r);
      return r;
  }
}

export function increment(cpu: Cpu, bits: number, a: number): number {
  settleCarry(cpu);
  const mask = sizeMask(bits);
  a = (a & mask) >>> 0;
  const r = ((a + 1) & mask) >>> 0;
  setLazy(cpu, LazyOp.INC, bits, a, 1, r);
  return r;
}

export function decrement(cpu: Cpu, bits: number, a: number): number {
  settleCarry(cpu);
  const mask = sizeMask(bits);
  a = (a & mask) >>> 0;
  const r = ((a - 1) & mask) >>> 0;
  setLazy(cpu, LazyOp.DEC, bits, a, 1, r);
  return r;
}

/**
 * Group-2 shift or rotate (op = ModRM reg: ROL ROR RCL RCR SHL SHR SAL SAR).
 * A masked count of zero leaves value and flags untouched. OF is only defined for count 1 and AF
 * never is; we produce what the formulas give.
 */
export function shiftRotate(cpu: Cpu, op: number, bits: number, value: number, rawCount: number): number {
  const count = rawCount & 0x1f;
  const mask = sizeMask(bits);
  value = (value & mask) >>> 0;
  if (count === 0) return value;
  const top = bits - 1;
  let r: number;
  let cf: boolean;
  let of: boolean;
  switch (op) {
    case 0: { // ROL
      const n = count % bits;
      r = n === 0 ? value : (((value << n) | (value >>> (bits - n))) & mask) >>> 0;
      cf = (r & 1) !== 0;
      of = (((r >>> top) & 1) !== 0) !== cf;
      return rotateFlags(cpu, r, cf, of);
    }
    case 1: { // ROR
      const n = count % bits;
      r = n === 0 ? value : (((value >>> n) | (value << (bits - n))) & mask) >>> 0;
      cf = ((r >>> top) & 1) !== 0;
      of = cf !== (((r >>> (top - 1)) & 1) !== 0);
      return rotateFlags(cpu, r, cf, of);
    }
    case 2: { // RCL
      const n = bits === 32 ? count : count % (bits + 1);
      let carry = getCF(cpu) ? 1 : 0;
      r = value;
      for (let i = 0; i < n; i++) {
        const out = (r >>> top) & 1;
        r = (((r << 1) | carry) & mask) >>> 0;
        carry = out;
      }
      cf = carry !== 0;
      of = (((r >>> top) & 1) !== 0) !== cf;
      return rotateFlags(cpu, r, cf, of);
    }
    case 3: { // RCR
      const n = bits === 32 ? count : count % (bits + 1);
      let carry = getCF(cpu) ? 1 : 0;
      of = (((value >>> top) & 1) !== 0) !== (carry !== 0);
      r = value;
      for (let i = 0; i < n; i++) {
        const out = r & 1;
        r = ((r >>> 1) | (carry << top)) >>> 0;
        carry = out;
      }
      cf = carry !== 0;
      if (n !== 1) of = (((r >>> top) & 1) !== 0) !== (((r >>> (top - 1)) & 1) !== 0);
      return rotateFlags(cpu, r, cf, of);
    }
    case 4: case 6: // SHL/SAL
      if (count <= bits) {
        r = ((value << count) & mask) >>> 0;
        cf = ((value >>> (bits - count)) & 1) !== 0;
      } else {
        r = 0;
        cf = false;
      }
      of = (((r >>> top) & 1) !== 0) !== cf;
      break;
    case 5: // SHR
      r = count >= bits ? 0 : value >>> count;
      cf = count <= bits ? ((value >>> (count - 1)) & 1) !== 0 : false;
      of = ((value >>> top) & 1) !== 0;
      break;
    default: { // SAR
      const signed = (value << (32 - bits)) >> (32 - bits);
      const n = count >= bits ? bits - 1 : count;
      r = ((signed >> n) & mask) >>> 0;
      cf = count >= bits ? signed < 0 : ((signed >> (count - 1)) & 1) !== 0;
      of = false;
      break;
    }
  }
  setResultFlags(cpu, bits, r, cf, of, false);
  return r;
}

function rotateFlags(cpu: Cpu, r: number, cf: boolean, of: boolean): number {
  let f = materializeFlags(cpu) & ~(Flag.CF | Flag.OF);
  if (cf) f |= Flag.CF;
  if (of) f |= Flag.OF;
  cpu.eflags = f;
  return r;
}

/** SHLD (left=true) / SHRD: shifts `dest` taking bits from `source`. */
export function doubleShift(cpu: Cpu, left: boolean, bits: number, dest: number, source: number, rawCount: number): number {
  const count = rawCount & 0x1f;
  const mask = sizeMask(bits);
  dest = (dest & mask) >>> 0;
  source = (source & mask) >>> 0;
  if (count === 0) return dest;
  const top = bits - 1;
  let r: number;
  let cf: boolean;
  if (count > bits) {
    // 16-bit operands with counts 17..31: the result is architecturally undefined; rotate through
    // the dest:source pair so it is at least deterministic.
    const n = count - bits;
    r = left ? ((source << n) | (dest >>> (bits - n))) : ((source >>> n) | (dest << (bits - n)));
    cf = left ? ((source >>> (bits - n)) & 1) !== 0 : ((source >>> (n - 1)) & 1) !== 0;
  } else if (left) {
    r = ((dest << count) | (source >>> (bits - count))) >>> 0;
    cf = ((dest >>> (bits - count)) & 1) !== 0;
  } else {
    r = ((dest >>> count) | (source << (bits - count))) >>> 0;
    cf = ((dest >>> (count - 1)) & 1) !== 0;
  }
  r = (r & mask) >>> 0;
  const of = ((r ^ dest) >>> top & 1) !== 0;
  setResultFlags(cpu, bits, r, cf, of, false);
  return r;
}

/** High 32 bits of the unsigned 64-bit product a*b. */
export function mulHighUnsigned(a: number, b: number): number {
  a >>>= 0; b >>>= 0;
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** High 32 bits of the signed 64-bit product a*b. */
export function mulHighSigned(a: number, b: number): number {
  const high = mulHighUnsigned(a, b);
  return (high - (a < 0 || a > 0x7fffffff ? b >>> 0 : 0) - (b < 0 || b > 0x7fffffff ? a >>> 0 : 0)) | 0;
}

/** MUL/IMUL one-operand forms: result into AX, DX:AX or EDX:EAX. */
export function multiplyAccumulator(cpu: Cpu, bits: number, source: number, signed: boolean): void {
  const regs = cpu.regs;
  let low: number;
  let overflow: boolean;
  if (bits === 8) {
    const a = signed ? (regs[0] << 24) >> 24 : regs[0] & 0xff;
    const b = signed ? (source << 24) >> 24 : source & 0xff;
    const p = a * b;
    regs[0] = (regs[0] & ~0xffff) | (p & 0xffff);
    low = p & 0xff;
    overflow = signed ? p !== ((p << 24) >> 24) : (p & 0xff00) !== 0;
  } else if (bits === 16) {
    const a = signed ? (regs[0] << 16) >> 16 : regs[0] & 0xffff;
    const b = signed ? (source << 16) >> 16 : source & 0xffff;
    const p = a * b;
    regs[0] = (regs[0] & ~0xffff) | (p & 0xffff);
    regs[2] = (regs[2] & ~0xffff) | ((p >> 16) & 0xffff);
    low = p & 0xffff;
    overflow = signed ? p !== ((p << 16) >> 16) : (p & 0xffff0000) !== 0;
  } else {
    const a = regs[0];
    low = Math.imul(a, source);
    const high = signed ? mulHighSigned(a, source) : mulHighUnsigned(a, source);
    regs[0] = low;
    regs[2] = high;
    overflow = signed ? high !== low >> 31 : high !== 0;
    low >>>= 0;
  }
  setResultFlags(cpu, bits, low, overflow, overflow, false);
}

/** IMUL r, r/m(, imm): truncated signed product with CF=OF on overflow. */
export function multiplySigned(cpu: Cpu, bits: number, a: number, b: number): number {
  let r: number;
  let overflow: boolean;
  if (bits === 16) {
    const p = ((a << 16) >> 16) * ((b << 16) >> 16);
    r = p & 0xffff;
    overflow = p !== ((p << 16) >> 16);
  } else {
    const low = Math.imul(a, b);
    overflow = mulHighSigned(a, b) !== low >> 31;
    r = low >>> 0;
  }
  setResultFlags(cpu, bits, r, overflow, overflow, false);
  return r;
}

/** DIV/IDIV. Raises #DE on a zero divisor or a quotient that does not fit. Flags are undefined (kept). */
export function divideAccumulator(cpu: Cpu, bits: number, divisor: number, signed: boolean): void {
  const regs = cpu.regs;
  if (bits === 8) {
    const d = signed ? (divisor << 24) >> 24 : divisor & 0xff;
    if (d === 0) cpu.raise(Vector.DE);
    const n = signed ? (regs[0] << 16) >> 16 : regs[0] & 0xffff;
    const q = Math.trunc(n / d);
    const rem = n - q * d;
    if (signed ? q > 127 || q < -128 : q > 0xff) cpu.raise(Vector.DE);
    regs[0] = (regs[0] & ~0xffff) | (q & 0xff) | ((rem & 0xff) << 8);
    return;
  }
  if (bits === 16) {
    const d = signed ? (divisor << 16) >> 16 : divisor & 0xffff;
    if (d === 0) cpu.raise(Vector.DE);
    const hi = regs[2] & 0xffff, lo = regs[0] & 0xffff;
    const n = signed ? ((hi << 16) | lo) : hi * 0x10000 + lo;
    const q = Math.trunc(n / d);
    const rem = n - q * d;
    if (signed ? q > 32767 || q < -32768 : q > 0xffff) cpu.raise(Vector.DE);
    regs[0] = (regs[0] & ~0xffff) | (q & 0xffff);
    regs[2] = (regs[2] & ~0xffff) | (rem & 0xffff);
    return;
  }
  let d = divisor >>> 0;
  if (d === 0) cpu.raise(Vector.DE);
  let hi = regs[2] >>> 0, lo = regs[0] >>> 0;
  let negativeDividend = false, negativeDivisor = false;
  if (signed) {
    if (hi & 0x80000000) {
      negativeDividend = true;
      // Two's complement negate the 64-bit dividend.
      lo = (~lo + 1) >>> 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    if (d & 0x80000000) { negativeDivisor = true; d = (-d) >>> 0; }
  }
  if (hi >= d) cpu.raise(Vector.DE);
  // Long division by 16-bit digits keeps every partial below 2^48.
  let rem = hi;
  let x = rem * 0x10000 + (lo >>> 16);
  const q1 = Math.floor(x / d);
  rem = x - q1 * d;
  x = rem * 0x10000 + (lo & 0xffff);
  const q0 = Math.floor(x / d);
  rem = x - q0 * d;
  let q = q1 * 0x10000 + q0;
  if (signed) {
    const negative = negativeDividend !== negativeDivisor;
    if (negative ? q > 0x80000000 : q > 0x7fffffff) cpu.raise(Vector.DE);
    if (negative) q = -q;
    if (negativeDividend) rem = -rem;
  } else if (q > 0xffffffff) {
    cpu.raise(Vector.DE);
  }
  regs[0] = q | 0;
  regs[2] = rem | 0;
}

/** Sets SF/ZF/PF from an 8-bit result and the given CF/AF, leaving OF as computed (BCD helpers). */
export function bcdFlags(cpu: Cpu, al: number, cf: boolean, af: boolean): void {
  let f = materializeFlags(cpu) & ~(Flag.CF | Flag.PF | Flag.AF | Flag.ZF | Flag.SF | Flag.OF);
  if (cf) f |= Flag.CF;
  if (af) f |= Flag.AF;
  if (PARITY_EVEN[al & 0xff]) f |= Flag.PF;
  if ((al & 0xff) === 0) f |= Flag.ZF;
  if (al & 0x80) f |= Flag.SF;
  cpu.eflags = f;
}
