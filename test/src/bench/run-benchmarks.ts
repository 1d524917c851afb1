import "reflect-metadata";
import { formatFigure, type BenchSuite } from "./bench-suite.js";
import { cpuPeersSuite } from "./cpu-peers.bench.js";
import { kernelIoSuite } from "./kernel-io.bench.js";
import { linuxBootSuite } from "./linux-boot.bench.js";
import { netPathSuite } from "./net-path.bench.js";
import { storagePathSuite } from "./storage-path.bench.js";
import { vmNetworkSuite } from "./vm-network.bench.js";

/** Every benchmark suite, run in one process so that ratios compare figures from the same run. */
export const benchSuites: BenchSuite[] = [kernelIoSuite, netPathSuite, storagePathSuite, cpuPeersSuite, vmNetworkSuite, linuxBootSuite];

export async function runBenchmarks(filter?: string): Promise<number> {
  let failures = 0;
  for (const suite of benchSuites) {
    if (filter && !suite.name.includes(filter)) continue;
    process.stdout.write(`\n== ${suite.name}\n`);
    try {
      for (const figure of await suite.run()) process.stdout.write(formatFigure(figure) + "\n");
    } catch (error) {
      failures++;
      process.stdout.write(`   failed: ${(error as Error).stack ?? error}\n`);
    }
  }
  return failures;
}
