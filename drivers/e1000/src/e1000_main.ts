/** The driver proper (Linux's e1000_main.c): probe/remove, open/close, transmit, NAPI receive, watchdog. */
import {
  cancel_delayed_work_sync,
  cancel_work_sync,
  CHECKSUM_PARTIAL,
  CHECKSUM_UNNECESSARY,
  dev_err,
  dev_kfree_skb_any,
  DMA_BIT_MASK,
  dma_alloc_coherent,
  dma_free_coherent,
  DMA_FROM_DEVICE,
  dma_map_single,
  dma_mapping_error,
  dma_set_mask_and_coherent,
  DMA_TO_DEVICE,
  dma_unmap_single,
  EADDRNOTAVAIL,
  EBUSY,
  EINVAL,
  EIO,
  ENOMEM,
  ETH_FCS_LEN,
  ETH_HLEN,
  ETH_P_IP,
  ETH_P_IPV6,
  eth_hw_addr_set,
  eth_skb_pad,
  eth_type_trans,
  ETH_ZLEN,
  free_netdev,
  GFP_KERNEL,
  htons,
  iounmap,
  IFF_ALLMULTI,
  IFF_PROMISC,
  IORESOURCE_MEM,
  IPPROTO_TCP,
  IRQ_HANDLED,
  IRQ_NONE,
  IRQF_SHARED,
  mod_delayed_work,
  is_valid_ether_addr,
  napi_complete_done,
  napi_disable,
  napi_enable,
  napi_gro_receive,
  napi_schedule_prep,
  __napi_schedule,
  netdev_alloc_skb_ip_align,
  netdev_err,
  netdev_for_each_mc_addr,
  netdev_for_each_uc_addr,
  netdev_info,
  netdev_priv,
  netdev_uc_count,
  NETDEV_TX_BUSY,
  NETDEV_TX_OK,
  NETIF_F_HW_CSUM,
  NETIF_F_RXCSUM,
  NETIF_F_SG,
  netif_carrier_off,
  netif_carrier_ok,
  netif_carrier_on,
  netif_napi_add,
  netif_queue_stopped,
  netif_running,
  netif_start_queue,
  netif_stop_queue,
  netif_wake_queue,
  pci_disable_device,
  pci_enable_device_mem,
  pci_get_drvdata,
  pci_ioremap_bar,
  pci_release_selected_regions,
  pci_request_selected_regions,
  pci_select_bars,
  pci_set_drvdata,
  pci_set_master,
  PCI_DEVICE,
  register_netdev,
  round_jiffies_relative,
  schedule_delayed_work,
  schedule_work,
  SET_NETDEV_DEV,
  skb_checksum_start_offset,
  skb_headroom,
  skb_network_offset,
  skb_put,
  skb_trim,
  time_after,
  unregister_netdev,
  wmb,
  writel,
  type net_device,
  type net_device_ops,
  type netdev_tx_t,
  type pci_dev,
  type pci_device_id,
  type pci_driver,
  type rtnl_link_stats64,
  type sk_buff,
  type sockaddr,
} from "@vmk/vmklinux";
import {
  __E1000_DOWN,
  __E1000_RESETTING,
  E1000_DESC_UNUSED,
  e1000_driver_name,
  e1000_driver_string,
  e1000_driver_version,
  E1000_MAX_DATA_PER_TXD,
  E1000_MAX_JUMBO_FRAME_SIZE,
  E1000_RX_BUFFER_WRITE,
  E1000_RXBUFFER_16384,
  E1000_RXBUFFER_2048,
  E1000_RXBUFFER_4096,
  E1000_RXBUFFER_8192,
  E1000_TX_FLAGS_CSUM,
  E1000_TX_QUEUE_WAKE,
  MAX_SKB_FRAGS,
  e1000_adapter,
  e1000_rx_buffer,
  e1000_tx_buffer,
  type e1000_rx_ring,
  type e1000_tx_ring,
} from "./e1000.js";
import { e1000_set_ethtool_ops } from "./e1000_ethtool.js";
import {
  DEFAULT_82543_TIPG_IPGR1,
  DEFAULT_82543_TIPG_IPGR2,
  DEFAULT_82543_TIPG_IPGT_COPPER,
  e1000_check_for_link,
  e1000_config_collision_dist,
  E1000_COLLISION_THRESHOLD,
  E1000_CT_SHIFT,
  E1000_CTRL,
  E1000_DESC_SIZE,
  E1000_DEV_ID_82540EM,
  E1000_DEV_ID_82540EM_LOM,
  E1000_DEV_ID_82540EP,
  E1000_DEV_ID_82540EP_LOM,
  E1000_DEV_ID_82540EP_LP,
  E1000_DEV_ID_82545EM_COPPER,
  E1000_DEV_ID_82545GM_COPPER,
  E1000_DEV_ID_82546EB_COPPER,
  E1000_DEV_ID_82546GB_COPPER,
  e1000_get_speed_and_duplex,
  e1000_hash_mc_addr,
  E1000_ICR,
  E1000_ICR_LSC,
  E1000_ICR_RXDMT0,
  E1000_ICR_RXSEQ,
  E1000_ICS,
  E1000_IMC,
  E1000_IMS,
  e1000_init_eeprom_params,
  e1000_init_hw,
  E1000_ITR,
  E1000_MC_TBL_SIZE,
  E1000_MTA,
  E1000_PBA,
  E1000_RA,
  E1000_RADV,
  e1000_rar_set,
  E1000_RCTL,
  E1000_RCTL_BAM,
  E1000_RCTL_BSEX,
  E1000_RCTL_EN,
  E1000_RCTL_LBM_NO,
  E1000_RCTL_LPE,
  E1000_RCTL_MO_SHIFT,
  E1000_RCTL_MPE,
  E1000_RCTL_RDMTS_HALF,
  E1000_RCTL_SBP,
  E1000_RCTL_SECRC,
  E1000_RCTL_SZ_16384,
  E1000_RCTL_SZ_2048,
  E1000_RCTL_SZ_4096,
  E1000_RCTL_SZ_8192,
  E1000_RCTL_UPE,
  E1000_RCTL_VFE,
  E1000_RDBAH,
  E1000_RDBAL,
  E1000_RDH,
  E1000_RDLEN,
  E1000_RDT,
  E1000_RDTR,
  e1000_read_mac_addr,
  e1000_reset_hw,
  E1000_RXCSUM,
  E1000_RXCSUM_TUOFL,
  E1000_RXD_ERR_FRAME_ERR_MASK,
  E1000_RXD_ERR_TCPE,
  E1000_RXD_STAT_DD,
  E1000_RXD_STAT_EOP,
  E1000_RXD_STAT_IXSM,
  E1000_RXD_STAT_TCPCS,
  e1000_set_mac_type,
  e1000_set_media_type,
  E1000_STATUS,
  E1000_STATUS_FD,
  E1000_STATUS_TXOFF,
  E1000_TADV,
  E1000_TCTL,
  E1000_TCTL_CT,
  E1000_TCTL_EN,
  E1000_TCTL_PSP,
  E1000_TCTL_RTLC,
  E1000_TDBAH,
  E1000_TDBAL,
  E1000_TDH,
  E1000_TDLEN,
  E1000_TDT,
  E1000_TIDV,
  E1000_TIPG,
  E1000_TIPG_IPGR1_SHIFT,
  E1000_TIPG_IPGR2_SHIFT,
  E1000_TXD_CMD_DEXT,
  E1000_TXD_CMD_EOP,
  E1000_TXD_CMD_IDE,
  E1000_TXD_CMD_IFCS,
  E1000_TXD_CMD_RS,
  E1000_TXD_CMD_TCP,
  E1000_TXD_DTYP_D,
  E1000_TXD_POPTS_TXSM,
  E1000_TXD_STAT_DD,
  e1000_validate_eeprom_checksum,
  E1000_WRITE_FLUSH,
  E1000_WRITE_REG_ARRAY,
  E1000_WUC,
  er32,
  ew32,
  IMS_ENABLE_MASK,
  e1000_mac_type,
} from "./e1000_hw.js";
import { e1000_check_options } from "./e1000_param.js";
import { e1000_update_stats } from "./e1000_stats.js";

export const e1000_pci_tbl: readonly pci_device_id[] = [
  PCI_DEVICE(0x8086, E1000_DEV_ID_82540EM),
  PCI_DEVICE(0x8086, E1000_DEV_ID_82540EM_LOM),
  PCI_DEVICE(0x8086, E1000_DEV_ID_82540EP_LOM),
  PCI_DEVICE(0x8086, E1000_DEV_ID_82540EP),
  PCI_DEVICE(0x8086, E1000_DEV_ID_82540EP_LP),
  PCI_DEVICE(0x8086, E1000_DEV_ID_82545EM_COPPER),
  PCI_DEVICE(0x8086, E1000_DEV_ID_82545GM_COPPER),
  PCI_DEVICE(0x8086, E1000_DEV_ID_82546EB_COPPER),
  PCI_DEVICE(0x8086, E1000_DEV_ID_82546GB_COPPER),
];

export const e1000_netdev_ops: net_device_ops = {
  ndo_open: e1000_open,
  ndo_stop: e1000_close,
  ndo_start_xmit: e1000_xmit_frame,
  ndo_set_rx_mode: e1000_set_rx_mode,
  ndo_set_mac_address: e1000_set_mac,
  ndo_tx_timeout: e1000_tx_timeout,
  ndo_change_mtu: e1000_change_mtu,
  ndo_get_stats64: e1000_get_stats64,
};

export const e1000_driver: pci_driver = {
  name: e1000_driver_name,
  id_table: e1000_pci_tbl,
  probe: e1000_probe,
  remove: e1000_remove,
};

function adapter_of(netdev: net_device): e1000_adapter {
  return netdev_priv(netdev as net_device<e1000_adapter>);
}

function E1000_TX_DESC_WRITE(ring: e1000_tx_ring, i: number, addr: number, lower: number, upper: number): void {
  const view = ring.view;
  const at = i * E1000_DESC_SIZE;
  view.setUint32(at, addr >>> 0, true);
  view.setUint32(at + 4, Math.floor(addr / 0x100000000), true);
  view.setUint32(at + 8, lower >>> 0, true);
  view.setUint32(at + 12, upper >>> 0, true);
}

// ---- probe and remove ----

/**
 * Takes an 8254x: PCI resources, register BAR, MAC reset, EEPROM checksum and address, PHY and link
 * setup, then the net_device. Every failure unwinds what was done and returns a negative errno.
 */
export function e1000_probe(pdev: pci_dev, _ent: pci_device_id): number {
  const linux = pdev.linux;
  const bars = pci_select_bars(pdev, IORESOURCE_MEM);
  let err = pci_enable_device_mem(pdev);
  if (err) return err;
  err = pci_request_selected_regions(pdev, bars, e1000_driver_name);
  if (err) {
    pci_disable_device(pdev);
    return err;
  }
  pci_set_master(pdev);

  const netdev = linux.alloc_etherdev(e1000_adapter);
  SET_NETDEV_DEV(netdev, pdev.dev);
  pci_set_drvdata(pdev, netdev);
  const adapter = netdev_priv(netdev);
  adapter.netdev = netdev;
  adapter.pdev = pdev;
  adapter.linux = linux;
  adapter.bars = bars;
  const hw = adapter.hw;
  hw.linux = linux;

  const unwind = (code: number, iomapped: boolean): number => {
    if (iomapped) iounmap(hw.hw_addr);
    free_netdev(netdev);
    pci_release_selected_regions(pdev, bars);
    pci_disable_device(pdev);
    return code;
  };

  const hw_addr = pci_ioremap_bar(pdev, 0);
  if (!hw_addr) {
    dev_err(pdev.dev, "cannot map BAR 0\n");
    return unwind(-EIO, false);
  }
  hw.hw_addr = hw_addr;

  netdev.netdev_ops = e1000_netdev_ops;
  e1000_set_ethtool_ops(netdev);
  netdev.watchdog_timeo = 5 * linux.HZ;
  netif_napi_add(netdev, adapter.napi, e1000_clean);

  err = e1000_sw_init(adapter);
  if (err) return unwind(err, true);

  // Only PCI-X parts may use 64-bit addressing; the 32-bit PCI 82540 stays below 4 GiB.
  err = dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(hw.mac_type >= e1000_mac_type.e1000_82545 ? 64 : 32));
  if (err) {
    dev_err(pdev.dev, "No usable DMA config, aborting\n");
    return unwind(err, true);
  }

  netdev.features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_RXCSUM;
  netdev.hw_features = netdev.features;
  netdev.min_mtu = ETH_ZLEN - ETH_HLEN;
  netdev.max_mtu = E1000_MAX_JUMBO_FRAME_SIZE - (ETH_HLEN + ETH_FCS_LEN);

  e1000_init_eeprom_params(hw);
  if (e1000_reset_hw(hw)) {
    dev_err(pdev.dev, "The MAC did not come out of reset\n");
    return unwind(-EIO, true);
  }
  if (e1000_validate_eeprom_checksum(hw) < 0) {
    dev_err(pdev.dev, "The EEPROM Checksum Is Not Valid\n");
    return unwind(-EIO, true);
  }
  if (e1000_read_mac_addr(hw)) {
    dev_err(pdev.dev, "EEPROM Read Error\n");
    return unwind(-EIO, true);
  }
  eth_hw_addr_set(netdev, hw.mac_addr);
  netdev.perm_addr.set(hw.mac_addr);
  if (!is_valid_ether_addr(netdev.dev_addr)) {
    dev_err(pdev.dev, "Invalid MAC Address\n");
    return unwind(-EIO, true);
  }

  linux.INIT_DELAYED_WORK(adapter.watchdog_task, () => e1000_watchdog(adapter));
  linux.INIT_WORK(adapter.reset_task, () => e1000_reset_task(adapter));

  e1000_check_options(adapter);
  e1000_reset(adapter);

  netdev.name = "eth%d";
  err = register_netdev(netdev);
  if (err) return unwind(err, true);

  // Carrier stays off until the watchdog has seen the link, so nobody transmits into a dead wire.
  netif_carrier_off(netdev);
  netif_stop_queue(netdev);

  netdev_info(netdev, "(PCI:%s) %pM\n", hw.mac_type >= e1000_mac_type.e1000_82545 ? "PCI-X" : "33MHz:32-bit", netdev.dev_addr);
  netdev_info(netdev, "Intel(R) PRO/1000 Network Connection\n");
  return 0;
}

export function e1000_remove(pdev: pci_dev): void {
  const netdev = pci_get_drvdata<net_device<e1000_adapter>>(pdev);
  const adapter = netdev_priv(netdev);
  e1000_down_and_stop(adapter);
  unregister_netdev(netdev);
  iounmap(adapter.hw.hw_addr);
  pci_release_selected_regions(pdev, adapter.bars);
  free_netdev(netdev);
  pci_disable_device(pdev);
}

/** Software state from the hardware identity (Linux's e1000_sw_init). */
function e1000_sw_init(adapter: e1000_adapter): number {
  const hw = adapter.hw;
  const pdev = adapter.pdev;
  hw.vendor_id = pdev.vendor;
  hw.device_id = pdev.device;
  hw.subsystem_vendor_id = pdev.subsystem_vendor;
  hw.subsystem_id = pdev.subsystem_device;
  hw.revision_id = pdev.revision;
  adapter.rx_buffer_len = E1000_RXBUFFER_2048;
  if (e1000_set_mac_type(hw)) {
    dev_err(pdev.dev, "Unknown MAC Type\n");
    return -EIO;
  }
  e1000_set_media_type(hw);
  hw.wait_autoneg_complete = false;
  hw.autoneg = true;
  adapter.flags |= __E1000_DOWN;
  return 0;
}

/** Packet buffer split, MAC reset and init: the chip is back to a configured, idle state. */
export function e1000_reset(adapter: e1000_adapter): void {
  const hw = adapter.hw;
  // 48 KB of the packet buffer for receive, the rest (16 KB) for transmit; less receive for jumbo frames.
  const pba = adapter.netdev.mtu + ETH_HLEN + ETH_FCS_LEN > E1000_RXBUFFER_8192 ? 40 : 48;
  ew32(hw, E1000_PBA, pba);
  e1000_reset_hw(hw);
  ew32(hw, E1000_WUC, 0);
  if (e1000_init_hw(hw)) netdev_err(adapter.netdev, "Hardware Error\n");
}

// ---- open and close ----

export function e1000_open(netdev: net_device): number {
  const adapter = adapter_of(netdev);
  netif_carrier_off(netdev);
  let err = e1000_setup_tx_resources(adapter, adapter.tx_ring);
  if (err) return err;
  err = e1000_setup_rx_resources(adapter, adapter.rx_ring);
  if (err) {
    e1000_free_tx_resources(adapter, adapter.tx_ring);
    return err;
  }
  e1000_configure(adapter);
  err = e1000_request_irq(adapter);
  if (err) {
    e1000_reset(adapter);
    e1000_free_rx_resources(adapter, adapter.rx_ring);
    e1000_free_tx_resources(adapter, adapter.tx_ring);
    return err;
  }
  adapter.flags &= ~__E1000_DOWN;
  napi_enable(adapter.napi);
  e1000_irq_enable(adapter);
  netif_start_queue(netdev);
  // A link status change interrupt starts the watchdog, which reports the link.
  ew32(adapter.hw, E1000_ICS, E1000_ICR_LSC);
  return 0;
}

export function e1000_close(netdev: net_device): number {
  const adapter = adapter_of(netdev);
  e1000_down(adapter);
  e1000_free_irq(adapter);
  e1000_free_tx_resources(adapter, adapter.tx_ring);
  e1000_free_rx_resources(adapter, adapter.rx_ring);
  return 0;
}

function e1000_configure(adapter: e1000_adapter): void {
  e1000_set_rx_mode(adapter.netdev);
  e1000_configure_tx(adapter);
  e1000_setup_rctl(adapter);
  e1000_configure_rx(adapter);
  e1000_alloc_rx_buffers(adapter, adapter.rx_ring, E1000_DESC_UNUSED(adapter.rx_ring));
}

export function e1000_up(adapter: e1000_adapter): void {
  e1000_configure(adapter);
  adapter.flags &= ~__E1000_DOWN;
  napi_enable(adapter.napi);
  e1000_irq_enable(adapter);
  netif_wake_queue(adapter.netdev);
  ew32(adapter.hw, E1000_ICS, E1000_ICR_LSC);
}

function e1000_down_and_stop(adapter: e1000_adapter): void {
  adapter.flags |= __E1000_DOWN;
  cancel_delayed_work_sync(adapter.watchdog_task);
  cancel_work_sync(adapter.reset_task);
}

export function e1000_down(adapter: e1000_adapter): void {
  const hw = adapter.hw;
  const netdev = adapter.netdev;
  netif_carrier_off(netdev);
  ew32(hw, E1000_RCTL, er32(hw, E1000_RCTL) & ~E1000_RCTL_EN);
  netif_stop_queue(netdev);
  ew32(hw, E1000_TCTL, er32(hw, E1000_TCTL) & ~E1000_TCTL_EN);
  E1000_WRITE_FLUSH(hw);
  adapter.linux.msleep(10);
  napi_disable(adapter.napi);
  e1000_irq_disable(adapter);
  e1000_down_and_stop(adapter);
  adapter.link_speed = 0;
  adapter.link_duplex = 0;
  e1000_reset(adapter);
  e1000_clean_tx_ring(adapter, adapter.tx_ring);
  e1000_clean_rx_ring(adapter, adapter.rx_ring);
}

export function e1000_reinit_locked(adapter: e1000_adapter): void {
  if (adapter.flags & __E1000_RESETTING) return;
  adapter.flags |= __E1000_RESETTING;
  e1000_down(adapter);
  e1000_up(adapter);
  adapter.flags &= ~__E1000_RESETTING;
}

function e1000_request_irq(adapter: e1000_adapter): number {
  const netdev = adapter.netdev;
  const err = adapter.linux.request_irq(adapter.pdev.irq, e1000_intr, IRQF_SHARED, netdev.name, netdev);
  if (err) netdev_err(netdev, "Unable to allocate interrupt Error: %d\n", err);
  return err;
}

function e1000_free_irq(adapter: e1000_adapter): void {
  adapter.linux.free_irq(adapter.pdev.irq, adapter.netdev);
}

function e1000_irq_disable(adapter: e1000_adapter): void {
  ew32(adapter.hw, E1000_IMC, 0xffffffff);
  E1000_WRITE_FLUSH(adapter.hw);
  adapter.linux.synchronize_irq(adapter.pdev.irq);
}

function e1000_irq_enable(adapter: e1000_adapter): void {
  ew32(adapter.hw, E1000_IMS, IMS_ENABLE_MASK);
  E1000_WRITE_FLUSH(adapter.hw);
}

// ---- descriptor rings ----

function e1000_setup_tx_resources(adapter: e1000_adapter, ring: e1000_tx_ring): number {
  ring.buffer_info = Array.from({ length: ring.count }, () => new e1000_tx_buffer());
  return e1000_alloc_descriptors(adapter, ring, "Tx");
}

function e1000_setup_rx_resources(adapter: e1000_adapter, ring: e1000_rx_ring): number {
  ring.buffer_info = Array.from({ length: ring.count }, () => new e1000_rx_buffer());
  return e1000_alloc_descriptors(adapter, ring, "Rx");
}

/** The descriptor memory both ring kinds share: page-rounded coherent DMA, indices at zero. */
function e1000_alloc_descriptors(adapter: e1000_adapter, ring: e1000_tx_ring | e1000_rx_ring, kind: "Tx" | "Rx"): number {
  ring.size = Math.ceil((ring.count * E1000_DESC_SIZE) / 4096) * 4096;
  const desc = dma_alloc_coherent(adapter.pdev.dev, ring.size, GFP_KERNEL);
  if (!desc) {
    netdev_err(adapter.netdev, `Unable to allocate memory for the ${kind} descriptor ring\n`);
    ring.buffer_info = [];
    return -ENOMEM;
  }
  ring.desc = desc;
  ring.view = desc.view;
  ring.dma = desc.dma_handle;
  ring.next_to_use = 0;
  ring.next_to_clean = 0;
  return 0;
}

function e1000_free_tx_resources(adapter: e1000_adapter, ring: e1000_tx_ring): void {
  e1000_clean_tx_ring(adapter, ring);
  if (ring.desc) dma_free_coherent(adapter.pdev.dev, ring.size, ring.desc, ring.dma);
  ring.desc = null;
  ring.buffer_info = [];
}

function e1000_free_rx_resources(adapter: e1000_adapter, ring: e1000_rx_ring): void {
  e1000_clean_rx_ring(adapter, ring);
  if (ring.desc) dma_free_coherent(adapter.pdev.dev, ring.size, ring.desc, ring.dma);
  ring.desc = null;
  ring.buffer_info = [];
}

function e1000_unmap_and_free_tx_resource(adapter: e1000_adapter, buffer_info: e1000_tx_buffer): void {
  if (buffer_info.dma) {
    dma_unmap_single(adapter.pdev.dev, buffer_info.dma, buffer_info.length, DMA_TO_DEVICE);
    buffer_info.dma = 0;
  }
  if (buffer_info.skb) {
    dev_kfree_skb_any(buffer_info.skb);
    buffer_info.skb = null;
  }
  buffer_info.time_stamp = 0;
  buffer_info.next_to_watch = -1;
}

function e1000_clean_tx_ring(adapter: e1000_adapter, ring: e1000_tx_ring): void {
  for (const buffer_info of ring.buffer_info) e1000_unmap_and_free_tx_resource(adapter, buffer_info);
  if (ring.desc) ring.desc.vaddr.fill(0);
  ring.next_to_use = 0;
  ring.next_to_clean = 0;
  if (ring.desc) {
    writel(0, adapter.hw.hw_addr, ring.tdh);
    writel(0, adapter.hw.hw_addr, ring.tdt);
  }
}

function e1000_clean_rx_ring(adapter: e1000_adapter, ring: e1000_rx_ring): void {
  for (const buffer_info of ring.buffer_info) {
    if (buffer_info.dma) {
      dma_unmap_single(adapter.pdev.dev, buffer_info.dma, adapter.rx_buffer_len, DMA_FROM_DEVICE);
      buffer_info.dma = 0;
    }
    if (buffer_info.skb) {
      dev_kfree_skb_any(buffer_info.skb);
      buffer_info.skb = null;
    }
  }
  if (ring.desc) ring.desc.vaddr.fill(0);
  ring.next_to_use = 0;
  ring.next_to_clean = 0;
  if (ring.desc) {
    writel(0, adapter.hw.hw_addr, ring.rdh);
    writel(0, adapter.hw.hw_addr, ring.rdt);
  }
}

function e1000_configure_tx(adapter: e1000_adapter): void {
  const hw = adapter.hw;
  const ring = adapter.tx_ring;
  ew32(hw, E1000_TDLEN, ring.count * E1000_DESC_SIZE);
  ew32(hw, E1000_TDBAH, Math.floor(ring.dma / 0x100000000));
  ew32(hw, E1000_TDBAL, ring.dma >>> 0);
  ew32(hw, E1000_TDT, 0);
  ew32(hw, E1000_TDH, 0);
  ring.tdh = E1000_TDH;
  ring.tdt = E1000_TDT;
  ew32(hw, E1000_TIPG, DEFAULT_82543_TIPG_IPGT_COPPER | (DEFAULT_82543_TIPG_IPGR1 << E1000_TIPG_IPGR1_SHIFT) | (DEFAULT_82543_TIPG_IPGR2 << E1000_TIPG_IPGR2_SHIFT));
  ew32(hw, E1000_TIDV, adapter.tx_int_delay);
  ew32(hw, E1000_TADV, adapter.tx_abs_int_delay);
  let tctl = er32(hw, E1000_TCTL);
  tctl &= ~E1000_TCTL_CT;
  tctl |= E1000_TCTL_PSP | E1000_TCTL_RTLC | (E1000_COLLISION_THRESHOLD << E1000_CT_SHIFT);
  ew32(hw, E1000_TCTL, tctl);
  e1000_config_collision_dist(hw);
  // Every packet asks for its status written back (RS); with a delay the write-back interrupt is coalesced (IDE).
  adapter.txd_cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS | (adapter.tx_int_delay ? E1000_TXD_CMD_IDE : 0);
  ew32(hw, E1000_TCTL, er32(hw, E1000_TCTL) | E1000_TCTL_EN);
}

function e1000_setup_rctl(adapter: e1000_adapter): void {
  const hw = adapter.hw;
  let rctl = er32(hw, E1000_RCTL);
  rctl &= ~(3 << E1000_RCTL_MO_SHIFT);
  rctl |= E1000_RCTL_BAM | E1000_RCTL_LBM_NO | E1000_RCTL_RDMTS_HALF | (hw.mc_filter_type << E1000_RCTL_MO_SHIFT);
  // The uplink hands frames on without their FCS, so the MAC strips it.
  rctl |= E1000_RCTL_SECRC;
  rctl &= ~E1000_RCTL_SBP;
  if (adapter.netdev.mtu <= 1500) rctl &= ~E1000_RCTL_LPE;
  else rctl |= E1000_RCTL_LPE;
  rctl &= ~(3 << 16) & ~E1000_RCTL_BSEX;
  switch (adapter.rx_buffer_len) {
    case E1000_RXBUFFER_4096:
      rctl |= E1000_RCTL_SZ_4096 | E1000_RCTL_BSEX;
      break;
    case E1000_RXBUFFER_8192:
      rctl |= E1000_RCTL_SZ_8192 | E1000_RCTL_BSEX;
      break;
    case E1000_RXBUFFER_16384:
      rctl |= E1000_RCTL_SZ_16384 | E1000_RCTL_BSEX;
      break;
    default:
      rctl |= E1000_RCTL_SZ_2048;
  }
  ew32(hw, E1000_RCTL, rctl >>> 0);
}

function e1000_configure_rx(adapter: e1000_adapter): void {
  const hw = adapter.hw;
  const ring = adapter.rx_ring;
  const rctl = er32(hw, E1000_RCTL);
  ew32(hw, E1000_RCTL, rctl & ~E1000_RCTL_EN);
  ew32(hw, E1000_RDTR, adapter.rx_int_delay);
  ew32(hw, E1000_RADV, adapter.rx_abs_int_delay);
  // ITR counts in 256 ns units: the minimum gap between interrupts.
  ew32(hw, E1000_ITR, adapter.itr > 0 ? Math.floor(1_000_000_000 / (adapter.itr * 256)) : 0);
  ew32(hw, E1000_RDLEN, ring.count * E1000_DESC_SIZE);
  ew32(hw, E1000_RDBAH, Math.floor(ring.dma / 0x100000000));
  ew32(hw, E1000_RDBAL, ring.dma >>> 0);
  ew32(hw, E1000_RDT, 0);
  ew32(hw, E1000_RDH, 0);
  ring.rdh = E1000_RDH;
  ring.rdt = E1000_RDT;
  let rxcsum = er32(hw, E1000_RXCSUM);
  if (adapter.netdev.features & NETIF_F_RXCSUM) rxcsum |= E1000_RXCSUM_TUOFL;
  else rxcsum &= ~E1000_RXCSUM_TUOFL;
  ew32(hw, E1000_RXCSUM, rxcsum);
  ew32(hw, E1000_RCTL, rctl | E1000_RCTL_EN);
}

/** Gives `cleaned_count` receive buffers back to the hardware, reusing an skb whose frame was dropped. */
function e1000_alloc_rx_buffers(adapter: e1000_adapter, ring: e1000_rx_ring, cleaned_count: number): void {
  const netdev = adapter.netdev;
  const bufsz = adapter.rx_buffer_len;
  const view = ring.view;
  let i = ring.next_to_use;
  while (cleaned_count-- > 0) {
    const buffer_info = ring.buffer_info[i]!;
    let skb = buffer_info.skb;
    if (skb) skb_trim(skb, 0);
    else {
      skb = netdev_alloc_skb_ip_align(netdev, bufsz);
      if (!skb) {
        adapter.alloc_rx_buff_failed++;
        break;
      }
      buffer_info.skb = skb;
    }
    const dma = dma_map_single(adapter.pdev.dev, skb.data, bufsz, DMA_FROM_DEVICE);
    if (dma_mapping_error(adapter.pdev.dev, dma)) {
      dev_kfree_skb_any(skb);
      buffer_info.skb = null;
      adapter.alloc_rx_buff_failed++;
      break;
    }
    buffer_info.dma = dma;
    const at = i * E1000_DESC_SIZE;
    view.setUint32(at, dma >>> 0, true);
    view.setUint32(at + 4, Math.floor(dma / 0x100000000), true);
    view.setUint32(at + 8, 0, true);
    view.setUint32(at + 12, 0, true);
    if (++i === ring.count) i = 0;
  }
  if (ring.next_to_use !== i) {
    ring.next_to_use = i;
    // The tail points one past the last buffer the hardware may fill.
    const tail = i === 0 ? ring.count - 1 : i - 1;
    wmb();
    writel(tail, adapter.hw.hw_addr, ring.rdt);
  }
}

// ---- transmit ----

function e1000_maybe_stop_tx(netdev: net_device, ring: e1000_tx_ring, size: number): number {
  if (E1000_DESC_UNUSED(ring) >= size) return 0;
  netif_stop_queue(netdev);
  // A completion may have freed descriptors between the check and the stop.
  if (E1000_DESC_UNUSED(ring) < size) return -EBUSY;
  netif_start_queue(netdev);
  adapter_of(netdev).restart_queue++;
  return 0;
}

/** A context descriptor for CHECKSUM_PARTIAL: where the TCP/UDP checksum starts and where it goes. */
function e1000_tx_csum(adapter: e1000_adapter, ring: e1000_tx_ring, skb: sk_buff, protocol: number): boolean {
  if (skb.ip_summed !== CHECKSUM_PARTIAL) return false;
  let cmd_len = E1000_TXD_CMD_DEXT;
  const network = skb_headroom(skb) + skb_network_offset(skb);
  if (protocol === htons(ETH_P_IP)) {
    if (skb.bytes[network + 9] === IPPROTO_TCP) cmd_len |= E1000_TXD_CMD_TCP;
  } else if (protocol === htons(ETH_P_IPV6)) {
    if (skb.bytes[network + 6] === IPPROTO_TCP) cmd_len |= E1000_TXD_CMD_TCP;
  } else {
    netdev_err(adapter.netdev, "checksum_partial proto=%x!\n", protocol);
  }
  const css = skb_checksum_start_offset(skb);
  const i = ring.next_to_use;
  const buffer_info = ring.buffer_info[i]!;
  const view = ring.view;
  const at = i * E1000_DESC_SIZE;
  view.setUint32(at, 0, true);
  view.setUint8(at + 4, css);
  view.setUint8(at + 5, css + skb.csum_offset);
  view.setUint16(at + 6, 0, true);
  view.setUint32(at + 8, cmd_len >>> 0, true);
  view.setUint32(at + 12, 0, true);
  buffer_info.time_stamp = adapter.linux.jiffies;
  buffer_info.next_to_watch = i;
  ring.next_to_use = i + 1 === ring.count ? 0 : i + 1;
  return true;
}

/** Maps the skb's data in pieces of at most E1000_MAX_DATA_PER_TXD; returns the descriptors used, 0 on a mapping failure. */
function e1000_tx_map(adapter: e1000_adapter, ring: e1000_tx_ring, skb: sk_buff, first: number): number {
  const dev = adapter.pdev.dev;
  let len = skb.len;
  let offset = 0;
  let count = 0;
  let i = ring.next_to_use;
  const now = adapter.linux.jiffies;
  for (;;) {
    const buffer_info = ring.buffer_info[i]!;
    const size = len < E1000_MAX_DATA_PER_TXD ? len : E1000_MAX_DATA_PER_TXD;
    buffer_info.length = size;
    buffer_info.time_stamp = now;
    buffer_info.next_to_watch = i;
    const dma = dma_map_single(dev, skb.data + offset, size, DMA_TO_DEVICE);
    if (dma_mapping_error(dev, dma)) {
      dev_err(dev, "TX DMA map failed\n");
      buffer_info.dma = 0;
      for (let j = ring.next_to_use; count-- > 0; j = j + 1 === ring.count ? 0 : j + 1) e1000_unmap_and_free_tx_resource(adapter, ring.buffer_info[j]!);
      return 0;
    }
    buffer_info.dma = dma;
    len -= size;
    offset += size;
    count++;
    if (len === 0) break;
    if (++i === ring.count) i = 0;
  }
  const last = ring.buffer_info[i]!;
  last.skb = skb;
  last.segs = 1;
  last.bytecount = skb.len;
  ring.buffer_info[first]!.next_to_watch = i;
  return count;
}

function e1000_tx_queue(adapter: e1000_adapter, ring: e1000_tx_ring, tx_flags: number, count: number): void {
  let txd_upper = 0;
  let txd_lower = E1000_TXD_CMD_IFCS;
  if (tx_flags & E1000_TX_FLAGS_CSUM) {
    txd_lower |= E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_D;
    txd_upper |= E1000_TXD_POPTS_TXSM << 8;
  }
  let i = ring.next_to_use;
  let last = i;
  while (count-- > 0) {
    const buffer_info = ring.buffer_info[i]!;
    E1000_TX_DESC_WRITE(ring, i, buffer_info.dma, txd_lower | buffer_info.length, txd_upper);
    last = i;
    if (++i === ring.count) i = 0;
  }
  const at = last * E1000_DESC_SIZE + 8;
  ring.view.setUint32(at, (ring.view.getUint32(at, true) | adapter.txd_cmd) >>> 0, true);
  // Descriptors must be complete in memory before the tail tells the hardware about them.
  wmb();
  ring.next_to_use = i;
  writel(i, adapter.hw.hw_addr, ring.tdt);
}

export function e1000_xmit_frame(skb: sk_buff, netdev: net_device): netdev_tx_t {
  const adapter = adapter_of(netdev);
  const ring = adapter.tx_ring;
  if (adapter.flags & __E1000_DOWN) {
    dev_kfree_skb_any(skb);
    return NETDEV_TX_OK;
  }
  if (skb.len <= 0) {
    dev_kfree_skb_any(skb);
    return NETDEV_TX_OK;
  }
  // PCI parts can corrupt frames they pad themselves, so short frames are padded here (as Linux's e1000 does).
  if (eth_skb_pad(skb)) return NETDEV_TX_OK;
  let count = Math.ceil(skb.len / E1000_MAX_DATA_PER_TXD);
  if (skb.ip_summed === CHECKSUM_PARTIAL) count++;
  if (e1000_maybe_stop_tx(netdev, ring, count + 2)) return NETDEV_TX_BUSY;
  const first = ring.next_to_use;
  let tx_flags = 0;
  if (e1000_tx_csum(adapter, ring, skb, skb.protocol)) tx_flags |= E1000_TX_FLAGS_CSUM;
  const mapped = e1000_tx_map(adapter, ring, skb, first);
  if (mapped) {
    e1000_tx_queue(adapter, ring, tx_flags, mapped);
    e1000_maybe_stop_tx(netdev, ring, MAX_SKB_FRAGS + 2);
  } else {
    dev_kfree_skb_any(skb);
    ring.buffer_info[first]!.time_stamp = 0;
    ring.next_to_use = first;
    netdev.stats.tx_dropped++;
  }
  return NETDEV_TX_OK;
}

export function e1000_tx_timeout(netdev: net_device, _txqueue: number): void {
  const adapter = adapter_of(netdev);
  adapter.tx_timeout_count++;
  schedule_work(adapter.reset_task);
}

function e1000_reset_task(adapter: e1000_adapter): void {
  if (adapter.flags & (__E1000_DOWN | __E1000_RESETTING)) return;
  netdev_err(adapter.netdev, "Reset adapter\n");
  e1000_reinit_locked(adapter);
}

// ---- interrupt and NAPI ----

export function e1000_intr(_irq: number, data: net_device): number {
  const adapter = adapter_of(data);
  const hw = adapter.hw;
  const icr = er32(hw, E1000_ICR);
  if (!icr) return IRQ_NONE;
  if (icr & (E1000_ICR_RXSEQ | E1000_ICR_LSC)) {
    hw.get_link_status = true;
    // Pull the periodic watchdog in, so the link change is reported now rather than at its next round.
    if (!(adapter.flags & __E1000_DOWN)) mod_delayed_work(adapter.watchdog_task, 1);
  }
  // Interrupts stay off until the poll has caught up.
  ew32(hw, E1000_IMC, 0xffffffff);
  E1000_WRITE_FLUSH(hw);
  if (napi_schedule_prep(adapter.napi)) __napi_schedule(adapter.napi);
  else if (!(adapter.flags & __E1000_DOWN)) e1000_irq_enable(adapter);
  return IRQ_HANDLED;
}

export function e1000_clean(napi: { dev: net_device }, budget: number): number {
  const adapter = adapter_of(napi.dev);
  const tx_clean_complete = e1000_clean_tx_irq(adapter, adapter.tx_ring);
  const work_done = e1000_clean_rx_irq(adapter, adapter.rx_ring, budget);
  if (!tx_clean_complete || work_done === budget) return budget;
  if (napi_complete_done(adapter.napi, work_done) && !(adapter.flags & __E1000_DOWN)) e1000_irq_enable(adapter);
  return work_done;
}

/** Reclaims transmitted descriptors; false when the ring had more finished work than one pass takes. */
function e1000_clean_tx_irq(adapter: e1000_adapter, ring: e1000_tx_ring): boolean {
  const netdev = adapter.netdev;
  const view = ring.view;
  const buffers = ring.buffer_info;
  let i = ring.next_to_clean;
  let eop = buffers[i]!.next_to_watch;
  let count = 0;
  let total_tx_bytes = 0;
  let total_tx_packets = 0;
  let cleaned = false;
  while (eop >= 0 && view.getUint32(eop * E1000_DESC_SIZE + 12, true) & E1000_TXD_STAT_DD && count < ring.count) {
    for (cleaned = false; !cleaned; count++) {
      const buffer_info = buffers[i]!;
      cleaned = i === eop;
      if (cleaned) {
        total_tx_packets += buffer_info.segs;
        total_tx_bytes += buffer_info.bytecount;
      }
      e1000_unmap_and_free_tx_resource(adapter, buffer_info);
      view.setUint32(i * E1000_DESC_SIZE + 12, 0, true);
      if (++i === ring.count) i = 0;
    }
    eop = buffers[i]!.next_to_watch;
  }
  ring.next_to_clean = i;
  if (count && netif_carrier_ok(netdev) && E1000_DESC_UNUSED(ring) >= E1000_TX_QUEUE_WAKE * 2) {
    if (netif_queue_stopped(netdev) && !(adapter.flags & __E1000_DOWN)) {
      netif_wake_queue(netdev);
      adapter.restart_queue++;
    }
  }
  if (adapter.detect_tx_hung) {
    // A packet waiting longer than the timeout while the transmitter is not paused means the unit hung.
    adapter.detect_tx_hung = false;
    const waiting = buffers[i]!;
    if (waiting.time_stamp && waiting.next_to_watch >= 0 && time_after(adapter.linux.jiffies, waiting.time_stamp + adapter.tx_timeout_factor * adapter.linux.HZ) && !(er32(adapter.hw, E1000_STATUS) & E1000_STATUS_TXOFF)) {
      netdev_err(netdev, "Detected Tx Unit Hang: TDH <%x> TDT <%x> next_to_use <%x> next_to_clean <%x>\n", er32(adapter.hw, ring.tdh), er32(adapter.hw, ring.tdt), ring.next_to_use, ring.next_to_clean);
      netif_stop_queue(netdev);
    }
  }
  netdev.stats.tx_bytes += total_tx_bytes;
  netdev.stats.tx_packets += total_tx_packets;
  return count < ring.count;
}

function e1000_rx_checksum(adapter: e1000_adapter, status: number, errors: number, skb: sk_buff): void {
  skb.ip_summed = 0;
  // Ignore Checksum bit set, or no TCP/UDP checksum done by the hardware.
  if (status & E1000_RXD_STAT_IXSM || !(status & E1000_RXD_STAT_TCPCS)) return;
  if (errors & E1000_RXD_ERR_TCPE) {
    adapter.hw_csum_err++;
    return;
  }
  skb.ip_summed = CHECKSUM_UNNECESSARY;
  adapter.hw_csum_good++;
}

function e1000_clean_rx_irq(adapter: e1000_adapter, ring: e1000_rx_ring, work_to_do: number): number {
  const netdev = adapter.netdev;
  const dev = adapter.pdev.dev;
  const view = ring.view;
  const bufsz = adapter.rx_buffer_len;
  let i = ring.next_to_clean;
  let work_done = 0;
  let cleaned_count = 0;
  let total_rx_bytes = 0;
  let total_rx_packets = 0;
  for (;;) {
    const at = i * E1000_DESC_SIZE;
    const status = view.getUint8(at + 12);
    if (!(status & E1000_RXD_STAT_DD) || work_done >= work_to_do) break;
    work_done++;
    const buffer_info = ring.buffer_info[i]!;
    const skb = buffer_info.skb!;
    buffer_info.skb = null;
    const length = view.getUint16(at + 8, true);
    const errors = view.getUint8(at + 13);
    cleaned_count++;
    dma_unmap_single(dev, buffer_info.dma, bufsz, DMA_FROM_DEVICE);
    buffer_info.dma = 0;
    if (!(status & E1000_RXD_STAT_EOP) || errors & E1000_RXD_ERR_FRAME_ERR_MASK) {
      // A frame spread over several buffers (too long) or received with errors: the buffer is reused.
      buffer_info.skb = skb;
      adapter.rx_errors_discarded++;
    } else {
      total_rx_bytes += length;
      total_rx_packets++;
      skb_put(skb, length);
      e1000_rx_checksum(adapter, status, errors, skb);
      skb.protocol = eth_type_trans(skb, netdev);
      napi_gro_receive(adapter.napi, skb);
    }
    view.setUint8(at + 12, 0);
    if (++i === ring.count) i = 0;
    if (cleaned_count >= E1000_RX_BUFFER_WRITE) {
      ring.next_to_clean = i;
      e1000_alloc_rx_buffers(adapter, ring, cleaned_count);
      cleaned_count = 0;
    }
  }
  ring.next_to_clean = i;
  const unused = E1000_DESC_UNUSED(ring);
  if (unused) e1000_alloc_rx_buffers(adapter, ring, unused);
  netdev.stats.rx_bytes += total_rx_bytes;
  netdev.stats.rx_packets += total_rx_packets;
  return work_done;
}

// ---- watchdog, link, statistics ----

function e1000_has_link(adapter: e1000_adapter): boolean {
  const hw = adapter.hw;
  if (hw.get_link_status) e1000_check_for_link(hw);
  return !hw.get_link_status && (er32(hw, E1000_STATUS) & 2) !== 0;
}

function e1000_watchdog(adapter: e1000_adapter): void {
  const netdev = adapter.netdev;
  const hw = adapter.hw;
  if (adapter.flags & __E1000_DOWN) return;
  const link = e1000_has_link(adapter);
  if (link && !netif_carrier_ok(netdev)) {
    const { speed, duplex } = e1000_get_speed_and_duplex(hw);
    adapter.link_speed = speed;
    adapter.link_duplex = duplex === "full" ? 1 : 0;
    const ctrl = er32(hw, E1000_CTRL);
    netdev_info(netdev, "NIC Link is Up %d Mbps %s Duplex, Flow Control: %s\n", speed, duplex === "full" ? "Full" : "Half", ctrl & 0x18000000 ? (ctrl & 0x08000000 ? (ctrl & 0x10000000 ? "RX/TX" : "RX") : "TX") : "None");
    netif_carrier_on(netdev);
    if (!(adapter.flags & __E1000_DOWN)) netif_wake_queue(netdev);
  } else if (!link && netif_carrier_ok(netdev)) {
    adapter.link_speed = 0;
    adapter.link_duplex = 0;
    netdev_info(netdev, "NIC Link is Down\n");
    netif_carrier_off(netdev);
  }
  e1000_update_stats(adapter);
  if (!netif_carrier_ok(netdev) && E1000_DESC_UNUSED(adapter.tx_ring) + 1 < adapter.tx_ring.count) {
    // Without link the transmitter stops, and what is queued would never complete: reset to flush it.
    adapter.tx_timeout_count++;
    schedule_work(adapter.reset_task);
    return;
  }
  // A receive-threshold interrupt makes sure the receive ring is looked at at least this often.
  ew32(hw, E1000_ICS, E1000_ICR_RXDMT0);
  adapter.detect_tx_hung = true;
  if (!(adapter.flags & __E1000_DOWN)) schedule_delayed_work(adapter.watchdog_task, round_jiffies_relative(2 * adapter.linux.HZ));
}

export function e1000_get_stats64(netdev: net_device, stats: rtnl_link_stats64): void {
  const adapter = adapter_of(netdev);
  if (!(adapter.flags & (__E1000_DOWN | __E1000_RESETTING)) && adapter.linux.dead === false) e1000_update_stats(adapter);
  Object.assign(stats, netdev.stats);
}

// ---- receive filter, address, MTU ----

export function e1000_set_rx_mode(netdev: net_device): void {
  const adapter = adapter_of(netdev);
  const hw = adapter.hw;
  const rar_entries = hw.rar_entry_count;
  let rctl = er32(hw, E1000_RCTL);
  if (netdev.flags & IFF_PROMISC) {
    rctl |= E1000_RCTL_UPE | E1000_RCTL_MPE;
    rctl &= ~E1000_RCTL_VFE;
  } else {
    if (netdev.flags & IFF_ALLMULTI) rctl |= E1000_RCTL_MPE;
    else rctl &= ~E1000_RCTL_MPE;
    rctl &= ~E1000_RCTL_UPE;
  }
  const use_uc = netdev_uc_count(netdev) <= rar_entries - 1;
  if (!use_uc) rctl |= E1000_RCTL_UPE;
  ew32(hw, E1000_RCTL, rctl >>> 0);
  // Exact filters 1..14 take the extra unicast addresses, then multicast; the rest of multicast goes to the hash table.
  const mta = new Uint32Array(E1000_MC_TBL_SIZE);
  let i = 1;
  if (use_uc) for (const ha of netdev_for_each_uc_addr(netdev)) e1000_rar_set(hw, ha.addr, i++);
  for (const ha of netdev_for_each_mc_addr(netdev)) {
    if (i === rar_entries) {
      const hash_value = e1000_hash_mc_addr(hw, ha.addr);
      mta[(hash_value >>> 5) & 0x7f]! |= 1 << (hash_value & 0x1f);
    } else e1000_rar_set(hw, ha.addr, i++);
  }
  for (; i < rar_entries; i++) {
    E1000_WRITE_REG_ARRAY(hw, E1000_RA, i << 1, 0);
    E1000_WRITE_REG_ARRAY(hw, E1000_RA, (i << 1) + 1, 0);
  }
  for (let reg = E1000_MC_TBL_SIZE - 1; reg >= 0; reg--) E1000_WRITE_REG_ARRAY(hw, E1000_MTA, reg, mta[reg]!);
  E1000_WRITE_FLUSH(hw);
}

export function e1000_set_mac(netdev: net_device, addr: sockaddr): number {
  const adapter = adapter_of(netdev);
  if (!is_valid_ether_addr(addr.sa_data)) return -EADDRNOTAVAIL;
  eth_hw_addr_set(netdev, addr.sa_data);
  adapter.hw.mac_addr.set(addr.sa_data.subarray(0, 6));
  e1000_rar_set(adapter.hw, adapter.hw.mac_addr, 0);
  return 0;
}

export function e1000_change_mtu(netdev: net_device, new_mtu: number): number {
  const adapter = adapter_of(netdev);
  const max_frame = new_mtu + ETH_HLEN + ETH_FCS_LEN;
  if (max_frame > E1000_MAX_JUMBO_FRAME_SIZE || new_mtu < netdev.min_mtu) return -EINVAL;
  const running = netif_running(netdev);
  if (running) e1000_down(adapter);
  if (max_frame <= E1000_RXBUFFER_2048) adapter.rx_buffer_len = E1000_RXBUFFER_2048;
  else if (max_frame <= E1000_RXBUFFER_4096) adapter.rx_buffer_len = E1000_RXBUFFER_4096;
  else if (max_frame <= E1000_RXBUFFER_8192) adapter.rx_buffer_len = E1000_RXBUFFER_8192;
  else adapter.rx_buffer_len = E1000_RXBUFFER_16384;
  netdev_info(netdev, "changing MTU from %d to %d\n", netdev.mtu, new_mtu);
  netdev.mtu = new_mtu;
  if (running) e1000_up(adapter);
  else e1000_reset(adapter);
  return 0;
}

export function e1000_init_module(linux: { pr_info(format: string, ...args: unknown[]): void; pci_register_driver(drv: pci_driver): number }): number {
  linux.pr_info("%s - version %s\n", e1000_driver_string, e1000_driver_version);
  return linux.pci_register_driver(e1000_driver);
}

export function e1000_exit_module(linux: { pci_unregister_driver(drv: pci_driver): void }): void {
  linux.pci_unregister_driver(e1000_driver);
}

