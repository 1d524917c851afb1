/**
 * Exactly rounded x87 arithmetic on JS doubles. Each kernel produces the exact result as
 * (hi + lo) × 2^exp, where hi is the result rounded to nearest double and only lo's sign matters
 * (it tells on which side of hi the exact value lies). `roundToFormat` then rounds that exact
 * value once to a destination's precision and exponent range under the rounding control, and
 * reports what IEEE 754 asks for: inexact (#P), rounded up (C1), overflow (#O), underflow (#U).
 *
 * The register format is modelled by the double: 53 significant bits and the double's exponent
 * range (the real x87 has 64 bits and a 15-bit exponent). Precision control 00 (24 bits) is
 * exact within that model; 10 and 11 both round to 53 bits.
 */

/** A destination: significant bits, smallest and largest normal exponent, IEEE bias adjust. */
export interface FpuFormat {
  readonly bits: number;
  readonly minExponent: number;
  readonly maxExponent: number;
  /** Exponent wrap applied to the delivered result when #O or #U is unmasked (IEEE 754-1985 7.3/7.4). */
  readonly biasAdjust: number;
}

export const DOUBLE_FORMAT: FpuFormat = { bits: 53, minExponent: -1022, maxExponent: 1023, biasAdjust: 1536 };
export const SINGLE_FORMAT: FpuFormat = { bits: 24, minExponent: -126, maxExponent: 127, biasAdjust: 192 };
/** Precision control "single": 24 bits, but the register's exponent range is kept (SDM vol. 1 8.1.5.2). */
export const REGISTER_SINGLE_FORMAT: FpuFormat = { bits: 24, minExponent: -1022, maxExponent: 1023, biasAdjust: 1536 };

/** What the last `roundToFormat` found. */
export const enum Rounding { INEXACT = 1, UP = 2, OVERFLOW = 4, UNDERFLOW = 8 }

/** Outputs of the kernels and of `roundToFormat` (module state: no allocation per instruction). */
export const exact = { hi: 0, lo: 0, exp: 0 };
export const outcome = { flags: 0 };

const word = new Float64Array(1);
const halves = new Uint32Array(word.buffer);

/** floor(log2 |v|) for finite nonzero v, denormals included. */
export function exponentOf(v: number): number {
  word[0] = v;
  const e = (halves[1] >>> 20) & 0x7ff;
  if (e !== 0) return e - 1023;
  word[0] = v * 18446744073709551616; // 2^64 brings any denormal into the normal range
  return ((halves[1] >>> 20) & 0x7ff) - 1023 - 64;
}

/** 2^n for -1022 <= n <= 1023, built from its bits (Math.pow is not promised exact). */
function pow2Normal(n: number): number {
  halves[0] = 0;
  halves[1] = (n + 1023) << 20;
  return word[0];
}

/** v × 2^n, exact whenever the result is representable: two normal steps, never a rounding intermediate. */
export function scaleBy(v: number, n: number): number {
  if (n >= -1022 && n <= 1023) return v * pow2Normal(n);
  const first = n > 0 ? 1023 : -1022;
  const rest = n - first;
  if (rest < -1022 || rest > 1023) return n > 0 ? v * Infinity : v * 0;
  // Apply the smaller-magnitude step first when shrinking, so the intermediate stays normal.
  return n > 0 ? v * pow2Normal(first) * pow2Normal(rest) : v * pow2Normal(rest) * pow2Normal(first);
}

export function isDenormal(v: number): boolean {
  return v !== 0 && v > -2.2250738585072014e-308 && v < 2.2250738585072014e-308;
}

// ---- Exact kernels (finite, nonzero operands; the callers handle zeros, infinities and NaNs) ----

const SPLITTER = 134217729; // 2^27 + 1 (Dekker)
let productHi = 0;
let productLo = 0;

/** a × b = productHi + productLo exactly, for |a|,|b| in [1, 4). */
function twoProduct(a: number, b: number): void {
  const p = a * b;
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  productHi = p;
  productLo = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

export function exactAdd(a: number, b: number): void {
  let s = a + b;
  let exp = 0;
  if (s === Infinity || s === -Infinity) {
    // Halving large operands is exact; the sum of halves cannot overflow.
    a *= 0.5;
    b *= 0.5;
    s = a + b;
    exp = 1;
  }
  const bb = s - a;
  exact.hi = s;
  exact.lo = (a - (s - bb)) + (b - bb);
  exact.exp = exp;
}

export function exactMultiply(a: number, b: number): void {
  const ea = exponentOf(a);
  const eb = exponentOf(b);
  twoProduct(scaleBy(a, -ea), scaleBy(b, -eb));
  exact.hi = productHi;
  exact.lo = productLo;
  exact.exp = ea + eb;
}

export function exactDivide(a: number, b: number): void {
  const ea = exponentOf(a);
  const eb = exponentOf(b);
  const ma = scaleBy(a, -ea);
  const mb = scaleBy(b, -eb);
  const q = ma / mb;
  // The remainder of a correctly rounded quotient is representable: ma - q·mb computed exactly.
  twoProduct(q, mb);
  const remainder = (ma - productHi) - productLo;
  exact.hi = q;
  exact.lo = mb > 0 ? remainder : -remainder;
  exact.exp = ea - eb;
}

/** x > 0. */
export function exactSqrt(x: number): void {
  let e = exponentOf(x);
  if ((e & 1) !== 0) e -= 1;
  const m = scaleBy(x, -e); // [1, 4)
  const s = Math.sqrt(m);
  twoProduct(s, s);
  exact.hi = s;
  exact.lo = (m - productHi) - productLo;
  exact.exp = e / 2;
}

// ---- Rounding ---------------------------------------------------------------------------------

/** How the magnitude is rounded: derived from RC and the sign. */
const enum Mode { NEAREST, AWAY, TOWARD_ZERO }

let roundedValue = 0;
let roundedInexact = false;
let roundedUp = false;

/** Rounds magnitude m (plus a sliver of sign `lo`) to a multiple of the power of two q. */
function roundMagnitude(m: number, lo: number, q: number, mode: Mode): void {
  let t = Math.floor(m / q) * q;
  let d = m - t;
  if (d === 0 && lo < 0) {
    // The exact value is just below t: its truncation is one quantum lower.
    t -= q;
    d = q;
  }
  const inexact = d !== 0 || lo !== 0;
  let up: boolean;
  if (mode === Mode.NEAREST) {
    const half = q / 2;
    up = d > half || (d === half && (lo > 0 || (lo === 0 && (t / q) % 2 === 1)));
  } else {
    up = mode === Mode.AWAY && inexact;
  }
  roundedValue = up ? t + q : t;
  roundedInexact = inexact;
  roundedUp = up;
}

/**
 * Rounds (hi + lo) × 2^exp to `format` under rounding control `rc` (0 nearest, 1 down, 2 up,
 * 3 toward zero). Masked overflow gives ∞ or the largest finite number as RC directs; masked
 * underflow gives the denormal (or zero) and counts as underflow only when inexact; unmasked
 * ones deliver the result with the exponent wrapped by the format's bias adjust.
 */
export function roundToFormat(hi: number, lo: number, exp: number, format: FpuFormat, rc: number,
  underflowMasked: boolean, overflowMasked: boolean): number {
  outcome.flags = 0;
  if (hi === 0 || hi !== hi || hi === Infinity || hi === -Infinity) return hi;
  const negative = hi < 0;
  const mode = rc === 0 ? Mode.NEAREST : rc === 3 ? Mode.TOWARD_ZERO : (rc === 1) === negative ? Mode.AWAY : Mode.TOWARD_ZERO;
  let m = negative ? -hi : hi;
  const l = negative ? -lo : lo;
  let e = exponentOf(m);
  m = scaleBy(m, -e);
  e += exp;
  if (m === 1 && l < 0) {
    // Exactly a power of two minus a sliver: the exact value belongs to the binade below.
    m = 2;
    e -= 1;
  }
  const bits = format.bits;
  roundMagnitude(m, l, scaleBy(1, 1 - bits), mode);
  let r = roundedValue;
  let eR = e;
  if (r >= 2) { r /= 2; eR++; }
  let flags = (roundedInexact ? Rounding.INEXACT : 0) | (roundedUp ? Rounding.UP : 0);
  let result: number;
  if (eR > format.maxExponent) {
    if (!overflowMasked) {
      result = scaleBy(r, eR - format.biasAdjust);
      flags |= Rounding.OVERFLOW;
    } else if (mode === Mode.TOWARD_ZERO) {
      result = scaleBy(2 - scaleBy(1, 1 - bits), format.maxExponent);
      flags = Rounding.OVERFLOW | Rounding.INEXACT;
    } else {
      result = Infinity;
      flags = Rounding.OVERFLOW | Rounding.INEXACT | Rounding.UP;
    }
  } else if (eR < format.minExponent) {
    // Tininess is judged after rounding with an unbounded exponent (SDM vol. 1 4.9.1.5).
    if (!underflowMasked) {
      result = scaleBy(r, eR + format.biasAdjust);
      flags |= Rounding.UNDERFLOW;
    } else {
      let lo2 = l;
      if (e < format.minExponent - bits - 2) {
        // Far below the smallest denormal every such value rounds alike: keep a representative.
        m = 1;
        lo2 = 1;
        e = format.minExponent - bits - 2;
      }
      roundMagnitude(m, lo2, scaleBy(1, format.minExponent - (bits - 1) - e), mode);
      result = scaleBy(roundedValue, e);
      flags = roundedInexact ? Rounding.INEXACT | Rounding.UNDERFLOW | (roundedUp ? Rounding.UP : 0) : 0;
    }
  } else {
    result = scaleBy(r, eR);
  }
  outcome.flags = flags;
  return negative ? -result : result;
}

/** Rounds a double to an integral value per RC, reporting inexact and rounded-up like roundToFormat. */
export function roundToIntegral(value: number, rc: number): number {
  outcome.flags = 0;
  if (value !== value || value === Infinity || value === -Infinity || Math.abs(value) >= 4503599627370496) return value;
  let r: number;
  switch (rc) {
    case 0: {
      const floor = Math.floor(value);
      const diff = value - floor;
      r = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
      break;
    }
    case 1: r = Math.floor(value); break;
    case 2: r = Math.ceil(value); break;
    default: r = Math.trunc(value);
  }
  // A zero result keeps the operand's sign.
  if (r === 0) r = value < 0 || Object.is(value, -0) ? -0 : 0;
  if (r !== value) outcome.flags = Rounding.INEXACT | (Math.abs(r) > Math.abs(value) ? Rounding.UP : 0);
  return r;
}
