import { device } from "./device.js";
import { EINVAL, ENODEV, ERANGE } from "./errno.js";
import { ETH_ALEN, ETH_DATA_LEN, ETH_HLEN, ETH_MIN_MTU, type sockaddr } from "./etherdevice.js";
import type { ethtool_ops } from "./ethtool.js";
import type { Linux } from "./linux.js";
import type { napi_struct } from "./napi.js";
import { vsprintf } from "./printk.js";
import { kfree_skb, type sk_buff } from "./skbuff.js";
import { HZ, mod_timer, del_timer, timer_list, time_after } from "./time.js";
import type { NetdevUplink } from "./uplink.js";

/** netdev_tx_t */
export const NETDEV_TX_OK = 0x00;
export const NETDEV_TX_BUSY = 0x10;
export type netdev_tx_t = number;

export const NET_RX_SUCCESS = 0;
export const NET_RX_DROP = 1;

/** dev->flags */
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_DEBUG = 0x4;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_ALLMULTI = 0x200;
export const IFF_MULTICAST = 0x1000;

/** dev->features bits (our own numbering: a driver only ever names them). */
export const NETIF_F_SG = 1 << 0;
export const NETIF_F_IP_CSUM = 1 << 1;
export const NETIF_F_HW_CSUM = 1 << 3;
export const NETIF_F_IPV6_CSUM = 1 << 4;
export const NETIF_F_HIGHDMA = 1 << 5;
export const NETIF_F_HW_VLAN_CTAG_TX = 1 << 7;
export const NETIF_F_HW_VLAN_CTAG_RX = 1 << 8;
export const NETIF_F_HW_VLAN_CTAG_FILTER = 1 << 9;
export const NETIF_F_TSO = 1 << 16;
export const NETIF_F_TSO6 = 1 << 20;
export const NETIF_F_RXCSUM = 1 << 29;
export const NETIF_F_RXFCS = 1 << 30;
export const NETIF_F_RXALL = 1 << 28;
export const NETIF_F_LOOPBACK = 1 << 27;

/** struct rtnl_link_stats64 (also what dev->stats holds, Linux's net_device_stats with the same names). */
export class rtnl_link_stats64 {
  rx_packets = 0;
  tx_packets = 0;
  rx_bytes = 0;
  tx_bytes = 0;
  rx_errors = 0;
  tx_errors = 0;
  rx_dropped = 0;
  tx_dropped = 0;
  multicast = 0;
  collisions = 0;
  rx_length_errors = 0;
  rx_over_errors = 0;
  rx_crc_errors = 0;
  rx_frame_errors = 0;
  rx_fifo_errors = 0;
  rx_missed_errors = 0;
  tx_aborted_errors = 0;
  tx_carrier_errors = 0;
  tx_fifo_errors = 0;
  tx_heartbeat_errors = 0;
  tx_window_errors = 0;
  rx_compressed = 0;
  tx_compressed = 0;
  rx_nohandler = 0;
}
export { rtnl_link_stats64 as net_device_stats };

/** struct net_device_ops: what the stack calls. Every member is optional, as in Linux. */
export interface net_device_ops {
  ndo_open?(dev: net_device): number;
  ndo_stop?(dev: net_device): number;
  ndo_start_xmit?(skb: sk_buff, dev: net_device): netdev_tx_t;
  ndo_set_rx_mode?(dev: net_device): void;
  ndo_tx_timeout?(dev: net_device, txqueue: number): void;
  ndo_get_stats64?(dev: net_device, stats: rtnl_link_stats64): void;
  ndo_change_mtu?(dev: net_device, new_mtu: number): number;
  ndo_set_mac_address?(dev: net_device, addr: sockaddr): number;
  ndo_validate_addr?(dev: net_device): number;
}

/** One address in dev->mc (struct netdev_hw_addr). */
export interface netdev_hw_addr {
  readonly addr: Uint8Array;
}

export type netdev_reg_state = "uninitialized" | "registered" | "unregistered" | "released";

/** struct net_device. Made by linux.alloc_etherdev(PrivClass); netdev_priv(dev) is the driver's private struct. */
export class net_device<P = unknown> {
  name = "eth%d";
  readonly dev: device;
  readonly dev_addr = new Uint8Array(ETH_ALEN);
  readonly perm_addr = new Uint8Array(ETH_ALEN);
  readonly broadcast = new Uint8Array(ETH_ALEN).fill(0xff);
  addr_len = ETH_ALEN;
  hard_header_len = ETH_HLEN;
  mtu = ETH_DATA_LEN;
  min_mtu = ETH_MIN_MTU;
  max_mtu = ETH_DATA_LEN;
  flags = IFF_BROADCAST | IFF_MULTICAST;
  features = 0;
  hw_features = 0;
  vlan_features = 0;
  netdev_ops: net_device_ops = {};
  ethtool_ops: ethtool_ops | null = null;
  /** Jiffies the transmit queue may stay stopped before ndo_tx_timeout. */
  watchdog_timeo = 0;
  irq = 0;
  mem_start = 0;
  mem_end = 0;
  tx_queue_len = 1000;
  readonly stats = new rtnl_link_stats64();
  /** Multicast addresses the stack wants (netdev_for_each_mc_addr). */
  mc: netdev_hw_addr[] = [];
  /** Extra unicast addresses (netdev_uc_count). */
  uc: netdev_hw_addr[] = [];
  reg_state: netdev_reg_state = "uninitialized";
  readonly napi_list: napi_struct[] = [];
  /** __LINK_STATE_START: the device is open. */
  running = false;
  /** A new device has carrier until the driver says otherwise, as in Linux. */
  carrier = true;
  /** __QUEUE_STATE_DRV_XOFF of the single transmit queue. */
  queue_stopped = false;
  present = true;
  /** When the queue last stopped (the transmit watchdog's reference). */
  trans_start = 0;
  uplink: NetdevUplink | null = null;
  readonly watchdog_timer = new timer_list();

  constructor(
    readonly linux: Linux,
    readonly priv: P,
  ) {
    this.dev = new device(linux, this.name);
  }
}

export function netdev_priv<P>(dev: net_device<P>): P {
  return dev.priv;
}
export function SET_NETDEV_DEV(net: net_device, pdev_dev: device): void {
  net.dev.parent = pdev_dev;
}
export function netdev_name(dev: net_device): string {
  return dev.name;
}

export function register_netdev(dev: net_device): number {
  return dev.linux.register_netdev(dev);
}
export function unregister_netdev(dev: net_device): void {
  dev.linux.unregister_netdev(dev);
}
export function free_netdev(dev: net_device): void {
  if (dev.reg_state === "registered") throw new Error(`free_netdev: ${dev.name} is still registered`);
  for (const napi of [...dev.napi_list]) dev.linux.napi_del(napi);
  dev.reg_state = "released";
}

export function netif_running(dev: net_device): boolean {
  return dev.running;
}
export function netif_carrier_ok(dev: net_device): boolean {
  return dev.carrier;
}
export function netif_carrier_on(dev: net_device): void {
  if (dev.carrier) return;
  dev.carrier = true;
  dev.uplink?.report_link();
}
export function netif_carrier_off(dev: net_device): void {
  if (!dev.carrier) return;
  dev.carrier = false;
  dev.uplink?.report_link();
}
export function netif_start_queue(dev: net_device): void {
  dev.queue_stopped = false;
}
export function netif_wake_queue(dev: net_device): void {
  dev.queue_stopped = false;
}
export function netif_stop_queue(dev: net_device): void {
  if (!dev.queue_stopped) dev.trans_start = dev.linux.jiffies;
  dev.queue_stopped = true;
}
export function netif_queue_stopped(dev: net_device): boolean {
  return dev.queue_stopped;
}
export const netif_tx_start_all_queues = netif_start_queue;
export const netif_tx_wake_all_queues = netif_wake_queue;
export const netif_tx_stop_all_queues = netif_stop_queue;
export function netif_trans_update(dev: net_device): void {
  dev.trans_start = dev.linux.jiffies;
}
export function netif_device_present(dev: net_device): boolean {
  return dev.present;
}
export function netif_device_detach(dev: net_device): void {
  if (dev.present && dev.running) netif_stop_queue(dev);
  dev.present = false;
}
export function netif_device_attach(dev: net_device): void {
  if (!dev.present && dev.running) netif_wake_queue(dev);
  dev.present = true;
}

export function netdev_mc_count(dev: net_device): number {
  return dev.mc.length;
}
export function netdev_mc_empty(dev: net_device): boolean {
  return dev.mc.length === 0;
}
/** `for (const ha of netdev_for_each_mc_addr(dev)) use(ha.addr)` */
export function netdev_for_each_mc_addr(dev: net_device): readonly netdev_hw_addr[] {
  return dev.mc;
}
export function netdev_uc_count(dev: net_device): number {
  return dev.uc.length;
}
export function netdev_for_each_uc_addr(dev: net_device): readonly netdev_hw_addr[] {
  return dev.uc;
}

/**
 * Hands a received frame to the stack. The frame (from the MAC header) is copied out of machine memory
 * for the uplink's consumer, which may keep it, and the skb is consumed.
 */
export function netif_receive_skb(skb: sk_buff): number {
  const dev = skb.dev;
  const uplink = dev?.uplink;
  if (!dev || !uplink || !dev.running) {
    if (dev) dev.stats.rx_dropped++;
    kfree_skb(skb);
    return NET_RX_DROP;
  }
  const start = skb.mac_header !== 0xffff ? skb.mac_header : skb.data - skb.head;
  const frame = skb.bytes.slice(start, skb.tail - skb.head);
  kfree_skb(skb);
  return uplink.deliver(frame) ? NET_RX_SUCCESS : NET_RX_DROP;
}
export const netif_rx = netif_receive_skb;

function netdev_printk(level: number, dev: net_device, format: string, args: readonly unknown[]): void {
  const parent = dev.dev.parent;
  const prefix = parent ? `${parent.driver_name ? parent.driver_name + " " : ""}${parent.name} ${dev.name}` : dev.name;
  dev.linux.log_line(level, `${prefix}: ${vsprintf(format, args)}`);
}
export function netdev_emerg(dev: net_device, format: string, ...args: unknown[]): void {
  netdev_printk(0, dev, format, args);
}
export function netdev_crit(dev: net_device, format: string, ...args: unknown[]): void {
  netdev_printk(2, dev, format, args);
}
export function netdev_err(dev: net_device, format: string, ...args: unknown[]): void {
  netdev_printk(3, dev, format, args);
}
export function netdev_warn(dev: net_device, format: string, ...args: unknown[]): void {
  netdev_printk(4, dev, format, args);
}
export function netdev_notice(dev: net_device, format: string, ...args: unknown[]): void {
  netdev_printk(5, dev, format, args);
}
export function netdev_info(dev: net_device, format: string, ...args: unknown[]): void {
  netdev_printk(6, dev, format, args);
}
export function netdev_dbg(dev: net_device, format: string, ...args: unknown[]): void {
  netdev_printk(7, dev, format, args);
}

// ---- what the stack does to a device (the uplink and the management paths call these) ----

/** __dev_open: marks the device running, calls ndo_open, programs the receive filter, starts the transmit watchdog. */
export function dev_open(dev: net_device): number {
  if (dev.running) return 0;
  if (dev.reg_state !== "registered" || !dev.present) return -ENODEV;
  dev.running = true;
  let rc = 0;
  try {
    if (dev.netdev_ops.ndo_open) rc = dev.netdev_ops.ndo_open(dev);
  } catch (error) {
    dev.running = false;
    throw dev.linux.driver_fault(error, `ndo_open of ${dev.name}`);
  }
  if (rc < 0) {
    dev.running = false;
    return rc;
  }
  dev.flags |= IFF_UP;
  dev_set_rx_mode(dev);
  dev_watchdog_up(dev);
  dev.uplink?.report_link();
  return 0;
}

export function dev_close(dev: net_device): void {
  if (!dev.running) return;
  dev.running = false;
  del_timer(dev.watchdog_timer);
  try {
    dev.netdev_ops.ndo_stop?.(dev);
  } catch (error) {
    throw dev.linux.driver_fault(error, `ndo_stop of ${dev.name}`);
  }
  dev.flags &= ~IFF_UP;
  dev.uplink?.report_link();
}

/** Programs the receive filter if the device is up (Linux's __dev_set_rx_mode). */
export function dev_set_rx_mode(dev: net_device): void {
  if (!(dev.flags & IFF_UP) && !dev.running) return;
  try {
    dev.netdev_ops.ndo_set_rx_mode?.(dev);
  } catch (error) {
    throw dev.linux.driver_fault(error, `ndo_set_rx_mode of ${dev.name}`);
  }
}

export function dev_set_promiscuity(dev: net_device, on: boolean): void {
  const flags = on ? dev.flags | IFF_PROMISC : dev.flags & ~IFF_PROMISC;
  if (flags === dev.flags) return;
  dev.flags = flags;
  dev_set_rx_mode(dev);
}

export function dev_set_allmulti(dev: net_device, on: boolean): void {
  const flags = on ? dev.flags | IFF_ALLMULTI : dev.flags & ~IFF_ALLMULTI;
  if (flags === dev.flags) return;
  dev.flags = flags;
  dev_set_rx_mode(dev);
}

/** Replaces the multicast list (what dev_mc_sync leaves behind) and reprograms the filter. */
export function dev_mc_set(dev: net_device, addresses: readonly Uint8Array[]): void {
  dev.mc = addresses.map((a) => ({ addr: Uint8Array.from(a.subarray(0, ETH_ALEN)) }));
  dev_set_rx_mode(dev);
}

export function dev_set_mtu(dev: net_device, new_mtu: number): number {
  if (new_mtu === dev.mtu) return 0;
  if (new_mtu < dev.min_mtu || new_mtu > dev.max_mtu) return -EINVAL;
  if (!dev.netdev_ops.ndo_change_mtu) {
    dev.mtu = new_mtu;
    return 0;
  }
  try {
    return dev.netdev_ops.ndo_change_mtu(dev, new_mtu);
  } catch (error) {
    throw dev.linux.driver_fault(error, `ndo_change_mtu of ${dev.name}`);
  }
}

export function dev_set_mac_address(dev: net_device, addr: sockaddr): number {
  if (!dev.netdev_ops.ndo_set_mac_address) return -ERANGE;
  try {
    return dev.netdev_ops.ndo_set_mac_address(dev, addr);
  } catch (error) {
    throw dev.linux.driver_fault(error, `ndo_set_mac_address of ${dev.name}`);
  }
}

export function dev_get_stats(dev: net_device): rtnl_link_stats64 {
  const stats = new rtnl_link_stats64();
  if (!dev.netdev_ops.ndo_get_stats64) return Object.assign(stats, dev.stats);
  try {
    dev.netdev_ops.ndo_get_stats64(dev, stats);
  } catch (error) {
    throw dev.linux.driver_fault(error, `ndo_get_stats64 of ${dev.name}`);
  }
  return stats;
}

/**
 * The transmit watchdog (Linux's dev_watchdog): while the device runs with carrier, a queue stopped for
 * longer than watchdog_timeo is a hung transmitter and the driver's ndo_tx_timeout is called.
 */
function dev_watchdog_up(dev: net_device): void {
  if (!dev.netdev_ops.ndo_tx_timeout) return;
  if (dev.watchdog_timeo <= 0) dev.watchdog_timeo = 5 * HZ;
  if (!dev.watchdog_timer.function) dev.linux.timer_setup(dev.watchdog_timer, () => dev_watchdog(dev), 0);
  mod_timer(dev.watchdog_timer, dev.linux.jiffies + dev.watchdog_timeo);
}

function dev_watchdog(dev: net_device): void {
  if (!dev.running || !dev.present) return;
  if (dev.carrier && dev.queue_stopped && time_after(dev.linux.jiffies, dev.trans_start + dev.watchdog_timeo)) {
    netdev_err(dev, "NETDEV WATCHDOG: transmit queue 0 timed out %d ms\n", ((dev.linux.jiffies - dev.trans_start) * 1000) / HZ);
    dev.netdev_ops.ndo_tx_timeout!(dev, 0);
    dev.trans_start = dev.linux.jiffies;
  }
  if (dev.running) mod_timer(dev.watchdog_timer, dev.linux.jiffies + dev.watchdog_timeo);
}
