/**
 * The MFI register set of the LSI MegaRAID SAS (xscale/IOP333 and ppc/SAS1078) chips, as the Linux
 * megaraid_sas driver and FreeBSD's mfireg.h describe it. All registers are 32 bits wide.
 */

/** Inbound message registers: host-to-firmware mailboxes; MFI firmware gives them no meaning. */
export const INBOUND_MSG_0 = 0x10;
export const INBOUND_MSG_1 = 0x14;
/** Outbound message 0: the firmware status word on xscale parts (also readable on the 1078). */
export const OUTBOUND_MSG_0 = 0x18;
export const OUTBOUND_MSG_1 = 0x1c;
export const INBOUND_DOORBELL = 0x20;
export const INBOUND_INTR_STATUS = 0x24;
export const INBOUND_INTR_MASK = 0x28;
export const OUTBOUND_DOORBELL = 0x2c;
export const OUTBOUND_INTR_STATUS = 0x30;
export const OUTBOUND_INTR_MASK = 0x34;
export const INBOUND_QUEUE_PORT = 0x40;
export const OUTBOUND_QUEUE_PORT = 0x44;
/** 1078 (ppc) only: the outbound doorbell the reply interrupt lives in, and its write-one-to-clear twin. */
export const OUTBOUND_DOORBELL_0 = 0x9c;
export const OUTBOUND_DOORBELL_CLEAR_0 = 0xa0;
/** 1078 (ppc) only: the firmware status word (scratch pad 0) and a second scratch pad. */
export const OUTBOUND_SCRATCH_PAD_0 = 0xb0;
export const OUTBOUND_SCRATCH_PAD_1 = 0xb4;
/** 1078 (ppc) only: a 64-bit frame address posted as high half first, then the low half with the count. */
export const INBOUND_LOW_QUEUE_PORT = 0xc0;
export const INBOUND_HIGH_QUEUE_PORT = 0xc4;

/** Registers live in the first 256 bytes of the register BAR; the I/O BAR mirrors exactly these. */
export const REGISTER_WINDOW = 0x100;

/** Firmware state: the top nibble of the status word. */
export const MfiState = {
  UNDEFINED: 0x00000000,
  BB_INIT: 0x10000000,
  FW_INIT: 0x40000000,
  WAIT_HANDSHAKE: 0x60000000,
  FW_INIT_2: 0x70000000,
  DEVICE_SCAN: 0x80000000,
  BOOT_MESSAGE_PENDING: 0x90000000,
  FLUSH_CACHE: 0xa0000000,
  READY: 0xb0000000,
  OPERATIONAL: 0xc0000000,
  FAULT: 0xf0000000,
} as const;
export type MfiState = (typeof MfiState)[keyof typeof MfiState];
export const MFI_STATE_MASK = 0xf0000000;
export const MFI_STATE_MAX_SGE_SHIFT = 16;
export const MFI_STATE_MAX_SGE_MASK = 0x00ff0000;
export const MFI_STATE_MAX_COMMANDS_MASK = 0x0000ffff;

/** Inbound doorbell bits: what the host asks of the firmware. */
export const MfiDoorbell = {
  ABORT: 0x01,
  READY: 0x02,
  MFI_MODE: 0x04,
  CLEAR_HANDSHAKE: 0x08,
  HOTPLUG: 0x10,
  STOP_ADAPTER: 0x20,
  ADAPTER_RESET: 0x40,
} as const;

/** xscale outbound interrupt status: reply posted (bit 1) and outbound message 0 (state) written (bit 0). */
export const XSCALE_REPLY_INTERRUPT = 0x00000002;
export const XSCALE_STATE_CHANGE_INTERRUPT = 0x00000001;
/** 1078 outbound doorbell: reply posted (bit 31) and firmware state change (bit 2). */
export const PPC_REPLY_INTERRUPT = 0x80000000;
export const PPC_STATE_CHANGE_INTERRUPT = 0x00000004;

/** The outbound post queue is unused by MFI; reading it returns the IOP's "queue empty" value. */
export const OUTBOUND_QUEUE_EMPTY = 0xffffffff;
