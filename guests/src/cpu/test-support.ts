/**
 * Helpers shared by the CPU's vitest files: a CPU in flat 32-bit protected mode or real mode
 * over plain RAM, and nasm-assembled snippets cached under guests/.cache.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RamOnlyBus } from "./bus.js";
import { Cpu } from "./cpu.js";
import { Cr0, Seg } from "./constants.js";
import { runInstructions, stepOrFault } from "./interpreter.js";

export const GUESTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CACHE_DIR = join(GUESTS_DIR, ".cache", "cpu-tests");

const FLAT_CODE = 0xc09b;
const FLAT_DATA = 0xc093;

/**
 * The execution engines every CPU suite runs under: the interpreter alone, the JIT forced on for
 * all code (threshold 0; WebAssembly where it applies, JavaScript for the rest), and the JIT with
 * JavaScript translations only. VMK_CPU_ENGINES (comma-separated) narrows a run.
 */
export type CpuEngine = "interpreter" | "jit" | "jit-javascript";
export const CPU_ENGINES: CpuEngine[] = (["interpreter", "jit", "jit-javascript"] as const).filter(
  (engine) => (process.env.VMK_CPU_ENGINES ?? "interpreter,jit,jit-javascript").split(",").includes(engine),
);

let testEngine: CpuEngine = "interpreter";

/** Selects the engine for CPUs the helpers create from now on (call it from a beforeAll). */
export function setTestEngine(engine: CpuEngine): void {
  testEngine = engine;
}

/** Configures `cpu` for the selected engine (the JIT translates every block on first sight). */
export function applyTestEngine<T extends Cpu>(cpu: T, engine: CpuEngine = testEngine): T {
  cpu.jit.enabled = engine !== "interpreter";
  cpu.jit.wasm = engine === "jit";
  cpu.jit.hotThreshold = 0;
  return cpu;
}

/** Where createFlatCpu puts its GDT: null, 0x08 flat code, 0x10 flat data. */
export const FLAT_GDT = 0x600;

/** A CPU in 32-bit flat protected mode at CPL 0 with a three-entry GDT at FLAT_GDT. */
export function createFlatCpu(ramBytes = 4 << 20): Cpu {
  const cpu = applyTestEngine(new Cpu(new RamOnlyBus(ramBytes)));
  const gdt = new DataView(cpu.bus.memory.ram.buffer, FLAT_GDT, 24);
  gdt.setUint32(8, 0x0000ffff, true);
  gdt.setUint32(12, 0x00cf9b00, true);
  gdt.setUint32(16, 0x0000ffff, true);
  gdt.setUint32(20, 0x00cf9300, true);
  cpu.gdtrBase = FLAT_GDT;
  cpu.gdtrLimit = 23;
  cpu.cr0 |= Cr0.PE;
  for (let s = 0; s < 6; s++) cpu.setSegmentCache(s, s === Seg.CS ? 8 : 16, 0, -1, s === Seg.CS ? FLAT_CODE : FLAT_DATA);
  cpu.eflags = 0x2;
  return cpu;
}

export function requireTool(tool: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Assembles nasm source into a flat binary (cached by content hash). */
export function assemble(source: string): Uint8Array {
  mkdirSync(CACHE_DIR, { recursive: true });
  const hash = createHash("sha256").update(source).update(includesFingerprint()).digest("hex").slice(0, 16);
  const output = join(CACHE_DIR, `${hash}.bin`);
  if (!existsSync(output)) {
    const input = join(CACHE_DIR, `${hash}.asm`);
    writeFileSync(input, source);
    execFileSync("nasm", ["-f", "bin", "-I", join(GUESTS_DIR, "test-programs") + "/", "-o", output, input], { stdio: "pipe" });
  }
  return new Uint8Array(readFileSync(output));
}

/** Assembles a nasm file from guests/test-programs. */
export function assembleProgram(name: string): Uint8Array {
  return assemble(readFileSync(join(GUESTS_DIR, "test-programs", name), "utf8"));
}

/** Copies bytes into RAM the way a device would (dropping cached decodes of that range). */
export function loadBytes(cpu: Cpu, address: number, bytes: Uint8Array): void {
  cpu.ram8.set(bytes, address);
  cpu.invalidateCode(address, bytes.length);
}

/**
 * Runs 32-bit code placed at `address` until EIP reaches its end (or `limit` instructions).
 * Stepping one instruction at a time keeps translated code out of it: for code the JIT should
 * run, end it with HLT and use runToHalt.
 */
export function runFlat(cpu: Cpu, address: number, code: Uint8Array, run: (cpu: Cpu, n: number) => number, limit = 100000): void {
  loadBytes(cpu, address, code);
  cpu.eip = address;
  const end = address + code.length;
  for (let i = 0; i < limit && cpu.eip !== end; i++) run(cpu, 1);
}

/** Include files change what a program assembles to, so they are part of the cache key. */
function includesFingerprint(): string {
  const path = join(GUESTS_DIR, "test-programs", "pm.inc");
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/**
 * Runs until HLT or the first fault, which is reported rather than delivered: the fault's vector
 * (EIP back at the faulting instruction), or -1 after HLT. Budgets large enough for whole blocks
 * let translated code run.
 */
export function runToHalt(cpu: Cpu, limit = 1_000_000): number {
  for (let ran = 0; ran < limit && !cpu.halted; ran += 10_000) {
    const vector = stepOrFault(cpu, Math.min(10_000, limit - ran));
    if (vector >= 0) return vector;
  }
  return -1;
}

/** What runTimed reports: the cycles runInstructions counted, the retired count, EAX, ECX and the stall cycles. */
export interface TimedRun {
  ran: number;
  retired: number;
  eax: number;
  ecx: number;
  stalls: number;
}

/**
 * Runs 32-bit `source` (ending in HLT) at `address` on a flat CPU with `engine` to the halt, in
 * slices of 10,000 cycles (whole blocks, so translated code runs), for tests of guest time.
 */
export function runTimed(engine: CpuEngine, address: number, source: string): TimedRun {
  const cpu = applyTestEngine(createFlatCpu(), engine);
  loadBytes(cpu, address, assemble(`bits 32\norg ${address}\n${source}\nhlt\n`));
  cpu.eip = address;
  let ran = 0;
  for (let slice = 0; slice < 1000 && !cpu.halted; slice++) ran += runInstructions(cpu, 10_000);
  if (!cpu.halted) throw new Error("the program did not halt");
  return { ran, retired: cpu.instructionsRetired, eax: cpu.regs[0] >>> 0, ecx: cpu.regs[1] >>> 0, stalls: cpu.stallCycles };
}
