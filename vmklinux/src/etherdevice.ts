import type { net_device } from "./netdevice.js";
import { PACKET_BROADCAST, PACKET_HOST, PACKET_MULTICAST, PACKET_OTHERHOST, skb_pull, skb_put_padto, skb_reset_mac_header, type sk_buff } from "./skbuff.js";

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const ETH_ZLEN = 60;
export const ETH_DATA_LEN = 1500;
export const ETH_FRAME_LEN = 1514;
export const ETH_FCS_LEN = 4;
export const ETH_MIN_MTU = 68;
export const ETH_MAX_MTU = 0xffff;
export const VLAN_HLEN = 4;
export const VLAN_ETH_HLEN = 18;
export const VLAN_ETH_FRAME_LEN = 1518;

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_IPV6 = 0x86dd;
/** Values below this in the type/length field are 802.3 lengths. */
export const ETH_P_802_3_MIN = 0x0600;
export const ETH_P_802_3 = 0x0001;
export const ETH_P_802_2 = 0x0004;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** Byte order: the host is little-endian, the wire big-endian. */
export function htons(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}
export const ntohs = htons;
export function htonl(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}
export const ntohl = htonl;

export function is_zero_ether_addr(addr: Uint8Array): boolean {
  return (addr[0]! | addr[1]! | addr[2]! | addr[3]! | addr[4]! | addr[5]!) === 0;
}
export function is_multicast_ether_addr(addr: Uint8Array): boolean {
  return (addr[0]! & 1) !== 0;
}
export function is_broadcast_ether_addr(addr: Uint8Array): boolean {
  return (addr[0]! & addr[1]! & addr[2]! & addr[3]! & addr[4]! & addr[5]!) === 0xff;
}
export function is_valid_ether_addr(addr: Uint8Array): boolean {
  return addr.length >= ETH_ALEN && !is_multicast_ether_addr(addr) && !is_zero_ether_addr(addr);
}
export function ether_addr_copy(dst: Uint8Array, src: Uint8Array): void {
  dst.set(src.subarray(0, ETH_ALEN));
}
export function ether_addr_equal(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < ETH_ALEN; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Sets the device's current address (dev->dev_addr is read-only to drivers in Linux). */
export function eth_hw_addr_set(dev: net_device, addr: Uint8Array): void {
  dev.dev_addr.set(addr.subarray(0, ETH_ALEN));
}

export function eth_validate_addr(dev: net_device): number {
  return is_valid_ether_addr(dev.dev_addr) ? 0 : -99;
}

/** struct sockaddr as ndo_set_mac_address receives it. */
export interface sockaddr {
  sa_family?: number;
  sa_data: Uint8Array;
}

/** The generic ndo_set_mac_address: validates and sets dev_addr. */
export function eth_mac_addr(dev: net_device, addr: sockaddr): number {
  if (!is_valid_ether_addr(addr.sa_data)) return -99;
  eth_hw_addr_set(dev, addr.sa_data);
  return 0;
}

/**
 * Sets skb->dev, the MAC header and pkt_type, pulls the Ethernet header and returns the protocol
 * in network byte order (what the driver stores in skb->protocol).
 */
export function eth_type_trans(skb: sk_buff, dev: net_device): number {
  skb.dev = dev;
  skb_reset_mac_header(skb);
  const bytes = skb.bytes;
  const mac = skb.mac_header;
  skb_pull(skb, ETH_HLEN);
  if (bytes[mac]! & 1) {
    skb.pkt_type = (bytes[mac]! & bytes[mac + 1]! & bytes[mac + 2]! & bytes[mac + 3]! & bytes[mac + 4]! & bytes[mac + 5]!) === 0xff ? PACKET_BROADCAST : PACKET_MULTICAST;
  } else {
    const own = dev.dev_addr;
    let match = true;
    for (let i = 0; i < ETH_ALEN; i++) if (bytes[mac + i] !== own[i]) match = false;
    skb.pkt_type = match ? PACKET_HOST : PACKET_OTHERHOST;
  }
  const type = (bytes[mac + 12]! << 8) | bytes[mac + 13]!;
  return htons(type >= ETH_P_802_3_MIN ? type : ETH_P_802_3);
}

/** Pads a short frame to ETH_ZLEN; on failure the skb is freed and -ENOMEM returned. */
export function eth_skb_pad(skb: sk_buff): number {
  return skb_put_padto(skb, ETH_ZLEN);
}

