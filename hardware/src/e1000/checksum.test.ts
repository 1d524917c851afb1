import { describe, expect, it } from "vitest";
import { foldSum, internetChecksum, onesComplementSum } from "./checksum.js";

/** RFC 1071 word by word, as the definition reads. */
function referenceSum(bytes: Uint8Array, start: number, end: number, initial: number): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) | (i + 1 < end ? bytes[i + 1]! : 0);
  return sum;
}

describe("internet checksum arithmetic", () => {
  it("sums like RFC 1071 for any range, odd or even, with a seed", () => {
    const bytes = Uint8Array.from({ length: 1600 }, (_, i) => (i * 151 + 7) & 0xff);
    for (const [start, end, initial] of [[0, 0, 0], [0, 1, 0], [3, 64, 17], [14, 1514, 0x1_2345], [1, 1600, 0xffff], [100, 101, 5]] as const) {
      expect(onesComplementSum(bytes, start, end, initial)).toBe(referenceSum(bytes, start, end, initial));
    }
  });

  it("gives the RFC 1071 example's checksum", () => {
    const bytes = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(foldSum(onesComplementSum(bytes, 0, bytes.length))).toBe(0xddf2);
    expect(internetChecksum(bytes, 0, bytes.length)).toBe(~0xddf2 & 0xffff);
  });
});
