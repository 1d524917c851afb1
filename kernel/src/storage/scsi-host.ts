import type { Clock, TimerHandle } from "../clock/clock.js";
import type { ExecutionDomain } from "../exec/execution-domain.js";
import type { KernelLog } from "../log/kernel-log.js";
import { Disposition, decideDisposition } from "./completion-disposition.js";
import { HostRecovery } from "./host-recovery.js";
import { HostStatus, ScsiStatus, hostStatusName } from "./scsi-constants.js";
import type { RegisteredScsiAdapter, ScsiAdapter, ScsiCompletion } from "./scsi-adapter.js";
import type { ScsiPath } from "./scsi-path.js";
import { CommandState, InFlightCommand, type ScsiRequest } from "./scsi-request.js";
import { decodeSense, formatSense } from "./scsi-sense.js";
import type { StorageSettings } from "./storage-settings.js";

export const SCSI_LOG = "scsi";

const ACCEPTED = 1;
const REFUSED = 2;

/** online: takes commands; recovering: error handling runs, no new commands; offline: the driver failed or the host reset did; removed: unregistered. */
export type AdapterState = "online" | "recovering" | "offline" | "removed";

export interface AdapterStats {
  commands: number;
  completions: number;
  /** Completions for commands the midlayer had already given up on (timed out, aborted, reset). */
  staleCompletions: number;
  /** queueCommand refusals (host busy). */
  busy: number;
  timeouts: number;
  aborts: number;
  lunResets: number;
  hostResets: number;
}

/** A device waiting for the adapter to have room for another command. */
export interface SlotWaiter {
  slotFreed(): void;
}

/**
 * The midlayer's side of one registered adapter (Linux's Scsi_Host): it issues attempts, tracks them
 * until they complete or time out, decides what each completion means, and hands recovery to
 * HostRecovery. Every call into the adapter runs in the adapter's fault domain.
 */
export class ScsiHost implements RegisteredScsiAdapter {
  state: AdapterState = "online";
  reason: string | undefined = undefined;
  /** Paths of this adapter that lead to devices. */
  readonly paths = new Set<ScsiPath>();
  readonly stats: AdapterStats = { commands: 0, completions: 0, staleCompletions: 0, busy: 0, timeouts: 0, aborts: 0, lunResets: 0, hostResets: 0 };
  /** The current scan, or the last one. */
  scan: Promise<void> = Promise.resolve();
  private readonly outstanding = new Set<InFlightCommand>();
  private readonly slotWaiters = new Set<SlotWaiter>();
  private readonly recovery: HostRecovery;
  private sweepTimer: TimerHandle | undefined;
  private sweepAt = Number.POSITIVE_INFINITY;
  private readonly completeCommand = (command: InFlightCommand, completion: ScsiCompletion): void => this.complete(command, completion);
  private readonly sweep = (): void => this.sweepTimeouts();
  private readonly queueActivity: string;

  constructor(
    readonly name: string,
    readonly adapter: ScsiAdapter,
    readonly domain: ExecutionDomain,
    private readonly clock: Clock,
    private readonly log: KernelLog,
    private readonly settings: StorageSettings,
    private readonly rescanHost: (host: ScsiHost) => Promise<void>,
  ) {
    this.recovery = new HostRecovery(this, clock, log, settings);
    this.queueActivity = `${name} queuecommand`;
  }

  rescan(): Promise<void> {
    return this.rescanHost(this);
  }

  get acceptsIo(): boolean {
    return this.state === "online" && this.domain.alive;
  }

  get outstandingCount(): number {
    return this.outstanding.size;
  }

  /**
   * Sends one attempt of `request` down `path`. Returns false, keeping nothing, when the adapter has
   * no room (can_queue reached or it refused): the caller keeps the request and waits for a slot.
   * Pinned commands (scan, probe) ignore can_queue, as Linux's scan does not wait on the block layer.
   */
  send(request: ScsiRequest, path: ScsiPath, pinned = false): boolean {
    if (!this.acceptsIo) {
      this.noticeDomain();
      request.owner.pathFailed(request, path);
      return true;
    }
    if (!pinned && this.outstanding.size >= this.adapter.limits.canQueue) return false;
    const command = new InFlightCommand(request, path, this.clock.now() + request.timeoutNs, this.completeCommand);
    this.outstanding.add(command);
    request.attempts++;
    request.path = path;
    const verdict = this.queueCommand(command);
    if (verdict !== REFUSED) this.countIssued(request, path);
    if (verdict === undefined) {
      this.takeBack(command);
      this.noticeDomain();
      if (this.acceptsIo) this.route(command, { hostStatus: HostStatus.DID_ERROR, scsiStatus: ScsiStatus.GOOD, residual: request.transferLength });
      else request.owner.pathFailed(request, path);
      return true;
    }
    if (verdict === REFUSED) {
      if (command.state === CommandState.ISSUED) {
        this.takeBack(command);
        request.attempts--;
        this.stats.busy++;
        if (this.outstanding.size === 0) this.clock.setTimer(this.settings.busyRetryDelayNs, () => this.notifySlotWaiters(), { label: `${this.name} busy retry` });
        return false;
      }
      return true;
    }
    if (command.state === CommandState.ISSUED) this.armTimeout(command.deadline);
    return true;
  }

  /** queuecommand in the adapter's fault domain (runInDomain without a closure per command): undefined when the domain is dead or the call threw. */
  private queueCommand(command: InFlightCommand): number | undefined {
    const domain = this.domain;
    if (!domain.alive) return undefined;
    try {
      return this.adapter.queueCommand(command, command.done) === false ? REFUSED : ACCEPTED;
    } catch (error) {
      domain.fault(error, this.queueActivity);
      return undefined;
    }
  }

  private countIssued(request: ScsiRequest, path: ScsiPath): void {
    this.stats.commands++;
    const stats = path.stats;
    stats.commands++;
    if (request.kind === "read") {
      stats.reads++;
      stats.blocksRead += request.blocks;
    } else if (request.kind === "write") {
      stats.writes++;
      stats.blocksWritten += request.blocks;
    }
  }

  waitForSlot(waiter: SlotWaiter): void {
    this.slotWaiters.add(waiter);
  }

  /** Outstanding commands, optionally only those for one LUN (a LUN reset's reach). */
  commands(target?: number, lun?: number): InFlightCommand[] {
    const out: InFlightCommand[] = [];
    for (const command of this.outstanding) if (target === undefined || (command.target === target && command.lun === lun)) out.push(command);
    return out;
  }

  /**
   * Takes a command back from the adapter after an abort or reset and sends its request around again.
   * Only a command that timed out is charged a retry: the others were collateral of the reset.
   */
  reclaim(command: InFlightCommand): void {
    if (command.state === CommandState.COMPLETED || command.state === CommandState.RECLAIMED) return;
    const timedOut = command.state === CommandState.TIMED_OUT;
    this.takeBack(command);
    const request = command.request;
    if (!timedOut) {
      request.owner.retry(request, 0);
      return;
    }
    request.record({ hostStatus: HostStatus.DID_TIME_OUT, scsiStatus: ScsiStatus.GOOD, residual: request.transferLength });
    this.retryOrFail(command, 0);
  }

  enterRecovery(): void {
    if (this.state === "online") this.state = "recovering";
  }

  /** Recovery is over: devices may send down this adapter's paths again. */
  leaveRecovery(): void {
    if (this.state !== "recovering") return;
    this.state = "online";
    this.wakeDevices();
  }

  /** The adapter cannot be used any more (driver quarantined, host reset failed): its paths die, its commands fail over. */
  goOffline(reason: string): void {
    if (this.state === "offline" || this.state === "removed") return;
    this.state = "offline";
    this.reason = reason;
    this.log.error(SCSI_LOG, `${this.name}: adapter offline: ${reason}`);
    this.abandon(reason);
  }

  /** The driver unregistered the adapter. */
  remove(): void {
    if (this.state === "removed") return;
    this.state = "removed";
    this.reason = "adapter removed";
    this.abandon(this.reason);
  }

  /** A quarantined driver does not say so; the midlayer finds out when it next looks. */
  noticeDomain(): void {
    if (!this.domain.alive && (this.state === "online" || this.state === "recovering")) this.goOffline(`driver ${this.adapter.driver} quarantined`);
  }

  private abandon(reason: string): void {
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    for (const path of [...this.paths]) path.setState("dead", reason);
    for (const command of this.commands()) {
      this.takeBack(command);
      command.request.owner.pathFailed(command.request, command.path);
    }
    this.slotWaiters.clear();
  }

  private takeBack(command: InFlightCommand): void {
    command.state = CommandState.RECLAIMED;
    this.outstanding.delete(command);
  }

  private complete(command: InFlightCommand, completion: ScsiCompletion): void {
    if (command.state !== CommandState.ISSUED) {
      this.stats.staleCompletions++;
      return;
    }
    command.state = CommandState.COMPLETED;
    this.outstanding.delete(command);
    this.stats.completions++;
    this.route(command, completion);
    if (this.slotWaiters.size > 0) this.notifySlotWaiters();
  }

  private route(command: InFlightCommand, completion: ScsiCompletion): void {
    const request = command.request;
    request.record(completion);
    switch (decideDisposition(completion)) {
      case Disposition.SUCCESS:
        // Implicit ALUA: a standby port that serves media access has become active.
        if (command.path.state === "standby" && request.kind !== "other") command.path.setState("active", "served I/O");
        request.owner.finished(request);
        return;
      case Disposition.RETRY:
        this.retryOrFail(command, 0);
        return;
      case Disposition.RETRY_LATER:
        this.retryOrFail(command, this.settings.busyRetryDelayNs);
        return;
      case Disposition.PATH_FAILURE:
        command.path.stats.errors++;
        command.path.setState("dead", describeCompletion(completion));
        request.owner.pathFailed(request, command.path);
        return;
      case Disposition.PATH_STANDBY:
        // Chosen although standby (no active path left) and still refusing: wait, charged, for the port to change.
        if (command.path.state === "standby") {
          this.retryOrFail(command, this.settings.busyRetryDelayNs);
          return;
        }
        command.path.stats.errors++;
        command.path.setState("standby", "target port in standby");
        request.owner.pathFailed(request, command.path);
        return;
      default:
        command.path.stats.errors++;
        this.finishFailed(request);
    }
  }

  private retryOrFail(command: InFlightCommand, delayNs: number): void {
    const request = command.request;
    command.path.stats.errors++;
    if (request.retriesLeft > 0) {
      request.retriesLeft--;
      request.retries++;
      request.owner.retry(request, delayNs);
      return;
    }
    this.finishFailed(request);
  }

  private finishFailed(request: ScsiRequest): void {
    if (!request.reportsStatus || request.hostStatus !== HostStatus.DID_OK) request.failure = "command-failed";
    request.owner.finished(request);
  }

  private notifySlotWaiters(): void {
    const waiters = [...this.slotWaiters];
    this.slotWaiters.clear();
    for (const waiter of waiters) waiter.slotFreed();
  }

  private wakeDevices(): void {
    const devices = new Set<SlotWaiter>(this.slotWaiters);
    this.slotWaiters.clear();
    for (const path of this.paths) if (path.device !== undefined) devices.add(path.device);
    for (const device of devices) device.slotFreed();
  }

  /**
   * One timer per adapter, armed for the earliest deadline, instead of one per command: a completion
   * costs nothing, and the sweep walks at most can_queue commands once per timeout period.
   */
  private armTimeout(deadline: number): void {
    if (this.sweepTimer !== undefined && this.sweepAt <= deadline) return;
    this.sweepTimer?.cancel();
    this.sweepAt = deadline;
    this.sweepTimer = this.clock.setTimer(Math.max(0, deadline - this.clock.now()), this.sweep, { label: `${this.name} command timeouts` });
  }

  private sweepTimeouts(): void {
    this.sweepTimer = undefined;
    this.sweepAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    let next = Number.POSITIVE_INFINITY;
    const expired: InFlightCommand[] = [];
    for (const command of this.outstanding) {
      if (command.state !== CommandState.ISSUED) continue;
      if (command.deadline <= now) expired.push(command);
      else if (command.deadline < next) next = command.deadline;
    }
    for (const command of expired) {
      command.state = CommandState.TIMED_OUT;
      this.stats.timeouts++;
      this.recovery.commandTimedOut(command);
    }
    if (next !== Number.POSITIVE_INFINITY) this.armTimeout(next);
  }
}

export function describeCompletion(completion: { hostStatus: number; scsiStatus: number; sense?: Uint8Array | undefined }): string {
  if (completion.hostStatus !== HostStatus.DID_OK) return hostStatusName(completion.hostStatus);
  if (completion.scsiStatus === ScsiStatus.CHECK_CONDITION) return `CHECK CONDITION, ${formatSense(decodeSense(completion.sense))}`;
  return `status 0x${completion.scsiStatus.toString(16)}`;
}
