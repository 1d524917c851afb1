import { describeError, Tokens, type AdapterRegistry, type RegisteredScsiAdapter } from "@vmk/kernel";
import type { device } from "../device.js";
import { EBUSY, EINVAL, ENODEV } from "../errno.js";
import type { Linux } from "../linux.js";
import { ScsiHostAdapter } from "./host_adapter.js";
import { scsi_device, type scsi_cmnd } from "./scsi_cmnd.js";

/** Error handler outcomes. */
export const SUCCESS = 0x2002;
export const FAILED = 0x2003;
export const FAST_IO_FAIL = 0x2005;

/** queuecommand's "not now": the midlayer keeps the command and sends it again after a completion. */
export const SCSI_MLQUEUE_HOST_BUSY = 0x1055;
export const SCSI_MLQUEUE_DEVICE_BUSY = 0x1056;
export const SCSI_MLQUEUE_EH_RETRY = 0x1057;
export const SCSI_MLQUEUE_TARGET_BUSY = 0x1058;

/** Linux's SCSI_DEFAULT_MAX_SECTORS. */
export const SCSI_DEFAULT_MAX_SECTORS = 1024;

/**
 * struct scsi_host_template. Error handlers may return their outcome or a promise of it: they run in
 * process context and may sleep (schedule_timeout_uninterruptible, wait_for_completion_timeout).
 */
export interface scsi_host_template {
  name: string;
  proc_name?: string;
  /** Describes the adapter (the console shows it as the adapter's model); `name` when absent. */
  info?(shost: Scsi_Host): string;
  /** 0 when the driver took the command (it calls scsi_done later, or already did); SCSI_MLQUEUE_* when it cannot now. */
  queuecommand(shost: Scsi_Host, cmd: scsi_cmnd): number;
  eh_abort_handler?(cmd: scsi_cmnd): number | Promise<number>;
  eh_device_reset_handler?(cmd: scsi_cmnd): number | Promise<number>;
  eh_bus_reset_handler?(cmd: scsi_cmnd): number | Promise<number>;
  eh_host_reset_handler?(cmd: scsi_cmnd): number | Promise<number>;
  can_queue: number;
  /** The adapter's own ID on its bus, skipped by scans; -1 for none. */
  this_id: number;
  sg_tablesize: number;
  max_sectors?: number;
  cmd_per_lun: number;
}

export const SHOST_CREATED = 1;
export const SHOST_RUNNING = 2;
export const SHOST_DEL = 5;

/**
 * struct Scsi_Host. scsi_host_alloc copies the template's limits here, where the driver may adjust
 * them before scsi_add_host; max_id and max_lun are one past the highest target ID and LUN, as in Linux.
 */
export class Scsi_Host<P = unknown> {
  host_no = -1;
  max_id = 8;
  max_lun = 8;
  max_channel = 0;
  this_id: number;
  can_queue: number;
  cmd_per_lun: number;
  sg_tablesize: number;
  max_sectors: number;
  unique_id = 0;
  irq = 0;
  shost_state = SHOST_CREATED;
  /** Set by scsi_add_host: the host's Linux, its parent device (whose DMA it uses), its kernel registration. */
  linux: Linux | null = null;
  parent: device | null = null;
  registration: RegisteredScsiAdapter | null = null;
  adapter: ScsiHostAdapter | null = null;
  /** The registration's own scan covers the first scsi_scan_host. */
  scanned = false;
  private readonly devices = new Map<number, scsi_device>();

  constructor(
    readonly hostt: scsi_host_template,
    /** The driver's private struct (shost_priv). */
    readonly hostdata: P,
  ) {
    this.this_id = hostt.this_id;
    this.can_queue = hostt.can_queue;
    this.cmd_per_lun = hostt.cmd_per_lun;
    this.sg_tablesize = hostt.sg_tablesize;
    this.max_sectors = hostt.max_sectors ?? SCSI_DEFAULT_MAX_SECTORS;
  }

  /** The device whose DMA allocator maps this host's data (scsi_add_host's dma_dev). */
  dma_dev(): device {
    if (!this.parent) throw new Error(`${this.hostt.name}: the host has no device before scsi_add_host`);
    return this.parent;
  }

  /** The scsi_device for an I_T_L nexus on channel 0 (the only one the vmkernel scans), made on first use. */
  scsi_device(id: number, lun: number): scsi_device {
    const key = id * 0x4000 + lun;
    let sdev = this.devices.get(key);
    if (sdev === undefined) {
      sdev = new scsi_device(this, 0, id, lun);
      this.devices.set(key, sdev);
    }
    return sdev;
  }
}

/** scsi_host_alloc(sht, sizeof(struct priv)): the private struct is a fresh `new priv()`. */
export function scsi_host_alloc<P>(sht: scsi_host_template, priv: new () => P): Scsi_Host<P> {
  return new Scsi_Host<P>(sht, new priv());
}

export function shost_priv<P>(shost: Scsi_Host<P>): P {
  return shost.hostdata;
}

/**
 * Makes the host a kernel storage adapter (vmhbaN), its DMA done for `dev`. The kernel scans an
 * adapter when it registers; the midlayer's commands then arrive through queuecommand.
 */
export function scsi_add_host(shost: Scsi_Host, dev: device): number {
  const linux = dev.linux;
  if (linux.dead) return -ENODEV;
  if (shost.shost_state !== SHOST_CREATED) return -EBUSY;
  const container = linux.context.container;
  if (!container.isRegistered(Tokens.ScsiAdapters, true)) {
    linux.log_line(3, `scsi_add_host: no storage stack on this host (${String(Tokens.ScsiAdapters.description)} not registered)`);
    return -ENODEV;
  }
  shost.linux = linux;
  shost.parent = dev;
  const adapter = new ScsiHostAdapter(shost, linux);
  const registry = container.resolve<AdapterRegistry>(Tokens.ScsiAdapters);
  try {
    shost.registration = registry.register(adapter);
  } catch (error) {
    linux.log_line(3, `scsi_add_host: the kernel refused the adapter: ${describeError(error)}`);
    shost.linux = null;
    shost.parent = null;
    return error instanceof RangeError ? -EINVAL : -EBUSY;
  }
  shost.adapter = adapter;
  shost.host_no = Number(shost.registration.name.replace(/^\D+/, ""));
  shost.shost_state = SHOST_RUNNING;
  return 0;
}

/** Linux's scsi_add_host_with_dma: the host's DMA device differs from its parent only on bridged buses. */
export function scsi_add_host_with_dma(shost: Scsi_Host, dev: device, _dma_dev: device): number {
  return scsi_add_host(shost, dev);
}

/** Scans the host: the registration already did once, so a later call is a rescan (after a topology change). */
export function scsi_scan_host(shost: Scsi_Host): void {
  const registration = shost.registration;
  if (!registration || shost.shost_state !== SHOST_RUNNING) return;
  if (!shost.scanned) {
    shost.scanned = true;
    return;
  }
  void registration.rescan();
}

/** The adapter leaves the kernel: commands still with the driver are taken back and failed over by the midlayer. */
export function scsi_remove_host(shost: Scsi_Host): void {
  if (shost.shost_state !== SHOST_RUNNING) return;
  shost.shost_state = SHOST_DEL;
  shost.adapter?.forget_all();
  const registration = shost.registration;
  const linux = shost.linux;
  shost.registration = null;
  if (!registration || !linux) return;
  try {
    linux.context.container.resolve<AdapterRegistry>(Tokens.ScsiAdapters).unregister(registration);
  } catch (error) {
    linux.log_line(3, `scsi_remove_host: the kernel failed to unregister ${registration.name}: ${describeError(error)}`);
  }
}

/** Drops the driver's reference; the host must have been removed. */
export function scsi_host_put(shost: Scsi_Host): void {
  if (shost.shost_state === SHOST_RUNNING) shost.linux?.log_line(4, `scsi_host_put: ${shost.registration?.name ?? shost.hostt.name} is still added; call scsi_remove_host first`);
  shost.adapter?.release_pool();
}
