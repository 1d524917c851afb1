import { performance } from "node:perf_hooks";
import type { Clock, Nanoseconds, TimerHandle, TimerOptions } from "./clock.js";
import { TimerQueue, type ScheduledTimer } from "./timer-queue.js";
import { runInDomain } from "../exec/execution-domain.js";

/**
 * Wall-clock time for users. One Node timer is armed for the earliest deadline; due callbacks run from
 * the event loop in deadline order, so semantics match the virtual clock apart from the passage of time.
 */
export class RealTimeClock implements Clock {
  readonly kind = "real" as const;
  private readonly origin = performance.now();
  private readonly queue = new TimerQueue();
  private armed: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  now(): Nanoseconds {
    return Math.round((performance.now() - this.origin) * 1e6);
  }

  setTimer(delay: Nanoseconds, callback: () => void, options: TimerOptions = {}): TimerHandle {
    if (!(delay >= 0) || !Number.isFinite(delay)) throw new RangeError(`timer delay must be a finite, non-negative number of ns (got ${delay})`);
    const timer = this.queue.add(this.now() + delay, callback, options.domain, options.label ?? "timer");
    const cancel = timer.cancel.bind(timer);
    timer.cancel = () => {
      cancel();
      this.rearm();
    };
    this.rearm();
    return timer;
  }

  pendingTimers(): number {
    return this.queue.size;
  }

  /** Stops the underlying Node timer so the process can exit; pending timers stay queued. */
  stop(): void {
    if (this.armed) clearTimeout(this.armed);
    this.armed = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private rearm(): void {
    const next = this.queue.peek();
    if (!next) {
      this.stop();
      return;
    }
    if (this.armed && this.armedFor <= next.deadline) return;
    if (this.armed) clearTimeout(this.armed);
    this.armedFor = next.deadline;
    const waitMs = Math.max(0, (next.deadline - this.now()) / 1e6);
    this.armed = setTimeout(() => this.fireDue(), waitMs);
  }

  private fireDue(): void {
    this.armed = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    let next: ScheduledTimer | undefined;
    while ((next = this.queue.peek()) && next.deadline <= now) {
      this.queue.pop();
      next.pending = false;
      runInDomain(next.domain, next.label, next.callback);
    }
    this.rearm();
  }
}
