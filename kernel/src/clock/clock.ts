import type { ExecutionDomain } from "../exec/execution-domain.js";

/** Nanoseconds. A double holds exact integers up to 2^53 ns, about 104 days of uptime. */
export type Nanoseconds = number;

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

export interface TimerHandle {
  /** True until the timer has fired or was cancelled. */
  readonly pending: boolean;
  readonly deadline: Nanoseconds;
  cancel(): void;
}

export interface TimerOptions {
  /** Who is answerable if the callback throws; the kernel domain when omitted. */
  domain?: ExecutionDomain;
  /** Shown in diagnostics (`vmk host timers`, clock dumps). */
  label?: string;
}

/**
 * The host clock. Devices, drivers and the kernel only ever read time and schedule work through this,
 * so the same code runs on virtual time (tests, the harness: reproducible) and on real time (users).
 */
export interface Clock {
  readonly kind: "virtual" | "real";
  now(): Nanoseconds;
  /** Runs `callback` once, `delay` ns from now. A zero delay runs it after the current work, never re-entrantly. */
  setTimer(delay: Nanoseconds, callback: () => void, options?: TimerOptions): TimerHandle;
  /** Number of timers that have not fired yet. */
  pendingTimers(): number;
}
