// CDBs and SCSI data structures are big-endian. These work on plain byte arrays without a DataView
// so that decoding a READ(10) on the hot path allocates nothing.

export function getBe16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

export function getBe24(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 16) | (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
}

export function getBe32(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! * 0x1000000 + ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!);
}

/** Exact below 2^53; above that it is approximate but still larger than any capacity, which is all a range check needs. */
export function getBe64(bytes: Uint8Array, offset: number): number {
  return getBe32(bytes, offset) * 0x100000000 + getBe32(bytes, offset + 4);
}

export function putBe16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 8;
  bytes[offset + 1] = value;
}

export function putBe24(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 16;
  bytes[offset + 1] = value >>> 8;
  bytes[offset + 2] = value;
}

export function putBe32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

export function putBe64(bytes: Uint8Array, offset: number, value: number): void {
  putBe32(bytes, offset, Math.floor(value / 0x100000000));
  putBe32(bytes, offset + 4, value >>> 0);
}
