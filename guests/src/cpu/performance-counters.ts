/**
 * The P6 family's performance-monitoring counters (SDM vol. 3B, "Performance Monitoring for P6
 * Family Processors"): two 40-bit counters PERFCTR0/1 (MSRs 0xC1/0xC2), each programmed by its
 * event select EVNTSEL0/1 (MSRs 0x186/0x187), readable with RDMSR and RDPMC.
 *
 * A guest kernel probes them (Linux writes PERFCTR0 and reads it back, and reports "Broken PMU" if
 * the MSRs #GP), and profilers use them, so they count the events this CPU can count exactly:
 * INST_RETIRED (0xC0) and CPU_CLK_UNHALTED (0x79, one clock per retired instruction, which is how
 * the time-stamp counter runs too). Other events are accepted and count nothing. The USR/OS
 * qualifiers are honoured as "counting on" when either is set, not split by privilege level; the
 * overflow interrupt (INT) needs a local APIC this machine does not have. Like RDTSC, a read sees
 * the instructions retired as of the start of the running translated or cached block.
 */
export const enum PerfMsr {
  PERFCTR0 = 0xc1,
  PERFCTR1 = 0xc2,
  EVNTSEL0 = 0x186,
  EVNTSEL1 = 0x187,
}

const COUNTER_RANGE = 2 ** 40;
const EVENT_MASK = 0xff;
const USR = 1 << 16;
const OS = 1 << 17;
/** EN exists only in EVNTSEL0 and starts or stops both counters on P6. */
const ENABLE = 1 << 22;
const EVENT_INST_RETIRED = 0xc0;
const EVENT_CPU_CLK_UNHALTED = 0x79;

/** Plain data, saved with the CPU's state. */
export interface PerformanceCounterState {
  eventSelect: [number, number];
  /** Counter values as of `since` (or the frozen value while not counting). */
  value: [number, number];
  /** Instructions retired when the counter last started counting; -1 while it is stopped. */
  since: [number, number];
}

export function resetPerformanceCounters(): PerformanceCounterState {
  return { eventSelect: [0, 0], value: [0, 0], since: [-1, -1] };
}

export function isPerformanceMsr(msr: number): boolean {
  return msr === PerfMsr.PERFCTR0 || msr === PerfMsr.PERFCTR1 || msr === PerfMsr.EVNTSEL0 || msr === PerfMsr.EVNTSEL1;
}

function counts(state: PerformanceCounterState, index: number): boolean {
  if ((state.eventSelect[0] & ENABLE) === 0) return false;
  const select = state.eventSelect[index]!;
  if ((select & (USR | OS)) === 0) return false;
  const event = select & EVENT_MASK;
  return event === EVENT_INST_RETIRED || event === EVENT_CPU_CLK_UNHALTED;
}

/** The 40-bit value of counter `index` now. */
export function readCounter(state: PerformanceCounterState, index: number, retired: number): number {
  const since = state.since[index]!;
  const value = since < 0 ? state.value[index]! : state.value[index]! + (retired - since);
  return value % COUNTER_RANGE;
}

/** Folds running counts in, applies `change`, and restarts whichever counters now count. */
function reprogram(state: PerformanceCounterState, retired: number, change: () => void): void {
  for (let i = 0; i < 2; i++) {
    state.value[i] = readCounter(state, i, retired);
    state.since[i] = -1;
  }
  change();
  for (let i = 0; i < 2; i++) if (counts(state, i)) state.since[i] = retired;
}

/** RDMSR of one of the four MSRs: [low, high]. */
export function readPerformanceMsr(state: PerformanceCounterState, msr: number, retired: number): [number, number] {
  if (msr === PerfMsr.EVNTSEL0 || msr === PerfMsr.EVNTSEL1) return [state.eventSelect[msr - PerfMsr.EVNTSEL0]! >>> 0, 0];
  const value = readCounter(state, msr - PerfMsr.PERFCTR0, retired);
  return [value % 0x100000000, Math.floor(value / 0x100000000)];
}

/**
 * WRMSR of one of the four MSRs. A counter write takes EAX sign-extended to 40 bits (P6 ignores
 * EDX there), so software preloads a negative count to overflow after N events.
 */
export function writePerformanceMsr(state: PerformanceCounterState, msr: number, low: number, retired: number): void {
  reprogram(state, retired, () => {
    if (msr === PerfMsr.EVNTSEL0 || msr === PerfMsr.EVNTSEL1) {
      state.eventSelect[msr - PerfMsr.EVNTSEL0] = low >>> 0;
    } else {
      const value = low >>> 0;
      state.value[msr - PerfMsr.PERFCTR0] = (low | 0) < 0 ? COUNTER_RANGE - 0x100000000 + value : value;
    }
  });
}
