/**
 * The 8254x hardware layer (Linux's e1000_hw.c/.h): register names and bits from the Intel PCI/PCI-X
 * Family of Gigabit Ethernet Controllers Software Developer's Manual, EEPROM access (EERD and the
 * Microwire interface behind EECD), the PHY through MDIC, reset, init and link checks.
 */
import { readl, writel, type iomem, type Linux } from "@vmk/vmklinux";

// ---- register offsets ----
export const E1000_CTRL = 0x00000;
export const E1000_STATUS = 0x00008;
export const E1000_EECD = 0x00010;
export const E1000_EERD = 0x00014;
export const E1000_CTRL_EXT = 0x00018;
export const E1000_MDIC = 0x00020;
export const E1000_FCAL = 0x00028;
export const E1000_FCAH = 0x0002c;
export const E1000_FCT = 0x00030;
export const E1000_VET = 0x00038;
export const E1000_ICR = 0x000c0;
export const E1000_ITR = 0x000c4;
export const E1000_ICS = 0x000c8;
export const E1000_IMS = 0x000d0;
export const E1000_IMC = 0x000d8;
export const E1000_RCTL = 0x00100;
export const E1000_FCTTV = 0x00170;
export const E1000_TXCW = 0x00178;
export const E1000_TCTL = 0x00400;
export const E1000_TIPG = 0x00410;
export const E1000_LEDCTL = 0x00e00;
export const E1000_PBA = 0x01000;
export const E1000_FCRTL = 0x02160;
export const E1000_FCRTH = 0x02168;
export const E1000_RDBAL = 0x02800;
export const E1000_RDBAH = 0x02804;
export const E1000_RDLEN = 0x02808;
export const E1000_RDH = 0x02810;
export const E1000_RDT = 0x02818;
export const E1000_RDTR = 0x02820;
export const E1000_RXDCTL = 0x02828;
export const E1000_RADV = 0x0282c;
export const E1000_TDBAL = 0x03800;
export const E1000_TDBAH = 0x03804;
export const E1000_TDLEN = 0x03808;
export const E1000_TDH = 0x03810;
export const E1000_TDT = 0x03818;
export const E1000_TIDV = 0x03820;
export const E1000_TXDCTL = 0x03828;
export const E1000_TADV = 0x0382c;
export const E1000_RXCSUM = 0x05000;
export const E1000_MTA = 0x05200;
export const E1000_RA = 0x05400;
export const E1000_VFTA = 0x05600;
export const E1000_WUC = 0x05800;
export const E1000_WUFC = 0x05808;
export const E1000_MANC = 0x05820;

// Statistics: clear-on-read counters (SDM 13.7).
export const E1000_CRCERRS = 0x04000;
export const E1000_ALGNERRC = 0x04004;
export const E1000_SYMERRS = 0x04008;
export const E1000_RXERRC = 0x0400c;
export const E1000_MPC = 0x04010;
export const E1000_SCC = 0x04014;
export const E1000_ECOL = 0x04018;
export const E1000_MCC = 0x0401c;
export const E1000_LATECOL = 0x04020;
export const E1000_COLC = 0x04028;
export const E1000_DC = 0x04030;
export const E1000_TNCRS = 0x04034;
export const E1000_SEC = 0x04038;
export const E1000_CEXTERR = 0x0403c;
export const E1000_RLEC = 0x04040;
export const E1000_XONRXC = 0x04048;
export const E1000_XONTXC = 0x0404c;
export const E1000_XOFFRXC = 0x04050;
export const E1000_XOFFTXC = 0x04054;
export const E1000_FCRUC = 0x04058;
export const E1000_PRC64 = 0x0405c;
export const E1000_PRC127 = 0x04060;
export const E1000_PRC255 = 0x04064;
export const E1000_PRC511 = 0x04068;
export const E1000_PRC1023 = 0x0406c;
export const E1000_PRC1522 = 0x04070;
export const E1000_GPRC = 0x04074;
export const E1000_BPRC = 0x04078;
export const E1000_MPRC = 0x0407c;
export const E1000_GPTC = 0x04080;
export const E1000_GORCL = 0x04088;
export const E1000_GORCH = 0x0408c;
export const E1000_GOTCL = 0x04090;
export const E1000_GOTCH = 0x04094;
export const E1000_RNBC = 0x040a0;
export const E1000_RUC = 0x040a4;
export const E1000_RFC = 0x040a8;
export const E1000_ROC = 0x040ac;
export const E1000_RJC = 0x040b0;
export const E1000_TORL = 0x040c0;
export const E1000_TORH = 0x040c4;
export const E1000_TOTL = 0x040c8;
export const E1000_TOTH = 0x040cc;
export const E1000_TPR = 0x040d0;
export const E1000_TPT = 0x040d4;
export const E1000_PTC64 = 0x040d8;
export const E1000_PTC127 = 0x040dc;
export const E1000_PTC255 = 0x040e0;
export const E1000_PTC511 = 0x040e4;
export const E1000_PTC1023 = 0x040e8;
export const E1000_PTC1522 = 0x040ec;
export const E1000_MPTC = 0x040f0;
export const E1000_BPTC = 0x040f4;
export const E1000_TSCTC = 0x040f8;
export const E1000_TSCTFC = 0x040fc;

// ---- CTRL ----
export const E1000_CTRL_FD = 0x00000001;
export const E1000_CTRL_LRST = 0x00000008;
export const E1000_CTRL_ASDE = 0x00000020;
export const E1000_CTRL_SLU = 0x00000040;
export const E1000_CTRL_ILOS = 0x00000080;
export const E1000_CTRL_SPD_SEL = 0x00000300;
export const E1000_CTRL_SPD_1000 = 0x00000200;
export const E1000_CTRL_FRCSPD = 0x00000800;
export const E1000_CTRL_FRCDPX = 0x00001000;
export const E1000_CTRL_RST = 0x04000000;
export const E1000_CTRL_RFCE = 0x08000000;
export const E1000_CTRL_TFCE = 0x10000000;
export const E1000_CTRL_VME = 0x40000000;
export const E1000_CTRL_PHY_RST = 0x80000000;

// ---- STATUS ----
export const E1000_STATUS_FD = 0x00000001;
export const E1000_STATUS_LU = 0x00000002;
export const E1000_STATUS_FUNC_MASK = 0x0000000c;
export const E1000_STATUS_TXOFF = 0x00000010;
export const E1000_STATUS_SPEED_MASK = 0x000000c0;
export const E1000_STATUS_SPEED_10 = 0x00000000;
export const E1000_STATUS_SPEED_100 = 0x00000040;
export const E1000_STATUS_SPEED_1000 = 0x00000080;
export const E1000_STATUS_PCI66 = 0x00000800;
export const E1000_STATUS_BUS64 = 0x00001000;
export const E1000_STATUS_PCIX_MODE = 0x00002000;

// ---- EECD / EERD ----
export const E1000_EECD_SK = 0x00000001;
export const E1000_EECD_CS = 0x00000002;
export const E1000_EECD_DI = 0x00000004;
export const E1000_EECD_DO = 0x00000008;
export const E1000_EECD_REQ = 0x00000040;
export const E1000_EECD_GNT = 0x00000080;
export const E1000_EECD_PRES = 0x00000100;
export const E1000_EECD_SIZE = 0x00000200;
/** 82540/82545/82546 layout (the 82541/82547 use DONE in bit 1 and address bits 15:2). */
export const E1000_EERD_START = 0x00000001;
export const E1000_EERD_DONE = 0x00000010;
export const E1000_EERD_ADDR_SHIFT = 8;
export const E1000_EERD_DATA_SHIFT = 16;
export const E1000_CTRL_EXT_EE_RST = 0x00002000;

export const EEPROM_READ_OPCODE_MICROWIRE = 0x6;
export const EEPROM_CHECKSUM_REG = 0x003f;
export const EEPROM_SUM = 0xbaba;
export const EEPROM_INIT_CONTROL2_REG = 0x000f;
export const EEPROM_WORD0F_PAUSE_MASK = 0x3000;
export const EEPROM_WORD0F_PAUSE = 0x1000;
export const EEPROM_WORD0F_ASM_DIR = 0x2000;
export const E1000_EEPROM_GRANT_ATTEMPTS = 1000;
export const E1000_EEPROM_RW_REG_ATTEMPTS = 100000;

// ---- MDIC and the PHY ----
export const E1000_MDIC_DATA_MASK = 0x0000ffff;
export const E1000_MDIC_REG_SHIFT = 16;
export const E1000_MDIC_PHY_SHIFT = 21;
export const E1000_MDIC_OP_WRITE = 0x04000000;
export const E1000_MDIC_OP_READ = 0x08000000;
export const E1000_MDIC_READY = 0x10000000;
export const E1000_MDIC_ERROR = 0x40000000;
export const PHY_CTRL = 0x00;
export const PHY_STATUS = 0x01;
export const PHY_ID1 = 0x02;
export const PHY_ID2 = 0x03;
export const PHY_AUTONEG_ADV = 0x04;
export const PHY_LP_ABILITY = 0x05;
export const PHY_1000T_CTRL = 0x09;
export const PHY_1000T_STATUS = 0x0a;
export const M88E1000_PHY_SPEC_CTRL = 0x10;
export const M88E1000_PHY_SPEC_STATUS = 0x11;
export const MII_CR_FULL_DUPLEX = 0x0100;
export const MII_CR_RESTART_AUTO_NEG = 0x0200;
export const MII_CR_AUTO_NEG_EN = 0x1000;
export const MII_CR_RESET = 0x8000;
export const MII_SR_LINK_STATUS = 0x0004;
export const MII_SR_AUTONEG_COMPLETE = 0x0020;
export const NWAY_AR_10T_HD_CAPS = 0x0020;
export const NWAY_AR_10T_FD_CAPS = 0x0040;
export const NWAY_AR_100TX_HD_CAPS = 0x0080;
export const NWAY_AR_100TX_FD_CAPS = 0x0100;
export const NWAY_AR_PAUSE = 0x0400;
export const NWAY_AR_ASM_DIR = 0x0800;
export const NWAY_AR_SELECTOR_FIELD = 0x0001;
export const CR_1000T_HD_CAPS = 0x0100;
export const CR_1000T_FD_CAPS = 0x0200;
export const M88E1000_PSCR_AUTO_X_MODE = 0x0060;
export const M88E1000_PSCR_ASSERT_CRS_ON_TX = 0x0800;
export const M88E1000_PSSR_DPLX = 0x2000;
export const M88E1000_PSSR_SPEED = 0xc000;
export const M88E1000_PSSR_1000MBS = 0x8000;
export const M88E1000_PSSR_100MBS = 0x4000;
export const M88_VENDOR = 0x0141;
export const M88E1011_I_PHY_ID = 0x01410c20;
export const M88E1000_E_PHY_ID = 0x01410c50;
export const M88E1000_I_PHY_ID = 0x01410c30;
export const PHY_REVISION_MASK = 0xfffffff0;
export const AUTONEG_ADVERTISE_SPEED_DEFAULT = 0x002f;
export const ADVERTISE_10_HALF = 0x0001;
export const ADVERTISE_10_FULL = 0x0002;
export const ADVERTISE_100_HALF = 0x0004;
export const ADVERTISE_100_FULL = 0x0008;
export const ADVERTISE_1000_FULL = 0x0020;

// ---- interrupts (ICR/ICS/IMS/IMC share the bits) ----
export const E1000_ICR_TXDW = 0x00000001;
export const E1000_ICR_TXQE = 0x00000002;
export const E1000_ICR_LSC = 0x00000004;
export const E1000_ICR_RXSEQ = 0x00000008;
export const E1000_ICR_RXDMT0 = 0x00000010;
export const E1000_ICR_RXO = 0x00000040;
export const E1000_ICR_RXT0 = 0x00000080;
export const E1000_ICR_MDAC = 0x00000200;
export const E1000_ICR_RXCFG = 0x00000400;
export const E1000_ICR_GPI_EN0 = 0x00000800;
export const E1000_ICR_TXD_LOW = 0x00008000;
export const E1000_ICR_SRPD = 0x00010000;
export const IMS_ENABLE_MASK = E1000_ICR_RXT0 | E1000_ICR_TXDW | E1000_ICR_RXDMT0 | E1000_ICR_RXSEQ | E1000_ICR_LSC;

// ---- receive control ----
export const E1000_RCTL_EN = 0x00000002;
export const E1000_RCTL_SBP = 0x00000004;
export const E1000_RCTL_UPE = 0x00000008;
export const E1000_RCTL_MPE = 0x00000010;
export const E1000_RCTL_LPE = 0x00000020;
export const E1000_RCTL_LBM_NO = 0x00000000;
export const E1000_RCTL_LBM_MAC = 0x00000040;
export const E1000_RCTL_RDMTS_HALF = 0x00000000;
export const E1000_RCTL_MO_SHIFT = 12;
export const E1000_RCTL_BAM = 0x00008000;
export const E1000_RCTL_SZ_2048 = 0x00000000;
export const E1000_RCTL_SZ_1024 = 0x00010000;
export const E1000_RCTL_SZ_512 = 0x00020000;
export const E1000_RCTL_SZ_256 = 0x00030000;
export const E1000_RCTL_SZ_16384 = 0x00010000;
export const E1000_RCTL_SZ_8192 = 0x00020000;
export const E1000_RCTL_SZ_4096 = 0x00030000;
export const E1000_RCTL_VFE = 0x00040000;
export const E1000_RCTL_CFIEN = 0x00080000;
export const E1000_RCTL_DPF = 0x00400000;
export const E1000_RCTL_BSEX = 0x02000000;
export const E1000_RCTL_SECRC = 0x04000000;
export const E1000_RXCSUM_IPOFL = 0x00000100;
export const E1000_RXCSUM_TUOFL = 0x00000200;

// ---- transmit control ----
export const E1000_TCTL_EN = 0x00000002;
export const E1000_TCTL_PSP = 0x00000008;
export const E1000_TCTL_CT = 0x00000ff0;
export const E1000_TCTL_COLD = 0x003ff000;
export const E1000_TCTL_RTLC = 0x01000000;
export const E1000_CT_SHIFT = 4;
export const E1000_COLLISION_THRESHOLD = 15;
export const E1000_COLD_SHIFT = 12;
export const E1000_FDX_COLLISION_DISTANCE = 63;
export const E1000_HDX_COLLISION_DISTANCE = 63;
export const DEFAULT_82543_TIPG_IPGT_COPPER = 8;
export const DEFAULT_82543_TIPG_IPGR1 = 8;
export const DEFAULT_82543_TIPG_IPGR2 = 6;
export const E1000_TIPG_IPGR1_SHIFT = 10;
export const E1000_TIPG_IPGR2_SHIFT = 20;
export const E1000_TXDCTL_WTHRESH = 0x003f0000;
export const E1000_TXDCTL_FULL_TX_DESC_WB = 0x01010000;
export const E1000_MANC_ARP_EN = 0x00002000;

// ---- descriptors ----
export const E1000_TXD_CMD_EOP = 0x01000000;
export const E1000_TXD_CMD_IFCS = 0x02000000;
export const E1000_TXD_CMD_IC = 0x04000000;
export const E1000_TXD_CMD_RS = 0x08000000;
export const E1000_TXD_CMD_RPS = 0x10000000;
export const E1000_TXD_CMD_DEXT = 0x20000000;
export const E1000_TXD_CMD_VLE = 0x40000000;
export const E1000_TXD_CMD_IDE = 0x80000000;
export const E1000_TXD_DTYP_D = 0x00100000;
export const E1000_TXD_DTYP_C = 0x00000000;
export const E1000_TXD_CMD_TCP = 0x01000000;
export const E1000_TXD_CMD_IP = 0x02000000;
export const E1000_TXD_POPTS_IXSM = 0x01;
export const E1000_TXD_POPTS_TXSM = 0x02;
export const E1000_TXD_STAT_DD = 0x00000001;
export const E1000_RXD_STAT_DD = 0x01;
export const E1000_RXD_STAT_EOP = 0x02;
export const E1000_RXD_STAT_IXSM = 0x04;
export const E1000_RXD_STAT_VP = 0x08;
export const E1000_RXD_STAT_TCPCS = 0x20;
export const E1000_RXD_STAT_IPCS = 0x40;
export const E1000_RXD_ERR_CE = 0x01;
export const E1000_RXD_ERR_SE = 0x02;
export const E1000_RXD_ERR_SEQ = 0x04;
export const E1000_RXD_ERR_CXE = 0x10;
export const E1000_RXD_ERR_TCPE = 0x20;
export const E1000_RXD_ERR_IPE = 0x40;
export const E1000_RXD_ERR_RXE = 0x80;
export const E1000_RXD_ERR_FRAME_ERR_MASK = E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | E1000_RXD_ERR_SEQ | E1000_RXD_ERR_CXE | E1000_RXD_ERR_RXE;
/** Legacy and context descriptors are both 16 bytes. */
export const E1000_DESC_SIZE = 16;

export const E1000_RAR_ENTRIES = 15;
export const E1000_MC_TBL_SIZE = 128;
export const E1000_VLAN_FILTER_TBL_SIZE = 128;
export const E1000_RAH_AV = 0x80000000;

// ---- return codes of the hardware layer ----
export const E1000_SUCCESS = 0;
export const E1000_ERR_EEPROM = 1;
export const E1000_ERR_PHY = 2;
export const E1000_ERR_CONFIG = 3;
export const E1000_ERR_PARAM = 4;
export const E1000_ERR_MAC_TYPE = 5;
export const E1000_ERR_PHY_TYPE = 6;
export const E1000_ERR_RESET = 9;

export enum e1000_mac_type {
  e1000_undefined = 0,
  e1000_82540,
  e1000_82545,
  e1000_82545_rev_3,
  e1000_82546,
  e1000_82546_rev_3,
}

export enum e1000_media_type {
  e1000_media_type_copper = 0,
}

export enum e1000_fc_type {
  E1000_FC_NONE = 0,
  E1000_FC_RX_PAUSE = 1,
  E1000_FC_TX_PAUSE = 2,
  E1000_FC_FULL = 3,
}

export const E1000_DEV_ID_82540EM = 0x100e;
export const E1000_DEV_ID_82540EM_LOM = 0x1015;
export const E1000_DEV_ID_82540EP_LOM = 0x1016;
export const E1000_DEV_ID_82540EP = 0x1017;
export const E1000_DEV_ID_82540EP_LP = 0x101e;
export const E1000_DEV_ID_82545EM_COPPER = 0x100f;
export const E1000_DEV_ID_82545GM_COPPER = 0x1026;
export const E1000_DEV_ID_82546EB_COPPER = 0x1010;
export const E1000_DEV_ID_82546GB_COPPER = 0x1079;

export class e1000_eeprom_info {
  word_size = 64;
  address_bits = 6;
  opcode_bits = 3;
  delay_usec = 50;
  /** The read register (EERD) does the Microwire cycle in hardware. */
  use_eerd = false;
}

/** struct e1000_hw */
export class e1000_hw {
  hw_addr!: iomem;
  /** Linux's hw->back is the adapter; the hardware layer only needs the host's delays from it. */
  linux!: Linux;
  mac_type = e1000_mac_type.e1000_undefined;
  media_type = e1000_media_type.e1000_media_type_copper;
  device_id = 0;
  vendor_id = 0;
  subsystem_id = 0;
  subsystem_vendor_id = 0;
  revision_id = 0;
  readonly eeprom = new e1000_eeprom_info();
  phy_id = 0;
  phy_revision = 0;
  phy_addr = 1;
  readonly mac_addr = new Uint8Array(6);
  readonly perm_mac_addr = new Uint8Array(6);
  fc = e1000_fc_type.E1000_FC_FULL;
  original_fc = e1000_fc_type.E1000_FC_FULL;
  autoneg = true;
  autoneg_advertised = AUTONEG_ADVERTISE_SPEED_DEFAULT;
  get_link_status = true;
  wait_autoneg_complete = false;
  rar_entry_count = E1000_RAR_ENTRIES;
  mc_filter_type = 0;
  tx_pkt_filtering = false;
  /** Cleared once the MAC has reached a valid link (the watchdog logs link changes). */
  serdes_has_link = false;
}

export function er32(hw: e1000_hw, reg: number): number {
  return readl(hw.hw_addr, reg);
}
export function ew32(hw: e1000_hw, reg: number, value: number): void {
  writel(value, hw.hw_addr, reg);
}
/** Posted writes are flushed by a read, in Linux; here a read of STATUS keeps the ordering visible to the model. */
export function E1000_WRITE_FLUSH(hw: e1000_hw): void {
  readl(hw.hw_addr, E1000_STATUS);
}
export function E1000_WRITE_REG_ARRAY(hw: e1000_hw, reg: number, index: number, value: number): void {
  writel(value, hw.hw_addr, reg + (index << 2));
}
export function E1000_READ_REG_ARRAY(hw: e1000_hw, reg: number, index: number): number {
  return readl(hw.hw_addr, reg + (index << 2));
}

export function e1000_set_mac_type(hw: e1000_hw): number {
  switch (hw.device_id) {
    case E1000_DEV_ID_82540EM:
    case E1000_DEV_ID_82540EM_LOM:
    case E1000_DEV_ID_82540EP:
    case E1000_DEV_ID_82540EP_LOM:
    case E1000_DEV_ID_82540EP_LP:
      hw.mac_type = e1000_mac_type.e1000_82540;
      break;
    case E1000_DEV_ID_82545EM_COPPER:
      hw.mac_type = e1000_mac_type.e1000_82545;
      break;
    case E1000_DEV_ID_82545GM_COPPER:
      hw.mac_type = e1000_mac_type.e1000_82545_rev_3;
      break;
    case E1000_DEV_ID_82546EB_COPPER:
      hw.mac_type = e1000_mac_type.e1000_82546;
      break;
    case E1000_DEV_ID_82546GB_COPPER:
      hw.mac_type = e1000_mac_type.e1000_82546_rev_3;
      break;
    default:
      return -E1000_ERR_MAC_TYPE;
  }
  return E1000_SUCCESS;
}

export function e1000_set_media_type(hw: e1000_hw): void {
  hw.media_type = e1000_media_type.e1000_media_type_copper;
}

// ---- EEPROM ----

/** Sizes the Microwire part from EECD.SIZE; the 82540 and later also have the EERD read register. */
export function e1000_init_eeprom_params(hw: e1000_hw): number {
  const eecd = er32(hw, E1000_EECD);
  const eeprom = hw.eeprom;
  eeprom.opcode_bits = 3;
  eeprom.delay_usec = 50;
  if (eecd & E1000_EECD_SIZE) {
    eeprom.word_size = 256;
    eeprom.address_bits = 8;
  } else {
    eeprom.word_size = 64;
    eeprom.address_bits = 6;
  }
  eeprom.use_eerd = true;
  return E1000_SUCCESS;
}

function e1000_raise_ee_clk(hw: e1000_hw, eecd: number): number {
  eecd |= E1000_EECD_SK;
  ew32(hw, E1000_EECD, eecd);
  E1000_WRITE_FLUSH(hw);
  hw.linux.udelay(hw.eeprom.delay_usec);
  return eecd;
}

function e1000_lower_ee_clk(hw: e1000_hw, eecd: number): number {
  eecd &= ~E1000_EECD_SK;
  ew32(hw, E1000_EECD, eecd);
  E1000_WRITE_FLUSH(hw);
  hw.linux.udelay(hw.eeprom.delay_usec);
  return eecd;
}

/** Clocks `count` bits of `data` out to the EEPROM, most significant first, on DI. */
function e1000_shift_out_ee_bits(hw: e1000_hw, data: number, count: number): void {
  let eecd = er32(hw, E1000_EECD) & ~E1000_EECD_DO;
  for (let mask = 1 << (count - 1); mask > 0; mask >>>= 1) {
    eecd = data & mask ? eecd | E1000_EECD_DI : eecd & ~E1000_EECD_DI;
    ew32(hw, E1000_EECD, eecd);
    E1000_WRITE_FLUSH(hw);
    hw.linux.udelay(hw.eeprom.delay_usec);
    eecd = e1000_raise_ee_clk(hw, eecd);
    eecd = e1000_lower_ee_clk(hw, eecd);
  }
  ew32(hw, E1000_EECD, eecd & ~E1000_EECD_DI);
}

/** Clocks 16 bits in from DO, sampling while SK is high. */
function e1000_shift_in_ee_bits(hw: e1000_hw, count: number): number {
  let eecd = er32(hw, E1000_EECD) & ~(E1000_EECD_DO | E1000_EECD_DI);
  let data = 0;
  for (let i = 0; i < count; i++) {
    data <<= 1;
    eecd = e1000_raise_ee_clk(hw, eecd);
    eecd = er32(hw, E1000_EECD) & ~E1000_EECD_DI;
    if (eecd & E1000_EECD_DO) data |= 1;
    eecd = e1000_lower_ee_clk(hw, eecd);
  }
  return data & 0xffff;
}

/** Requests the EEPROM interface from the MAC (REQ, wait for GNT) and selects the part. */
function e1000_acquire_eeprom(hw: e1000_hw): number {
  let eecd = er32(hw, E1000_EECD);
  ew32(hw, E1000_EECD, eecd | E1000_EECD_REQ);
  eecd = er32(hw, E1000_EECD);
  let attempts = 0;
  while (!(eecd & E1000_EECD_GNT) && attempts < E1000_EEPROM_GRANT_ATTEMPTS) {
    attempts++;
    hw.linux.udelay(5);
    eecd = er32(hw, E1000_EECD);
  }
  if (!(eecd & E1000_EECD_GNT)) {
    ew32(hw, E1000_EECD, eecd & ~E1000_EECD_REQ);
    return -E1000_ERR_EEPROM;
  }
  eecd &= ~(E1000_EECD_DI | E1000_EECD_SK);
  ew32(hw, E1000_EECD, eecd);
  eecd |= E1000_EECD_CS;
  ew32(hw, E1000_EECD, eecd);
  E1000_WRITE_FLUSH(hw);
  hw.linux.udelay(1);
  return E1000_SUCCESS;
}

function e1000_release_eeprom(hw: e1000_hw): void {
  let eecd = er32(hw, E1000_EECD);
  eecd &= ~(E1000_EECD_CS | E1000_EECD_DI);
  ew32(hw, E1000_EECD, eecd);
  eecd = e1000_raise_ee_clk(hw, eecd);
  eecd = e1000_lower_ee_clk(hw, eecd);
  ew32(hw, E1000_EECD, eecd & ~E1000_EECD_REQ);
  hw.linux.udelay(hw.eeprom.delay_usec);
}

/** Ends an instruction: CS low for a clock, then selected again, ready for the next start bit. */
function e1000_standby_eeprom(hw: e1000_hw): void {
  const delay = hw.eeprom.delay_usec;
  let eecd = er32(hw, E1000_EECD) & ~(E1000_EECD_CS | E1000_EECD_SK);
  ew32(hw, E1000_EECD, eecd);
  E1000_WRITE_FLUSH(hw);
  hw.linux.udelay(delay);
  eecd |= E1000_EECD_SK;
  ew32(hw, E1000_EECD, eecd);
  E1000_WRITE_FLUSH(hw);
  hw.linux.udelay(delay);
  eecd |= E1000_EECD_CS;
  ew32(hw, E1000_EECD, eecd);
  E1000_WRITE_FLUSH(hw);
  hw.linux.udelay(delay);
  eecd &= ~E1000_EECD_SK;
  ew32(hw, E1000_EECD, eecd);
  E1000_WRITE_FLUSH(hw);
  hw.linux.udelay(delay);
}

/** One word through the Microwire interface: READ opcode, address, 16 data bits. */
function e1000_read_eeprom_microwire(hw: e1000_hw, offset: number): number {
  e1000_shift_out_ee_bits(hw, EEPROM_READ_OPCODE_MICROWIRE, hw.eeprom.opcode_bits);
  e1000_shift_out_ee_bits(hw, offset, hw.eeprom.address_bits);
  return e1000_shift_in_ee_bits(hw, 16);
}

function e1000_poll_eerd_eewr_done(hw: e1000_hw): number {
  for (let i = 0; i < E1000_EEPROM_RW_REG_ATTEMPTS; i++) {
    if (er32(hw, E1000_EERD) & E1000_EERD_DONE) return E1000_SUCCESS;
    hw.linux.udelay(5);
  }
  return -E1000_ERR_EEPROM;
}

function e1000_read_eeprom_eerd(hw: e1000_hw, offset: number, words: number, data: Uint16Array): number {
  for (let i = 0; i < words; i++) {
    ew32(hw, E1000_EERD, ((offset + i) << E1000_EERD_ADDR_SHIFT) | E1000_EERD_START);
    const rc = e1000_poll_eerd_eewr_done(hw);
    if (rc) return rc;
    data[i] = er32(hw, E1000_EERD) >>> E1000_EERD_DATA_SHIFT;
  }
  return E1000_SUCCESS;
}

/**
 * Reads `words` words from `offset` into `data`. The EERD register is used where the MAC has it; if it
 * never completes, the Microwire interface (which every 8254x has) is used instead and EERD is not
 * tried again.
 */
export function e1000_read_eeprom(hw: e1000_hw, offset: number, words: number, data: Uint16Array): number {
  const eeprom = hw.eeprom;
  if (offset >= eeprom.word_size || words > eeprom.word_size - offset || words === 0) return -E1000_ERR_EEPROM;
  if (eeprom.use_eerd) {
    if (e1000_read_eeprom_eerd(hw, offset, words, data) === E1000_SUCCESS) return E1000_SUCCESS;
    eeprom.use_eerd = false;
  }
  if (e1000_acquire_eeprom(hw)) return -E1000_ERR_EEPROM;
  for (let i = 0; i < words; i++) {
    data[i] = e1000_read_eeprom_microwire(hw, offset + i);
    e1000_standby_eeprom(hw);
  }
  e1000_release_eeprom(hw);
  return E1000_SUCCESS;
}

/** Words 00h..3Fh must sum to 0xBABA (16-bit); word 3Fh is chosen to make it so. */
export function e1000_validate_eeprom_checksum(hw: e1000_hw): number {
  const words = new Uint16Array(EEPROM_CHECKSUM_REG + 1);
  if (e1000_read_eeprom(hw, 0, words.length, words) < 0) return -E1000_ERR_EEPROM;
  let checksum = 0;
  for (const word of words) checksum = (checksum + word) & 0xffff;
  return checksum === EEPROM_SUM ? E1000_SUCCESS : -E1000_ERR_EEPROM;
}

/** The permanent MAC address from EEPROM words 0-2 (byte pairs, low byte first). */
export function e1000_read_mac_addr(hw: e1000_hw): number {
  const words = new Uint16Array(3);
  if (e1000_read_eeprom(hw, 0, 3, words) < 0) return -E1000_ERR_EEPROM;
  for (let i = 0; i < 3; i++) {
    hw.perm_mac_addr[2 * i] = words[i]! & 0xff;
    hw.perm_mac_addr[2 * i + 1] = words[i]! >>> 8;
  }
  // The second port of a dual-port 82546 flips the last bit of the shared address.
  if ((hw.mac_type === e1000_mac_type.e1000_82546 || hw.mac_type === e1000_mac_type.e1000_82546_rev_3) && er32(hw, E1000_STATUS) & 0x4) hw.perm_mac_addr[5] ^= 1;
  hw.mac_addr.set(hw.perm_mac_addr);
  return E1000_SUCCESS;
}

// ---- PHY through MDIC ----

export function e1000_read_phy_reg(hw: e1000_hw, reg_addr: number): number {
  if (reg_addr > 0x1f) return -E1000_ERR_PARAM;
  ew32(hw, E1000_MDIC, (reg_addr << E1000_MDIC_REG_SHIFT) | (hw.phy_addr << E1000_MDIC_PHY_SHIFT) | E1000_MDIC_OP_READ);
  let mdic = 0;
  for (let i = 0; i < 1950; i++) {
    hw.linux.udelay(50);
    mdic = er32(hw, E1000_MDIC);
    if (mdic & E1000_MDIC_READY) break;
  }
  if (!(mdic & E1000_MDIC_READY) || mdic & E1000_MDIC_ERROR) return -E1000_ERR_PHY;
  return mdic & E1000_MDIC_DATA_MASK;
}

export function e1000_write_phy_reg(hw: e1000_hw, reg_addr: number, data: number): number {
  if (reg_addr > 0x1f) return -E1000_ERR_PARAM;
  ew32(hw, E1000_MDIC, (data & 0xffff) | (reg_addr << E1000_MDIC_REG_SHIFT) | (hw.phy_addr << E1000_MDIC_PHY_SHIFT) | E1000_MDIC_OP_WRITE);
  let mdic = 0;
  for (let i = 0; i < 641; i++) {
    hw.linux.udelay(5);
    mdic = er32(hw, E1000_MDIC);
    if (mdic & E1000_MDIC_READY) break;
  }
  if (!(mdic & E1000_MDIC_READY) || mdic & E1000_MDIC_ERROR) return -E1000_ERR_PHY;
  return E1000_SUCCESS;
}

/** Reads and checks the PHY identifier: the 82540/82545/82546 carry a Marvell 88E1011-class PHY. */
export function e1000_detect_gig_phy(hw: e1000_hw): number {
  const id1 = e1000_read_phy_reg(hw, PHY_ID1);
  if (id1 < 0) return id1;
  hw.linux.udelay(20);
  const id2 = e1000_read_phy_reg(hw, PHY_ID2);
  if (id2 < 0) return id2;
  const id = ((id1 << 16) | id2) >>> 0;
  hw.phy_id = (id & PHY_REVISION_MASK) >>> 0;
  hw.phy_revision = id & ~PHY_REVISION_MASK;
  if (hw.phy_id === M88E1011_I_PHY_ID || hw.phy_id === M88E1000_E_PHY_ID || hw.phy_id === M88E1000_I_PHY_ID) return E1000_SUCCESS;
  return -E1000_ERR_PHY_TYPE;
}

export function e1000_phy_hw_reset(hw: e1000_hw): void {
  const ctrl = er32(hw, E1000_CTRL);
  ew32(hw, E1000_CTRL, ctrl | E1000_CTRL_PHY_RST);
  E1000_WRITE_FLUSH(hw);
  hw.linux.msleep(10);
  ew32(hw, E1000_CTRL, ctrl);
  E1000_WRITE_FLUSH(hw);
  hw.linux.udelay(150);
}

/** Software PHY reset through the BMCR reset bit. */
export function e1000_phy_reset(hw: e1000_hw): number {
  const ctrl = e1000_read_phy_reg(hw, PHY_CTRL);
  if (ctrl < 0) return ctrl;
  const rc = e1000_write_phy_reg(hw, PHY_CTRL, ctrl | MII_CR_RESET);
  if (rc) return rc;
  hw.linux.udelay(1);
  return E1000_SUCCESS;
}

// ---- MAC reset and init ----

/** Stops all DMA and interrupts and resets the MAC; the EEPROM reloads itself on these parts. */
export function e1000_reset_hw(hw: e1000_hw): number {
  ew32(hw, E1000_IMC, 0xffffffff);
  ew32(hw, E1000_RCTL, 0);
  ew32(hw, E1000_TCTL, E1000_TCTL_PSP);
  E1000_WRITE_FLUSH(hw);
  // Let pending transactions finish before the reset.
  hw.linux.msleep(10);
  const ctrl = er32(hw, E1000_CTRL);
  ew32(hw, E1000_CTRL, ctrl | E1000_CTRL_RST);
  // The 82540 and later reload the EEPROM after a reset; Linux waits 5 ms for the automatic read.
  hw.linux.msleep(5);
  if (er32(hw, E1000_CTRL) & E1000_CTRL_RST) return -E1000_ERR_RESET;
  const manc = er32(hw, E1000_MANC);
  ew32(hw, E1000_MANC, manc & ~E1000_MANC_ARP_EN);
  ew32(hw, E1000_IMC, 0xffffffff);
  er32(hw, E1000_ICR);
  return E1000_SUCCESS;
}

/** Receive address 0 is the station address; the other entries start invalid. */
export function e1000_init_rx_addrs(hw: e1000_hw): void {
  e1000_rar_set(hw, hw.mac_addr, 0);
  for (let i = 1; i < hw.rar_entry_count; i++) {
    E1000_WRITE_REG_ARRAY(hw, E1000_RA, i << 1, 0);
    E1000_WRITE_REG_ARRAY(hw, E1000_RA, (i << 1) + 1, 0);
  }
}

export function e1000_rar_set(hw: e1000_hw, addr: Uint8Array, index: number): void {
  const low = (addr[0]! | (addr[1]! << 8) | (addr[2]! << 16) | (addr[3]! << 24)) >>> 0;
  const high = (addr[4]! | (addr[5]! << 8) | E1000_RAH_AV) >>> 0;
  E1000_WRITE_REG_ARRAY(hw, E1000_RA, index << 1, low);
  E1000_WRITE_REG_ARRAY(hw, E1000_RA, (index << 1) + 1, high);
}

/** Multicast table index from destination bits 47:36 (MO = 00, the filter type Linux programs). */
export function e1000_hash_mc_addr(hw: e1000_hw, addr: Uint8Array): number {
  switch (hw.mc_filter_type) {
    case 1:
      return ((addr[4]! >>> 3) | (addr[5]! << 5)) & 0xfff;
    case 2:
      return ((addr[4]! >>> 2) | (addr[5]! << 6)) & 0xfff;
    case 3:
      return ((addr[4]! >>> 0) | (addr[5]! << 8)) & 0xfff;
    default:
      return ((addr[4]! >>> 4) | (addr[5]! << 4)) & 0xfff;
  }
}

/** Reads every statistics counter once so that they start from zero. */
export function e1000_clear_hw_cntrs(hw: e1000_hw): void {
  for (let reg = E1000_CRCERRS; reg <= E1000_TSCTFC; reg += 4) er32(hw, reg);
}

function e1000_phy_setup_autoneg(hw: e1000_hw): number {
  let adv = e1000_read_phy_reg(hw, PHY_AUTONEG_ADV);
  if (adv < 0) return adv;
  let gig = e1000_read_phy_reg(hw, PHY_1000T_CTRL);
  if (gig < 0) return gig;
  adv &= ~(NWAY_AR_10T_HD_CAPS | NWAY_AR_10T_FD_CAPS | NWAY_AR_100TX_HD_CAPS | NWAY_AR_100TX_FD_CAPS | NWAY_AR_PAUSE | NWAY_AR_ASM_DIR);
  gig &= ~(CR_1000T_HD_CAPS | CR_1000T_FD_CAPS);
  const a = hw.autoneg_advertised;
  if (a & ADVERTISE_10_HALF) adv |= NWAY_AR_10T_HD_CAPS;
  if (a & ADVERTISE_10_FULL) adv |= NWAY_AR_10T_FD_CAPS;
  if (a & ADVERTISE_100_HALF) adv |= NWAY_AR_100TX_HD_CAPS;
  if (a & ADVERTISE_100_FULL) adv |= NWAY_AR_100TX_FD_CAPS;
  if (a & ADVERTISE_1000_FULL) gig |= CR_1000T_FD_CAPS;
  switch (hw.fc) {
    case e1000_fc_type.E1000_FC_RX_PAUSE:
    case e1000_fc_type.E1000_FC_FULL:
      adv |= NWAY_AR_ASM_DIR | NWAY_AR_PAUSE;
      break;
    case e1000_fc_type.E1000_FC_TX_PAUSE:
      adv |= NWAY_AR_ASM_DIR;
      break;
    default:
      break;
  }
  let rc = e1000_write_phy_reg(hw, PHY_AUTONEG_ADV, adv | NWAY_AR_SELECTOR_FIELD);
  if (rc) return rc;
  rc = e1000_write_phy_reg(hw, PHY_1000T_CTRL, gig);
  return rc;
}

/** Copper link: MAC follows the PHY (SLU, no forcing), MDI-X auto, autonegotiation restarted. */
export function e1000_setup_copper_link(hw: e1000_hw): number {
  let ctrl = er32(hw, E1000_CTRL);
  ctrl |= E1000_CTRL_SLU;
  ctrl &= ~(E1000_CTRL_FRCSPD | E1000_CTRL_FRCDPX);
  ew32(hw, E1000_CTRL, ctrl);
  let rc = e1000_detect_gig_phy(hw);
  if (rc) return rc;
  const pscr = e1000_read_phy_reg(hw, M88E1000_PHY_SPEC_CTRL);
  if (pscr < 0) return pscr;
  rc = e1000_write_phy_reg(hw, M88E1000_PHY_SPEC_CTRL, pscr | M88E1000_PSCR_AUTO_X_MODE | M88E1000_PSCR_ASSERT_CRS_ON_TX);
  if (rc) return rc;
  rc = e1000_phy_reset(hw);
  if (rc) return rc;
  if (hw.autoneg) {
    rc = e1000_phy_setup_autoneg(hw);
    if (rc) return rc;
    const bmcr = e1000_read_phy_reg(hw, PHY_CTRL);
    if (bmcr < 0) return bmcr;
    rc = e1000_write_phy_reg(hw, PHY_CTRL, bmcr | MII_CR_AUTO_NEG_EN | MII_CR_RESTART_AUTO_NEG);
    if (rc) return rc;
  }
  hw.get_link_status = true;
  return e1000_check_for_link(hw);
}

/** Flow control from EEPROM init-control word 2 (what the board was built to advertise). */
export function e1000_setup_link(hw: e1000_hw): number {
  const word = new Uint16Array(1);
  if (e1000_read_eeprom(hw, EEPROM_INIT_CONTROL2_REG, 1, word) < 0) return -E1000_ERR_EEPROM;
  const pause = word[0]! & EEPROM_WORD0F_PAUSE_MASK;
  if (pause === 0) hw.fc = e1000_fc_type.E1000_FC_NONE;
  else if (pause === EEPROM_WORD0F_ASM_DIR) hw.fc = e1000_fc_type.E1000_FC_TX_PAUSE;
  else hw.fc = e1000_fc_type.E1000_FC_FULL;
  hw.original_fc = hw.fc;
  ew32(hw, E1000_FCT, 0x8808);
  ew32(hw, E1000_FCAH, 0x0100);
  ew32(hw, E1000_FCAL, 0x00c28001);
  ew32(hw, E1000_FCTTV, 0xffff);
  return e1000_setup_copper_link(hw);
}

export function e1000_init_hw(hw: e1000_hw): number {
  ew32(hw, E1000_VET, 0);
  for (let i = 0; i < E1000_VLAN_FILTER_TBL_SIZE; i++) E1000_WRITE_REG_ARRAY(hw, E1000_VFTA, i, 0);
  e1000_init_rx_addrs(hw);
  for (let i = 0; i < E1000_MC_TBL_SIZE; i++) E1000_WRITE_REG_ARRAY(hw, E1000_MTA, i, 0);
  const rc = e1000_setup_link(hw);
  const txdctl = er32(hw, E1000_TXDCTL);
  ew32(hw, E1000_TXDCTL, ((txdctl & ~E1000_TXDCTL_WTHRESH) | E1000_TXDCTL_FULL_TX_DESC_WB) >>> 0);
  e1000_clear_hw_cntrs(hw);
  return rc;
}

/**
 * Re-reads link state after an LSC interrupt or from the watchdog. BMSR's link bit latches low, so it
 * is read twice; the MAC's STATUS.LU is what the caller reports.
 */
export function e1000_check_for_link(hw: e1000_hw): number {
  if (!hw.get_link_status) return E1000_SUCCESS;
  let status = e1000_read_phy_reg(hw, PHY_STATUS);
  if (status < 0) return status;
  status = e1000_read_phy_reg(hw, PHY_STATUS);
  if (status < 0) return status;
  if (status & MII_SR_LINK_STATUS) {
    hw.get_link_status = false;
    e1000_config_collision_dist(hw);
  }
  return E1000_SUCCESS;
}

export function e1000_config_collision_dist(hw: e1000_hw): void {
  let tctl = er32(hw, E1000_TCTL);
  tctl &= ~E1000_TCTL_COLD;
  tctl |= E1000_FDX_COLLISION_DISTANCE << E1000_COLD_SHIFT;
  ew32(hw, E1000_TCTL, tctl);
  E1000_WRITE_FLUSH(hw);
}

/** Speed (Mb/s) and duplex from STATUS. */
export function e1000_get_speed_and_duplex(hw: e1000_hw): { speed: number; duplex: "full" | "half" } {
  const status = er32(hw, E1000_STATUS);
  const bits = status & E1000_STATUS_SPEED_MASK;
  const speed = bits & E1000_STATUS_SPEED_1000 ? 1000 : bits === E1000_STATUS_SPEED_100 ? 100 : 10;
  return { speed, duplex: status & E1000_STATUS_FD ? "full" : "half" };
}
