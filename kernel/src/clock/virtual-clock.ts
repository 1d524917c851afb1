import type { Clock, Nanoseconds, TimerHandle, TimerOptions } from "./clock.js";
import { TimerQueue } from "./timer-queue.js";
import { runInDomain } from "../exec/execution-domain.js";

export interface RunResult {
  /** Callbacks run. */
  events: number;
  /** Virtual time when the run stopped. */
  now: Nanoseconds;
  /** True when the run stopped because nothing was left to do (rather than at a deadline or event cap). */
  idle: boolean;
}

/**
 * Deterministic time: it only moves when the owner runs the event queue. Equal deadlines fire in the
 * order they were set, so a test replays exactly.
 */
export class VirtualClock implements Clock {
  readonly kind = "virtual" as const;
  private current: Nanoseconds = 0;
  private readonly queue = new TimerQueue();
  private running = false;

  constructor(start: Nanoseconds = 0) {
    this.current = start;
  }

  now(): Nanoseconds {
    return this.current;
  }

  setTimer(delay: Nanoseconds, callback: () => void, options: TimerOptions = {}): TimerHandle {
    if (!(delay >= 0) || !Number.isFinite(delay)) throw new RangeError(`timer delay must be a finite, non-negative number of ns (got ${delay})`);
    return this.queue.add(this.current + delay, callback, options.domain, options.label ?? "timer");
  }

  pendingTimers(): number {
    return this.queue.size;
  }

  /**
   * The earliest pending deadline; with `ignoreLabel`, the earliest of timers with another label
   * (a halted vCPU waits for the next real event, not for other halted vCPUs' wake-up timers).
   */
  nextDeadline(ignoreLabel?: string): Nanoseconds | undefined {
    if (ignoreLabel === undefined) return this.queue.peek()?.deadline;
    let earliest: Nanoseconds | undefined;
    for (const timer of this.queue.list()) {
      if (timer.label === ignoreLabel) continue;
      if (earliest === undefined || timer.deadline < earliest) earliest = timer.deadline;
    }
    return earliest;
  }

  /** Fires every timer due at or before `deadline`, in order, then sets the time to `deadline`. */
  runUntil(deadline: Nanoseconds, maxEvents = Number.POSITIVE_INFINITY): RunResult {
    return this.drain(deadline, maxEvents, true);
  }

  /** Advances time by `delta`, firing everything due on the way. */
  advance(delta: Nanoseconds, maxEvents = Number.POSITIVE_INFINITY): RunResult {
    return this.runUntil(this.current + delta, maxEvents);
  }

  /**
   * Fires timers until the queue is empty, jumping time forward to each deadline, but never past
   * `limit`. Periodic work (a watchdog) keeps a system from going idle, hence the limit.
   */
  runUntilIdle(limit: Nanoseconds = Number.POSITIVE_INFINITY, maxEvents = 10_000_000): RunResult {
    return this.drain(limit, maxEvents, false);
  }

  /**
   * Waits for `work` (a boot, a shutdown) while moving time on to the next timer whenever the event
   * loop has nothing else to do: a driver whose probe sleeps on the clock (a firmware booting) needs
   * time to pass, and nothing else moves a virtual clock while its owner awaits the kernel. Time is
   * only moved while `mayAdvance()` holds (not during real I/O such as a module import).
   */
  async driveUntilSettled<T>(work: Promise<T>, mayAdvance: () => boolean = () => true): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled) {
      await new Promise((resolve) => setImmediate(resolve));
      if (settled || !mayAdvance()) continue;
      const next = this.nextDeadline();
      if (next !== undefined) this.runUntil(next);
    }
    return work;
  }

  private drain(deadline: Nanoseconds, maxEvents: number, settleAtDeadline: boolean): RunResult {
    if (this.running) throw new Error("VirtualClock: run called from inside a timer callback");
    this.running = true;
    let events = 0;
    try {
      for (;;) {
        const next = this.queue.peek();
        if (!next || next.deadline > deadline || events >= maxEvents) break;
        this.queue.pop();
        next.pending = false;
        if (next.deadline > this.current) this.current = next.deadline;
        events++;
        runInDomain(next.domain, next.label, next.callback);
      }
    } finally {
      this.running = false;
    }
    const idle = this.queue.size === 0;
    if (settleAtDeadline && Number.isFinite(deadline) && events < maxEvents && deadline > this.current) this.current = deadline;
    return { events, now: this.current, idle };
  }
}
