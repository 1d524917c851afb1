/**
 * MFI message frames (megaraid_sas.h / mfireg.h): a 64-byte frame, optionally followed by more 64-byte
 * frames holding the rest of the scatter-gather list. Every frame starts with the same 24-byte header.
 * All fields are little-endian.
 */

export const MFI_FRAME_SIZE = 64;

export const MfiCommand = {
  INIT: 0x00,
  LD_READ: 0x01,
  LD_WRITE: 0x02,
  LD_SCSI_IO: 0x03,
  PD_SCSI_IO: 0x04,
  DCMD: 0x05,
  ABORT: 0x06,
  SMP: 0x07,
  STP: 0x08,
} as const;

/** Header fields (offsets into the frame). */
export const Header = {
  COMMAND: 0,
  SENSE_LENGTH: 1,
  COMMAND_STATUS: 2,
  SCSI_STATUS: 3,
  TARGET_ID: 4,
  /** LUN in pass-through frames; the access byte (CDB byte 1: FUA) in LD read/write frames. */
  LUN: 5,
  CDB_LENGTH: 6,
  SGE_COUNT: 7,
  CONTEXT: 8,
  CONTEXT_HIGH: 12,
  FLAGS: 16,
  TIMEOUT: 18,
  /** Bytes for pass-through and DCMD frames; blocks for LD read/write frames. */
  DATA_LENGTH: 20,
  SIZE: 24,
} as const;

export const InitFrame = { QUEUE_INFO: 24, QUEUE_INFO_HIGH: 28, OLD_QUEUE_INFO: 32, OLD_QUEUE_INFO_HIGH: 36 } as const;
export const IoFrame = { SENSE_ADDRESS: 24, SENSE_ADDRESS_HIGH: 28, LBA: 32, LBA_HIGH: 36, SGL: 40 } as const;
export const PassThroughFrame = { SENSE_ADDRESS: 24, SENSE_ADDRESS_HIGH: 28, CDB: 32, CDB_MAX: 16, SGL: 48 } as const;
export const DcmdFrame = { OPCODE: 24, MAILBOX: 28, MAILBOX_SIZE: 12, SGL: 40 } as const;
export const AbortFrame = { ABORT_CONTEXT: 24, ABORT_CONTEXT_HIGH: 28, ABORT_FRAME: 32, ABORT_FRAME_HIGH: 36 } as const;

/** The queue description an INIT frame points at (struct megasas_init_queue_info). */
export const QueueInfo = { FLAGS: 0, ENTRIES: 4, REPLY_QUEUE: 8, PRODUCER: 16, CONSUMER: 24, SIZE: 32 } as const;
/** Reply queue entries hold 64-bit contexts instead of 32-bit ones. */
export const QUEUE_FLAG_CONTEXT64 = 0x2;

export const FrameFlags = {
  DONT_POST_IN_REPLY_QUEUE: 0x0001,
  SGL64: 0x0002,
  SENSE64: 0x0004,
  DIR_WRITE: 0x0008,
  DIR_READ: 0x0010,
  /** Skinny (gen2 SAS2008) IEEE SGEs; the chips modelled here do not understand them. */
  IEEE_SGL: 0x0020,
} as const;
export const FRAME_DIRECTION_MASK = FrameFlags.DIR_WRITE | FrameFlags.DIR_READ;

export const SGE32_SIZE = 8;
export const SGE64_SIZE = 12;

/** Command status codes written to the frame header (mfi_status_t). */
export const MfiStatus = {
  OK: 0x00,
  INVALID_CMD: 0x01,
  INVALID_DCMD: 0x02,
  INVALID_PARAMETER: 0x03,
  ABORT_NOT_POSSIBLE: 0x05,
  DEVICE_NOT_FOUND: 0x0c,
  FLUSH_FAILED: 0x15,
  LD_LBA_OUT_OF_RANGE: 0x19,
  NOT_FOUND: 0x23,
  SCSI_DONE_WITH_ERROR: 0x2d,
  SCSI_IO_FAILED: 0x2e,
  SHUTDOWN_FAILED: 0x30,
  WRONG_STATE: 0x32,
  LD_OFFLINE: 0x33,
  PCI_ERRORS_DETECTED: 0x38,
  INVALID_SGL: 0x3c,
  INVALID_STATUS: 0xff,
} as const;
export type MfiStatus = (typeof MfiStatus)[keyof typeof MfiStatus];

/** Direct commands: the management opcodes carried in DCMD frames (MR_DCMD_*). */
export const DcmdOpcode = {
  CTRL_GET_INFO: 0x01010000,
  CTRL_GET_PROPERTIES: 0x01020100,
  CTRL_SET_PROPERTIES: 0x01020200,
  CTRL_EVENT_GET_INFO: 0x01040100,
  CTRL_EVENT_GET: 0x01040300,
  CTRL_EVENT_WAIT: 0x01040500,
  CTRL_SHUTDOWN: 0x01050000,
  CTRL_CACHE_FLUSH: 0x01101000,
  PD_GET_LIST: 0x02010000,
  PD_LIST_QUERY: 0x02010100,
  PD_GET_INFO: 0x02020000,
  LD_GET_LIST: 0x03010000,
  LD_LIST_QUERY: 0x03010100,
  LD_GET_INFO: 0x03020000,
  LD_GET_PROPERTIES: 0x03030000,
} as const;

/** MR_PD_QUERY_TYPE_* (PD_LIST_QUERY mailbox byte 0). */
export const PdQueryType = { ALL: 0, STATE: 1, POWER_STATE: 2, MEDIA_TYPE: 3, SPEED: 4, EXPOSED_TO_HOST: 5 } as const;
/** MR_LD_QUERY_TYPE_* (LD_LIST_QUERY mailbox byte 0). */
export const LdQueryType = { ALL: 0, EXPOSED_TO_HOST: 1, USED_TARGET_IDS: 2 } as const;

export const LD_STATE_OPTIMAL = 3;
/** A physical drive exposed to the host as a system (JBOD) drive. */
export const PD_STATE_SYSTEM = 0x40;
export const MAX_LOGICAL_DRIVES = 64;
/** Device IDs of physical drives span two PD channels of 128 devices each. */
export const MAX_PHYSICAL_DRIVES = 256;
