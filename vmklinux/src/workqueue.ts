import type { TimerHandle } from "@vmk/kernel";
import type { Linux } from "./linux.js";
import { timer_list } from "./time.js";

/**
 * struct work_struct: deferred process-context work. Works run one at a time from the host clock, each
 * after the work that was running when it was queued (the system workqueue, ordered per host).
 */
export class work_struct {
  func: ((work: work_struct) => void) | null = null;
  linux: Linux | null = null;
  handle: TimerHandle | null = null;
  running = false;
  readonly fire = (): void => {
    this.handle = null;
    this.linux?.run_work(this);
  };
}

/** struct delayed_work: a work queued by a timer. */
export class delayed_work {
  readonly work = new work_struct();
  readonly timer = new timer_list();
}

function owner(work: work_struct, what: string): Linux {
  if (!work.linux || !work.func) throw new Error(`${what}: work was never initialised with INIT_WORK()`);
  return work.linux;
}

export function work_pending(work: work_struct): boolean {
  return work.handle !== null && work.handle.pending;
}

/** Queues the work unless it is already queued; returns whether it was queued now. */
export function schedule_work(work: work_struct): boolean {
  const linux = owner(work, "schedule_work");
  if (work_pending(work)) return false;
  work.handle = linux.queue_work_now(work);
  return true;
}

/** Cancels a queued work; returns whether it was pending. A running work has finished by the time this is called. */
export function cancel_work_sync(work: work_struct): boolean {
  if (!work.handle) return false;
  const wasPending = work.handle.pending;
  work.handle.cancel();
  work.handle = null;
  return wasPending;
}

/** Runs a queued work now, so that it has completed on return (what flush_work waits for). */
export function flush_work(work: work_struct): boolean {
  if (!work_pending(work)) return false;
  cancel_work_sync(work);
  owner(work, "flush_work").run_work(work);
  return true;
}

export function delayed_work_pending(dwork: delayed_work): boolean {
  return work_pending(dwork.work) || (dwork.timer.handle !== null && dwork.timer.handle.pending);
}

export function schedule_delayed_work(dwork: delayed_work, delay: number): boolean {
  if (delayed_work_pending(dwork)) return false;
  const linux = owner(dwork.work, "schedule_delayed_work");
  if (delay <= 0) return schedule_work(dwork.work);
  dwork.timer.expires = linux.jiffies + delay;
  dwork.timer.handle = linux.arm_timer(dwork.timer, dwork.timer.expires);
  return true;
}

/** Re-arms a delayed work whether or not it was pending; returns whether it was. */
export function mod_delayed_work(dwork: delayed_work, delay: number): boolean {
  const wasPending = cancel_delayed_work(dwork);
  schedule_delayed_work(dwork, delay);
  return wasPending;
}

export function cancel_delayed_work(dwork: delayed_work): boolean {
  let wasPending = false;
  if (dwork.timer.handle) {
    wasPending = dwork.timer.handle.pending;
    dwork.timer.handle.cancel();
    dwork.timer.handle = null;
  }
  return cancel_work_sync(dwork.work) || wasPending;
}
export const cancel_delayed_work_sync = cancel_delayed_work;
