import { runBenchmarks } from "./bench/run-benchmarks.js";

process.exitCode = (await runBenchmarks(process.argv[2])) > 0 ? 1 : 0;
