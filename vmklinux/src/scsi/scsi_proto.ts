/**
 * The SCSI protocol as Linux's scsi_proto.h spells it: operation codes, SAM status codes and sense
 * keys a low-level driver looks at. Values are the standards' (SPC-4, SBC-3, SAM-5).
 */

export const TEST_UNIT_READY = 0x00;
export const REQUEST_SENSE = 0x03;
export const READ_6 = 0x08;
export const WRITE_6 = 0x0a;
export const INQUIRY = 0x12;
export const MODE_SELECT = 0x15;
export const RESERVE = 0x16;
export const RELEASE = 0x17;
export const MODE_SENSE = 0x1a;
export const START_STOP = 0x1b;
export const ALLOW_MEDIUM_REMOVAL = 0x1e;
export const READ_CAPACITY = 0x25;
export const READ_10 = 0x28;
export const WRITE_10 = 0x2a;
export const VERIFY = 0x2f;
export const SYNCHRONIZE_CACHE = 0x35;
export const WRITE_SAME = 0x41;
export const UNMAP = 0x42;
export const MODE_SELECT_10 = 0x55;
export const MODE_SENSE_10 = 0x5a;
export const PERSISTENT_RESERVE_IN = 0x5e;
export const PERSISTENT_RESERVE_OUT = 0x5f;
export const READ_16 = 0x88;
export const COMPARE_AND_WRITE = 0x89;
export const WRITE_16 = 0x8a;
export const SYNCHRONIZE_CACHE_16 = 0x91;
export const SERVICE_ACTION_IN_16 = 0x9e;
export const REPORT_LUNS = 0xa0;
export const READ_12 = 0xa8;
export const WRITE_12 = 0xaa;

/** SAM status codes: the low byte of scsi_cmnd.result. */
export const SAM_STAT_GOOD = 0x00;
export const SAM_STAT_CHECK_CONDITION = 0x02;
export const SAM_STAT_CONDITION_MET = 0x04;
export const SAM_STAT_BUSY = 0x08;
export const SAM_STAT_INTERMEDIATE = 0x10;
export const SAM_STAT_RESERVATION_CONFLICT = 0x18;
export const SAM_STAT_TASK_SET_FULL = 0x28;
export const SAM_STAT_ACA_ACTIVE = 0x30;
export const SAM_STAT_TASK_ABORTED = 0x40;

/** Sense keys. */
export const NO_SENSE = 0x00;
export const RECOVERED_ERROR = 0x01;
export const NOT_READY = 0x02;
export const MEDIUM_ERROR = 0x03;
export const HARDWARE_ERROR = 0x04;
export const ILLEGAL_REQUEST = 0x05;
export const UNIT_ATTENTION = 0x06;
export const DATA_PROTECT = 0x07;
export const BLANK_CHECK = 0x08;
export const ABORTED_COMMAND = 0x0b;
export const VOLUME_OVERFLOW = 0x0d;
export const MISCOMPARE = 0x0e;
