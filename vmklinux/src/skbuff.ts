import type { Linux } from "./linux.js";
import type { net_device } from "./netdevice.js";
import type { napi_struct } from "./napi.js";

/** skb->ip_summed */
export const CHECKSUM_NONE = 0;
export const CHECKSUM_UNNECESSARY = 1;
export const CHECKSUM_COMPLETE = 2;
export const CHECKSUM_PARTIAL = 3;

/** skb->pkt_type */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;

/** Headroom netdev_alloc_skb leaves for headers pushed later. */
export const NET_SKB_PAD = 32;
/** Two bytes that put the IP header after a 14-byte Ethernet header on a 4-byte boundary. */
export const NET_IP_ALIGN = 2;

/** The unset value of the 16-bit header offsets, as Linux's (typeof(skb->mac_header))~0U. */
const HEADER_UNSET = 0xffff;

/**
 * struct sk_buff, linear (no page fragments). Pointers are machine addresses, as in Linux they are
 * kernel virtual addresses: `head <= data <= tail <= end`, and `dma_map_single(dev, skb.data, ...)`
 * maps them. The bytes are reached through `skb.bytes`, a view of [head, end): the byte at address
 * `a` is `skb.bytes[a - skb.head]` (`skb_headroom(skb)` is `data - head`). Header offsets
 * (mac_header, network_header, transport_header, csum_start) count from head, as Linux's do.
 *
 * Buffers come from the module's slab and objects from a per-host cache, so a packet in flight
 * allocates nothing once the caches are warm.
 */
export class sk_buff {
  dev: net_device | null = null;
  head = 0;
  data = 0;
  tail = 0;
  end = 0;
  bytes: Uint8Array = EMPTY;
  len = 0;
  /** Bytes in page fragments: always 0, every sk_buff here is linear. */
  readonly data_len = 0;
  /** Network byte order, as Linux keeps it: compare with htons(ETH_P_IP). */
  protocol = 0;
  ip_summed = CHECKSUM_NONE;
  csum = 0;
  csum_start = 0;
  csum_offset = 0;
  mac_header = HEADER_UNSET;
  network_header = HEADER_UNSET;
  transport_header = HEADER_UNSET;
  pkt_type = PACKET_HOST;
  queue_mapping = 0;
  priority = 0;
  gso_size = 0;
  vlan_tci = 0;
  vlan_present = false;
  /** Slab slot of the buffer; -1 once freed. */
  slot = -1;
  constructor(readonly linux: Linux) {}
}

const EMPTY = new Uint8Array(0);

/** alloc_skb: a buffer of at least `size` bytes, data at its start; null when memory is exhausted. */
export function __alloc_skb(linux: Linux, size: number): sk_buff | null {
  const slot = linux.slab.alloc(size);
  if (slot < 0) return null;
  const skb = linux.skb_cache.pop() ?? new sk_buff(linux);
  const head = linux.slab.slot_address[slot]!;
  skb.slot = slot;
  skb.head = head;
  skb.data = head;
  skb.tail = head;
  skb.bytes = linux.slab.slot_view[slot]!;
  skb.end = head + skb.bytes.length;
  return skb;
}

/** An skb for receiving on `dev`, with NET_SKB_PAD of headroom. */
export function __netdev_alloc_skb(dev: net_device, length: number, _gfp = 0): sk_buff | null {
  const skb = __alloc_skb(dev.linux, length + NET_SKB_PAD);
  if (!skb) return null;
  skb.data += NET_SKB_PAD;
  skb.tail += NET_SKB_PAD;
  skb.dev = dev;
  return skb;
}
export function netdev_alloc_skb(dev: net_device, length: number): sk_buff | null {
  return __netdev_alloc_skb(dev, length);
}
export function netdev_alloc_skb_ip_align(dev: net_device, length: number): sk_buff | null {
  const skb = __netdev_alloc_skb(dev, length + NET_IP_ALIGN);
  if (skb) skb_reserve(skb, NET_IP_ALIGN);
  return skb;
}
export function napi_alloc_skb(napi: napi_struct, length: number): sk_buff | null {
  return netdev_alloc_skb_ip_align(napi.dev, length);
}

export function kfree_skb(skb: sk_buff): void {
  if (skb.slot < 0) throw new Error("kfree_skb: sk_buff freed twice");
  const linux = skb.linux;
  linux.slab.free(skb.slot);
  skb.slot = -1;
  skb.dev = null;
  skb.bytes = EMPTY;
  skb.len = 0;
  skb.protocol = 0;
  skb.ip_summed = CHECKSUM_NONE;
  skb.csum = 0;
  skb.csum_start = 0;
  skb.csum_offset = 0;
  skb.mac_header = HEADER_UNSET;
  skb.network_header = HEADER_UNSET;
  skb.transport_header = HEADER_UNSET;
  skb.pkt_type = PACKET_HOST;
  skb.queue_mapping = 0;
  skb.priority = 0;
  skb.gso_size = 0;
  skb.vlan_tci = 0;
  skb.vlan_present = false;
  linux.skb_cache.push(skb);
}
export const consume_skb = kfree_skb;
export const dev_kfree_skb = kfree_skb;
export const dev_kfree_skb_any = kfree_skb;
export const dev_kfree_skb_irq = kfree_skb;
export const dev_consume_skb_any = kfree_skb;
export function napi_consume_skb(skb: sk_buff, _budget: number): void {
  kfree_skb(skb);
}

export function skb_headroom(skb: sk_buff): number {
  return skb.data - skb.head;
}
export function skb_tailroom(skb: sk_buff): number {
  return skb.end - skb.tail;
}
export function skb_headlen(skb: sk_buff): number {
  return skb.len - skb.data_len;
}
export function skb_is_gso(skb: sk_buff): boolean {
  return skb.gso_size !== 0;
}
export function skb_is_nonlinear(skb: sk_buff): boolean {
  return skb.data_len !== 0;
}

/** Makes headroom in an empty buffer. */
export function skb_reserve(skb: sk_buff, len: number): void {
  if (skb.tail + len > skb.end) throw new Error(`skb_reserve: ${len} bytes do not fit (tailroom ${skb_tailroom(skb)})`);
  skb.data += len;
  skb.tail += len;
}

/** Extends the data at the tail; returns the address of the added area. Overrunning the buffer is skb_over_panic. */
export function skb_put(skb: sk_buff, len: number): number {
  const at = skb.tail;
  if (skb.tail + len > skb.end) throw new Error(`skb_over_panic: put ${len} bytes with ${skb_tailroom(skb)} bytes of tailroom`);
  skb.tail += len;
  skb.len += len;
  return at;
}

/** skb_put, then copies `from` into the added area. */
export function skb_put_data(skb: sk_buff, from: Uint8Array, len = from.length): number {
  const at = skb_put(skb, len);
  skb.bytes.set(len === from.length ? from : from.subarray(0, len), at - skb.head);
  return at;
}

export function skb_put_zero(skb: sk_buff, len: number): number {
  const at = skb_put(skb, len);
  skb.bytes.fill(0, at - skb.head, at - skb.head + len);
  return at;
}

/** Extends the data at the front; returns the new data address. Underrunning the buffer is skb_under_panic. */
export function skb_push(skb: sk_buff, len: number): number {
  if (skb.data - len < skb.head) throw new Error(`skb_under_panic: push ${len} bytes with ${skb_headroom(skb)} bytes of headroom`);
  skb.data -= len;
  skb.len += len;
  return skb.data;
}

/** Removes `len` bytes from the front; returns the new data address, or null if the skb is shorter. */
export function skb_pull(skb: sk_buff, len: number): number | null {
  if (len > skb.len) return null;
  skb.data += len;
  skb.len -= len;
  return skb.data;
}

export function skb_trim(skb: sk_buff, len: number): void {
  if (skb.len > len) {
    skb.len = len;
    skb.tail = skb.data + len;
  }
}

/**
 * Zero-pads the data to `len` bytes. Returns 0, or -ENOMEM after freeing the skb when it has no room,
 * as Linux's skb_padto does (the caller must not touch the skb then).
 */
export function skb_padto(skb: sk_buff, len: number): number {
  if (skb.len >= len) return 0;
  const pad = len - skb.len;
  if (skb_tailroom(skb) < pad) {
    kfree_skb(skb);
    return -12;
  }
  skb.bytes.fill(0, skb.tail - skb.head, skb.tail - skb.head + pad);
  return 0;
}

/** skb_padto, and the padding becomes part of the data. */
export function skb_put_padto(skb: sk_buff, len: number): number {
  if (skb.len >= len) return 0;
  const pad = len - skb.len;
  if (skb_padto(skb, len) !== 0) return -12;
  skb_put(skb, pad);
  return 0;
}

export function skb_copy_to_linear_data(skb: sk_buff, from: Uint8Array, len = from.length): void {
  skb.bytes.set(from.subarray(0, len), skb.data - skb.head);
}
export function skb_copy_to_linear_data_offset(skb: sk_buff, offset: number, from: Uint8Array, len = from.length): void {
  skb.bytes.set(from.subarray(0, len), skb.data - skb.head + offset);
}
export function skb_copy_from_linear_data(skb: sk_buff, to: Uint8Array, len: number): void {
  const start = skb.data - skb.head;
  to.set(skb.bytes.subarray(start, start + len));
}
export function skb_copy_from_linear_data_offset(skb: sk_buff, offset: number, to: Uint8Array, len: number): void {
  const start = skb.data - skb.head + offset;
  to.set(skb.bytes.subarray(start, start + len));
}

export function skb_reset_mac_header(skb: sk_buff): void {
  skb.mac_header = skb.data - skb.head;
}
export function skb_mac_header_was_set(skb: sk_buff): boolean {
  return skb.mac_header !== HEADER_UNSET;
}
/** Address of the Ethernet header. */
export function skb_mac_header(skb: sk_buff): number {
  return skb.head + skb.mac_header;
}
export function skb_reset_network_header(skb: sk_buff): void {
  skb.network_header = skb.data - skb.head;
}
export function skb_set_network_header(skb: sk_buff, offset: number): void {
  skb.network_header = skb.data - skb.head + offset;
}
export function skb_network_header(skb: sk_buff): number {
  return skb.head + skb.network_header;
}
export function skb_network_offset(skb: sk_buff): number {
  return skb.head + skb.network_header - skb.data;
}
export function skb_reset_transport_header(skb: sk_buff): void {
  skb.transport_header = skb.data - skb.head;
}
export function skb_set_transport_header(skb: sk_buff, offset: number): void {
  skb.transport_header = skb.data - skb.head + offset;
}
export function skb_transport_header(skb: sk_buff): number {
  return skb.head + skb.transport_header;
}
export function skb_transport_offset(skb: sk_buff): number {
  return skb.head + skb.transport_header - skb.data;
}
/** Where checksumming starts, from skb->data (the device's CSS field). */
export function skb_checksum_start_offset(skb: sk_buff): number {
  return skb.csum_start - (skb.data - skb.head);
}
export function skb_record_rx_queue(skb: sk_buff, queue: number): void {
  skb.queue_mapping = queue + 1;
}
export function skb_checksum_none_assert(skb: sk_buff): void {
  if (skb.ip_summed !== CHECKSUM_NONE) throw new Error(`skb_checksum_none_assert: ip_summed is ${skb.ip_summed}`);
}

/**
 * Completes a CHECKSUM_PARTIAL checksum in software (for devices or paths without the offload): the
 * ones' complement sum from csum_start to the end, folded into the field at csum_start + csum_offset,
 * which already holds the pseudo-header sum as the stack leaves it.
 */
export function skb_checksum_help(skb: sk_buff): number {
  if (skb.ip_summed !== CHECKSUM_PARTIAL) return 0;
  const start = skb.csum_start;
  const field = start + skb.csum_offset;
  const stop = skb.tail - skb.head;
  if (field + 2 > stop) return -22;
  const bytes = skb.bytes;
  let sum = 0;
  for (let i = start; i + 1 < stop; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if ((stop - start) & 1) sum += bytes[stop - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const result = ~sum & 0xffff;
  bytes[field] = result >>> 8;
  bytes[field + 1] = result & 0xff;
  skb.ip_summed = CHECKSUM_NONE;
  return 0;
}
