import { ETHERNET_HEADER_LENGTH, ETHERTYPE_OFFSET, EtherType, etherTypeAt } from "./ethernet.js";

/** IEEE 802.1Q: a 4-byte tag (TPID 0x8100, then PCP:3 DEI:1 VID:12) between the source MAC and the EtherType. */
export const VLAN_TAG_LENGTH = 4;
export const VLAN_ID_MAX = 4094;

export function isVlanTagged(frame: Uint8Array): boolean {
  return frame.length >= ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH && etherTypeAt(frame) === EtherType.VLAN;
}

/** The VID of a tagged frame (0 for a priority-only tag). */
export function vlanIdOf(frame: Uint8Array): number {
  return ((frame[14]! << 8) | frame[15]!) & 0x0fff;
}

/** The tag control information (PCP, DEI, VID) of a tagged frame. */
export function vlanTciOf(frame: Uint8Array): number {
  return (frame[14]! << 8) | frame[15]!;
}

/** EtherType of the payload, looking through one 802.1Q tag. */
export function innerEtherType(frame: Uint8Array): number {
  const outer = etherTypeAt(frame);
  return outer === EtherType.VLAN && frame.length >= ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH ? etherTypeAt(frame, ETHERTYPE_OFFSET + VLAN_TAG_LENGTH) : outer;
}

/** A new frame with a tag carrying `tci` (priority bits and VID) inserted after the MAC addresses. */
export function insertVlanTag(frame: Uint8Array, tci: number): Uint8Array {
  const tagged = new Uint8Array(frame.length + VLAN_TAG_LENGTH);
  tagged.set(frame.subarray(0, ETHERTYPE_OFFSET), 0);
  tagged[12] = EtherType.VLAN >>> 8;
  tagged[13] = EtherType.VLAN & 0xff;
  tagged[14] = (tci >>> 8) & 0xff;
  tagged[15] = tci & 0xff;
  tagged.set(frame.subarray(ETHERTYPE_OFFSET), ETHERTYPE_OFFSET + VLAN_TAG_LENGTH);
  return tagged;
}

/** A new frame without its outer tag. */
export function stripVlanTag(frame: Uint8Array): Uint8Array {
  const untagged = new Uint8Array(frame.length - VLAN_TAG_LENGTH);
  untagged.set(frame.subarray(0, ETHERTYPE_OFFSET), 0);
  untagged.set(frame.subarray(ETHERTYPE_OFFSET + VLAN_TAG_LENGTH), ETHERTYPE_OFFSET);
  return untagged;
}
