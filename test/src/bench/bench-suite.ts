/** One figure a benchmark reports; `reference` turns it into a ratio printed beside it. */
export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  reference?: { label: string; value: number };
}

export interface BenchSuite {
  name: string;
  run(): Promise<BenchFigure[]>;
}

/** Seconds of wall-clock time. */
export function wallSeconds(): number {
  return performance.now() / 1000;
}

/**
 * Seconds of this process's CPU time (user and system, every thread, so garbage collection counts):
 * what the work costs, whatever else the machine is running at the time.
 */
export function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** Times `body` repeatedly until `minSeconds` have passed on `clock`; returns operations per second of it. */
export function measureRate(body: () => number, minSeconds = 1, clock: () => number = wallSeconds): { perSecond: number; operations: number; seconds: number } {
  // warm-up lets the JIT settle before measuring
  const warmupEnd = performance.now() + 200;
  while (performance.now() < warmupEnd) body();
  let operations = 0;
  const start = clock();
  let elapsed = 0;
  do {
    operations += body();
    elapsed = clock() - start;
  } while (elapsed < minSeconds);
  return { perSecond: operations / elapsed, operations, seconds: elapsed };
}

/** The middle value (the mean of the two middle ones for an even count): a rate no single disturbed window moves. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("the median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function formatFigure(figure: BenchFigure): string {
  const value = figure.value >= 100 ? Math.round(figure.value).toLocaleString("en-US") : figure.value.toFixed(2);
  let line = `${figure.name.padEnd(58)} ${value.padStart(14)} ${figure.unit}`;
  if (figure.reference) line += `   ${(figure.value / figure.reference.value).toFixed(2)}x ${figure.reference.label}`;
  return line;
}
