/** ethtool support (Linux's e1000_ethtool.c): driver info, link, ring sizes, message level. */
import {
  AUTONEG_ENABLE,
  DUPLEX_FULL,
  DUPLEX_HALF,
  DUPLEX_UNKNOWN,
  ethtool_link_ksettings_add_link_mode,
  ETHTOOL_LINK_MODE_1000baseT_Full_BIT,
  ETHTOOL_LINK_MODE_100baseT_Full_BIT,
  ETHTOOL_LINK_MODE_100baseT_Half_BIT,
  ETHTOOL_LINK_MODE_10baseT_Full_BIT,
  ETHTOOL_LINK_MODE_10baseT_Half_BIT,
  ETHTOOL_LINK_MODE_Autoneg_BIT,
  ETHTOOL_LINK_MODE_TP_BIT,
  netdev_priv,
  netif_carrier_ok,
  netif_running,
  pci_name,
  PORT_TP,
  SPEED_UNKNOWN,
  type ethtool_drvinfo,
  type ethtool_link_ksettings,
  type ethtool_ops,
  type ethtool_ringparam,
  type net_device,
} from "@vmk/vmklinux";
import { e1000_driver_name, e1000_driver_version, type e1000_adapter } from "./e1000.js";
import { e1000_check_for_link } from "./e1000_hw.js";
import { e1000_reinit_locked } from "./e1000_main.js";

function adapter_of(netdev: net_device): e1000_adapter {
  return netdev_priv(netdev as net_device<e1000_adapter>);
}

function e1000_get_drvinfo(netdev: net_device, drvinfo: ethtool_drvinfo): void {
  const adapter = adapter_of(netdev);
  drvinfo.driver = e1000_driver_name;
  drvinfo.version = e1000_driver_version;
  drvinfo.bus_info = pci_name(adapter.pdev);
  drvinfo.regdump_len = e1000_get_regs_len(netdev);
  drvinfo.eedump_len = e1000_get_eeprom_len(netdev);
}

/** The link the watchdog last saw; an LSC not yet handled is checked with the PHY first. */
function e1000_get_link(netdev: net_device): number {
  const adapter = adapter_of(netdev);
  if (adapter.hw.get_link_status && netif_running(netdev)) e1000_check_for_link(adapter.hw);
  return netif_carrier_ok(netdev) ? 1 : 0;
}

function e1000_get_link_ksettings(netdev: net_device, cmd: ethtool_link_ksettings): number {
  const adapter = adapter_of(netdev);
  const modes = cmd.link_modes;
  for (const bit of [
    ETHTOOL_LINK_MODE_10baseT_Half_BIT,
    ETHTOOL_LINK_MODE_10baseT_Full_BIT,
    ETHTOOL_LINK_MODE_100baseT_Half_BIT,
    ETHTOOL_LINK_MODE_100baseT_Full_BIT,
    ETHTOOL_LINK_MODE_1000baseT_Full_BIT,
    ETHTOOL_LINK_MODE_Autoneg_BIT,
    ETHTOOL_LINK_MODE_TP_BIT,
  ]) {
    ethtool_link_ksettings_add_link_mode(modes, "supported", bit);
    ethtool_link_ksettings_add_link_mode(modes, "advertising", bit);
  }
  cmd.base.port = PORT_TP;
  cmd.base.phy_address = adapter.hw.phy_addr;
  cmd.base.autoneg = AUTONEG_ENABLE;
  if (netif_carrier_ok(netdev) && adapter.link_speed) {
    cmd.base.speed = adapter.link_speed;
    cmd.base.duplex = adapter.link_duplex ? DUPLEX_FULL : DUPLEX_HALF;
  } else {
    cmd.base.speed = SPEED_UNKNOWN;
    cmd.base.duplex = DUPLEX_UNKNOWN;
  }
  return 0;
}

function e1000_get_msglevel(netdev: net_device): number {
  return adapter_of(netdev).msg_enable;
}

function e1000_set_msglevel(netdev: net_device, value: number): void {
  adapter_of(netdev).msg_enable = value;
}

function e1000_get_ringparam(netdev: net_device, ring: ethtool_ringparam): void {
  const adapter = adapter_of(netdev);
  ring.rx_max_pending = 4096;
  ring.tx_max_pending = 4096;
  ring.rx_pending = adapter.rx_ring.count;
  ring.tx_pending = adapter.tx_ring.count;
}

function e1000_get_regs_len(_netdev: net_device): number {
  return 32 * 4;
}

function e1000_get_eeprom_len(netdev: net_device): number {
  return adapter_of(netdev).hw.eeprom.word_size * 2;
}

/** Restarts autonegotiation by bringing the interface down and up. */
function e1000_nway_reset(netdev: net_device): number {
  if (netif_running(netdev)) e1000_reinit_locked(adapter_of(netdev));
  return 0;
}

const e1000_ethtool_ops: ethtool_ops = {
  get_drvinfo: e1000_get_drvinfo,
  get_link: e1000_get_link,
  get_link_ksettings: e1000_get_link_ksettings,
  get_msglevel: e1000_get_msglevel,
  set_msglevel: e1000_set_msglevel,
  get_ringparam: e1000_get_ringparam,
  get_regs_len: e1000_get_regs_len,
  get_eeprom_len: e1000_get_eeprom_len,
  nway_reset: e1000_nway_reset,
};

export function e1000_set_ethtool_ops(netdev: net_device): void {
  netdev.ethtool_ops = e1000_ethtool_ops;
}
