import type { Clock, TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import type { KernelLog } from "../log/kernel-log.js";
import type { BlockDevice, DeviceStats, PassthroughCommand, PassthroughResult } from "./block-device.js";
import { FixedPathSelector, MostRecentlyUsedPathSelector, RoundRobinPathSelector, type PathSelector } from "./path-selection.js";
import { RequestQueue } from "./request-queue.js";
import { readWriteCdb, synchronizeCacheCdb } from "./scsi-cdb.js";
import { ScsiStatus, SenseKey } from "./scsi-constants.js";
import type { SlotWaiter } from "./scsi-host.js";
import type { ScsiPath } from "./scsi-path.js";
import { ScsiRequest, type RequestKind, type RequestOwner } from "./scsi-request.js";
import type { Capacity, StandardInquiry } from "./scsi-responses.js";
import { decodeSense } from "./scsi-sense.js";
import { StorageIoError } from "./storage-error.js";
import type { PathSelectionPolicyName, StorageSettings } from "./storage-settings.js";

export const NMP_LOG = "nmp";

const NO_DATA: readonly Uint8Array[] = Object.freeze([]);

export interface PolicyOptions {
  /** Fixed: the preferred path's runtime name (default: the first path). */
  preferredPath?: string;
  /** Round Robin: I/Os per path before switching (default: the host setting). */
  iops?: number;
}

/**
 * One storage device (a LUN as identified by its NAA ID) with every path to it, as ESX's NMP claims
 * it: I/O waits in the device queue, goes down the path the selection policy picks, at most
 * `queueDepth` at a time; a path failure sends it down another path, and with no path left it waits
 * (all paths down) until a path returns or the APD timeout fails it.
 */
export class ScsiDevice implements BlockDevice, RequestOwner, SlotWaiter {
  readonly paths: ScsiPath[] = [];
  queueDepth = 1;
  /** Set by the administrator; otherwise the smallest cmd_per_lun among the paths' adapters. */
  queueDepthOverride: number | undefined = undefined;
  maxTransferBlocks = Number.MAX_SAFE_INTEGER;
  selector: PathSelector;
  private readonly queue = new RequestQueue<ScsiRequest>();
  private inflight = 0;
  private pumping = false;
  private lastPath: ScsiPath | undefined;
  private apdTimer: TimerHandle | undefined;
  private apdExpired = false;
  private readonly counters = { commands: 0, reads: 0, writes: 0, blocksRead: 0, blocksWritten: 0, failed: 0, retries: 0, failovers: 0, pathSwitches: 0, readLatencyNs: 0, writeLatencyNs: 0 };

  constructor(
    readonly name: string,
    readonly inquiry: StandardInquiry,
    private capacity: Capacity,
    private readonly clock: Clock,
    private readonly log: KernelLog,
    private readonly settings: StorageSettings,
  ) {
    this.selector = this.makeSelector(settings.defaultPolicy, {});
  }

  get blockSize(): number {
    return this.capacity.blockSize;
  }

  get blocks(): number {
    return this.capacity.blocks;
  }

  get sizeBytes(): number {
    return this.capacity.blocks * this.capacity.blockSize;
  }

  // ---- the block API ----

  read(lba: number, blocks: number, into: Uint8Array): Promise<void> {
    return this.blockIo(false, lba, blocks, into);
  }

  write(lba: number, blocks: number, from: Uint8Array): Promise<void> {
    return this.blockIo(true, lba, blocks, from);
  }

  async flush(): Promise<void> {
    const result = await this.scsi({ cdb: synchronizeCacheCdb(), direction: "none" });
    if (result.scsiStatus === ScsiStatus.GOOD) return;
    const sense = decodeSense(result.sense);
    // sd's rule: a device that rejects SYNCHRONIZE CACHE has no volatile cache to flush.
    if (sense?.key === SenseKey.ILLEGAL_REQUEST) return;
    throw new StorageIoError(this.name, "command-failed", 0, result.scsiStatus, sense);
  }

  scsi(command: PassthroughCommand): Promise<PassthroughResult> {
    const data = command.data === undefined ? NO_DATA : command.data instanceof Uint8Array ? [command.data] : command.data;
    return new Promise<PassthroughResult>((resolve, reject) => {
      const request = new ScsiRequest(
        this,
        command.cdb,
        command.direction,
        data,
        "other",
        0,
        command.timeoutNs ?? this.settings.commandTimeoutNs,
        command.retries ?? this.settings.commandRetries,
        true,
        this.clock.now(),
        (r) => {
          if (r.failure !== undefined) reject(this.errorFor(r));
          else resolve({ scsiStatus: r.scsiStatus, ...(r.sense !== undefined ? { sense: r.sense } : {}), residual: r.residual, path: r.path?.runtimeName ?? "" });
        },
      );
      this.submit(request);
    });
  }

  stats(): DeviceStats {
    return { ...this.counters, queued: this.queue.length, inflight: this.inflight };
  }

  // ---- configuration ----

  setPolicy(policy: PathSelectionPolicyName, options: PolicyOptions = {}): void {
    this.selector = this.makeSelector(policy, options);
    this.lastPath = undefined;
    this.log.info(NMP_LOG, `${this.name}: path selection policy ${policy}${this.policyDetail()}`);
    this.pump();
  }

  setPreferredPath(runtimeName: string): void {
    if (!(this.selector instanceof FixedPathSelector)) throw new Error(`${this.name}: a preferred path needs VMW_PSP_FIXED (policy is ${this.selector.policy})`);
    this.selector.preferred = this.pathNamed(runtimeName);
    this.log.info(NMP_LOG, `${this.name}: preferred path ${runtimeName}`);
  }

  get preferredPath(): ScsiPath | undefined {
    return this.selector instanceof FixedPathSelector ? this.selector.preferred : undefined;
  }

  get roundRobinIops(): number | undefined {
    return this.selector instanceof RoundRobinPathSelector ? this.selector.iops : undefined;
  }

  setQueueDepth(depth: number | undefined): void {
    if (depth !== undefined && (!Number.isInteger(depth) || depth < 1)) throw new RangeError(`queue depth must be a positive integer (got ${depth})`);
    this.queueDepthOverride = depth;
    this.updateLimits();
    this.pump();
  }

  addPath(path: ScsiPath): void {
    path.device = this;
    this.paths.push(path);
    this.paths.sort((a, b) => comparePaths(a, b));
    if (this.selector instanceof FixedPathSelector && this.selector.preferred === undefined) this.selector.preferred = path;
    this.updateLimits();
    this.pathsMayBeUsable();
  }

  removePath(path: ScsiPath): void {
    const index = this.paths.indexOf(path);
    if (index < 0) return;
    this.paths.splice(index, 1);
    path.device = undefined;
    if (this.selector instanceof FixedPathSelector && this.selector.preferred === path) this.selector.preferred = this.paths[0];
    if (this.lastPath === path) this.lastPath = undefined;
    this.updateLimits();
    this.pump();
  }

  resize(capacity: Capacity): void {
    this.capacity = capacity;
  }

  /** A path came back, an adapter left recovery: waiting I/O may go. */
  pathsMayBeUsable(): void {
    if ((this.apdTimer !== undefined || this.apdExpired) && this.paths.some((p) => p.usable)) {
      this.apdTimer?.cancel();
      this.apdTimer = undefined;
      this.apdExpired = false;
      this.log.info(NMP_LOG, `${this.name}: a path is available again; all-paths-down state over`);
    }
    this.pump();
  }

  slotFreed(): void {
    this.pump();
  }

  // ---- RequestOwner: attempts coming back from the adapters ----

  finished(request: ScsiRequest): void {
    this.inflight--;
    const counters = this.counters;
    if (request.failure === undefined) {
      counters.commands++;
      if (request.kind === "read") {
        counters.reads++;
        counters.blocksRead += request.blocks;
        counters.readLatencyNs += this.clock.now() - request.submittedAt;
      } else if (request.kind === "write") {
        counters.writes++;
        counters.blocksWritten += request.blocks;
        counters.writeLatencyNs += this.clock.now() - request.submittedAt;
      }
    } else {
      counters.failed++;
    }
    request.settle(request);
    if (this.queue.length > 0) this.pump();
  }

  retry(request: ScsiRequest, delayNs: number): void {
    this.inflight--;
    this.counters.retries++;
    if (delayNs <= 0) {
      this.queue.unshift(request);
      this.pump();
      return;
    }
    this.clock.setTimer(
      delayNs,
      () => {
        this.queue.unshift(request);
        this.pump();
      },
      { label: `${this.name} retry` },
    );
  }

  pathFailed(request: ScsiRequest): void {
    this.inflight--;
    this.counters.failovers++;
    this.queue.unshift(request);
    this.pump();
  }

  // ---- the queue ----

  private blockIo(write: boolean, lba: number, blocks: number, buffer: Uint8Array): Promise<void> {
    const bytes = blocks * this.capacity.blockSize;
    if (!Number.isInteger(lba) || !Number.isInteger(blocks) || lba < 0 || blocks < 1 || lba + blocks > this.capacity.blocks) {
      return Promise.reject(this.invalid(`${write ? "write" : "read"} of ${blocks} blocks at LBA ${lba} is outside the device (${this.capacity.blocks} blocks)`));
    }
    if (buffer.length < bytes) return Promise.reject(this.invalid(`buffer of ${buffer.length} bytes cannot hold ${blocks} blocks of ${this.capacity.blockSize}`));
    const kind: RequestKind = write ? "write" : "read";
    if (blocks <= this.maxTransferBlocks) return this.submitBlocks(write, kind, lba, blocks, buffer.length === bytes ? buffer : buffer.subarray(0, bytes));
    const parts: Promise<void>[] = [];
    for (let done = 0; done < blocks; done += this.maxTransferBlocks) {
      const count = Math.min(this.maxTransferBlocks, blocks - done);
      const offset = done * this.capacity.blockSize;
      parts.push(this.submitBlocks(write, kind, lba + done, count, buffer.subarray(offset, offset + count * this.capacity.blockSize)));
    }
    return Promise.all(parts).then(() => undefined);
  }

  private submitBlocks(write: boolean, kind: RequestKind, lba: number, blocks: number, data: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const request = new ScsiRequest(
        this,
        readWriteCdb(write, lba, blocks),
        write ? "toDevice" : "fromDevice",
        [data],
        kind,
        blocks,
        this.settings.commandTimeoutNs,
        this.settings.commandRetries,
        false,
        this.clock.now(),
        (r) => (r.failure === undefined ? resolve() : reject(this.errorFor(r))),
      );
      this.submit(request);
    });
  }

  private submit(request: ScsiRequest): void {
    if (this.apdExpired) {
      this.failAllPathsDown(request);
      return;
    }
    this.queue.push(request);
    this.pump();
  }

  /** Sends queued requests while the queue depth allows and a path can take them. Re-entrant calls (a completion inside queuecommand) leave the work to the outer loop. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && this.inflight < this.queueDepth) {
        const path = this.selector.select(this.paths);
        if (path === undefined) {
          this.noUsablePath();
          return;
        }
        if (path !== this.lastPath) this.pathChanged(path);
        const request = this.queue.shift()!;
        this.inflight++;
        if (!path.host.send(request, path)) {
          this.inflight--;
          this.queue.unshift(request);
          path.host.waitForSlot(this);
          return;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private pathChanged(path: ScsiPath): void {
    const previous = this.lastPath;
    this.lastPath = path;
    if (previous === undefined || this.selector.policy === "VMW_PSP_RR") return;
    this.counters.pathSwitches++;
    const why = previous.alive ? "" : ` (${previous.runtimeName} is ${previous.state}${previous.reason ? `: ${previous.reason}` : ""})`;
    this.log.warn(NMP_LOG, `${this.name}: I/O moved from ${previous.runtimeName} to ${path.runtimeName}${why}`);
  }

  private noUsablePath(): void {
    for (const path of this.paths) path.host.noticeDomain();
    // An adapter in error recovery comes back (or goes offline, killing its paths): wait for it.
    if (this.paths.some((p) => p.alive && p.host.state === "recovering")) return;
    if (this.apdTimer !== undefined || this.apdExpired) return;
    const seconds = this.settings.allPathsDownTimeoutNs / NS_PER_S;
    this.log.warn(NMP_LOG, `${this.name}: all paths down; I/O waits up to ${seconds} s for a path`);
    this.apdTimer = this.clock.setTimer(this.settings.allPathsDownTimeoutNs, () => this.allPathsDownExpired(), { label: `${this.name} APD timeout` });
  }

  private allPathsDownExpired(): void {
    this.apdTimer = undefined;
    if (this.paths.some((p) => p.usable)) {
      this.pump();
      return;
    }
    this.apdExpired = true;
    const waiting = this.queue.drain();
    this.log.error(NMP_LOG, `${this.name}: all paths down for ${this.settings.allPathsDownTimeoutNs / NS_PER_S} s; failing ${waiting.length} queued I/O and new I/O until a path returns`);
    for (const request of waiting) this.failAllPathsDown(request);
  }

  private failAllPathsDown(request: ScsiRequest): void {
    request.failure = "all-paths-down";
    this.counters.failed++;
    request.settle(request);
  }

  private errorFor(request: ScsiRequest): StorageIoError {
    return new StorageIoError(this.name, request.failure ?? "command-failed", request.hostStatus, request.scsiStatus, decodeSense(request.sense));
  }

  private invalid(detail: string): StorageIoError {
    return new StorageIoError(this.name, "invalid-request", 0, 0, undefined, detail);
  }

  private updateLimits(): void {
    let depth = Number.POSITIVE_INFINITY;
    let sectors = Number.POSITIVE_INFINITY;
    for (const path of this.paths) {
      depth = Math.min(depth, path.host.adapter.limits.cmdPerLun);
      sectors = Math.min(sectors, path.host.adapter.limits.maxSectors);
    }
    this.queueDepth = this.queueDepthOverride ?? (Number.isFinite(depth) ? Math.max(1, depth) : 1);
    this.maxTransferBlocks = Number.isFinite(sectors) ? Math.max(1, Math.floor((sectors * 512) / this.capacity.blockSize)) : Number.MAX_SAFE_INTEGER;
  }

  private makeSelector(policy: PathSelectionPolicyName, options: PolicyOptions): PathSelector {
    switch (policy) {
      case "VMW_PSP_FIXED":
        return new FixedPathSelector(options.preferredPath !== undefined ? this.pathNamed(options.preferredPath) : this.paths[0]);
      case "VMW_PSP_MRU":
        return new MostRecentlyUsedPathSelector(this.lastPath);
      case "VMW_PSP_RR":
        return new RoundRobinPathSelector(options.iops ?? this.settings.roundRobinIops);
      default:
        throw new Error(`unknown path selection policy ${String(policy)}`);
    }
  }

  private policyDetail(): string {
    const preferred = this.preferredPath;
    if (preferred !== undefined) return `, preferred path ${preferred.runtimeName}`;
    const iops = this.roundRobinIops;
    return iops !== undefined ? `, ${iops} I/Os per path` : "";
  }

  private pathNamed(runtimeName: string): ScsiPath {
    const path = this.paths.find((p) => p.runtimeName === runtimeName);
    if (path === undefined) throw new Error(`${this.name} has no path ${runtimeName}`);
    return path;
  }
}

/** vmhba1:C0:T2:L10 sorts after vmhba1:C0:T2:L9: by adapter number, target, LUN. */
export function comparePaths(a: ScsiPath, b: ScsiPath): number {
  return vmhbaNumber(a.host.name) - vmhbaNumber(b.host.name) || a.target - b.target || a.lun - b.lun;
}

function vmhbaNumber(name: string): number {
  return Number(name.replace(/^vmhba/, ""));
}
