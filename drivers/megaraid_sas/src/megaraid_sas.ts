/**
 * The driver's definitions (Linux's megaraid_sas.h): firmware states, doorbell and interrupt bits,
 * MFI frame layouts as byte offsets, command and instance structures.
 */
import { completion, tasklet_struct, type dma_coherent, type iomem, type Linux, type pci_dev, type scsi_cmnd, type Scsi_Host } from "@vmk/vmklinux";

export const MEGASAS_VERSION = "00.00.04.17-vmk";
export const MEGASAS_RELDATE = "Nov. 2026";

export const PCI_VENDOR_ID_LSI_LOGIC = 0x1000;
export const PCI_VENDOR_ID_DELL = 0x1028;
export const PCI_DEVICE_ID_LSI_SAS1078R = 0x0060;
export const PCI_DEVICE_ID_LSI_SAS1064R = 0x0411;
export const PCI_DEVICE_ID_DELL_PERC5 = 0x0015;

/** Firmware state: the top nibble of the status register. */
export const MFI_STATE_MASK = 0xf0000000;
export const MFI_STATE_UNDEFINED = 0x00000000;
export const MFI_STATE_BB_INIT = 0x10000000;
export const MFI_STATE_FW_INIT = 0x40000000;
export const MFI_STATE_WAIT_HANDSHAKE = 0x60000000;
export const MFI_STATE_FW_INIT_2 = 0x70000000;
export const MFI_STATE_DEVICE_SCAN = 0x80000000;
export const MFI_STATE_BOOT_MESSAGE_PENDING = 0x90000000;
export const MFI_STATE_FLUSH_CACHE = 0xa0000000;
export const MFI_STATE_READY = 0xb0000000;
export const MFI_STATE_OPERATIONAL = 0xc0000000;
export const MFI_STATE_FAULT = 0xf0000000;
/** Below the state: the SGEs per command (bits 16..23) and the commands the firmware takes (bits 0..15). */
export const MFI_STATE_MAX_SGE_MASK = 0x00ff0000;
export const MFI_STATE_MAX_SGE_SHIFT = 16;
export const MFI_STATE_MAX_COMMANDS_MASK = 0x0000ffff;
export const SECTOR_SIZE = 512;

/** Inbound doorbell bits. */
export const MFI_INIT_ABORT = 0x00000001;
export const MFI_INIT_READY = 0x00000002;
export const MFI_INIT_MFIMODE = 0x00000004;
export const MFI_INIT_CLEAR_HANDSHAKE = 0x00000008;
export const MFI_INIT_HOTPLUG = 0x00000010;
export const MFI_STOP_ADP = 0x00000020;
export const MFI_ADP_RESET = 0x00000040;
export const MFI_RESET_FLAGS = MFI_INIT_READY | MFI_INIT_MFIMODE | MFI_INIT_ABORT;

/** Reply interrupt bits: xscale outbound interrupt status, 1078 outbound doorbell. */
export const MFI_OB_INTR_STATUS_MASK = 0x00000002;
export const MFI_XSCALE_OMR0_CHANGE_INTERRUPT = 0x00000001;
export const MFI_REPLY_1078_MESSAGE_INTERRUPT = 0x80000000;
export const MFI_1078_EIM = 0x80000004;
export const MFI_G2_OUTBOUND_DOORBELL_CHANGE_INTERRUPT = 0x00000004;
/** What clear_intr found (and acknowledged). */
export const MFI_INTR_FLAG_REPLY_MESSAGE = 0x00000001;
export const MFI_INTR_FLAG_FIRMWARE_STATE_CHANGE = 0x00000002;

/** The register set (struct megasas_register_set), as offsets into the register BAR. */
export const MFI_INBOUND_MSG_0 = 0x10;
export const MFI_OUTBOUND_MSG_0 = 0x18;
export const MFI_INBOUND_DOORBELL = 0x20;
export const MFI_OUTBOUND_INTR_STATUS = 0x30;
export const MFI_OUTBOUND_INTR_MASK = 0x34;
export const MFI_INBOUND_QUEUE_PORT = 0x40;
export const MFI_OUTBOUND_DOORBELL_CLEAR = 0xa0;
export const MFI_OUTBOUND_SCRATCH_PAD = 0xb0;
export const MFI_INBOUND_LOW_QUEUE_PORT = 0xc0;
export const MFI_INBOUND_HIGH_QUEUE_PORT = 0xc4;

/** MFI frame commands. */
export const MFI_CMD_INIT = 0x00;
export const MFI_CMD_LD_READ = 0x01;
export const MFI_CMD_LD_WRITE = 0x02;
export const MFI_CMD_LD_SCSI_IO = 0x03;
export const MFI_CMD_PD_SCSI_IO = 0x04;
export const MFI_CMD_DCMD = 0x05;
export const MFI_CMD_ABORT = 0x06;
export const MFI_CMD_SMP = 0x07;
export const MFI_CMD_STP = 0x08;

/** Frame flags. */
export const MFI_FRAME_POST_IN_REPLY_QUEUE = 0x0000;
export const MFI_FRAME_DONT_POST_IN_REPLY_QUEUE = 0x0001;
export const MFI_FRAME_SGL32 = 0x0000;
export const MFI_FRAME_SGL64 = 0x0002;
export const MFI_FRAME_SENSE32 = 0x0000;
export const MFI_FRAME_SENSE64 = 0x0004;
export const MFI_FRAME_DIR_NONE = 0x0000;
export const MFI_FRAME_DIR_WRITE = 0x0008;
export const MFI_FRAME_DIR_READ = 0x0010;
export const MFI_FRAME_DIR_BOTH = 0x0018;

/** Command status codes (enum MFI_STAT). */
export const MFI_STAT_OK = 0x00;
export const MFI_STAT_INVALID_CMD = 0x01;
export const MFI_STAT_INVALID_DCMD = 0x02;
export const MFI_STAT_INVALID_PARAMETER = 0x03;
export const MFI_STAT_ABORT_NOT_POSSIBLE = 0x05;
export const MFI_STAT_DEVICE_NOT_FOUND = 0x0c;
export const MFI_STAT_LD_INIT_IN_PROGRESS = 0x11;
export const MFI_STAT_LD_LBA_OUT_OF_RANGE = 0x19;
export const MFI_STAT_NOT_FOUND = 0x23;
export const MFI_STAT_SCSI_DONE_WITH_ERROR = 0x2d;
export const MFI_STAT_SCSI_IO_FAILED = 0x2e;
export const MFI_STAT_WRONG_STATE = 0x32;
export const MFI_STAT_LD_OFFLINE = 0x33;
export const MFI_STAT_PCI_ERRORS_DETECTED = 0x38;
export const MFI_STAT_INVALID_SGL = 0x3c;
/** Preset by the driver; the firmware overwrites it when the frame completes. */
export const MFI_STAT_INVALID_STATUS = 0xff;

/** Direct commands. */
export const MR_DCMD_CTRL_GET_INFO = 0x01010000;
export const MR_DCMD_CTRL_CACHE_FLUSH = 0x01101000;
export const MR_FLUSH_CTRL_CACHE = 0x01;
export const MR_FLUSH_DISK_CACHE = 0x02;
export const MR_DCMD_CTRL_SHUTDOWN = 0x01050000;
export const MR_DCMD_LD_GET_LIST = 0x03010000;

export const MEGAMFI_FRAME_SIZE = 64;
/** Frames are posted by address >> 3 on xscale, so they must be 64-byte aligned. */
export const MEGAMFI_FRAME_ALIGN = 64;
export const MEGASAS_MAX_LD = 64;
export const MEGASAS_MAX_PD_CHANNELS = 2;
export const MEGASAS_MAX_DEV_PER_CHANNEL = 128;
export const MEGASAS_DEFAULT_INIT_ID = -1;
/** Commands kept back from the SCSI midlayer for the driver's own use (DCMDs, aborts). */
export const MEGASAS_INT_CMDS = 32;
export const MEGASAS_DEFAULT_CMD_PER_LUN = 128;
export const MEGASAS_SENSE_LEN = 128;
export const MEGASAS_RESET_WAIT_TIME = 180;
export const MEGASAS_INTERNAL_CMD_WAIT_TIME = 180;
export const MFI_POLL_TIMEOUT_SECS = 60;
/** How long the device reset waits for the commands it aborted to come back. */
export const MEGASAS_ABORT_WAIT_SECS = 5;

/** struct megasas_header */
export const HDR_CMD = 0;
export const HDR_SENSE_LEN = 1;
export const HDR_CMD_STATUS = 2;
export const HDR_SCSI_STATUS = 3;
export const HDR_TARGET_ID = 4;
export const HDR_LUN = 5;
export const HDR_CDB_LEN = 6;
export const HDR_SGE_COUNT = 7;
export const HDR_CONTEXT = 8;
export const HDR_PAD_0 = 12;
export const HDR_FLAGS = 16;
export const HDR_TIMEOUT = 18;
export const HDR_DATA_XFERLEN = 20;
/** struct megasas_io_frame (LD_READ / LD_WRITE): data_xferlen is lba_count, the LUN byte is access_byte. */
export const IO_ACCESS_BYTE = 5;
export const IO_LBA_COUNT = 20;
export const IO_SENSE_BUF_PHYS_ADDR_LO = 24;
export const IO_SENSE_BUF_PHYS_ADDR_HI = 28;
export const IO_START_LBA_LO = 32;
export const IO_START_LBA_HI = 36;
export const IO_SGL = 40;
/** struct megasas_pthru_frame */
export const PTHRU_SENSE_BUF_PHYS_ADDR_LO = 24;
export const PTHRU_SENSE_BUF_PHYS_ADDR_HI = 28;
export const PTHRU_CDB = 32;
export const PTHRU_SGL = 48;
/** struct megasas_dcmd_frame */
export const DCMD_OPCODE = 24;
export const DCMD_MBOX = 28;
export const DCMD_SGL = 40;
/** struct megasas_abort_frame */
export const ABORT_CONTEXT = 24;
export const ABORT_MFI_PHYS_ADDR_LO = 32;
export const ABORT_MFI_PHYS_ADDR_HI = 36;
/** struct megasas_init_frame and struct megasas_init_queue_info */
export const INIT_QUEUE_INFO_NEW_PHYS_ADDR_LO = 24;
export const INIT_QUEUE_INFO_NEW_PHYS_ADDR_HI = 28;
export const QINFO_INIT_FLAGS = 0;
export const QINFO_REPLY_QUEUE_ENTRIES = 4;
export const QINFO_REPLY_QUEUE_START_PHYS_ADDR_LO = 8;
export const QINFO_REPLY_QUEUE_START_PHYS_ADDR_HI = 12;
export const QINFO_PRODUCER_INDEX_PHYS_ADDR_LO = 16;
export const QINFO_PRODUCER_INDEX_PHYS_ADDR_HI = 20;
export const QINFO_CONSUMER_INDEX_PHYS_ADDR_LO = 24;
export const QINFO_CONSUMER_INDEX_PHYS_ADDR_HI = 28;
export const MEGASAS_INIT_QUEUE_INFO_SIZE = 32;
/** SGEs: 32-bit (phys_addr, length), 64-bit (phys_addr lo, hi, length). */
export const MEGASAS_SGE32_SIZE = 8;
export const MEGASAS_SGE64_SIZE = 12;

/** struct megasas_ctrl_info: the fields this driver reads. */
export const MEGASAS_CTRL_INFO_SIZE = 0x800;
export const CTRL_INFO_PRODUCT_NAME = 0x540;
export const CTRL_INFO_SERIAL_NO = 0x590;
export const CTRL_INFO_MAX_REQUEST_SIZE = 0x5bc;
export const CTRL_INFO_LD_PRESENT_COUNT = 0x5c0;
export const CTRL_INFO_MAX_STRIPS_PER_IO = 0x5da;
export const CTRL_INFO_STRIPE_SZ_MIN = 0x5e8;
export const CTRL_INFO_PACKAGE_VERSION = 0x640;
/** struct MR_LD_LIST */
export const MR_LD_LIST_SIZE = 8 + MEGASAS_MAX_LD * 16;
export const MR_LD_STATE_OPTIMAL = 3;

/** What CTRL_GET_INFO told us. */
export interface megasas_ctrl_info {
  product_name: string;
  serial_no: string;
  package_version: string;
  max_request_size: number;
  max_strips_per_io: number;
  stripe_sz_min: number;
  ld_present_count: number;
}

/** struct megasas_cmd: one frame (with its chained SGL frames) and its sense buffer in DMA memory. */
export class megasas_cmd {
  /** The context posted back in the reply queue. */
  index = 0;
  frame: DataView = new DataView(new ArrayBuffer(0));
  frame_bytes: Uint8Array = new Uint8Array(0);
  frame_phys_addr = 0;
  sense: Uint8Array = new Uint8Array(0);
  sense_phys_addr = 0;
  /** Extra 64-byte frames the SGL occupies (the frame count posted with the address). */
  frame_count = 0;
  scmd: scsi_cmnd | null = null;
  /** Internal commands: woken by megasas_complete_int_cmd. */
  sync_cmd = false;
  readonly done = new completion();
  cmd_status = MFI_STAT_INVALID_STATUS;
  /** A device reset asked the firmware to abort this command; its reply belongs to the error handler. */
  abort_requested = false;
  /** On the free list. */
  free = true;
}

/** The per-chip register access (struct megasas_instance_template). */
export interface megasas_instance_template {
  fire_cmd(instance: megasas_instance, frame_phys_addr: number, frame_count: number, regs: iomem): void;
  enable_intr(regs: iomem): void;
  disable_intr(regs: iomem): void;
  /** Acknowledges the controller's causes; MFI_INTR_FLAG_* for what they were, 0 when the interrupt was not ours. */
  clear_intr(regs: iomem): number;
  read_fw_status_reg(regs: iomem): number;
  /** Online controller reset: the firmware reboots and forgets every command. */
  adp_reset(instance: megasas_instance, regs: iomem): number;
}

/** struct megasas_instance: the Scsi_Host's private data. */
export class megasas_instance {
  linux!: Linux;
  pdev!: pci_dev;
  host!: Scsi_Host<megasas_instance>;
  instancet!: megasas_instance_template;
  reg_set!: iomem;
  base_bar = 0;
  bars = 0;

  /** Reply queue: max_fw_cmds + 1 contexts; producer and consumer indices in their own words. */
  reply_queue: dma_coherent | null = null;
  producer_consumer: dma_coherent | null = null;
  /** Producer at 0, consumer at 64 (separate cache lines, as the firmware writes one and the driver the other). */
  readonly producer = 0;
  readonly consumer = 64;

  frame_pool: dma_coherent | null = null;
  sense_pool: dma_coherent | null = null;
  cmd_list: megasas_cmd[] = [];
  cmd_pool: megasas_cmd[] = [];
  max_fw_cmds = 0;
  max_num_sge = 0;
  max_sectors_per_req = 0;
  /** Frame slot size: the main frame plus the chained frames the largest SGL needs. */
  frame_size = 0;
  /** Commands with the firmware for the SCSI midlayer. */
  fw_outstanding = 0;
  /** 64-bit SGEs and sense addresses (IS_DMA64 in Linux: a 64-bit DMA mask was accepted). */
  dma64 = false;
  ctrl_info: megasas_ctrl_info | null = null;
  /** Logical drive target IDs the firmware reported (MR_DCMD_LD_GET_LIST). */
  readonly ld_ids = new Set<number>();

  readonly isr_tasklet = new tasklet_struct();
  irq_requested = false;
  /** Set when a reset failed: the adapter takes no more commands. */
  hw_crit_error = false;
  /** An adapter reset is running: queuecommand answers busy. */
  adprecovery = false;
  unload = false;
}
