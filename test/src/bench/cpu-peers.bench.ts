/**
 * Guest CPU speed of vmk against its peers, QEMU TCG and v86, on the same guest code: multiboot
 * kernels assembled with nasm from guests/test-programs/bench (a tight ALU loop, a 64 KiB memory
 * copy, a call-heavy loop, a sieve of Eratosthenes), each booted by every engine into flat 32-bit protected mode, running a
 * patched-in iteration count and writing its result to the isa-debug-exit port 0xF4.
 *
 * Every engine is measured the same way: n times the loop's instruction count (exact by
 * construction: vmk's instruction counter must agree to the instruction, v86's within 1%) over the
 * time of a run with n iterations less the time of a run with none (the same kernel, so boot,
 * set-up, result check and exit cancel out, QEMU's process start-up and SeaBIOS included), medians
 * of RUNS runs each. The figures use CPU time, what the engine costs (vmk and v86 in this process:
 * process.cpuUsage; QEMU: the reaped child's CPU time from /proc/self/stat), because on a loaded
 * machine wall time measures the scheduler; the wall-clock MIPS of the same runs are printed in a
 * line per workload. The iteration count is calibrated per engine so the measured difference
 * lasts about RUN_SECONDS of CPU time. Each run's result byte is checked against the workload's
 * arithmetic, so an engine that skipped or broke the loop fails the suite instead of looking fast.
 *
 * Engines are `GuestEngine`s: a further comparison (a Linux boot to the shell prompt, say) adds
 * a method there and a suite beside this one, reusing the engines' availability checks.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyInitialCpuState, Cpu, enableWasmBranchHints, loadMultibootKernel, RamOnlyBus, runInstructions, type CpuBus } from "@vmk/guests";
import { cpuSeconds, median, type BenchFigure, type BenchSuite } from "./bench-suite.js";

/** guests/test-programs/bench, found through the @vmk/guests package (its dist/ or, under vitest, its src/). */
const SOURCE_DIR = join(dirname(fileURLToPath(import.meta.resolve("@vmk/guests"))), "..", "test-programs", "bench");
const GUEST_RAM_BYTES = 64 << 20;
const EXIT_PORT = 0xf4;
/** CPU seconds the measured part (n iterations less none) of each run should last. */
const RUN_SECONDS = 1;
/** Timed runs per engine and workload (and runs of the empty kernel); the median counts. */
const RUNS = 3;
const MAX_ITERATIONS = 0xffff_ffff;

// ---- the workloads ---------------------------------------------------------------------------

interface Workload {
  name: string;
  /** nasm source in guests/test-programs/bench. */
  source: string;
  /** Guest instructions one iteration of the measured loop executes. */
  instructionsPerIteration: number;
  /** EAX at the exit for n iterations. */
  result(iterations: number): number;
}

const BLOCK_DWORDS = 16384;

function copiedBlockSum(): number {
  let sum = 0;
  for (let i = 0; i < BLOCK_DWORDS; i++) sum = (sum + ((0x12345678 + Math.imul(i, 0x9e3779b9)) >>> 0)) >>> 0;
  return sum;
}

const SIEVE_SIZE = 8192;

/** The sieve kernel's arithmetic: instructions per pass (by the kernel's own accounting) and the per-pass checksum. */
function sievePass(): { instructions: number; checksum: number } {
  const composite = new Uint8Array(SIEVE_SIZE);
  let instructions = 3 + 3 + 4 * SIEVE_SIZE + 1 + 2;
  let checksum = 0;
  for (let i = 2; i < SIEVE_SIZE; i++) {
    if (composite[i]) {
      instructions += 5;
      continue;
    }
    checksum = (checksum + i + 1) >>> 0;
    instructions += 13;
    for (let m = 2 * i; m < SIEVE_SIZE; m += i) {
      composite[m] = 1;
      instructions += 4;
    }
  }
  return { instructions, checksum };
}

const SIEVE = sievePass();

const ALL_WORKLOADS: Workload[] = [
  {
    name: "tight loop",
    source: "tight-loop.asm",
    instructionsPerIteration: 3,
    result: (n) => Number(((BigInt(n) * BigInt(n + 1)) / 2n) & 0xffff_ffffn),
  },
  {
    name: "memory copy",
    source: "memory-copy.asm",
    instructionsPerIteration: 5 + 6 * BLOCK_DWORDS,
    result: (n) => (n === 0 ? 0 : copiedBlockSum()),
  },
  {
    name: "call-heavy",
    source: "call-heavy.asm",
    instructionsPerIteration: 8,
    result: (n) => n >>> 0,
  },
  {
    name: "sieve",
    source: "sieve.asm",
    instructionsPerIteration: SIEVE.instructions,
    result: (n) => Math.imul(n, SIEVE.checksum) >>> 0,
  },
];

/** VMK_BENCH_CPU_WORKLOADS (comma-separated names) narrows the run, e.g. while tuning one workload. */
const WORKLOADS = selected(ALL_WORKLOADS, process.env.VMK_BENCH_CPU_WORKLOADS, (w) => w.name);

function selected<T>(all: T[], filter: string | undefined, name: (item: T) => string): T[] {
  if (filter === undefined || filter.trim() === "") return all;
  const names = filter.split(",").map((n) => n.trim());
  return all.filter((item) => names.includes(name(item)));
}

/** The byte the kernels write to port 0xF4: the XOR of EAX's four bytes. */
function exitByte(eax: number): number {
  return (eax ^ (eax >>> 8) ^ (eax >>> 16) ^ (eax >>> 24)) & 0xff;
}

/** An assembled benchmark kernel; `withIterations` patches the count after the "VMKBENCH" signature. */
class BenchKernel {
  private readonly parameterOffset: number;

  constructor(readonly image: Uint8Array) {
    const signature = Buffer.from(image).indexOf("VMKBENCH");
    if (signature < 0) throw new Error("benchmark kernel without its VMKBENCH parameter block");
    this.parameterOffset = signature + 8;
  }

  withIterations(iterations: number): Uint8Array {
    const image = this.image.slice();
    new DataView(image.buffer).setUint32(this.parameterOffset, iterations, true);
    return image;
  }
}

function assemble(source: string, outputDir: string): BenchKernel {
  const output = join(outputDir, source.replace(/\.asm$/, ".bin"));
  const result = spawnSync("nasm", ["-f", "bin", "-I", `${SOURCE_DIR}/`, "-o", output, join(SOURCE_DIR, source)], { encoding: "utf8" });
  if (result.error) throw new Error(`nasm is needed to assemble the benchmark kernels (apt-get install nasm): ${result.error.message}`);
  if (result.status !== 0) throw new Error(`nasm failed on ${source}: ${result.stderr}`);
  return new BenchKernel(new Uint8Array(readFileSync(output)));
}

// ---- the engines -----------------------------------------------------------------------------

interface KernelRun {
  /** Wall-clock seconds the engine took for the run, by the engine's own boundaries. */
  seconds: number;
  /** CPU seconds (user and system, every thread) the engine spent over the same span. */
  cpuSeconds: number;
  /** The byte written to port 0xF4. */
  exitByte: number;
  /** Instructions the engine counted, where it counts them. */
  instructions?: number;
  /** vmk's JIT: instructions run translated, and seconds spent translating. */
  jit?: { translatedInstructions: number; compileSeconds: number };
}

interface GuestEngine {
  label: string;
  /** The low bits of the exit byte the engine reports (QEMU's exit status keeps seven). */
  exitByteMask: number;
  /** How far the engine's instruction counter can be trusted. */
  instructionCounter: "exact" | "approximate" | "none";
  /** Why the engine cannot run here and how to install it; undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** Boots a multiboot kernel and runs it until it writes to port 0xF4. */
  runMultiboot(image: Uint8Array, scratchDir: string): Promise<KernelRun>;
}

/** vmk's CPU on a bus of RAM and the exit port, booted by vmk's multiboot loader. */
class ExitPortBus implements CpuBus {
  private readonly ramOnly = new RamOnlyBus(GUEST_RAM_BYTES);
  readonly memory = this.ramOnly.memory;
  exitValue: number | undefined;
  mmioRead(address: number, size: 1 | 2 | 4): number {
    return this.ramOnly.mmioRead(address, size);
  }
  mmioWrite(): void {}
  portIn(port: number, size: 1 | 2 | 4): number {
    return this.ramOnly.portIn(port, size);
  }
  portOut(port: number, _size: 1 | 2 | 4, value: number): void {
    if (port === EXIT_PORT) this.exitValue = value & 0xff;
  }
}

function vmkEngine(jit: boolean): GuestEngine {
  return {
    label: jit ? "vmk JIT" : "vmk interpreter",
    exitByteMask: 0xff,
    instructionCounter: "exact",
    unavailable: async () => undefined,
    async runMultiboot(image) {
      enableWasmBranchHints();
      const bus = new ExitPortBus();
      const cpu = new Cpu(bus);
      cpu.jit.enabled = jit;
      const boot = loadMultibootKernel({ ram: bus.memory.ram, image });
      applyInitialCpuState(cpu, boot.cpu);
      let instructions = 0;
      const start = performance.now();
      const startCpu = cpuSeconds();
      while (bus.exitValue === undefined && !cpu.halted) instructions += runInstructions(cpu, 1_000_000);
      const used = cpuSeconds() - startCpu;
      const seconds = (performance.now() - start) / 1000;
      if (bus.exitValue === undefined) throw new Error(`the vmk CPU halted at ${cpu.eip.toString(16)} without writing to port 0xF4`);
      const { translatedInstructions, compileSeconds } = cpu.translations;
      return { seconds, cpuSeconds: used, exitByte: bus.exitValue, instructions, ...(jit ? { jit: { translatedInstructions, compileSeconds } } : {}) };
    },
  };
}

const QEMU = "qemu-system-i386";

/**
 * CPU seconds of this process's waited-for children (cutime + cstime in /proc/self/stat): a QEMU
 * run's cost, all its threads, once Node has reaped it. Undefined off Linux.
 */
function childCpuSeconds(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync("/proc/self/stat", "utf8");
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // from field 3 (state) on
  return (Number(fields[13]) + Number(fields[14])) / clockTicksPerSecond();
}

let clockTicks: number | undefined;
function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    const getconf = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
    clockTicks = Number(getconf.stdout?.trim()) || 100;
  }
  return clockTicks;
}

const qemuTcg: GuestEngine = {
  label: "QEMU TCG",
  exitByteMask: 0x7f,
  instructionCounter: "none",
  async unavailable() {
    const probe = spawnSync(QEMU, ["--version"], { encoding: "utf8" });
    if (probe.error || probe.status !== 0) return `${QEMU} not found: install it with \`apt-get install qemu-system-x86\``;
    return undefined;
  },
  runMultiboot(image, scratchDir) {
    const file = join(scratchDir, "qemu-kernel.bin");
    writeFileSync(file, image);
    const args = ["-accel", "tcg", "-kernel", file, "-device", `isa-debug-exit,iobase=0x${EXIT_PORT.toString(16)},iosize=0x04`, "-nographic", "-no-reboot", "-m", String(GUEST_RAM_BYTES >> 20)];
    return new Promise((resolve, reject) => {
      const startCpu = childCpuSeconds();
      const start = performance.now();
      const child = spawn(QEMU, args, { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) => {
        const seconds = (performance.now() - start) / 1000;
        const endCpu = childCpuSeconds();
        // Without /proc the wall time stands in for the CPU time.
        const used = startCpu === undefined || endCpu === undefined ? seconds : endCpu - startCpu;
        // isa-debug-exit: the process exits with (value << 1) | 1; anything even is QEMU's own exit.
        if (code === null || (code & 1) === 0) reject(new Error(`${QEMU} exited with ${code} without the guest's exit write: ${stderr.trim()}`));
        else resolve({ seconds, cpuSeconds: used, exitByte: code >> 1 });
      });
    });
  },
};

/** The parts of v86's emulator object the benchmark uses beyond its typed API (v86's own CPU and I/O). */
interface V86Internals {
  v86: { cpu: { io: { register_write(port: number, device: object, write8: (value: number) => void): void } } };
}

const v86Engine: GuestEngine = {
  label: "v86",
  exitByteMask: 0xff,
  instructionCounter: "approximate",
  async unavailable() {
    try {
      await import("v86");
      return undefined;
    } catch {
      return "the v86 npm package is not installed: `npm install` in the checkout installs it (a devDependency of @vmk/test)";
    }
  },
  async runMultiboot(image) {
    const { V86 } = await import("v86");
    const wasmPath = createRequire(import.meta.url).resolve("v86/build/v86.wasm");
    const multiboot = image.slice().buffer;
    return new Promise((resolve, reject) => {
      let start = 0;
      let startCpu = 0;
      const emulator = new V86({ wasm_path: wasmPath, memory_size: GUEST_RAM_BYTES, multiboot: { buffer: multiboot }, autostart: true, disable_keyboard: true, disable_mouse: true });
      const finish = (run: KernelRun | Error) => {
        void emulator.stop().then(() => emulator.destroy()).then(() => (run instanceof Error ? reject(run) : resolve(run)), reject);
      };
      const timeout = setTimeout(() => finish(new Error("v86 did not reach the exit write within 300 s")), 300_000);
      emulator.add_listener("emulator-loaded", () => {
        // Without a BIOS image v86 loads the multiboot kernel itself and jumps to it. Its loader
        // claims port 0xF4 for kvm-unit-tests (printing and throwing there); the benchmark takes it over.
        const cpu = (emulator as unknown as V86Internals).v86.cpu;
        cpu.io.register_write(EXIT_PORT, cpu, (value) => {
          const used = cpuSeconds() - startCpu;
          const seconds = (performance.now() - start) / 1000;
          clearTimeout(timeout);
          finish({ seconds, cpuSeconds: used, exitByte: value & 0xff, instructions: emulator.get_instruction_counter() });
        });
      });
      emulator.add_listener("emulator-started", () => {
        start = performance.now();
        startCpu = cpuSeconds();
      });
    });
  },
};

// ---- measurement -----------------------------------------------------------------------------

interface MipsMeasurement {
  /** Loop instructions per CPU second of the engine, and per wall-clock second. */
  cpuMips: number;
  wallMips: number;
  iterations: number;
  /** The last measured run, for engine statistics (the JIT's hit rate and compile time). */
  lastRun: KernelRun;
}

async function checkedRun(engine: GuestEngine, kernel: BenchKernel, workload: Workload, iterations: number, scratchDir: string): Promise<KernelRun> {
  const run = await engine.runMultiboot(kernel.withIterations(iterations), scratchDir);
  const got = run.exitByte & engine.exitByteMask;
  const want = exitByte(workload.result(iterations)) & engine.exitByteMask;
  if (got !== want) throw new Error(`${engine.label} ran ${workload.name} with ${iterations} iterations to the result byte 0x${got.toString(16)}, expected 0x${want.toString(16)}`);
  return run;
}

async function measureMips(engine: GuestEngine, kernel: BenchKernel, workload: Workload, scratchDir: string): Promise<MipsMeasurement> {
  const empty: KernelRun[] = [];
  for (let i = 0; i < RUNS; i++) empty.push(await checkedRun(engine, kernel, workload, 0, scratchDir));
  const emptyCpu = median(empty.map((r) => r.cpuSeconds));
  const emptyWall = median(empty.map((r) => r.seconds));

  // Calibrate: grow a probe until its difference from the empty run is long enough to time, then
  // size the iteration count for RUN_SECONDS at the rate the loop ran between the last two probes.
  // A JIT spends the start of every run translating and compiling: sized by the first probe's own
  // rate, a run was mostly that start (vmk's sieve: 77 M instructions, 0.27 s, 285 MIPS), while
  // the steady rate is six times that. The measured runs still include the start.
  let iterations = Math.max(1, Math.round(20e6 / workload.instructionsPerIteration));
  let previous: { iterations: number; cpuSeconds: number } | undefined;
  for (;;) {
    const probe = await checkedRun(engine, kernel, workload, iterations, scratchDir);
    const measured = probe.cpuSeconds - emptyCpu;
    if (measured >= 0.25 || iterations === MAX_ITERATIONS) {
      const marginal = previous === undefined ? 0 : (probe.cpuSeconds - previous.cpuSeconds) / (iterations - previous.iterations);
      const perIteration = marginal > 0 ? marginal : Math.max(measured, 0.001) / iterations;
      iterations = Math.min(MAX_ITERATIONS, Math.max(1, Math.round(RUN_SECONDS / perIteration)));
      break;
    }
    previous = { iterations, cpuSeconds: probe.cpuSeconds };
    iterations = Math.min(MAX_ITERATIONS, iterations * 8);
  }

  const runs: KernelRun[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await checkedRun(engine, kernel, workload, iterations, scratchDir));
  const loopInstructions = iterations * workload.instructionsPerIteration;
  checkInstructionCount(engine, workload, loopInstructions, empty[0]!, runs[0]!);
  return {
    cpuMips: loopInstructions / (median(runs.map((r) => r.cpuSeconds)) - emptyCpu) / 1e6,
    wallMips: loopInstructions / (median(runs.map((r) => r.seconds)) - emptyWall) / 1e6,
    iterations,
    lastRun: runs[runs.length - 1]!,
  };
}

/** The engine's own count of the loop's instructions must agree with the kernel's arithmetic. */
function checkInstructionCount(engine: GuestEngine, workload: Workload, expected: number, empty: KernelRun, full: KernelRun): void {
  if (engine.instructionCounter === "none" || empty.instructions === undefined || full.instructions === undefined) return;
  let counted = full.instructions - empty.instructions;
  if (engine.instructionCounter === "approximate") {
    // v86's counter is a wrapping u32 that lags the last block or so behind.
    counted = (counted >>> 0) + Math.round((expected - (counted >>> 0)) / 2 ** 32) * 2 ** 32;
    if (Math.abs(counted - expected) > expected * 0.01) throw new Error(`${engine.label} counted ${counted} instructions in the ${workload.name} loop, the kernel runs ${expected}`);
  } else if (counted !== expected) {
    throw new Error(`${engine.label} counted ${counted} instructions in the ${workload.name} loop, the kernel runs ${expected}`);
  }
}

// ---- the suite -------------------------------------------------------------------------------

/** VMK_BENCH_CPU_ENGINES (comma-separated labels, e.g. "vmk JIT,v86") narrows the engines. */
const ENGINES: GuestEngine[] = selected([vmkEngine(false), vmkEngine(true), qemuTcg, v86Engine], process.env.VMK_BENCH_CPU_ENGINES, (e) => e.label);
const PEERS: GuestEngine[] = [qemuTcg, v86Engine];

function note(line: string): void {
  process.stdout.write(`   ${line}\n`);
}

export const cpuPeersSuite: BenchSuite = {
  name: "cpu: vmk vs QEMU TCG vs v86",
  async run() {
    const scratchDir = mkdtempSync(join(tmpdir(), "vmk-cpu-bench-"));
    try {
      const available: GuestEngine[] = [];
      for (const engine of ENGINES) {
        const reason = await engine.unavailable();
        if (reason === undefined) available.push(engine);
        else note(`${engine.label} cannot run here, no figures for it: ${reason}`);
      }
      note(`figures: loop instructions per CPU second of each engine (the machine's load moves them less than wall time); load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`);
      const figures: BenchFigure[] = [];
      for (const workload of WORKLOADS) {
        const kernel = assemble(workload.source, scratchDir);
        const results = new Map<GuestEngine, MipsMeasurement>();
        for (const engine of available) results.set(engine, await measureMips(engine, kernel, workload, scratchDir));
        note(`${workload.name} by wall clock: ${available.map((e) => `${e.label} ${formatMips(results.get(e)!.wallMips)}`).join(", ")} MIPS`);
        for (const engine of available) {
          const { jit, instructions, cpuSeconds: used } = results.get(engine)!.lastRun;
          if (!jit || !instructions) continue;
          note(
            `${workload.name} ${engine.label}: ${((100 * jit.translatedInstructions) / instructions).toFixed(1)} % of instructions ran translated (cache hits), ` +
              `compiling took ${(jit.compileSeconds * 1000).toFixed(1)} ms = ${((100 * jit.compileSeconds) / used).toFixed(2)} % of the run`,
          );
        }
        const peers = PEERS.filter((peer) => results.has(peer));
        for (const engine of available) {
          const value = results.get(engine)!.cpuMips;
          const name = `${workload.name}: ${engine.label}`;
          if (PEERS.includes(engine) || peers.length === 0) figures.push({ name, value, unit: "MIPS" });
          else for (const peer of peers) figures.push({ name, value, unit: "MIPS", reference: { label: `of ${peer.label}`, value: results.get(peer)!.cpuMips } });
        }
        // The JIT against the interpreter it is built on.
        const [interpreter, translated] = ["vmk interpreter", "vmk JIT"].map((label) => [...results].find(([engine]) => engine.label === label)?.[1]);
        if (interpreter !== undefined && translated !== undefined) {
          figures.push({ name: `${workload.name}: vmk JIT`, value: translated.cpuMips, unit: "MIPS", reference: { label: "of vmk interpreter", value: interpreter.cpuMips } });
        }
      }
      return figures;
    } finally {
      rmSync(scratchDir, { recursive: true, force: true });
    }
  },
};

function formatMips(mips: number): string {
  return mips >= 100 ? Math.round(mips).toString() : mips.toFixed(1);
}
