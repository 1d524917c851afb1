/**
 * Command-line entry of the CPU benchmark. Bundle it first so the figures measure the CPU, not a
 * per-module TypeScript transform:
 *   npx esbuild guests/src/cpu/bench-main.ts --bundle --platform=node --format=esm --outfile=guests/.cache/bench-cpu.mjs
 *   node guests/.cache/bench-cpu.mjs
 * `--interpreter [runs]` measures the interpreter alone, each workload `runs` times (default 3).
 */
import { formatCpuBenchmarks, runCpuBenchmarks, runInterpreterBenchmarks } from "./bench.js";

const modeAt = process.argv.indexOf("--interpreter");
if (modeAt >= 0) {
  const repeats = Number(process.argv[modeAt + 1] ?? 3) || 3;
  for (const { name, cpuMips } of runInterpreterBenchmarks(repeats)) {
    const sorted = [...cpuMips].sort((a, b) => a - b);
    console.log(`${name.padEnd(12)} median ${sorted[sorted.length >> 1].toFixed(1).padStart(6)} MIPS  runs ${cpuMips.map((m) => m.toFixed(1)).join(" ")}`);
  }
} else {
  console.log(formatCpuBenchmarks(await runCpuBenchmarks()));
}
