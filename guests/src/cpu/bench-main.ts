/**
 * Command-line entry of the CPU benchmark. Bundle it first so the figures measure the CPU, not a
 * per-module TypeScript transform:
 *   npx esbuild guests/src/cpu/bench-main.ts --bundle --platform=node --format=esm --outfile=guests/.cache/bench-cpu.mjs
 *   node guests/.cache/bench-cpu.mjs
 */
import { formatCpuBenchmarks, runCpuBenchmarks } from "./bench.js";

const results = await runCpuBenchmarks();
console.log(formatCpuBenchmarks(results));
