import type { Clock, TimerHandle } from "../../clock/clock.js";
import { HostStatus, ScsiStatus } from "../scsi-constants.js";
import type { ScsiAdapter, ScsiAdapterCommand, ScsiAdapterLimits, ScsiCompletion, ScsiDone, ScsiScanLimits } from "../scsi-adapter.js";
import { FakeTarget } from "./fake-target.js";
import type { MemoryLun } from "./memory-lun.js";

export interface FakeAdapterOptions {
  latencyNs?: number;
  limits?: Partial<ScsiAdapterLimits>;
  scan?: Partial<ScsiScanLimits>;
}

interface Pending {
  readonly command: ScsiAdapterCommand;
  readonly done: ScsiDone;
  timer: TimerHandle | undefined;
}

/**
 * A host bus adapter in front of FakeTargets, completing each command after `latencyNs` of clock
 * time. The command reaches the LUN only when it completes, so a command caught by a link cut never
 * touched the medium. Public fields are fault switches and records for tests.
 */
export class FakeScsiAdapter implements ScsiAdapter {
  readonly driver = "fake_hba";
  readonly model = "Fake SCSI HBA";
  readonly limits: ScsiAdapterLimits;
  readonly scan: ScsiScanLimits;
  readonly targets = new Map<number, FakeTarget>();
  readonly latencyNs: number;

  /** The link is cut: every command, including those in flight, ends in DID_NO_CONNECT. */
  linkDown = false;
  /** The next N commands are swallowed: they never complete (a lost frame, a hung firmware). */
  hangNext = 0;
  abortWorks = true;
  lunResetWorks = true;
  hostResetWorks = true;
  /** queueCommand throws, as a buggy driver would. */
  throwOnQueue = false;
  /** The next N queueCommand calls say "host busy". */
  busyNext = 0;

  /** Opcode and nexus of every accepted command, in order. */
  readonly issued: { target: number; lun: number; opcode: number }[] = [];
  /** Task management calls, in order ("abort T0:L1", "LUN reset T0:L1", "host reset"). */
  readonly taskManagement: string[] = [];
  maxOutstanding = 0;
  private readonly pending = new Map<ScsiAdapterCommand, Pending>();

  constructor(
    readonly busAddress: string,
    private readonly clock: Clock,
    options: FakeAdapterOptions = {},
  ) {
    this.latencyNs = options.latencyNs ?? 100_000;
    this.limits = { canQueue: 64, cmdPerLun: 16, sgTablesize: 128, maxSectors: 1024, ...options.limits };
    this.scan = { maxTargetId: 3, maxLun: 7, initiatorId: 7, ...options.scan };
  }

  /** Puts `lun` behind target `target` (the same MemoryLun may sit behind several adapters: multipathing). */
  attach(target: number, lun: number, memoryLun: MemoryLun): FakeTarget {
    let port = this.targets.get(target);
    if (port === undefined) {
      port = new FakeTarget();
      this.targets.set(target, port);
    }
    port.luns.set(lun, memoryLun);
    return port;
  }

  get outstanding(): number {
    return this.pending.size;
  }

  /** Media commands (READ/WRITE) accepted, for path-use assertions. */
  mediaCommands(): number {
    return this.issued.filter((c) => c.opcode === 0x28 || c.opcode === 0x2a || c.opcode === 0x88 || c.opcode === 0x8a).length;
  }

  queueCommand(command: ScsiAdapterCommand, done: ScsiDone): boolean {
    if (this.throwOnQueue) throw new Error("fake_hba: queuecommand dereferenced a stale request");
    if (this.busyNext > 0) {
      this.busyNext--;
      return false;
    }
    this.issued.push({ target: command.target, lun: command.lun, opcode: command.cdb[0]! });
    const entry: Pending = { command, done, timer: undefined };
    this.pending.set(command, entry);
    this.maxOutstanding = Math.max(this.maxOutstanding, this.pending.size);
    if (this.hangNext > 0) {
      this.hangNext--;
      return true;
    }
    entry.timer = this.clock.setTimer(this.latencyNs, () => this.finish(entry), { label: `${this.busAddress} completion` });
    return true;
  }

  abort(command: ScsiAdapterCommand): boolean {
    this.taskManagement.push(`abort T${command.target}:L${command.lun}`);
    if (!this.abortWorks) return false;
    this.drop((c) => c === command);
    return true;
  }

  resetDevice(target: number, lun: number): boolean {
    this.taskManagement.push(`LUN reset T${target}:L${lun}`);
    if (!this.lunResetWorks) return false;
    this.drop((c) => c.target === target && c.lun === lun);
    return true;
  }

  /** Answers asynchronously, as a real adapter's reset does. */
  resetHost(): Promise<boolean> {
    this.taskManagement.push("host reset");
    if (!this.hostResetWorks) return Promise.resolve(false);
    this.drop(() => true);
    this.hangNext = 0;
    return Promise.resolve(true);
  }

  private drop(matches: (command: ScsiAdapterCommand) => boolean): void {
    for (const [command, entry] of [...this.pending]) {
      if (!matches(command)) continue;
      entry.timer?.cancel();
      this.pending.delete(command);
    }
  }

  private finish(entry: Pending): void {
    if (this.pending.get(entry.command) !== entry) return;
    this.pending.delete(entry.command);
    entry.done(this.execute(entry.command));
  }

  private execute(command: ScsiAdapterCommand): ScsiCompletion {
    const target = this.linkDown ? undefined : this.targets.get(command.target);
    if (target === undefined) return { hostStatus: HostStatus.DID_NO_CONNECT, scsiStatus: ScsiStatus.GOOD, residual: command.transferLength };
    const response = target.execute(this.busAddress, command);
    return { hostStatus: HostStatus.DID_OK, scsiStatus: response.status as ScsiStatus, ...(response.sense ? { sense: response.sense } : {}), residual: response.residual };
  }
}
