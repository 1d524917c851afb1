import * as R from "./registers.js";

/**
 * Statistics counters (SDM 13.7). They live in the register file; every one clears when read, and
 * the 64-bit octet counters clear when their high half is read. Counters stick at their maximum.
 */
const GORCL_INDEX = R.reg(R.GORCL);
const GOTCL_INDEX = R.reg(R.GOTCL);
const TORL_INDEX = R.reg(R.TORL);
const TOTL_INDEX = R.reg(R.TOTL);
const PRC64_INDEX = R.reg(R.PRC64);
const PTC64_INDEX = R.reg(R.PTC64);

export const STAT = {
  MPC: R.reg(R.MPC),
  RLEC: R.reg(R.RLEC),
  GPRC: R.reg(R.GPRC),
  BPRC: R.reg(R.BPRC),
  MPRC: R.reg(R.MPRC),
  GPTC: R.reg(R.GPTC),
  RNBC: R.reg(R.RNBC),
  RUC: R.reg(R.RUC),
  ROC: R.reg(R.ROC),
  TPR: R.reg(R.TPR),
  TPT: R.reg(R.TPT),
  MPTC: R.reg(R.MPTC),
  BPTC: R.reg(R.BPTC),
  TSCTC: R.reg(R.TSCTC),
  TSCTFC: R.reg(R.TSCTFC),
} as const;

/** The high halves of the 64-bit counters; reading one of these clears the pair. */
const HIGH_HALVES = new Set([GORCL_INDEX + 1, GOTCL_INDEX + 1, TORL_INDEX + 1, TOTL_INDEX + 1]);
const LOW_HALVES = new Set([GORCL_INDEX, GOTCL_INDEX, TORL_INDEX, TOTL_INDEX]);

export function increment(regs: Uint32Array, index: number): void {
  const value = regs[index]!;
  if (value !== 0xffffffff) regs[index] = value + 1;
}

function add64(regs: Uint32Array, lowIndex: number, amount: number): void {
  const low = regs[lowIndex]! + amount;
  if (low <= 0xffffffff) {
    regs[lowIndex] = low;
    return;
  }
  const high = regs[lowIndex + 1]!;
  if (high === 0xffffffff) {
    regs[lowIndex] = 0xffffffff;
    return;
  }
  regs[lowIndex] = low - 0x100000000;
  regs[lowIndex + 1] = high + 1;
}

/** Size bucket 64, 65-127, 128-255, 256-511, 512-1023, 1024-1522 (lengths include the FCS). */
function sizeBucket(wireLength: number): number {
  if (wireLength <= 64) return 0;
  if (wireLength <= 127) return 1;
  if (wireLength <= 255) return 2;
  if (wireLength <= 511) return 3;
  if (wireLength <= 1023) return 4;
  return wireLength <= 1522 ? 5 : -1;
}

function isBroadcast(frame: Uint8Array): boolean {
  return (frame[0]! & frame[1]! & frame[2]! & frame[3]! & frame[4]! & frame[5]!) === 0xff;
}

/** Every frame seen on the wire, before filtering (TPR/TOR). */
export function countReceivedTotal(regs: Uint32Array, wireLength: number): void {
  increment(regs, STAT.TPR);
  add64(regs, TORL_INDEX, wireLength);
}

/** A good frame that passed filtering and was stored. */
export function countReceivedGood(regs: Uint32Array, frame: Uint8Array, wireLength: number): void {
  increment(regs, STAT.GPRC);
  add64(regs, GORCL_INDEX, wireLength);
  const bucket = sizeBucket(wireLength);
  if (bucket >= 0) increment(regs, PRC64_INDEX + bucket);
  if (frame[0]! & 1) increment(regs, isBroadcast(frame) ? STAT.BPRC : STAT.MPRC);
}

export function countTransmitted(regs: Uint32Array, frame: Uint8Array, wireLength: number): void {
  increment(regs, STAT.TPT);
  add64(regs, TOTL_INDEX, wireLength);
  increment(regs, STAT.GPTC);
  add64(regs, GOTCL_INDEX, wireLength);
  const bucket = sizeBucket(wireLength);
  if (bucket >= 0) increment(regs, PTC64_INDEX + bucket);
  if (frame[0]! & 1) increment(regs, isBroadcast(frame) ? STAT.BPTC : STAT.MPTC);
}

/** A statistics register read: clear-on-read, with the 64-bit pairs cleared through their high half. */
export function readStatistic(regs: Uint32Array, index: number): number {
  const value = regs[index]!;
  if (LOW_HALVES.has(index)) return value;
  if (HIGH_HALVES.has(index)) {
    regs[index - 1] = 0;
    regs[index] = 0;
    return value;
  }
  regs[index] = 0;
  return value;
}
