/** The exact kernels and the single rounding step of fpu-rounding.ts, against hand-derived values. */
import { describe, expect, it } from "vitest";
import {
  DOUBLE_FORMAT, exact, exactAdd, exactDivide, exactMultiply, exactSqrt, exponentOf, outcome, REGISTER_SINGLE_FORMAT,
  Rounding, roundToFormat, roundToIntegral, scaleBy, SINGLE_FORMAT,
} from "./fpu-rounding.js";

const { INEXACT, UP, OVERFLOW, UNDERFLOW } = { INEXACT: Rounding.INEXACT, UP: Rounding.UP, OVERFLOW: Rounding.OVERFLOW, UNDERFLOW: Rounding.UNDERFLOW };
const NEAREST = 0, DOWN = 1, UPWARD = 2, CHOP = 3;

function bits(v: number): string {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v);
  return b.getBigUint64(0).toString(16).padStart(16, "0");
}

function fromBits(hex: string): number {
  const b = new DataView(new ArrayBuffer(8));
  b.setBigUint64(0, BigInt("0x" + hex));
  return b.getFloat64(0);
}

function round(rc: number, format = DOUBLE_FORMAT, underflowMasked = true, overflowMasked = true): [string, number] {
  const v = roundToFormat(exact.hi, exact.lo, exact.exp, format, rc, underflowMasked, overflowMasked);
  return [bits(v), outcome.flags];
}

describe("x87 rounding kernels", () => {
  it("finds exponents of normal and denormal doubles", () => {
    expect(exponentOf(1)).toBe(0);
    expect(exponentOf(-3)).toBe(1);
    expect(exponentOf(Number.MIN_VALUE)).toBe(-1074);
    expect(exponentOf(2.2250738585072014e-308)).toBe(-1022);
    expect(scaleBy(1.5, -1073)).toBe(3 * Number.MIN_VALUE);
    expect(scaleBy(1, 1030)).toBe(Infinity);
    expect(scaleBy(1, -1074)).toBe(Number.MIN_VALUE);
  });

  it("rounds 1/3 in every direction (its nearest double lies below it)", () => {
    exactDivide(1, 3);
    // 1/3 = 0x3FD5555555555555 + 1/3 ulp: nearest and toward -inf/0 truncate, toward +inf steps up.
    expect(round(NEAREST)).toEqual(["3fd5555555555555", INEXACT]);
    expect(round(DOWN)).toEqual(["3fd5555555555555", INEXACT]);
    expect(round(CHOP)).toEqual(["3fd5555555555555", INEXACT]);
    expect(round(UPWARD)).toEqual(["3fd5555555555556", INEXACT | UP]);
    exactDivide(-1, 3);
    expect(round(DOWN)).toEqual(["bfd5555555555556", INEXACT | UP]);
    expect(round(UPWARD)).toEqual(["bfd5555555555555", INEXACT]);
  });

  it("rounds to 24 bits for precision control 'single' without double rounding", () => {
    exactDivide(1, 3);
    // 1/3 in single precision is 0x3EAAAAAB (rounded up); 0x3EAAAAAA below.
    expect(round(NEAREST, REGISTER_SINGLE_FORMAT)).toEqual([bits(Math.fround(1 / 3)), INEXACT | UP]);
    expect(round(CHOP, REGISTER_SINGLE_FORMAT)[0]).toBe(bits(0.3333333134651184));
    // 1 + 2^-24 + 2^-60 is above the 24-bit tie 1 + 2^-24: nearest must go up, although the
    // double nearest to it (1 + 2^-24) is an exact tie that would round to even (down).
    exactAdd(1 + 2 ** -24, 2 ** -60);
    expect(round(NEAREST, REGISTER_SINGLE_FORMAT)).toEqual([bits(1 + 2 ** -23), INEXACT | UP]);
    exactAdd(1 + 2 ** -24, -(2 ** -60));
    expect(round(NEAREST, REGISTER_SINGLE_FORMAT)).toEqual([bits(1), INEXACT]);
    exactAdd(1 + 2 ** -24, 0);
    expect(round(NEAREST, REGISTER_SINGLE_FORMAT)).toEqual([bits(1), INEXACT]); // tie to even
  });

  it("handles a sum just below a power of two (the binade below decides the quantum)", () => {
    exactAdd(1, -(2 ** -60));
    expect(round(NEAREST)).toEqual([bits(1), INEXACT | UP]);
    expect(round(CHOP)).toEqual([bits(1 - 2 ** -53), INEXACT]);
    expect(round(DOWN)).toEqual([bits(1 - 2 ** -53), INEXACT]);
    exactAdd(1, 2 ** -60);
    expect(round(UPWARD)).toEqual([bits(1 + 2 ** -52), INEXACT | UP]);
    expect(round(NEAREST)).toEqual([bits(1), INEXACT]);
  });

  it("gives the masked and unmasked overflow responses", () => {
    exactMultiply(2 ** 1000, 2 ** 100);
    expect(round(NEAREST)).toEqual([bits(Infinity), OVERFLOW | INEXACT | UP]);
    expect(round(CHOP)).toEqual([bits(Number.MAX_VALUE), OVERFLOW | INEXACT]);
    expect(round(DOWN)).toEqual([bits(Number.MAX_VALUE), OVERFLOW | INEXACT]);
    // Unmasked: the exact 2^1100 delivered as 2^(1100 - 1536).
    expect(round(NEAREST, DOUBLE_FORMAT, true, false)).toEqual([bits(2 ** -436), OVERFLOW]);
    exactMultiply(-(2 ** 1000), 2 ** 100);
    expect(round(DOWN)).toEqual([bits(-Infinity), OVERFLOW | INEXACT | UP]);
    expect(round(UPWARD)).toEqual([bits(-Number.MAX_VALUE), OVERFLOW | INEXACT]);
    // Sums that overflow take the halved path.
    exactAdd(Number.MAX_VALUE, Number.MAX_VALUE);
    expect(round(CHOP)).toEqual([bits(Number.MAX_VALUE), OVERFLOW | INEXACT]);
    expect(round(NEAREST, DOUBLE_FORMAT, true, false)).toEqual([bits(Number.MAX_VALUE * 2 ** -1000 * 2 ** -535), OVERFLOW]);
  });

  it("denormalises on masked underflow and flags it only when inexact", () => {
    exactMultiply(2 ** -1000, 2 ** -50);
    expect(round(NEAREST)).toEqual([bits(2 ** -1050), 0]); // tiny but exact
    expect(round(NEAREST, DOUBLE_FORMAT, false)).toEqual([bits(2 ** 486), UNDERFLOW]); // unmasked: always
    exactMultiply(2 ** -1000, 2 ** -100);
    expect(round(NEAREST)).toEqual([bits(0), UNDERFLOW | INEXACT]);
    expect(round(UPWARD)).toEqual([bits(Number.MIN_VALUE), UNDERFLOW | INEXACT | UP]);
    // 1.5 × 2^-1074 is a tie between one and two units: even wins.
    exactMultiply(3 * 2 ** -1000, 2 ** -75);
    expect(round(NEAREST)).toEqual([bits(2 ** -1073), UNDERFLOW | INEXACT | UP]);
    expect(round(CHOP)).toEqual([bits(2 ** -1074), UNDERFLOW | INEXACT]);
    // Single precision store: 2^-140 is a denormal single, exact; 2^-150 + a bit rounds to 2^-149.
    exactMultiply(2 ** -70, 2 ** -70);
    expect(round(NEAREST, SINGLE_FORMAT)).toEqual([bits(2 ** -140), 0]);
    exactMultiply(1.5 * 2 ** -75, 2 ** -75);
    expect(round(NEAREST, SINGLE_FORMAT)).toEqual([bits(2 ** -149), UNDERFLOW | INEXACT | UP]);
  });

  it("takes square roots exactly rounded", () => {
    exactSqrt(2);
    // sqrt(2) = 1.41421356237309504880..., its nearest double 1.41421356237309514547 lies above.
    expect(round(NEAREST)).toEqual([bits(Math.SQRT2), INEXACT | UP]);
    expect(round(DOWN)).toEqual([bits(fromBits("3ff6a09e667f3bcc")), INEXACT]);
    exactSqrt(2 ** -1070); // a denormal operand has an exact normal root
    expect(round(NEAREST)).toEqual([bits(2 ** -535), 0]);
    exactSqrt(9);
    expect(round(NEAREST)).toEqual([bits(3), 0]);
  });

  it("rounds to integers per RC with inexact and rounded-up reported", () => {
    expect(roundToIntegral(2.5, NEAREST)).toBe(2);
    expect(outcome.flags).toBe(INEXACT);
    expect(roundToIntegral(3.5, NEAREST)).toBe(4);
    expect(outcome.flags).toBe(INEXACT | UP);
    expect(Object.is(roundToIntegral(-0.25, UPWARD), -0)).toBe(true);
    expect(roundToIntegral(-1.5, DOWN)).toBe(-2);
    expect(outcome.flags).toBe(INEXACT | UP);
    expect(roundToIntegral(7, CHOP)).toBe(7);
    expect(outcome.flags).toBe(0);
  });
});
