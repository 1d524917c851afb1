/** The driver's structures (Linux's e1000.h): rings, buffers, the adapter. */
import { delayed_work, napi_struct, work_struct, type dma_coherent, type Linux, type net_device, type pci_dev, type sk_buff } from "@vmk/vmklinux";
import { e1000_hw } from "./e1000_hw.js";

export const e1000_driver_name = "e1000";
export const e1000_driver_string = "Intel(R) PRO/1000 Network Driver";
export const e1000_driver_version = "7.3.21-k8-NAPI-vmk";
export const e1000_copyright = "Copyright (c) 1999-2006 Intel Corporation.";

export const E1000_MAX_JUMBO_FRAME_SIZE = 0x3f00;
export const MAXIMUM_ETHERNET_VLAN_SIZE = 1522;
export const E1000_RXBUFFER_2048 = 2048;
export const E1000_RXBUFFER_4096 = 4096;
export const E1000_RXBUFFER_8192 = 8192;
export const E1000_RXBUFFER_16384 = 16384;
/** A data descriptor carries at most 2^12 bytes here (Linux's E1000_MAX_TXD_PWR). */
export const E1000_MAX_TXD_PWR = 12;
export const E1000_MAX_DATA_PER_TXD = 1 << E1000_MAX_TXD_PWR;
/** Free descriptors to wait for before waking the queue. */
export const E1000_TX_QUEUE_WAKE = 16;
/** Received descriptors returned to the hardware in batches of this many. */
export const E1000_RX_BUFFER_WRITE = 16;
export const MAX_SKB_FRAGS = 17;
export const E1000_TX_FLAGS_CSUM = 0x00000001;

/** adapter->flags bits (Linux's enum e1000_state_t). */
export const __E1000_TESTING = 1 << 0;
export const __E1000_RESETTING = 1 << 1;
export const __E1000_DOWN = 1 << 2;
export const __E1000_DISABLED = 1 << 3;

export class e1000_tx_buffer {
  skb: sk_buff | null = null;
  dma = 0;
  length = 0;
  time_stamp = 0;
  /** Index of the packet's last descriptor, set on the packet's first; -1 when none. */
  next_to_watch = -1;
  segs = 0;
  bytecount = 0;
}

export class e1000_rx_buffer {
  skb: sk_buff | null = null;
  dma = 0;
}

class e1000_ring_common {
  desc: dma_coherent | null = null;
  /** The descriptors as the CPU sees them (little-endian, 16 bytes each). */
  view: DataView = new DataView(new ArrayBuffer(0));
  dma = 0;
  size = 0;
  count = 0;
  next_to_use = 0;
  next_to_clean = 0;
}

export class e1000_tx_ring extends e1000_ring_common {
  buffer_info: e1000_tx_buffer[] = [];
  tdh = 0;
  tdt = 0;
}

export class e1000_rx_ring extends e1000_ring_common {
  buffer_info: e1000_rx_buffer[] = [];
  rdh = 0;
  rdt = 0;
}

/** Free descriptors: one is always left unused so that head == tail means empty. */
export function E1000_DESC_UNUSED(ring: { next_to_clean: number; next_to_use: number; count: number }): number {
  return (ring.next_to_clean > ring.next_to_use ? 0 : ring.count) + ring.next_to_clean - ring.next_to_use - 1;
}

/** The accumulated hardware statistics (the chip's counters clear on read). */
export class e1000_hw_stats {
  crcerrs = 0;
  algnerrc = 0;
  symerrs = 0;
  rxerrc = 0;
  mpc = 0;
  scc = 0;
  ecol = 0;
  mcc = 0;
  latecol = 0;
  colc = 0;
  dc = 0;
  tncrs = 0;
  sec = 0;
  cexterr = 0;
  rlec = 0;
  xonrxc = 0;
  xontxc = 0;
  xoffrxc = 0;
  xofftxc = 0;
  fcruc = 0;
  prc64 = 0;
  prc127 = 0;
  prc255 = 0;
  prc511 = 0;
  prc1023 = 0;
  prc1522 = 0;
  gprc = 0;
  bprc = 0;
  mprc = 0;
  gptc = 0;
  gorc = 0;
  gotc = 0;
  rnbc = 0;
  ruc = 0;
  rfc = 0;
  roc = 0;
  rjc = 0;
  tor = 0;
  tot = 0;
  tpr = 0;
  tpt = 0;
  ptc64 = 0;
  ptc127 = 0;
  ptc255 = 0;
  ptc511 = 0;
  ptc1023 = 0;
  ptc1522 = 0;
  mptc = 0;
  bptc = 0;
  tsctc = 0;
  tsctfc = 0;
}

/** struct e1000_adapter: netdev_priv() of an e1000 net_device. */
export class e1000_adapter {
  netdev!: net_device<e1000_adapter>;
  pdev!: pci_dev;
  linux!: Linux;
  readonly hw = new e1000_hw();
  readonly stats = new e1000_hw_stats();
  readonly tx_ring = new e1000_tx_ring();
  readonly rx_ring = new e1000_rx_ring();
  readonly napi = new napi_struct();
  readonly watchdog_task = new delayed_work();
  readonly reset_task = new work_struct();
  flags = 0;
  bars = 0;
  msg_enable = 0;
  rx_buffer_len = MAXIMUM_ETHERNET_VLAN_SIZE;
  /** Interrupt delays in 1.024 us units, and the throttle rate in interrupts per second (0: off). */
  tx_int_delay = 8;
  tx_abs_int_delay = 32;
  rx_int_delay = 0;
  rx_abs_int_delay = 8;
  itr = 8000;
  txd_cmd = 0;
  link_speed = 0;
  link_duplex = 0;
  detect_tx_hung = false;
  tx_timeout_factor = 1;
  restart_queue = 0;
  tx_timeout_count = 0;
  alloc_rx_buff_failed = 0;
  hw_csum_err = 0;
  hw_csum_good = 0;
  rx_errors_discarded = 0;
}
