import type { ScsiAdapterCommand, ScsiDone } from "@vmk/kernel";
import { DMA_NONE } from "../dma.js";
import { vsprintf } from "../printk.js";
import { ENOMEM } from "../errno.js";
import { dma_map_sg, dma_unmap_sg, type scatterlist } from "../scatterlist.js";
import { SAM_STAT_CHECK_CONDITION } from "./scsi_proto.js";
import { scsi_build_sense_buffer, SCSI_SENSE_BUFFERSIZE } from "./scsi_common.js";
import type { Scsi_Host } from "./scsi_host.js";

/** Host byte of scsi_cmnd.result (result >> 16): how delivery went. */
export const DID_OK = 0x00;
export const DID_NO_CONNECT = 0x01;
export const DID_BUS_BUSY = 0x02;
export const DID_TIME_OUT = 0x03;
export const DID_BAD_TARGET = 0x04;
export const DID_ABORT = 0x05;
export const DID_PARITY = 0x06;
export const DID_ERROR = 0x07;
export const DID_RESET = 0x08;
export const DID_BAD_INTR = 0x09;
export const DID_PASSTHROUGH = 0x0a;
export const DID_SOFT_ERROR = 0x0b;
export const DID_IMM_RETRY = 0x0c;
export const DID_REQUEUE = 0x0d;
export const DID_TRANSPORT_DISRUPTED = 0x0e;
export const DID_TRANSPORT_FAILFAST = 0x0f;

/** struct scsi_device: one LUN as the driver sees it. */
export class scsi_device {
  /** Whatever the driver hangs off the device (slave_alloc's hostdata). */
  hostdata: unknown = null;
  queue_depth: number;
  constructor(
    readonly host: Scsi_Host,
    readonly channel: number,
    readonly id: number,
    readonly lun: number,
  ) {
    this.queue_depth = host.cmd_per_lun;
  }
}

/** struct sg_table */
export class sg_table {
  sgl: scatterlist[] = [];
  nents = 0;
  orig_nents = 0;
}

/** struct scsi_data_buffer */
export class scsi_data_buffer {
  readonly table = new sg_table();
  length = 0;
  resid = 0;
}

/** Where a command stands between vmklinux and the driver. */
export const SCMD_STATE = {
  /** Not with the driver (in the pool, or a handle for an error handler). */
  IDLE: 0,
  /** queuecommand accepted it; scsi_done has not been called. */
  ISSUED: 1,
  /** Taken back by an error handler that succeeded; a late scsi_done is ignored. */
  RECLAIMED: 2,
} as const;

/** struct scsi_cmnd. `cmnd` is the CDB (its first `cmd_len` bytes). */
export class scsi_cmnd {
  device!: scsi_device;
  cmnd: Uint8Array = new Uint8Array(16);
  cmd_len = 0;
  /** enum dma_data_direction (DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_NONE). */
  sc_data_direction = DMA_NONE;
  readonly sdb = new scsi_data_buffer();
  /** Host byte << 16 | SAM status byte. */
  result = 0;
  readonly sense_buffer = new Uint8Array(SCSI_SENSE_BUFFERSIZE);
  /** The driver's own per-command pointer. */
  host_scribble: unknown = null;
  /** Midlayer retries so far, as the driver may print them. */
  retries = 0;
  allowed = 0;
  /** Command timeout in jiffies. */
  timeout = 0;
  serial_number = 0;
  /** Called by the driver when the command is over (Linux's cmd->scsi_done, or scsi_done(cmd)). */
  scsi_done: (cmd: scsi_cmnd) => void = unbound_done;

  /** vmklinux's own bookkeeping: the kernel command this stands for and where its outcome goes. */
  state: number = SCMD_STATE.IDLE;
  kernel_command: ScsiAdapterCommand | null = null;
  kernel_done: ScsiDone | null = null;
  /** Slab slot of the bounce buffer when the kernel's buffer is not machine memory; -1 otherwise. */
  bounce_slot = -1;
  /** Whether scsi_dma_map mapped the scatterlist (scsi_dma_unmap undoes it). */
  dma_mapped = 0;
}

function unbound_done(cmd: scsi_cmnd): void {
  throw new Error(`scsi_done on a command vmklinux never issued (CDB 0x${cmd.cmnd[0]?.toString(16)})`);
}

export function scsi_done(cmd: scsi_cmnd): void {
  cmd.scsi_done(cmd);
}

export function scsi_sglist(cmd: scsi_cmnd): scatterlist[] {
  return cmd.sdb.table.sgl;
}
export function scsi_sg_count(cmd: scsi_cmnd): number {
  return cmd.sdb.table.nents;
}
export function scsi_bufflen(cmd: scsi_cmnd): number {
  return cmd.sdb.length;
}
export function scsi_set_resid(cmd: scsi_cmnd, resid: number): void {
  cmd.sdb.resid = resid;
}
export function scsi_get_resid(cmd: scsi_cmnd): number {
  return cmd.sdb.resid;
}

export function host_byte(result: number): number {
  return (result >>> 16) & 0xff;
}
export function set_host_byte(cmd: scsi_cmnd, status: number): void {
  cmd.result = (cmd.result & 0xff00ffff) | ((status & 0xff) << 16);
}
export function get_status_byte(cmd: scsi_cmnd): number {
  return cmd.result & 0xff;
}
export function set_status_byte(cmd: scsi_cmnd, status: number): void {
  cmd.result = (cmd.result & 0xffffff00) | (status & 0xff);
}

/**
 * Maps the command's scatterlist for the host's DMA device: the segment count (0 for a command
 * without data), or -ENOMEM when it cannot be mapped.
 */
export function scsi_dma_map(cmd: scsi_cmnd): number {
  const nents = scsi_sg_count(cmd);
  if (nents === 0) return 0;
  const mapped = dma_map_sg(cmd.device.host.dma_dev(), scsi_sglist(cmd), nents, cmd.sc_data_direction);
  if (mapped === 0) return -ENOMEM;
  cmd.dma_mapped = nents;
  return mapped;
}

export function scsi_dma_unmap(cmd: scsi_cmnd): void {
  if (cmd.dma_mapped === 0) return;
  dma_unmap_sg(cmd.device.host.dma_dev(), scsi_sglist(cmd), cmd.dma_mapped, cmd.sc_data_direction);
  cmd.dma_mapped = 0;
}

/** CHECK CONDITION with sense `key`/`asc`/`ascq` (fixed format unless `desc`); the host byte is DID_OK. */
export function scsi_build_sense(cmd: scsi_cmnd, desc: number | boolean, key: number, asc: number, ascq: number): void {
  scsi_build_sense_buffer(desc, cmd.sense_buffer, key, asc, ascq);
  cmd.result = SAM_STAT_CHECK_CONDITION;
}

/** sdev_printk: a line about one LUN, named as the vmkernel names its path (vmhba0:C0:T1:L0). */
export function sdev_printk(level: number, sdev: scsi_device, format: string, ...args: unknown[]): void {
  const host = sdev.host;
  const linux = host.linux;
  if (!linux) return;
  const name = host.registration?.name ?? host.hostt.name;
  linux.log_line(level, `${name}:C${sdev.channel}:T${sdev.id}:L${sdev.lun}: ${vsprintf(format, args)}`);
}

export function scmd_printk(level: number, cmd: scsi_cmnd, format: string, ...args: unknown[]): void {
  sdev_printk(level, cmd.device, format, ...args);
}
