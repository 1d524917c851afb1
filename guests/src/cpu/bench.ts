/**
 * CPU throughput on three small 32-bit workloads (hand-assembled so the benchmark needs no
 * assembler): a tight ALU loop, a dword memory copy and a call/return-heavy loop, each run by the
 * interpreter alone and with the JIT, side by side. Run it from a bundled build (see
 * bench-main.ts): under vitest every module is transformed and the figures mean nothing.
 */
import { RamOnlyBus } from "./bus.js";
import { Cpu } from "./cpu.js";
import { Cr0, Seg } from "./constants.js";
import { runInstructions } from "./interpreter.js";

export interface CpuBenchmarkResult {
  name: string;
  /** Millions of guest instructions per wall-clock second with the default engine (JIT on). */
  mips: number;
  instructions: number;
  /** Wall-clock seconds. */
  seconds: number;
  /** Process CPU seconds over the same run: on a loaded host, instructions / cpuSeconds is the steadier figure. */
  cpuSeconds: number;
  /** The same workload with the JIT disabled: MIPS (wall clock) and MIPS per CPU second. */
  interpreterMips: number;
  interpreterCpuMips: number;
  /** The JIT's MIPS per CPU second. */
  jitCpuMips: number;
  /** JIT over interpreter, by CPU time. */
  speedup: number;
}

const CODE = 0x1000;

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

const WORKLOADS: Array<{ name: string; code: (iterations: number) => number[]; iterations: number }> = [
  {
    name: "tight loop",
    iterations: 20_000_000,
    // mov ecx, n / L: add eax, ecx / dec ecx / jnz L / hlt
    code: (n) => [0xb9, ...le32(n), 0x01, 0xc8, 0x49, 0x75, 0xfb, 0xf4],
  },
  {
    name: "memory copy",
    iterations: 4_000_000,
    // mov esi, 0x100000 / mov edi, 0x200000 / mov ecx, n /
    // L: mov eax,[esi] / mov [edi],eax / add esi,4 / add edi,4 / dec ecx / jnz L / hlt
    // (the copy wraps within 1 MiB windows by masking the pointers every round)
    code: (n) => [
      0xbe, ...le32(0x100000), 0xbf, ...le32(0x200000), 0xb9, ...le32(n),
      0x8b, 0x06, 0x89, 0x07, 0x83, 0xc6, 0x04, 0x83, 0xc7, 0x04,
      0x81, 0xe6, ...le32(0x1fffff), 0x81, 0xe7, ...le32(0x2fffff),
      0x49, 0x75, 0xe7, 0xf4,
    ],
  },
  {
    name: "call-heavy",
    iterations: 4_000_000,
    // mov ecx, n / L: call F / dec ecx / jnz L / hlt / F: push ebp / mov ebp, esp / add eax, 1 / pop ebp / ret
    code: (n) => [0xb9, ...le32(n), 0xe8, ...le32(4), 0x49, 0x75, 0xf8, 0xf4, 0x55, 0x89, 0xe5, 0x83, 0xc0, 0x01, 0x5d, 0xc3],
  },
];

function flatCpu(): Cpu {
  const cpu = new Cpu(new RamOnlyBus(4 << 20));
  cpu.cr0 |= Cr0.PE;
  for (let s = 0; s < 6; s++) cpu.setSegmentCache(s, s === Seg.CS ? 8 : 16, 0, -1, s === Seg.CS ? 0xc09b : 0xc093);
  cpu.regs[4] = 0x80000;
  return cpu;
}

function runWorkload(code: number[], jit: boolean): { instructions: number; seconds: number; cpuSeconds: number } {
  const cpu = flatCpu();
  cpu.jit.enabled = jit;
  cpu.ram8.set(code, CODE);
  cpu.eip = CODE;
  const usage = process.cpuUsage();
  const start = process.hrtime.bigint();
  let instructions = 0;
  while (!cpu.halted) instructions += runInstructions(cpu, 1_000_000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(usage);
  return { instructions, seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

export async function runCpuBenchmarks(): Promise<CpuBenchmarkResult[]> {
  const results: CpuBenchmarkResult[] = [];
  for (const w of WORKLOADS) {
    runWorkload(w.code(w.iterations >> 4), false);
    const interpreted = runWorkload(w.code(w.iterations), false);
    runWorkload(w.code(w.iterations >> 4), true); // warm-up: V8 optimises the translations
    const { instructions, seconds, cpuSeconds } = runWorkload(w.code(w.iterations), true);
    const interpreterCpuMips = interpreted.instructions / interpreted.cpuSeconds / 1e6;
    const jitCpuMips = instructions / cpuSeconds / 1e6;
    results.push({
      name: w.name,
      mips: instructions / seconds / 1e6,
      instructions,
      seconds,
      cpuSeconds,
      interpreterMips: interpreted.instructions / interpreted.seconds / 1e6,
      interpreterCpuMips,
      jitCpuMips,
      speedup: jitCpuMips / interpreterCpuMips,
    });
  }
  return results;
}

/**
 * The interpreter alone, each workload `repeats` times after a warm-up: MIPS per CPU second per
 * run, for iterating on the interpreter's speed (runs of one process compare; processes do not).
 */
export function runInterpreterBenchmarks(repeats: number, scale = 1): Array<{ name: string; cpuMips: number[] }> {
  const results: Array<{ name: string; cpuMips: number[] }> = [];
  for (const w of WORKLOADS) {
    runWorkload(w.code(w.iterations >> 4), false);
    const cpuMips: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const run = runWorkload(w.code(Math.round(w.iterations * scale)), false);
      cpuMips.push(run.instructions / run.cpuSeconds / 1e6);
    }
    results.push({ name: w.name, cpuMips });
  }
  return results;
}

/** The results as a table: interpreter and JIT MIPS per workload and their ratio. */
export function formatCpuBenchmarks(results: CpuBenchmarkResult[]): string {
  const rows = results.map((r) =>
    `${r.name.padEnd(12)} ${r.interpreterCpuMips.toFixed(1).padStart(12)} ${r.jitCpuMips.toFixed(1).padStart(9)} ${(r.speedup.toFixed(2) + "x").padStart(8)}`);
  return [`${"workload".padEnd(12)} ${"interp MIPS".padStart(12)} ${"JIT MIPS".padStart(9)} ${"ratio".padStart(8)}`, ...rows].join("\n");
}
