import { internetChecksum } from "./internet-checksum.js";
import { readIpv4, writeIpv4 } from "./ipv4-address.js";

/** RFC 791 IPv4 headers. Options are carried over on decode but never generated. */
export const IPV4_MIN_HEADER_LENGTH = 20;

export const IpProtocol = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
} as const;

const FLAG_DONT_FRAGMENT = 0x4000;
const FLAG_MORE_FRAGMENTS = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;

export interface Ipv4Header {
  headerLength: number;
  dscp: number;
  totalLength: number;
  identification: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** In 8-byte units. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  source: number;
  destination: number;
}

export interface Ipv4Datagram {
  header: Ipv4Header;
  /** Where the payload starts in the buffer given to decodeIpv4, and its length from the header's total length. */
  payloadOffset: number;
  payloadLength: number;
}

export type Ipv4DecodeResult = { ok: true; datagram: Ipv4Datagram } | { ok: false; reason: string };

/** Validates version, lengths and the header checksum; trailing Ethernet padding is ignored. */
export function decodeIpv4(bytes: Uint8Array, offset: number, available: number): Ipv4DecodeResult {
  if (available < IPV4_MIN_HEADER_LENGTH) return { ok: false, reason: "truncated header" };
  const versionAndLength = bytes[offset]!;
  if (versionAndLength >>> 4 !== 4) return { ok: false, reason: `IP version ${versionAndLength >>> 4}` };
  const headerLength = (versionAndLength & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER_LENGTH || headerLength > available) return { ok: false, reason: `bad header length ${headerLength}` };
  const totalLength = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
  if (totalLength < headerLength || totalLength > available) return { ok: false, reason: `bad total length ${totalLength}` };
  if (internetChecksum(bytes, offset, headerLength) !== 0) return { ok: false, reason: "header checksum mismatch" };
  const flagsAndOffset = (bytes[offset + 6]! << 8) | bytes[offset + 7]!;
  return {
    ok: true,
    datagram: {
      header: {
        headerLength,
        dscp: bytes[offset + 1]! >>> 2,
        totalLength,
        identification: (bytes[offset + 4]! << 8) | bytes[offset + 5]!,
        dontFragment: (flagsAndOffset & FLAG_DONT_FRAGMENT) !== 0,
        moreFragments: (flagsAndOffset & FLAG_MORE_FRAGMENTS) !== 0,
        fragmentOffset: flagsAndOffset & FRAGMENT_OFFSET_MASK,
        ttl: bytes[offset + 8]!,
        protocol: bytes[offset + 9]!,
        checksum: (bytes[offset + 10]! << 8) | bytes[offset + 11]!,
        source: readIpv4(bytes, offset + 12),
        destination: readIpv4(bytes, offset + 16),
      },
      payloadOffset: offset + headerLength,
      payloadLength: totalLength - headerLength,
    },
  };
}

export interface Ipv4Fields {
  source: number;
  destination: number;
  protocol: number;
  identification: number;
  ttl?: number;
  dontFragment?: boolean;
  dscp?: number;
}

/** A complete datagram (20-byte header with its checksum, then the payload). */
export function encodeIpv4(fields: Ipv4Fields, payload: Uint8Array): Uint8Array {
  const totalLength = IPV4_MIN_HEADER_LENGTH + payload.length;
  if (totalLength > 0xffff) throw new RangeError(`IPv4 datagram of ${totalLength} bytes is too long`);
  const bytes = new Uint8Array(totalLength);
  bytes[0] = 0x45;
  bytes[1] = (fields.dscp ?? 0) << 2;
  bytes[2] = totalLength >>> 8;
  bytes[3] = totalLength & 0xff;
  bytes[4] = (fields.identification >>> 8) & 0xff;
  bytes[5] = fields.identification & 0xff;
  bytes[6] = fields.dontFragment ? FLAG_DONT_FRAGMENT >>> 8 : 0;
  bytes[8] = fields.ttl ?? 64;
  bytes[9] = fields.protocol;
  writeIpv4(bytes, 12, fields.source);
  writeIpv4(bytes, 16, fields.destination);
  const checksum = internetChecksum(bytes, 0, IPV4_MIN_HEADER_LENGTH);
  bytes[10] = checksum >>> 8;
  bytes[11] = checksum & 0xff;
  bytes.set(payload, IPV4_MIN_HEADER_LENGTH);
  return bytes;
}
