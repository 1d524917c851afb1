import { describeError, HostStatus, type ScsiAdapter, type ScsiAdapterCommand, type ScsiAdapterLimits, type ScsiCompletion, type ScsiDone, type ScsiScanLimits, type TaskManagementResult } from "@vmk/kernel";
import { DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE } from "../dma.js";
import type { Linux } from "../linux.js";
import { sg_init_table, sg_set_buf } from "../scatterlist.js";
import { SCMD_STATE, scsi_cmnd, scsi_dma_unmap, type scsi_device } from "./scsi_cmnd.js";
import { scsi_sense_length } from "./scsi_common.js";
import { FAILED, SUCCESS, type Scsi_Host } from "./scsi_host.js";
import { SAM_STAT_CHECK_CONDITION } from "./scsi_proto.js";

const NO_SENSE_DATA = undefined;

/**
 * A registered Scsi_Host as the vmkernel sees it (a vmhba): the midlayer's commands become scsi_cmnds
 * for the driver's queuecommand, scsi_done becomes the midlayer's completion, task management becomes
 * the template's error handlers. The kernel's data segments become the scatterlist; a segment outside
 * machine memory (a caller's plain buffer) cannot be DMA-mapped, so the whole transfer is bounced
 * through a buffer from the module's slab. Every call into the driver passes the module's fault fence.
 */
export class ScsiHostAdapter implements ScsiAdapter {
  readonly driver: string;
  readonly busAddress: string;
  readonly model: string;
  readonly limits: ScsiAdapterLimits;
  readonly scan: ScsiScanLimits;
  private readonly outstanding = new Map<ScsiAdapterCommand, scsi_cmnd>();
  private readonly pool: scsi_cmnd[] = [];
  /** Machine memory's buffer: a segment on it is DMA-mappable at its byteOffset. */
  private readonly machine: ArrayBufferLike;
  private readonly queueActivity: string;
  private serial = 0;
  private readonly complete = (cmd: scsi_cmnd): void => this.scsi_done(cmd);

  constructor(
    private readonly shost: Scsi_Host,
    private readonly linux: Linux,
  ) {
    const hostt = shost.hostt;
    this.driver = hostt.proc_name ?? linux.name;
    this.busAddress = shost.parent?.name ?? "";
    this.model = hostt.info ? this.call_driver(`info of ${hostt.name}`, () => hostt.info!(shost)) : hostt.name;
    this.limits = {
      canQueue: shost.can_queue,
      cmdPerLun: Math.max(1, shost.cmd_per_lun),
      sgTablesize: shost.sg_tablesize,
      maxSectors: shost.max_sectors,
    };
    this.scan = { maxTargetId: shost.max_id - 1, maxLun: shost.max_lun - 1, ...(shost.this_id >= 0 ? { initiatorId: shost.this_id } : {}) };
    this.machine = machineBuffer(linux);
    this.queueActivity = `queuecommand of ${hostt.name}`;
  }

  queueCommand(command: ScsiAdapterCommand, done: ScsiDone): boolean {
    const shost = this.shost;
    const linux = this.linux;
    if (linux.dead || shost.registration === null) {
      done({ hostStatus: HostStatus.DID_NO_CONNECT, scsiStatus: 0, residual: command.transferLength });
      return true;
    }
    const cmd = this.pool.pop() ?? this.new_cmnd();
    cmd.device = shost.scsi_device(command.target, command.lun);
    cmd.cmnd = command.cdb;
    cmd.cmd_len = command.cdb.length;
    cmd.sc_data_direction = command.direction === "fromDevice" ? DMA_FROM_DEVICE : command.direction === "toDevice" ? DMA_TO_DEVICE : DMA_NONE;
    cmd.result = 0;
    cmd.host_scribble = null;
    cmd.serial_number = ++this.serial;
    cmd.timeout = Math.ceil(command.timeoutNs / (1e9 / linux.HZ));
    cmd.sdb.resid = 0;
    cmd.sense_buffer[0] = 0;
    cmd.sense_buffer[7] = 0;
    if (!this.map_data(cmd, command)) {
      this.pool.push(cmd);
      return false;
    }
    cmd.kernel_command = command;
    cmd.kernel_done = done;
    cmd.state = SCMD_STATE.ISSUED;
    this.outstanding.set(command, cmd);
    let rc: number;
    try {
      rc = this.shost.hostt.queuecommand(shost, cmd);
    } catch (error) {
      this.forget(cmd);
      throw linux.driver_fault(error, this.queueActivity);
    }
    if (rc === 0 || cmd.state !== SCMD_STATE.ISSUED) return true;
    // Busy: the driver keeps nothing of it, and the midlayer sends it again later.
    this.forget(cmd);
    this.release(cmd);
    return false;
  }

  abort(command: ScsiAdapterCommand): TaskManagementResult {
    const cmd = this.outstanding.get(command);
    if (cmd === undefined) return true;
    const handler = this.shost.hostt.eh_abort_handler;
    if (!handler) return false;
    return this.error_handler("eh_abort_handler", () => handler(cmd), () => this.reclaim([cmd]));
  }

  resetDevice(target: number, lun: number): TaskManagementResult {
    const handler = this.shost.hostt.eh_device_reset_handler;
    if (!handler) return false;
    const sdev = this.shost.scsi_device(target, lun);
    const victims = () => [...this.outstanding.values()].filter((cmd) => cmd.device === sdev);
    return this.error_handler("eh_device_reset_handler", () => handler(this.eh_cmnd(sdev)), () => this.reclaim(victims()));
  }

  resetHost(): TaskManagementResult {
    const hostt = this.shost.hostt;
    const handler = hostt.eh_host_reset_handler ?? hostt.eh_bus_reset_handler;
    if (!handler) return false;
    const first = this.outstanding.values().next().value;
    const sdev = first?.device ?? this.shost.scsi_device(0, 0);
    return this.error_handler("eh_host_reset_handler", () => handler(this.eh_cmnd(sdev)), () => this.reclaim([...this.outstanding.values()]));
  }

  /** scsi_remove_host: the midlayer takes every command back; the driver's late completions are ignored. */
  forget_all(): void {
    this.reclaim([...this.outstanding.values()]);
  }

  release_pool(): void {
    this.pool.length = 0;
  }

  // ---- internals ----

  private new_cmnd(): scsi_cmnd {
    const cmd = new scsi_cmnd();
    cmd.scsi_done = this.complete;
    return cmd;
  }

  /** A command handle an error handler can be given for a device (Linux hands it the failed command). */
  private eh_cmnd(sdev: scsi_device): scsi_cmnd {
    for (const cmd of this.outstanding.values()) if (cmd.device === sdev) return cmd;
    const cmd = new scsi_cmnd();
    cmd.device = sdev;
    cmd.scsi_done = this.complete;
    return cmd;
  }

  /** Builds the scatterlist: the kernel's segments when they are machine memory, else one bounce buffer. */
  private map_data(cmd: scsi_cmnd, command: ScsiAdapterCommand): boolean {
    const segments = command.data;
    const sdb = cmd.sdb;
    const table = sdb.table;
    sdb.length = command.transferLength;
    cmd.bounce_slot = -1;
    if (command.direction === "none" || command.transferLength === 0) {
      table.nents = table.orig_nents = 0;
      return true;
    }
    let direct = true;
    for (let i = 0; i < segments.length; i++) if (segments[i]!.buffer !== this.machine) direct = false;
    if (direct) {
      sg_init_table(table.sgl, segments.length);
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i]!;
        sg_set_buf(table.sgl[i]!, segment.byteOffset, segment, segment.length);
      }
      table.nents = table.orig_nents = segments.length;
      return true;
    }
    const slab = this.linux.slab;
    const slot = slab.alloc(command.transferLength);
    if (slot < 0) return false;
    const slotView = slab.slot_view[slot]!;
    const bounce = slotView.length === command.transferLength ? slotView : slotView.subarray(0, command.transferLength);
    if (command.direction === "toDevice") {
      let at = 0;
      for (const segment of segments) {
        bounce.set(segment, at);
        at += segment.length;
      }
    }
    cmd.bounce_slot = slot;
    sg_init_table(table.sgl, 1);
    sg_set_buf(table.sgl[0]!, slab.slot_address[slot]!, bounce, bounce.length);
    table.nents = table.orig_nents = 1;
    return true;
  }

  private scsi_done(cmd: scsi_cmnd): void {
    if (cmd.state !== SCMD_STATE.ISSUED) {
      if (cmd.state === SCMD_STATE.IDLE) this.linux.log_line(4, `${this.name()}: scsi_done for a command that is not outstanding (CDB 0x${cmd.cmnd[0]?.toString(16)}); ignored`);
      return;
    }
    const done = cmd.kernel_done!;
    const command = cmd.kernel_command!;
    this.forget(cmd);
    const result = cmd.result;
    const hostStatus = (result >>> 16) & 0xff;
    const scsiStatus = result & 0xff;
    const residual = cmd.sdb.resid;
    const completion: ScsiCompletion = {
      hostStatus: hostStatus as ScsiCompletion["hostStatus"],
      scsiStatus: scsiStatus as ScsiCompletion["scsiStatus"],
      sense: scsiStatus === SAM_STAT_CHECK_CONDITION ? this.sense_of(cmd) : NO_SENSE_DATA,
      residual,
    };
    if (cmd.bounce_slot >= 0 && command.direction === "fromDevice") this.unbounce(cmd, command, residual);
    if (cmd.dma_mapped !== 0) scsi_dma_unmap(cmd);
    this.release(cmd);
    try {
      done(completion);
    } catch (error) {
      // The kernel's completion path failing is the kernel's fault, not the driver's.
      this.linux.log_line(3, `${this.name()}: the kernel's completion path threw: ${describeError(error)}`);
    }
  }

  private sense_of(cmd: scsi_cmnd): Uint8Array | undefined {
    const length = scsi_sense_length(cmd.sense_buffer);
    return length > 0 ? cmd.sense_buffer.slice(0, length) : undefined;
  }

  private unbounce(cmd: scsi_cmnd, command: ScsiAdapterCommand, residual: number): void {
    const bounce = this.linux.slab.slot_view[cmd.bounce_slot]!;
    let left = Math.max(0, Math.min(command.transferLength, command.transferLength - residual));
    let at = 0;
    for (const segment of command.data) {
      if (left <= 0) break;
      const piece = Math.min(segment.length, left);
      segment.set(at === 0 && piece === bounce.length ? bounce : bounce.subarray(at, at + piece));
      at += piece;
      left -= piece;
    }
  }

  private forget(cmd: scsi_cmnd): void {
    if (cmd.kernel_command) this.outstanding.delete(cmd.kernel_command);
    cmd.state = SCMD_STATE.IDLE;
  }

  private release(cmd: scsi_cmnd): void {
    if (cmd.bounce_slot >= 0) {
      this.linux.slab.free(cmd.bounce_slot);
      cmd.bounce_slot = -1;
    }
    cmd.kernel_command = null;
    cmd.kernel_done = null;
    this.pool.push(cmd);
  }

  /**
   * Commands an error handler freed: they are the midlayer's again. They never return to the pool,
   * so a driver that still completes one cannot complete someone else's command by mistake.
   */
  private reclaim(cmds: readonly scsi_cmnd[]): void {
    for (const cmd of cmds) {
      if (cmd.state !== SCMD_STATE.ISSUED) continue;
      if (cmd.kernel_command) this.outstanding.delete(cmd.kernel_command);
      cmd.state = SCMD_STATE.RECLAIMED;
      if (cmd.dma_mapped !== 0) scsi_dma_unmap(cmd);
      if (cmd.bounce_slot >= 0) {
        this.linux.slab.free(cmd.bounce_slot);
        cmd.bounce_slot = -1;
      }
      cmd.kernel_command = null;
      cmd.kernel_done = null;
    }
  }

  /**
   * Runs an error handler. A throw quarantines the module at once (through the caller's domain); a
   * rejected promise does too, from the module's own clock, since nobody on the kernel's side awaits
   * it in the module's domain.
   */
  private error_handler(what: string, call: () => number | Promise<number>, succeeded: () => void): TaskManagementResult {
    const linux = this.linux;
    if (linux.dead) return false;
    const activity = `${what} of ${this.name()}`;
    const rc = this.call_driver(activity, call);
    const settle = (value: number): boolean => {
      if (value !== SUCCESS || linux.dead) {
        if (value !== FAILED && value !== SUCCESS) linux.log_line(4, `${activity} returned ${value}, neither SUCCESS nor FAILED; taken as FAILED`);
        return false;
      }
      succeeded();
      return true;
    };
    if (typeof rc === "number") return settle(rc);
    return rc.then(settle, (error: unknown) => {
      const fault = linux.driver_fault(error, activity);
      linux.context.clock.setTimer(
        0,
        () => {
          throw fault;
        },
        { label: `${activity} failed` },
      );
      return false;
    });
  }

  private call_driver<T>(activity: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw this.linux.driver_fault(error, activity);
    }
  }

  private name(): string {
    return this.shost.registration?.name ?? this.shost.hostt.name;
  }
}

/** Machine memory's ArrayBuffer, learnt from a page of the module's own (every module page is a view of it). */
function machineBuffer(linux: Linux): ArrayBufferLike {
  const run = linux.context.pages.alloc(1);
  const buffer = run.bytes.buffer;
  linux.context.pages.free(run.address);
  return buffer;
}
