/** RFC 768 UDP, as the DHCP server needs it: one datagram inside one unfragmented IPv4 packet. */
export const UDP_HEADER_LENGTH = 8;
const PROTOCOL_UDP = 17;

export interface UdpDatagram {
  sourcePort: number;
  destinationPort: number;
  /** Where the payload starts in the buffer handed to decodeUdp, and its length from the UDP header. */
  payloadOffset: number;
  payloadLength: number;
}

export type UdpDecodeResult = { ok: true; datagram: UdpDatagram } | { ok: false; reason: string };

/**
 * Validates the UDP length against what the IP header carried and, when the sender filled it in,
 * the checksum over the pseudo-header (a zero checksum means "not computed" in IPv4).
 */
export function decodeUdp(bytes: Uint8Array, offset: number, available: number, sourceIp: number, destinationIp: number): UdpDecodeResult {
  if (available < UDP_HEADER_LENGTH || offset + available > bytes.length) return { ok: false, reason: "truncated UDP header" };
  const length = (bytes[offset + 4]! << 8) | bytes[offset + 5]!;
  if (length < UDP_HEADER_LENGTH || length > available) return { ok: false, reason: `bad UDP length ${length}` };
  const checksum = (bytes[offset + 6]! << 8) | bytes[offset + 7]!;
  if (checksum !== 0 && udpChecksum(bytes, offset, length, sourceIp, destinationIp) !== 0) return { ok: false, reason: "UDP checksum mismatch" };
  return {
    ok: true,
    datagram: {
      sourcePort: (bytes[offset]! << 8) | bytes[offset + 1]!,
      destinationPort: (bytes[offset + 2]! << 8) | bytes[offset + 3]!,
      payloadOffset: offset + UDP_HEADER_LENGTH,
      payloadLength: length - UDP_HEADER_LENGTH,
    },
  };
}

/** A UDP header and payload with its checksum filled in. */
export function encodeUdp(sourceIp: number, destinationIp: number, sourcePort: number, destinationPort: number, payload: Uint8Array): Uint8Array {
  const length = UDP_HEADER_LENGTH + payload.length;
  if (length > 0xffff) throw new RangeError(`UDP datagram of ${length} bytes is too long`);
  const bytes = new Uint8Array(length);
  bytes[0] = sourcePort >>> 8;
  bytes[1] = sourcePort & 0xff;
  bytes[2] = destinationPort >>> 8;
  bytes[3] = destinationPort & 0xff;
  bytes[4] = length >>> 8;
  bytes[5] = length & 0xff;
  bytes.set(payload, UDP_HEADER_LENGTH);
  // A computed zero is sent as all ones: zero on the wire would mean "no checksum".
  const checksum = udpChecksum(bytes, 0, length, sourceIp, destinationIp) || 0xffff;
  bytes[6] = checksum >>> 8;
  bytes[7] = checksum & 0xff;
  return bytes;
}

/** The ones'-complement sum over the pseudo-header (addresses, protocol, length) and the datagram. */
function udpChecksum(bytes: Uint8Array, offset: number, length: number, sourceIp: number, destinationIp: number): number {
  let sum = (sourceIp >>> 16) + (sourceIp & 0xffff) + (destinationIp >>> 16) + (destinationIp & 0xffff) + PROTOCOL_UDP + length;
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}
