/** Test-only packet builders and an independent RFC 1071 checksum, kept apart from the model's own code. */

export function referenceChecksum(bytes: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) + (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Ipv4Options {
  source?: number[];
  destination?: number[];
  protocol: number;
  id?: number;
  payload: Uint8Array;
}

export function ipv4Packet(options: Ipv4Options, checksum = true): Uint8Array {
  const packet = new Uint8Array(20 + options.payload.length);
  const view = new DataView(packet.buffer);
  packet[0] = 0x45;
  view.setUint16(2, packet.length);
  view.setUint16(4, options.id ?? 0x1234);
  view.setUint16(6, 0x4000);
  packet[8] = 64;
  packet[9] = options.protocol;
  packet.set(options.source ?? [10, 0, 0, 1], 12);
  packet.set(options.destination ?? [10, 0, 0, 2], 16);
  if (checksum) view.setUint16(10, referenceChecksum(packet.subarray(0, 20)));
  packet.set(options.payload, 20);
  return packet;
}

/** Pseudo header + segment, for computing or verifying L4 checksums. */
export function pseudoHeaderBytes(ip: Uint8Array, protocol: number, segment: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(12 + segment.length);
  bytes.set(ip.subarray(12, 20), 0);
  bytes[9] = protocol;
  bytes[10] = segment.length >>> 8;
  bytes[11] = segment.length & 0xff;
  bytes.set(segment, 12);
  return bytes;
}

export function tcpSegment(payload: Uint8Array, sequence = 1000, flags = 0x18): Uint8Array {
  const segment = new Uint8Array(20 + payload.length);
  const view = new DataView(segment.buffer);
  view.setUint16(0, 40000);
  view.setUint16(2, 80);
  view.setUint32(4, sequence);
  view.setUint32(8, 1);
  segment[12] = 5 << 4;
  segment[13] = flags;
  view.setUint16(14, 65535);
  segment.set(payload, 20);
  return segment;
}

export function udpDatagram(payload: Uint8Array): Uint8Array {
  const datagram = new Uint8Array(8 + payload.length);
  const view = new DataView(datagram.buffer);
  view.setUint16(0, 5353);
  view.setUint16(2, 53);
  view.setUint16(4, datagram.length);
  datagram.set(payload, 8);
  return datagram;
}

/** A full frame carrying IPv4 + L4 with every checksum correct (or the L4 one deliberately broken). */
export function ipv4Frame(protocol: 6 | 17, payload: Uint8Array, options: { corruptL4?: boolean; corruptIp?: boolean; vlan?: number } = {}): Uint8Array {
  const l4 = protocol === 6 ? tcpSegment(payload) : udpDatagram(payload);
  const ip = ipv4Packet({ protocol, payload: l4 });
  const segment = ip.subarray(20);
  const checksumAt = protocol === 6 ? 16 : 6;
  const l4Checksum = referenceChecksum(pseudoHeaderBytes(ip, protocol, segment));
  segment[checksumAt] = l4Checksum >>> 8;
  segment[checksumAt + 1] = l4Checksum & 0xff;
  if (options.corruptL4) segment[segment.length - 1] ^= 0x40;
  if (options.corruptIp) ip[8] ^= 1;
  const tagLength = options.vlan === undefined ? 0 : 4;
  const frame = new Uint8Array(14 + tagLength + ip.length);
  frame.set([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, 0x02, 0, 0, 0, 0, 1], 0);
  if (options.vlan !== undefined) frame.set([0x81, 0x00, options.vlan >>> 8, options.vlan & 0xff], 12);
  frame.set([0x08, 0x00], 12 + tagLength);
  frame.set(ip, 14 + tagLength);
  return frame;
}

export function pattern(length: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}
