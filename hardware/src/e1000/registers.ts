/**
 * Intel 8254x register offsets and bit fields (PCI/PCI-X Family of Gigabit Ethernet Controllers
 * Software Developer's Manual, chapter 13). Offsets are byte offsets into the memory BAR; the model
 * keeps its registers in a Uint32Array indexed by dword, so code converts with `reg()`.
 */

/** Dword index of a register byte offset. */
export const reg = (offset: number): number => offset >>> 2;

export const MMIO_SIZE = 0x20000;
export const REGISTER_DWORDS = MMIO_SIZE >>> 2;
export const IO_BAR_SIZE = 8;

// ---- general ----
export const CTRL = 0x0000;
export const STATUS = 0x0008;
export const EECD = 0x0010;
export const EERD = 0x0014;
export const CTRL_EXT = 0x0018;
export const MDIC = 0x0020;
export const FCAL = 0x0028;
export const FCAH = 0x002c;
export const FCT = 0x0030;
export const VET = 0x0038;
export const ICR = 0x00c0;
export const ITR = 0x00c4;
export const ICS = 0x00c8;
export const IMS = 0x00d0;
export const IMC = 0x00d8;
export const RCTL = 0x0100;
export const FCTTV = 0x0170;
export const TXCW = 0x0178;
export const RXCW = 0x0180;
export const TCTL = 0x0400;
export const TIPG = 0x0410;
export const AIT = 0x0458;
export const LEDCTL = 0x0e00;
export const PBA = 0x1000;
export const FCRTL = 0x2160;
export const FCRTH = 0x2168;
export const RDFH = 0x2410;
export const RDFT = 0x2418;
export const RDFHS = 0x2420;
export const RDFTS = 0x2428;
export const RDFPC = 0x2430;
export const RDBAL = 0x2800;
export const RDBAH = 0x2804;
export const RDLEN = 0x2808;
export const RDH = 0x2810;
export const RDT = 0x2818;
export const RDTR = 0x2820;
export const RXDCTL = 0x2828;
export const RADV = 0x282c;
export const RSRPD = 0x2c00;
export const TXDMAC = 0x3000;
export const TDFH = 0x3410;
export const TDFT = 0x3418;
export const TDFHS = 0x3420;
export const TDFTS = 0x3428;
export const TDFPC = 0x3430;
export const TDBAL = 0x3800;
export const TDBAH = 0x3804;
export const TDLEN = 0x3808;
export const TDH = 0x3810;
export const TDT = 0x3818;
export const TIDV = 0x3820;
export const TXDCTL = 0x3828;
export const TADV = 0x382c;
export const TSPMT = 0x3830;
export const RXCSUM = 0x5000;
export const MTA = 0x5200;
export const MTA_ENTRIES = 128;
export const RA = 0x5400;
export const RA_ENTRIES = 16;
export const VFTA = 0x5600;
export const VFTA_ENTRIES = 128;
export const WUC = 0x5800;
export const WUFC = 0x5808;
export const WUS = 0x5810;
export const MANC = 0x5820;
export const IPAV = 0x5838;
export const IP4AT = 0x5840;
export const IP6AT = 0x5880;
export const WUPL = 0x5900;
export const WUPM = 0x5a00;
export const FFLT = 0x5f00;
export const FFMT = 0x9000;
export const FFVT = 0x9800;

// ---- statistics (13.7) ----
export const CRCERRS = 0x4000;
export const ALGNERRC = 0x4004;
export const SYMERRS = 0x4008;
export const RXERRC = 0x400c;
export const MPC = 0x4010;
export const SCC = 0x4014;
export const ECOL = 0x4018;
export const MCC = 0x401c;
export const LATECOL = 0x4020;
export const COLC = 0x4028;
export const DC = 0x4030;
export const TNCRS = 0x4034;
export const SEC = 0x4038;
export const CEXTERR = 0x403c;
export const RLEC = 0x4040;
export const XONRXC = 0x4048;
export const XONTXC = 0x404c;
export const XOFFRXC = 0x4050;
export const XOFFTXC = 0x4054;
export const FCRUC = 0x4058;
export const PRC64 = 0x405c;
export const PRC127 = 0x4060;
export const PRC255 = 0x4064;
export const PRC511 = 0x4068;
export const PRC1023 = 0x406c;
export const PRC1522 = 0x4070;
export const GPRC = 0x4074;
export const BPRC = 0x4078;
export const MPRC = 0x407c;
export const GPTC = 0x4080;
export const GORCL = 0x4088;
export const GORCH = 0x408c;
export const GOTCL = 0x4090;
export const GOTCH = 0x4094;
export const RNBC = 0x40a0;
export const RUC = 0x40a4;
export const RFC = 0x40a8;
export const ROC = 0x40ac;
export const RJC = 0x40b0;
export const MGTPRC = 0x40b4;
export const MGTPDC = 0x40b8;
export const MGTPTC = 0x40bc;
export const TORL = 0x40c0;
export const TORH = 0x40c4;
export const TOTL = 0x40c8;
export const TOTH = 0x40cc;
export const TPR = 0x40d0;
export const TPT = 0x40d4;
export const PTC64 = 0x40d8;
export const PTC127 = 0x40dc;
export const PTC255 = 0x40e0;
export const PTC511 = 0x40e4;
export const PTC1023 = 0x40e8;
export const PTC1522 = 0x40ec;
export const MPTC = 0x40f0;
export const BPTC = 0x40f4;
export const TSCTC = 0x40f8;
export const TSCTFC = 0x40fc;
export const STATS_FIRST = CRCERRS;
export const STATS_LAST = TSCTFC;

// ---- I/O BAR ----
export const IOADDR = 0x00;
export const IODATA = 0x04;
/** IOADDR bits 31:20 are hard-wired to zero. */
export const IOADDR_MASK = 0x000fffff;

// ---- CTRL ----
export const CTRL_FD = 1 << 0;
export const CTRL_LRST = 1 << 3;
export const CTRL_ASDE = 1 << 5;
export const CTRL_SLU = 1 << 6;
export const CTRL_ILOS = 1 << 7;
export const CTRL_SPEED_SHIFT = 8;
export const CTRL_SPEED_MASK = 3 << 8;
export const CTRL_FRCSPD = 1 << 11;
export const CTRL_FRCDPLX = 1 << 12;
export const CTRL_RST = 1 << 26;
export const CTRL_RFCE = 1 << 27;
export const CTRL_TFCE = 1 << 28;
export const CTRL_VME = 1 << 30;
export const CTRL_PHY_RST = 1 << 31;
export const CTRL_WRITABLE = 0xdcfc1be9;

// ---- STATUS ----
export const STATUS_FD = 1 << 0;
export const STATUS_LU = 1 << 1;
export const STATUS_TXOFF = 1 << 4;
export const STATUS_SPEED_SHIFT = 6;
export const STATUS_PCI66 = 1 << 11;
export const STATUS_BUS64 = 1 << 12;
/** Speed field encodings shared by CTRL.SPEED and STATUS.SPEED. */
export const SPEED_10 = 0;
export const SPEED_100 = 1;
export const SPEED_1000 = 2;

// ---- EECD / EERD ----
export const EECD_SK = 1 << 0;
export const EECD_CS = 1 << 1;
export const EECD_DI = 1 << 2;
export const EECD_DO = 1 << 3;
export const EECD_FWE_MASK = 3 << 4;
export const EECD_FWE_DISABLED = 1 << 4;
export const EECD_REQ = 1 << 6;
export const EECD_GNT = 1 << 7;
export const EECD_PRES = 1 << 8;
/** 0: 64-word (1 Kbit, 93C46-class) Microwire part; 1: 256 words. */
export const EECD_SIZE = 1 << 9;
export const EECD_WRITABLE = EECD_SK | EECD_CS | EECD_DI | EECD_FWE_MASK | EECD_REQ;
export const EERD_START = 1 << 0;
export const EERD_DONE = 1 << 4;
export const EERD_ADDR_SHIFT = 8;
export const EERD_DATA_SHIFT = 16;

// ---- CTRL_EXT ----
export const CTRL_EXT_EE_RST = 1 << 13;
export const CTRL_EXT_WRITABLE = 0x00ffffff & ~CTRL_EXT_EE_RST;

// ---- MDIC ----
export const MDIC_DATA_MASK = 0xffff;
export const MDIC_REG_SHIFT = 16;
export const MDIC_PHY_SHIFT = 21;
export const MDIC_OP_SHIFT = 26;
export const MDIC_OP_WRITE = 1;
export const MDIC_OP_READ = 2;
export const MDIC_READY = 1 << 28;
export const MDIC_INT_EN = 1 << 29;
export const MDIC_ERROR = 1 << 30;

// ---- interrupt causes (ICR/ICS/IMS/IMC) ----
export const ICR_TXDW = 1 << 0;
export const ICR_TXQE = 1 << 1;
export const ICR_LSC = 1 << 2;
export const ICR_RXSEQ = 1 << 3;
export const ICR_RXDMT0 = 1 << 4;
export const ICR_RXO = 1 << 6;
export const ICR_RXT0 = 1 << 7;
export const ICR_MDAC = 1 << 9;
export const ICR_RXCFG = 1 << 10;
export const ICR_PHYINT = 1 << 12;
export const ICR_GPI_SDP6 = 1 << 13;
export const ICR_GPI_SDP7 = 1 << 14;
export const ICR_TXD_LOW = 1 << 15;
export const ICR_SRPD = 1 << 16;
/** Causes the 8254x implements; the rest of ICR is reserved and reads 0. */
export const ICR_VALID = 0x0001f6df;

// ---- RCTL ----
export const RCTL_EN = 1 << 1;
export const RCTL_SBP = 1 << 2;
export const RCTL_UPE = 1 << 3;
export const RCTL_MPE = 1 << 4;
export const RCTL_LPE = 1 << 5;
export const RCTL_LBM_SHIFT = 6;
export const RCTL_LBM_MASK = 3 << 6;
export const RCTL_LBM_MAC = 1 << 6;
export const RCTL_RDMTS_SHIFT = 8;
export const RCTL_MO_SHIFT = 12;
export const RCTL_BAM = 1 << 15;
export const RCTL_BSIZE_SHIFT = 16;
export const RCTL_VFE = 1 << 18;
export const RCTL_CFIEN = 1 << 19;
export const RCTL_CFI = 1 << 20;
export const RCTL_DPF = 1 << 22;
export const RCTL_PMCF = 1 << 23;
export const RCTL_BSEX = 1 << 25;
export const RCTL_SECRC = 1 << 26;
export const RCTL_WRITABLE = 0x06dfb3fe;

// ---- RDTR / delay timers ----
export const RDTR_FPD = 1 << 31;
/** Delay timer registers count in units of 1.024 µs. */
export const DELAY_UNIT_NS = 1024;
/** ITR counts in units of 256 ns. */
export const ITR_UNIT_NS = 256;

// ---- RXCSUM ----
export const RXCSUM_PCSS_MASK = 0xff;
export const RXCSUM_IPOFL = 1 << 8;
export const RXCSUM_TUOFL = 1 << 9;

// ---- TCTL ----
export const TCTL_EN = 1 << 1;
export const TCTL_PSP = 1 << 3;
export const TCTL_WRITABLE = 0x037ffffa;

// ---- TXDCTL ----
export const TXDCTL_LWTHRESH_SHIFT = 25;

// ---- receive address high ----
export const RAH_AV = 1 << 31;
export const RAH_WRITABLE = 0x8003ffff;

// ---- receive descriptor (legacy, 16 bytes) ----
export const RXD_STAT_DD = 1 << 0;
export const RXD_STAT_EOP = 1 << 1;
export const RXD_STAT_IXSM = 1 << 2;
export const RXD_STAT_VP = 1 << 3;
export const RXD_STAT_TCPCS = 1 << 5;
export const RXD_STAT_IPCS = 1 << 6;
export const RXD_ERR_TCPE = 1 << 5;
export const RXD_ERR_IPE = 1 << 6;

// ---- transmit descriptors (16 bytes) ----
/** Command byte of a legacy descriptor, also DCMD of an extended data descriptor (bits 31:24 of dword 2). */
export const TXD_CMD_EOP = 1 << 0;
export const TXD_CMD_IFCS = 1 << 1;
/** Legacy: insert checksum. Extended data: TSE (TCP segmentation enable). */
export const TXD_CMD_IC = 1 << 2;
export const TXD_CMD_TSE = 1 << 2;
export const TXD_CMD_RS = 1 << 3;
export const TXD_CMD_RPS = 1 << 4;
export const TXD_CMD_DEXT = 1 << 5;
export const TXD_CMD_VLE = 1 << 6;
export const TXD_CMD_IDE = 1 << 7;
/** TUCMD of a context descriptor. */
export const TXD_TUCMD_TCP = 1 << 0;
export const TXD_TUCMD_IP = 1 << 1;
export const TXD_TUCMD_TSE = 1 << 2;
export const TXD_DTYP_CONTEXT = 0;
export const TXD_DTYP_DATA = 1;
export const TXD_STAT_DD = 1 << 0;
export const TXD_POPTS_IXSM = 1 << 0;
export const TXD_POPTS_TXSM = 1 << 1;
