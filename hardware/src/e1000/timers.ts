import type { TimerHandle } from "@vmk/kernel";
import { NOT_ARMED } from "./state.js";

/** What a deadline timer needs from the device: time, and a way to schedule (absent until attached). */
export interface TimerHost {
  now(): number;
  schedule(delay: number, callback: () => void, label: string): TimerHandle | undefined;
}

/**
 * A hardware timer whose deadline lives in the device state (so it snapshots as data). Moving the
 * deadline later keeps the pending clock timer, which re-arms itself for the remainder when it fires:
 * a packet-delay timer restarted on every frame then costs no clock operation per frame.
 */
export class DeadlineTimer {
  private handle: TimerHandle | undefined;
  private readonly onClock = (): void => this.clockFired();

  constructor(
    private readonly host: TimerHost,
    private readonly label: string,
    private readonly getDeadline: () => number,
    private readonly setDeadline: (deadline: number) => void,
    private readonly expire: () => void,
  ) {}

  get armed(): boolean {
    return this.getDeadline() !== NOT_ARMED;
  }

  arm(deadline: number): void {
    this.setDeadline(deadline);
    this.sync();
  }

  cancel(): void {
    this.setDeadline(NOT_ARMED);
    if (this.handle?.pending) this.handle.cancel();
    this.handle = undefined;
  }

  /** Makes the clock timer match the stored deadline (after arm, or after a state restore). */
  sync(): void {
    const deadline = this.getDeadline();
    if (deadline === NOT_ARMED) {
      if (this.handle?.pending) this.handle.cancel();
      this.handle = undefined;
      return;
    }
    if (this.handle?.pending && this.handle.deadline <= deadline) return;
    if (this.handle?.pending) this.handle.cancel();
    this.handle = this.host.schedule(Math.max(0, deadline - this.host.now()), this.onClock, this.label);
    if (!this.handle && deadline <= this.host.now()) this.clockFired();
  }

  /** Drops the clock timer but keeps the deadline (detach). */
  release(): void {
    if (this.handle?.pending) this.handle.cancel();
    this.handle = undefined;
  }

  private clockFired(): void {
    this.handle = undefined;
    const deadline = this.getDeadline();
    if (deadline === NOT_ARMED) return;
    if (deadline > this.host.now()) {
      this.sync();
      return;
    }
    this.setDeadline(NOT_ARMED);
    this.expire();
  }
}
