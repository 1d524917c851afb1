/** Internet checksum arithmetic (RFC 1071) and the Ethernet FCS, on byte ranges without allocation. */

/** Unfolded 16-bit big-endian one's-complement sum of bytes [start, end), an odd tail padded with zero. */
export function onesComplementSum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  // High and low bytes summed apart and combined once: the same total, with half the work per word.
  let high = 0;
  let low = 0;
  let i = start;
  for (; i + 1 < end; i += 2) {
    high += bytes[i]!;
    low += bytes[i + 1]!;
  }
  if (i < end) high += bytes[i]!;
  return initial + high * 256 + low;
}

/** Folds carries into 16 bits. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value: complement of the folded sum. */
export function internetChecksum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  return ~foldSum(onesComplementSum(bytes, start, end, initial)) & 0xffff;
}

export function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

export function writeU16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = (value >>> 8) & 0xff;
  bytes[at + 1] = value & 0xff;
}

export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

export function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = (value >>> 24) & 0xff;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** IEEE 802.3 CRC-32 of bytes [start, end): the FCS value, transmitted least significant byte first. */
export function ethernetCrc(bytes: Uint8Array, start: number, end: number): number {
  let crc = -1;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
