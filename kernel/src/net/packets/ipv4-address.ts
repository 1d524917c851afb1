/** IPv4 addresses as unsigned 32-bit numbers, network byte order as written ("10.0.0.1" = 0x0a000001). */
export function parseIpv4(text: string): number {
  const parts = text.trim().split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`invalid IPv4 address "${text}"`);
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

export function formatIpv4(address: number): string {
  return `${(address >>> 24) & 0xff}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/** Rejects masks whose one-bits are not contiguous ("255.0.255.0"). */
export function parseNetmask(text: string): number {
  const mask = parseIpv4(text);
  const inverted = ~mask >>> 0;
  if ((inverted & (inverted + 1)) !== 0) throw new Error(`invalid netmask "${text}"`);
  return mask;
}

export function prefixLength(netmask: number): number {
  let bits = 0;
  for (let m = netmask >>> 0; m & 0x80000000; m = (m << 1) >>> 0) bits++;
  return bits;
}

export function sameSubnet(a: number, b: number, netmask: number): boolean {
  return ((a & netmask) >>> 0) === ((b & netmask) >>> 0);
}

export function readIpv4(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

export function writeIpv4(bytes: Uint8Array, offset: number, address: number): void {
  bytes[offset] = (address >>> 24) & 0xff;
  bytes[offset + 1] = (address >>> 16) & 0xff;
  bytes[offset + 2] = (address >>> 8) & 0xff;
  bytes[offset + 3] = address & 0xff;
}
