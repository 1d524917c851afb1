/**
 * The SCSI vocabulary the vmkernel speaks with adapters. The kernel imports nothing from hardware/, so
 * these are its own definitions; values follow SAM-5/SPC-4/SBC-3 and Linux's host byte, which is what
 * vmklinux drivers already return.
 */

/** SAM-5 status codes (the target's verdict on a command that reached it). */
export const ScsiStatus = {
  GOOD: 0x00,
  CHECK_CONDITION: 0x02,
  CONDITION_MET: 0x04,
  BUSY: 0x08,
  RESERVATION_CONFLICT: 0x18,
  TASK_SET_FULL: 0x28,
  ACA_ACTIVE: 0x30,
  TASK_ABORTED: 0x40,
} as const;
export type ScsiStatus = (typeof ScsiStatus)[keyof typeof ScsiStatus];

/**
 * The adapter's verdict on delivering the command (Linux's host byte, `DID_*`). Anything but DID_OK
 * means the target's status, if any, is not to be trusted.
 */
export const HostStatus = {
  DID_OK: 0x00,
  /** No connection to the target: selection timeout, link down, port logged out. */
  DID_NO_CONNECT: 0x01,
  DID_BUS_BUSY: 0x02,
  DID_TIME_OUT: 0x03,
  /** The target or LUN does not exist behind this adapter. */
  DID_BAD_TARGET: 0x04,
  DID_ABORT: 0x05,
  DID_PARITY: 0x06,
  DID_ERROR: 0x07,
  DID_RESET: 0x08,
  DID_BAD_INTR: 0x09,
  DID_PASSTHROUGH: 0x0a,
  DID_SOFT_ERROR: 0x0b,
  DID_IMM_RETRY: 0x0c,
  DID_REQUEUE: 0x0d,
  DID_TRANSPORT_DISRUPTED: 0x0e,
  DID_TRANSPORT_FAILFAST: 0x0f,
} as const;
export type HostStatus = (typeof HostStatus)[keyof typeof HostStatus];

const HOST_STATUS_NAMES = new Map<number, string>(Object.entries(HostStatus).map(([name, value]) => [value, name]));

export function hostStatusName(status: number): string {
  return HOST_STATUS_NAMES.get(status) ?? `DID_0x${status.toString(16)}`;
}

const SCSI_STATUS_NAMES = new Map<number, string>(Object.entries(ScsiStatus).map(([name, value]) => [value, name]));

export function scsiStatusName(status: number): string {
  return SCSI_STATUS_NAMES.get(status) ?? `status 0x${status.toString(16)}`;
}

/** SPC-4 sense keys. */
export const SenseKey = {
  NO_SENSE: 0x0,
  RECOVERED_ERROR: 0x1,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  HARDWARE_ERROR: 0x4,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
  DATA_PROTECT: 0x7,
  BLANK_CHECK: 0x8,
  ABORTED_COMMAND: 0xb,
  MISCOMPARE: 0xe,
} as const;
export type SenseKey = (typeof SenseKey)[keyof typeof SenseKey];

const SENSE_KEY_NAMES = new Map<number, string>(Object.entries(SenseKey).map(([name, value]) => [value, name]));

export function senseKeyName(key: number): string {
  return SENSE_KEY_NAMES.get(key) ?? `sense key 0x${key.toString(16)}`;
}

/** Operation codes the midlayer issues itself (scan, probe, block I/O). */
export const ScsiOpcode = {
  TEST_UNIT_READY: 0x00,
  INQUIRY: 0x12,
  READ_CAPACITY_10: 0x25,
  READ_10: 0x28,
  WRITE_10: 0x2a,
  SYNCHRONIZE_CACHE_10: 0x35,
  READ_16: 0x88,
  WRITE_16: 0x8a,
  SERVICE_ACTION_IN_16: 0x9e,
  REPORT_LUNS: 0xa0,
} as const;

/** SERVICE ACTION IN(16) service action of READ CAPACITY(16). */
export const READ_CAPACITY_16_SERVICE_ACTION = 0x10;

/** VPD page 83h: device identification. */
export const VPD_DEVICE_IDENTIFICATION = 0x83;

/** Which way data moves, seen from the initiator (SAM's data-out is `toDevice`, data-in `fromDevice`). */
export type DataDirection = "none" | "toDevice" | "fromDevice";
