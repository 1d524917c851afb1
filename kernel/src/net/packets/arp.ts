import { EtherType } from "./ethernet.js";
import { readIpv4, writeIpv4 } from "./ipv4-address.js";
import { MAC_LENGTH } from "./mac-address.js";

/** RFC 826 ARP (and RFC 903 RARP, which shares the layout) for Ethernet and IPv4 only. */
export const ARP_PACKET_LENGTH = 28;
const HARDWARE_ETHERNET = 1;

export const ArpOperation = {
  Request: 1,
  Reply: 2,
  ReverseRequest: 3,
  ReverseReply: 4,
} as const;

export interface ArpPacket {
  operation: number;
  senderMac: Uint8Array;
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

/** Undefined when the packet is short or is not Ethernet/IPv4 ARP. */
export function decodeArp(bytes: Uint8Array, offset: number): ArpPacket | undefined {
  if (bytes.length < offset + ARP_PACKET_LENGTH) return undefined;
  const hardwareType = (bytes[offset]! << 8) | bytes[offset + 1]!;
  const protocolType = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
  if (hardwareType !== HARDWARE_ETHERNET || protocolType !== EtherType.IPv4 || bytes[offset + 4] !== MAC_LENGTH || bytes[offset + 5] !== 4) return undefined;
  return {
    operation: (bytes[offset + 6]! << 8) | bytes[offset + 7]!,
    senderMac: bytes.slice(offset + 8, offset + 14),
    senderIp: readIpv4(bytes, offset + 14),
    targetMac: bytes.slice(offset + 18, offset + 24),
    targetIp: readIpv4(bytes, offset + 24),
  };
}

export function encodeArp(packet: ArpPacket): Uint8Array {
  const bytes = new Uint8Array(ARP_PACKET_LENGTH);
  bytes[1] = HARDWARE_ETHERNET;
  bytes[2] = EtherType.IPv4 >>> 8;
  bytes[3] = EtherType.IPv4 & 0xff;
  bytes[4] = MAC_LENGTH;
  bytes[5] = 4;
  bytes[6] = packet.operation >>> 8;
  bytes[7] = packet.operation & 0xff;
  bytes.set(packet.senderMac.subarray(0, MAC_LENGTH), 8);
  writeIpv4(bytes, 14, packet.senderIp);
  bytes.set(packet.targetMac.subarray(0, MAC_LENGTH), 18);
  writeIpv4(bytes, 24, packet.targetIp);
  return bytes;
}
