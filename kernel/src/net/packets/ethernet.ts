import { MAC_LENGTH } from "./mac-address.js";

/** Ethernet II framing (frames carry no FCS inside vmk). */
export const ETHERNET_HEADER_LENGTH = 14;
/** 64-byte minimum on the wire less the 4-byte FCS. */
export const ETHERNET_MIN_FRAME_LENGTH = 60;
export const DESTINATION_OFFSET = 0;
export const SOURCE_OFFSET = MAC_LENGTH;
export const ETHERTYPE_OFFSET = 12;

export const EtherType = {
  IPv4: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  VLAN: 0x8100,
  IPv6: 0x86dd,
} as const;

export function etherTypeAt(frame: Uint8Array, offset = ETHERTYPE_OFFSET): number {
  return (frame[offset]! << 8) | frame[offset + 1]!;
}

/**
 * Builds an untagged frame, zero-padded to the Ethernet minimum as a NIC would pad it, so frames
 * written to a capture look like frames seen on a real segment.
 */
export function buildEthernetFrame(destination: Uint8Array, source: Uint8Array, etherType: number, payload: Uint8Array): Uint8Array {
  const length = Math.max(ETHERNET_MIN_FRAME_LENGTH, ETHERNET_HEADER_LENGTH + payload.length);
  const frame = new Uint8Array(length);
  frame.set(destination.subarray(0, MAC_LENGTH), DESTINATION_OFFSET);
  frame.set(source.subarray(0, MAC_LENGTH), SOURCE_OFFSET);
  frame[ETHERTYPE_OFFSET] = etherType >>> 8;
  frame[ETHERTYPE_OFFSET + 1] = etherType & 0xff;
  frame.set(payload, ETHERNET_HEADER_LENGTH);
  return frame;
}
