import { NS_PER_S, type Nanoseconds } from "@vmk/kernel";

/** The PC's PIT input clock: 14.31818 MHz / 12. */
export const PIT_HZ = 1_193_182;

/**
 * Whole PIT input clocks from time 0 to `ns`. Seconds and the remainder are converted separately so
 * every product stays below 2^53 and the result is exact at any uptime.
 */
export function pitTicksAt(ns: Nanoseconds): number {
  const seconds = Math.floor(ns / NS_PER_S);
  const remainder = ns - seconds * NS_PER_S;
  return seconds * PIT_HZ + Math.floor((remainder * PIT_HZ) / NS_PER_S);
}

/** The first whole nanosecond at which `pitTicksAt` reaches `tick`. */
export function nsAtPitTick(tick: number): Nanoseconds {
  const seconds = Math.floor(tick / PIT_HZ);
  const remainder = tick - seconds * PIT_HZ;
  return seconds * NS_PER_S + Math.ceil((remainder * NS_PER_S) / PIT_HZ);
}
