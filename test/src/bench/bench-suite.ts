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

/** Times `body` repeatedly until `minSeconds` have passed; returns operations per second. */
export function measureRate(body: () => number, minSeconds = 1): { perSecond: number; operations: number; seconds: number } {
  // warm-up lets the JIT settle before measuring
  const warmupEnd = performance.now() + 200;
  while (performance.now() < warmupEnd) body();
  let operations = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    operations += body();
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < minSeconds);
  return { perSecond: operations / elapsed, operations, seconds: elapsed };
}

export function formatFigure(figure: BenchFigure): string {
  const value = figure.value >= 100 ? Math.round(figure.value).toLocaleString("en-US") : figure.value.toFixed(2);
  let line = `${figure.name.padEnd(58)} ${value.padStart(14)} ${figure.unit}`;
  if (figure.reference) line += `   ${(figure.value / figure.reference.value).toFixed(2)}x ${figure.reference.label}`;
  return line;
}
