import type { TimerHandle } from "@vmk/kernel";
import type { Linux } from "./linux.js";

/**
 * struct tasklet_struct: the deferred half of an interrupt handler. A scheduled tasklet runs once on
 * the host clock after the current work (never re-entrantly), however often it was scheduled before
 * it ran; a throw from it goes through the module's fault fence like an interrupt handler's.
 */
export class tasklet_struct {
  func: ((data: any) => void) | null = null;
  data: unknown = null;
  linux: Linux | null = null;
  handle: TimerHandle | null = null;
  /** tasklet_disable nesting: a disabled tasklet stays scheduled but does not run. */
  count = 0;
  /** It came due while disabled: tasklet_enable runs it. */
  deferred = false;
  readonly fire = (): void => {
    this.handle = null;
    const linux = this.linux;
    if (!linux || linux.dead || !this.func) return;
    if (this.count > 0) {
      this.deferred = true;
      return;
    }
    try {
      this.func(this.data);
    } catch (error) {
      throw linux.driver_fault(error, "a tasklet");
    }
  };
}

/** The Linux instance comes first: Linux reaches the softirq machinery as a global. */
export function tasklet_init<T>(linux: Linux, t: tasklet_struct, func: (data: T) => void, data: T): void {
  t.linux = linux;
  t.func = func;
  t.data = data;
  t.count = 0;
}

export function tasklet_schedule(t: tasklet_struct): void {
  const linux = t.linux;
  if (!linux || !t.func) throw new Error("tasklet_schedule: tasklet was never set up with tasklet_init()");
  if (linux.dead || (t.handle !== null && t.handle.pending)) return;
  t.handle = linux.context.clock.setTimer(0, t.fire, { label: "tasklet" });
}

/** Removes a scheduled run; the tasklet is not running when this is called (nothing runs concurrently here). */
export function tasklet_kill(t: tasklet_struct): void {
  t.handle?.cancel();
  t.handle = null;
}

export function tasklet_disable(t: tasklet_struct): void {
  t.count++;
}

export function tasklet_enable(t: tasklet_struct): void {
  if (t.count === 0 || --t.count > 0 || !t.deferred) return;
  t.deferred = false;
  tasklet_schedule(t);
}
