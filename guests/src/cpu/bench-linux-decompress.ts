/**
 * Speed of the bzImage's own XZ decompressor (the first ~2.3 G instructions of the reference Linux
 * guest's boot) under the default engine. Bundle it, as bench-main.ts, so the figures measure the CPU:
 *   npx esbuild guests/src/cpu/bench-linux-decompress.ts --bundle --platform=node --format=esm --outfile=guests/.cache/bench-decompress.mjs
 *   node guests/.cache/bench-decompress.mjs [--no-jit] [--limit N] [--window N] [--slice N]
 * It boots the cached images (scripts/fetch-guest-images.mjs) on a bare PcMachine and runs the CPU
 * directly in fixed slices (the decompressor needs no timer), until the kernel it hands over to runs
 * at its virtual addresses (to within a slice, 1 M instructions unless --slice; `vmk run` runs
 * slices of 10 k) or for --limit instructions. --window N prints MIPS per N instructions, so warm-up
 * and slow phases stand out. MIPS per CPU second is the steadier figure on a shared machine (it
 * includes V8's compiler threads).
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { VirtualClock } from "@vmk/kernel";
import { PcMachine } from "../vm/pc-machine.js";
import { SerialConsoleLine } from "../vm/serial-console-line.js";
import { enableWasmBranchHints } from "../vm/wasm-branch-hints.js";

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const jit = !argv.includes("--no-jit");
enableWasmBranchHints();
const limit = option("--limit", 3e9);
const window = option("--window", 250e6);
const SLICE = option("--slice", 1_000_000);

const cache = process.env.VMK_CACHE || join(homedir(), ".cache", "vmk", "guest");
const com1 = new SerialConsoleLine();
const machine = new PcMachine({ clock: new VirtualClock(), memoryBytes: 256 << 20, com1, uartTransmitPacing: "immediate" });
machine.cpu.jit.enabled = jit;
machine.boot({
  kernel: new Uint8Array(readFileSync(join(cache, "vmlinuz"))),
  initrd: new Uint8Array(readFileSync(join(cache, "initramfs.cpio.gz"))),
  commandLine: "console=ttyS0,115200 earlyprintk=serial,ttyS0,115200",
});

const cpu = machine.cpu;
const start = performance.now();
const startCpu = process.cpuUsage();
let windowCpu = startCpu;
let windowStart = start;
let windowInstructions = 0;
let total = 0;
let guestNs = 0;
// The decompressor runs at its physical load address with paging off; the kernel it hands over to
// turns paging on within a few thousand instructions and runs at 0xC0000000 and above.
const decompressing = () => (cpu.eip >>> 0) < 0xc0000000;
while (total < limit && decompressing()) {
  const ran = machine.runSlice(SLICE, guestNs);
  guestNs += ran;
  total += ran;
  windowInstructions += ran;
  if (ran === 0) throw new Error(`the CPU stopped at ${cpu.eip.toString(16)} (halted: ${cpu.halted})`);
  if (windowInstructions >= window) {
    const now = performance.now();
    const nowCpu = process.cpuUsage();
    const cpuMs = (nowCpu.user + nowCpu.system - windowCpu.user - windowCpu.system) / 1000;
    console.log(`  ${(total / 1e6).toFixed(0).padStart(5)} M  ${(windowInstructions / 1e3 / (now - windowStart)).toFixed(1).padStart(7)} MIPS wall ${(windowInstructions / 1e3 / cpuMs).toFixed(1).padStart(7)} MIPS cpu  eip ${cpu.eip.toString(16)}`);
    windowStart = now;
    windowCpu = nowCpu;
    windowInstructions = 0;
  }
}
const seconds = (performance.now() - start) / 1000;
const used = process.cpuUsage(startCpu);
const cpuSeconds = (used.user + used.system) / 1e6;
const t = cpu.translations;
if (!decompressing()) console.log(`the kernel runs at ${(cpu.eip >>> 0).toString(16)} after ${(total / 1e6).toFixed(0)} M instructions`);
console.log(`${jit ? "JIT" : "interpreter"}: ${(total / 1e6).toFixed(1)} M instructions in ${seconds.toFixed(2)} s = ${(total / 1e6 / seconds).toFixed(1)} MIPS wall, ${cpuSeconds.toFixed(2)} s CPU = ${(total / 1e6 / cpuSeconds).toFixed(1)} MIPS`);
console.log(
  `translated share ${((100 * t.translatedInstructions) / total).toFixed(1)}%, translations made ${t.translated}, live ${t.live}, evicted ${t.evicted}, ` +
    `compile ${t.compileSeconds.toFixed(2)} s, regrown ${t.regionsRegrown}, dropped stale ${t.droppedStale}`,
);
