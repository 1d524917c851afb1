/**
 * Conversions between JS doubles and the x87 memory formats: single, double, 80-bit extended,
 * 16/32/64-bit integers and 18-digit packed BCD. 64-bit quantities travel as two 32-bit halves.
 */
const scratch = new ArrayBuffer(8);
const f32 = new Float32Array(scratch);
const f64 = new Float64Array(scratch);
const u32 = new Uint32Array(scratch);

const TWO_32 = 4294967296;

export function singleFromBits(bits: number): number {
  u32[0] = bits;
  return f32[0];
}

/** NaNs are written as the x87 "real indefinite" (negative quiet NaN): payloads are not kept. */
export function bitsFromSingle(value: number): number {
  if (value !== value) return 0xffc00000 | 0;
  f32[0] = value;
  return u32[0] | 0;
}

export function doubleFromBits(low: number, high: number): number {
  u32[0] = low;
  u32[1] = high;
  return f64[0];
}

/** Writes the IEEE double bits of `value` into out[0] (low) and out[1] (high). */
export function bitsFromDouble(value: number, out: Int32Array): void {
  if (value !== value) {
    out[0] = 0;
    out[1] = 0xfff80000 | 0;
    return;
  }
  f64[0] = value;
  out[0] = u32[0] | 0;
  out[1] = u32[1] | 0;
}

/** Decodes an 80-bit extended value: mantissa halves and the sign/exponent word. */
export function doubleFromExtended(mantissaLow: number, mantissaHigh: number, signExponent: number): number {
  const sign = signExponent & 0x8000 ? -1 : 1;
  const exponent = signExponent & 0x7fff;
  const high = mantissaHigh >>> 0;
  const low = mantissaLow >>> 0;
  if (exponent === 0x7fff) {
    if ((high & 0x7fffffff) === 0 && low === 0) return sign * Infinity;
    return NaN;
  }
  const unbiased = (exponent === 0 ? 1 : exponent) - 16383;
  // high * 2^32 + low rounds once to 53 bits; the power-of-two scaling is exact.
  return sign * scale(high * TWO_32 + low, unbiased - 63);
}

function scale(value: number, power: number): number {
  // Two steps keep the intermediate power of two representable.
  if (power < -1000) return value * Math.pow(2, power + 600) * Math.pow(2, -600);
  if (power > 1000) return value * Math.pow(2, power - 600) * Math.pow(2, 600);
  return value * Math.pow(2, power);
}

/** Encodes a double as 80-bit extended into out[0] (mantissa low), out[1] (high), out[2] (sign+exponent). */
export function extendedFromDouble(value: number, out: Int32Array): void {
  f64[0] = value;
  const low = u32[0];
  const high = u32[1];
  const sign = (high >>> 31) << 15;
  let exponent = (high >>> 20) & 0x7ff;
  let fractionHigh = high & 0xfffff;
  let fractionLow = low;
  if (exponent === 0x7ff) {
    if (fractionHigh === 0 && fractionLow === 0) { out[2] = sign | 0x7fff; out[1] = 0x80000000 | 0; out[0] = 0; }
    else { out[2] = 0xffff; out[1] = 0xc0000000 | 0; out[0] = 0; } // real indefinite
    return;
  }
  if (exponent === 0) {
    if (fractionHigh === 0 && fractionLow === 0) { out[0] = 0; out[1] = 0; out[2] = sign; return; }
    // Denormal double: normalise through a scaled copy (extended has the range for it).
    extendedFromDouble(value * Math.pow(2, 64), out);
    out[2] = (out[2] & 0x8000) | ((out[2] & 0x7fff) - 64);
    return;
  }
  void fractionHigh; void fractionLow;
  out[2] = sign | (exponent - 1023 + 16383);
  out[1] = (0x80000000 | ((high & 0xfffff) << 11) | (low >>> 21)) | 0;
  out[0] = (low << 11) | 0;
}

/** Rounds per x87 rounding control (0 nearest-even, 1 down, 2 up, 3 toward zero). */
export function roundByControl(value: number, rc: number): number {
  switch (rc) {
    case 0: {
      const floor = Math.floor(value);
      const diff = value - floor;
      const rounded = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
      // A result of zero keeps the operand's sign.
      return rounded === 0 && value < 0 ? -0 : rounded;
    }
    case 1: return Math.floor(value);
    case 2: return Math.ceil(value);
    default: return Math.trunc(value);
  }
}

/** Splits an integral double (|v| < 2^63) into two's-complement 32-bit halves. */
export function int64FromDouble(value: number, out: Int32Array): void {
  const high = Math.floor(value / TWO_32);
  const low = value - high * TWO_32;
  out[0] = low | 0;
  out[1] = high | 0;
}

export function doubleFromInt64(low: number, high: number): number {
  return (high | 0) * TWO_32 + (low >>> 0);
}

/** Packed BCD (18 digits + sign byte) to double. */
export function doubleFromBcd(bytes: Uint8Array): number {
  let value = 0;
  for (let i = 8; i >= 0; i--) value = value * 100 + (bytes[i] >> 4) * 10 + (bytes[i] & 0xf);
  return bytes[9] & 0x80 ? -value : value;
}

/** Double (already integral, |v| < 10^18) to packed BCD. */
export function bcdFromDouble(value: number, bytes: Uint8Array): void {
  let magnitude = Math.abs(value);
  for (let i = 0; i < 9; i++) {
    const pair = magnitude % 100;
    magnitude = Math.floor(magnitude / 100);
    bytes[i] = ((Math.floor(pair / 10) << 4) | (pair % 10)) & 0xff;
  }
  bytes[9] = value < 0 || Object.is(value, -0) ? 0x80 : 0;
}
