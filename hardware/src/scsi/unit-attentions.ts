import type { InitiatorId } from "./scsi-command.js";
import { Asc, type AdditionalSense } from "./sense.js";

/** Pending unit attention conditions per I_T nexus, oldest first, as [ASC, ASCQ] pairs. */
export type UnitAttentionState = Record<InitiatorId, Array<[number, number]>>;

/** ASC 29h: some kind of reset. It supersedes every other condition pending for the nexus (SAM-5 6.3). */
const RESET_CLASS_ASC = 0x29;

/**
 * Unit attention conditions queued per I_T nexus: each is reported once, to the nexus it is for. A
 * nexus the logical unit has never seen starts with POWER ON, RESET OR BUS DEVICE RESET OCCURRED, as a
 * host that logs in to an array does.
 */
export class UnitAttentions {
  private readonly pending = new Map<InitiatorId, AdditionalSense[]>();

  /** Removes and returns the oldest condition pending for `initiator`. */
  take(initiator: InitiatorId): AdditionalSense | undefined {
    const queue = this.queueOf(initiator);
    return queue.length === 0 ? undefined : queue.shift();
  }

  has(initiator: InitiatorId): boolean {
    return this.queueOf(initiator).length > 0;
  }

  /** Queues `condition` for every nexus known so far, except `origin` (the one whose command caused it). */
  broadcast(condition: AdditionalSense, origin?: InitiatorId): void {
    for (const [initiator, queue] of this.pending) {
      if (initiator === origin) continue;
      if (condition.asc === RESET_CLASS_ASC) queue.length = 0;
      else if (queue.some((c) => c.asc === condition.asc && c.ascq === condition.ascq)) continue;
      queue.push(condition);
    }
  }

  /** Queues `condition` for one nexus (a reservation preempted, say), once. */
  post(initiator: InitiatorId, condition: AdditionalSense): void {
    const queue = this.queueOf(initiator);
    if (!queue.some((c) => c.asc === condition.asc && c.ascq === condition.ascq)) queue.push(condition);
  }

  /** Forgets every nexus: they all see a power-on condition next time (a power cycle). */
  powerOn(): void {
    this.pending.clear();
  }

  save(): UnitAttentionState {
    const state: UnitAttentionState = {};
    for (const [initiator, queue] of this.pending) state[initiator] = queue.map((c) => [c.asc, c.ascq]);
    return state;
  }

  restore(state: UnitAttentionState): void {
    this.pending.clear();
    for (const [initiator, queue] of Object.entries(state)) {
      this.pending.set(initiator, queue.map(([asc, ascq]) => ({ asc, ascq })));
    }
  }

  private queueOf(initiator: InitiatorId): AdditionalSense[] {
    let queue = this.pending.get(initiator);
    if (queue === undefined) {
      queue = [Asc.POWER_ON_RESET_OR_BUS_DEVICE_RESET];
      this.pending.set(initiator, queue);
    }
    return queue;
  }
}
