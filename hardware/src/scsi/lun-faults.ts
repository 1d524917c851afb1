import type { Clock, Nanoseconds, TimerHandle } from "@vmk/kernel";
import { ScsiStatus, ScsiTaskAbortedError, ScsiTransportError, type InitiatorId, type ScsiCommand } from "./scsi-command.js";

/** Faults a test can inject on a logical unit. With `initiator` set a fault hits only that nexus (one path). */
export type LunFault =
  /** Every command waits `delayNs` on the logical unit's clock before it starts. */
  | { kind: "delay"; delayNs: Nanoseconds; initiator?: InitiatorId }
  /** Media access touching these blocks fails with MEDIUM ERROR (unrecovered read error / write error). */
  | { kind: "medium-error"; firstLba: number; blockCount: number; access?: "read" | "write" | "both"; initiator?: InitiatorId }
  /** Commands are held and never complete until the fault is cleared (a timeout for the initiator). */
  | { kind: "hang"; initiator?: InitiatorId }
  /** Commands are never delivered and completions are lost: `execute` rejects with ScsiTransportError. */
  | { kind: "path-loss"; initiator: InitiatorId }
  /** Commands complete at once with this status (BUSY, TASK SET FULL) and no sense. */
  | { kind: "status"; status: typeof ScsiStatus.BUSY | typeof ScsiStatus.TASK_SET_FULL; initiator?: InitiatorId };

export type InjectedFault = LunFault & { id: number };

export interface LunFaultState {
  nextId: number;
  faults: InjectedFault[];
}

/** A command held by a delay or a hang. */
interface Waiter {
  initiator: InitiatorId;
  timer: TimerHandle | null;
  hung: boolean;
  resolve(): void;
  reject(error: Error): void;
  detach(): void;
}

/**
 * The faults injected on one logical unit, and the commands they are holding. Every check is behind
 * `active`, so a healthy LU pays one property read per command.
 */
export class LunFaults {
  private faults: InjectedFault[] = [];
  private nextId = 1;
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly clock?: Clock) {}

  get active(): boolean {
    return this.faults.length > 0;
  }

  list(): readonly InjectedFault[] {
    return this.faults;
  }

  inject(fault: LunFault): number {
    if (fault.kind === "delay" && !this.clock) throw new Error("a delay fault needs the logical unit to have a clock");
    const id = this.nextId++;
    this.faults.push({ ...fault, id });
    this.reconsiderWaiters();
    return id;
  }

  clear(id: number): void {
    this.faults = this.faults.filter((f) => f.id !== id);
    this.reconsiderWaiters();
  }

  clearAll(): void {
    this.faults = [];
    this.reconsiderWaiters();
  }

  /**
   * Runs before a command reaches the logical unit. Resolves with a status to complete it with, or
   * undefined to go on; rejects for a lost path or an abort.
   */
  async admit(command: ScsiCommand): Promise<ScsiStatus | undefined> {
    const initiator = command.initiator;
    this.checkPath(initiator);
    const status = this.find("status", initiator);
    if (status) return status.status;
    let delay = 0;
    for (const fault of this.faults) if (fault.kind === "delay" && applies(fault, initiator)) delay += fault.delayNs;
    if (delay > 0) await this.hold(command, delay);
    this.checkPath(initiator);
    if (this.find("hang", initiator)) await this.hold(command, undefined);
    this.checkPath(initiator);
    return undefined;
  }

  pathLost(initiator: InitiatorId): boolean {
    return this.find("path-loss", initiator) !== undefined;
  }

  /** The first block of [lba, lba + blocks) with an injected medium error for this access, or -1. */
  firstBadBlock(initiator: InitiatorId, lba: number, blocks: number, access: "read" | "write"): number {
    let first = -1;
    for (const fault of this.faults) {
      if (fault.kind !== "medium-error" || !applies(fault, initiator)) continue;
      if ((fault.access ?? "both") !== "both" && fault.access !== access) continue;
      const start = Math.max(lba, fault.firstLba);
      const end = Math.min(lba + blocks, fault.firstLba + fault.blockCount);
      if (start < end && (first < 0 || start < first)) first = start;
    }
    return first;
  }

  /** A logical unit reset: every held command is aborted. */
  abortHeld(): void {
    for (const waiter of [...this.waiters]) waiter.reject(new ScsiTaskAbortedError("lu-reset"));
  }

  save(): LunFaultState {
    return { nextId: this.nextId, faults: this.faults.map((f) => ({ ...f })) };
  }

  restore(state: LunFaultState): void {
    this.nextId = state.nextId;
    this.faults = state.faults.map((f) => ({ ...f }));
    this.reconsiderWaiters();
  }

  private checkPath(initiator: InitiatorId): void {
    if (this.faults.length > 0 && this.pathLost(initiator)) throw new ScsiTransportError(initiator, "path-lost");
  }

  private find<K extends LunFault["kind"]>(kind: K, initiator: InitiatorId): Extract<InjectedFault, { kind: K }> | undefined {
    for (const fault of this.faults) {
      if (fault.kind === kind && applies(fault, initiator)) return fault as Extract<InjectedFault, { kind: K }>;
    }
    return undefined;
  }

  /** Waits `delay` ns on the clock, or (without a delay) until no hang applies any more. */
  private hold(command: ScsiCommand, delay: Nanoseconds | undefined): Promise<void> {
    const signal = command.signal;
    if (signal?.aborted) return Promise.reject(new ScsiTaskAbortedError("abort-task"));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => waiter.reject(new ScsiTaskAbortedError("abort-task"));
      const waiter: Waiter = {
        initiator: command.initiator,
        timer: null,
        hung: delay === undefined,
        resolve: () => {
          waiter.detach();
          resolve();
        },
        reject: (error) => {
          waiter.detach();
          reject(error);
        },
        detach: () => {
          this.waiters.delete(waiter);
          waiter.timer?.cancel();
          signal?.removeEventListener("abort", onAbort);
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (delay !== undefined) waiter.timer = this.clock!.setTimer(delay, waiter.resolve, { label: "scsi fault delay" });
    });
  }

  private reconsiderWaiters(): void {
    for (const waiter of [...this.waiters]) {
      if (this.pathLost(waiter.initiator)) waiter.reject(new ScsiTransportError(waiter.initiator, "path-lost"));
      else if (waiter.hung && !this.find("hang", waiter.initiator)) waiter.resolve();
    }
  }
}

function applies(fault: LunFault, initiator: InitiatorId): boolean {
  return fault.initiator === undefined || fault.initiator === initiator;
}
