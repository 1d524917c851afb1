import type { TimerHandle } from "@vmk/kernel";
import type { Linux } from "./linux.js";

/**
 * Time as a Linux driver sees it. jiffies count host-clock ticks of 1/HZ s (virtual time in tests, real
 * time for users); they are plain numbers that never wrap, so time_after() and friends are comparisons.
 *
 * Delays (udelay, mdelay, msleep, usleep_range) return at once. Device models run on the same thread as
 * the driver and virtual time only moves between callbacks, so neither spinning nor sleeping inside a
 * callback could let a device make progress. Models complete what a register write starts (a reset, an
 * EEPROM read, an MDIO cycle) before the write returns or on the clock after it; drivers keep Linux's
 * bounded polling loops, so a device that never completes ends in the driver's timeout path instead of
 * a hang. Each delay is recorded in `linux.delays` (count and requested time) for diagnostics.
 */
export const HZ = 250;
export const NSEC_PER_JIFFY = 1_000_000_000 / HZ;
export const MAX_JIFFY_OFFSET = Number.MAX_SAFE_INTEGER;

export function msecs_to_jiffies(ms: number): number {
  return Math.ceil((ms * HZ) / 1000);
}
export function usecs_to_jiffies(us: number): number {
  return Math.ceil((us * HZ) / 1_000_000);
}
export function jiffies_to_msecs(j: number): number {
  return (j * 1000) / HZ;
}
export function jiffies_to_usecs(j: number): number {
  return (j * 1_000_000) / HZ;
}
/** Rounds to a whole second so that periodic timers of many devices fire together (as Linux does to save wakeups). */
export function round_jiffies(j: number): number {
  return Math.ceil(j / HZ) * HZ;
}
export function round_jiffies_relative(j: number): number {
  return Math.max(1, Math.round(j / HZ) * HZ);
}
export function time_after(a: number, b: number): boolean {
  return a > b;
}
export function time_before(a: number, b: number): boolean {
  return a < b;
}
export function time_after_eq(a: number, b: number): boolean {
  return a >= b;
}
export function time_before_eq(a: number, b: number): boolean {
  return a <= b;
}
export function time_is_before_jiffies(linux: Linux, a: number): boolean {
  return time_after(linux.jiffies, a);
}

/** struct timer_list. Set it up with linux.timer_setup(); then mod_timer/del_timer find the host through it. */
export class timer_list {
  function: ((timer: timer_list) => void) | null = null;
  expires = 0;
  flags = 0;
  linux: Linux | null = null;
  handle: TimerHandle | null = null;
  /** The host clock's callback for this timer, made once so that arming a timer allocates nothing of ours. */
  readonly fire = (): void => {
    this.handle = null;
    this.linux?.run_timer(this);
  };
}

function owner(timer: timer_list, what: string): Linux {
  if (!timer.linux || !timer.function) throw new Error(`${what}: timer was never set up with timer_setup()`);
  return timer.linux;
}

/** Arms (or re-arms) the timer for `expires` jiffies; returns 1 if it was pending. */
export function mod_timer(timer: timer_list, expires: number): number {
  const linux = owner(timer, "mod_timer");
  const wasPending = timer_pending(timer) ? 1 : 0;
  if (timer.handle) timer.handle.cancel();
  timer.expires = expires;
  timer.handle = linux.arm_timer(timer, expires);
  return wasPending;
}

export function add_timer(timer: timer_list): void {
  if (timer_pending(timer)) throw new Error("add_timer: timer is already pending (BUG_ON in Linux)");
  mod_timer(timer, timer.expires);
}

export function timer_pending(timer: timer_list): boolean {
  return timer.handle !== null && timer.handle.pending;
}

/** Returns 1 if the timer was pending. Callbacks never run concurrently here, so the _sync variant is the same. */
export function del_timer(timer: timer_list): number {
  if (!timer.handle) return 0;
  const wasPending = timer.handle.pending ? 1 : 0;
  timer.handle.cancel();
  timer.handle = null;
  return wasPending;
}
export const del_timer_sync = del_timer;
export const timer_delete = del_timer;
export const timer_delete_sync = del_timer;
export const timer_shutdown_sync = del_timer;
