/**
 * Single-level 8-byte LUN structures (SAM-5 4.7). LUNs below 256 use peripheral device addressing,
 * larger ones flat space addressing, as arrays report them and Linux expects.
 */
export const MAX_LUN = 0x3fff;

export function encodeLun(lun: number): Uint8Array {
  if (!Number.isInteger(lun) || lun < 0 || lun > MAX_LUN) throw new RangeError(`LUN ${lun} is outside 0..${MAX_LUN}`);
  const bytes = new Uint8Array(8);
  if (lun < 256) {
    bytes[1] = lun;
  } else {
    bytes[0] = 0x40 | (lun >> 8);
    bytes[1] = lun & 0xff;
  }
  return bytes;
}

/** The LUN an 8-byte structure addresses, or undefined for multi-level, logical-unit or extended addressing. */
export function decodeLun(bytes: Uint8Array, offset = 0): number | undefined {
  for (let i = 2; i < 8; i++) if (bytes[offset + i] !== 0) return undefined;
  const first = bytes[offset]!;
  switch (first >> 6) {
    case 0b00:
      return first === 0 ? bytes[offset + 1] : undefined;
    case 0b01:
      return ((first & 0x3f) << 8) | bytes[offset + 1]!;
    default:
      return undefined;
  }
}
