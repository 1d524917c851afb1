import type { Linux } from "./linux.js";
import { NSEC_PER_JIFFY } from "./time.js";

/**
 * Sleeping in process context (probe, remove, error handlers). msleep() returns at once (time.ts says
 * why); code that must let a device make progress first awaits these instead: they resolve on the host
 * clock, so the driver's async function resumes once the time has passed, with everything the device
 * did meanwhile already done. The Linux instance comes first because Linux's versions reach the
 * scheduler as a global, as in time_is_before_jiffies(linux, ...).
 */

/** Sleeps `timeout` jiffies; resolves to 0 (the time left), as Linux's does after a full sleep. */
export function schedule_timeout_uninterruptible(linux: Linux, timeout: number): Promise<number> {
  return new Promise<number>((resolve) => {
    linux.context.clock.setTimer(Math.max(0, timeout) * NSEC_PER_JIFFY, () => resolve(0), { label: "schedule_timeout" });
  });
}

/** struct completion: one side waits, the other signals (interrupt handler, tasklet). */
export class completion {
  done = 0;
  /** Waiters, first come first woken. */
  readonly waiters: (() => void)[] = [];
}

export function init_completion(x: completion): void {
  x.done = 0;
  x.waiters.length = 0;
}
export const reinit_completion = (x: completion): void => {
  x.done = 0;
};

export function complete(x: completion): void {
  const waiter = x.waiters.shift();
  if (waiter) waiter();
  else x.done++;
}

export function complete_all(x: completion): void {
  x.done = Number.MAX_SAFE_INTEGER;
  for (const waiter of x.waiters.splice(0)) waiter();
}

export function completion_done(x: completion): boolean {
  return x.done > 0;
}

/**
 * Waits for complete() for at most `timeout` jiffies. Resolves to the jiffies that were left (at least
 * 1) when completed, or 0 on timeout, as Linux's does.
 */
export function wait_for_completion_timeout(linux: Linux, x: completion, timeout: number): Promise<number> {
  if (x.done > 0) {
    if (x.done !== Number.MAX_SAFE_INTEGER) x.done--;
    return Promise.resolve(Math.max(1, timeout));
  }
  const clock = linux.context.clock;
  const deadline = clock.now() + Math.max(0, timeout) * NSEC_PER_JIFFY;
  return new Promise<number>((resolve) => {
    const timer = clock.setTimer(
      deadline - clock.now(),
      () => {
        const at = x.waiters.indexOf(waiter);
        if (at >= 0) x.waiters.splice(at, 1);
        resolve(0);
      },
      { label: "wait_for_completion" },
    );
    const waiter = (): void => {
      timer.cancel();
      resolve(Math.max(1, Math.ceil((deadline - clock.now()) / NSEC_PER_JIFFY)));
    };
    x.waiters.push(waiter);
  });
}
