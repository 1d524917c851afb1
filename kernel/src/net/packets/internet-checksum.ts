/**
 * The RFC 1071 ones'-complement checksum used by IPv4 and ICMP. Summing a region that already holds
 * its correct checksum yields 0, which is how received headers are verified.
 */
export function internetChecksum(bytes: Uint8Array, offset: number, length: number): number {
  let sum = 0;
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
