import type { net_device } from "./netdevice.js";

export const SPEED_10 = 10;
export const SPEED_100 = 100;
export const SPEED_1000 = 1000;
export const SPEED_UNKNOWN = -1;
export const DUPLEX_HALF = 0x00;
export const DUPLEX_FULL = 0x01;
export const DUPLEX_UNKNOWN = 0xff;
export const AUTONEG_DISABLE = 0x00;
export const AUTONEG_ENABLE = 0x01;
export const PORT_TP = 0x00;
export const PORT_FIBRE = 0x03;
export const PORT_OTHER = 0xff;

/** Link mode bits (ethtool_link_mode_bit_indices), as a bit set in a number. */
export const ETHTOOL_LINK_MODE_10baseT_Half_BIT = 0;
export const ETHTOOL_LINK_MODE_10baseT_Full_BIT = 1;
export const ETHTOOL_LINK_MODE_100baseT_Half_BIT = 2;
export const ETHTOOL_LINK_MODE_100baseT_Full_BIT = 3;
export const ETHTOOL_LINK_MODE_1000baseT_Half_BIT = 4;
export const ETHTOOL_LINK_MODE_1000baseT_Full_BIT = 5;
export const ETHTOOL_LINK_MODE_Autoneg_BIT = 6;
export const ETHTOOL_LINK_MODE_TP_BIT = 7;
export const ETHTOOL_LINK_MODE_FIBRE_BIT = 10;

export class ethtool_drvinfo {
  driver = "";
  version = "";
  fw_version = "";
  bus_info = "";
  n_stats = 0;
  regdump_len = 0;
  eedump_len = 0;
}

export class ethtool_link_ksettings {
  readonly base = { speed: SPEED_UNKNOWN, duplex: DUPLEX_UNKNOWN, port: PORT_OTHER, phy_address: 0, autoneg: AUTONEG_DISABLE, mdio_support: 0, eth_tp_mdix: 0 };
  readonly link_modes = { supported: 0, advertising: 0, lp_advertising: 0 };
}

export function ethtool_link_ksettings_add_link_mode(modes: { supported: number; advertising: number; lp_advertising: number }, which: "supported" | "advertising" | "lp_advertising", bit: number): void {
  modes[which] |= 1 << bit;
}

export class ethtool_ringparam {
  rx_max_pending = 0;
  tx_max_pending = 0;
  rx_pending = 0;
  tx_pending = 0;
}

/** struct ethtool_ops: the basics a NIC driver offers; every member optional. */
export interface ethtool_ops {
  get_drvinfo?(dev: net_device, info: ethtool_drvinfo): void;
  get_link?(dev: net_device): number;
  get_link_ksettings?(dev: net_device, cmd: ethtool_link_ksettings): number;
  set_link_ksettings?(dev: net_device, cmd: ethtool_link_ksettings): number;
  get_msglevel?(dev: net_device): number;
  set_msglevel?(dev: net_device, value: number): void;
  get_ringparam?(dev: net_device, ring: ethtool_ringparam): void;
  get_regs_len?(dev: net_device): number;
  get_eeprom_len?(dev: net_device): number;
  nway_reset?(dev: net_device): number;
}

export function ethtool_op_get_link(dev: net_device): number {
  return dev.carrier ? 1 : 0;
}

/** What `ethtool -i` shows. */
export function dev_ethtool_get_drvinfo(dev: net_device): ethtool_drvinfo {
  const info = new ethtool_drvinfo();
  const get = dev.ethtool_ops?.get_drvinfo;
  if (!get) return info;
  try {
    get.call(dev.ethtool_ops, dev, info);
  } catch (error) {
    throw dev.linux.driver_fault(error, `ethtool get_drvinfo of ${dev.name}`);
  }
  return info;
}

/** What `ethtool <dev>` shows; null when the driver has no get_link_ksettings or it failed. */
export function dev_ethtool_get_link_ksettings(dev: net_device): ethtool_link_ksettings | null {
  const get = dev.ethtool_ops?.get_link_ksettings;
  if (!get) return null;
  const cmd = new ethtool_link_ksettings();
  let rc: number;
  try {
    rc = get.call(dev.ethtool_ops, dev, cmd);
  } catch (error) {
    throw dev.linux.driver_fault(error, `ethtool get_link_ksettings of ${dev.name}`);
  }
  return rc < 0 ? null : cmd;
}
