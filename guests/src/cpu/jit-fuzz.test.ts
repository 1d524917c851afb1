/**
 * Differential fuzzing of the JIT against the interpreter: random programs (oracle snippets inside
 * loops and subroutines, with self-modifying stores and faults) run on two CPUs from identical
 * states, one interpreting and one translating, stopped together after random instruction budgets;
 * all architectural state and memory must match at every stop. VMK_CPU_JIT_FUZZ_PROGRAMS sets the
 * number of programs, VMK_CPU_JIT_FUZZ_SEED moves the seed window.
 */
import { describe, expect, it } from "vitest";
import { Cr0, Cr4, Seg } from "./constants.js";
import type { Cpu } from "./cpu.js";
import { materializeFlags } from "./flags.js";
import { stepOrFault } from "./interpreter.js";
import { DATA_ADDR, generateCase, POINTER, STACK_TOP } from "./oracle/generator.js";
import { Random } from "./oracle/random.js";
import { applyTestEngine, createFlatCpu } from "./test-support.js";

const PROGRAMS = Number(process.env.VMK_CPU_JIT_FUZZ_PROGRAMS ?? 1500);
const FIRST_SEED = Number(process.env.VMK_CPU_JIT_FUZZ_SEED ?? 1);

const CODE = 0x200000;
/** The subroutine on the next page, or on the main program's page, where it joins its region (return prediction). */
const SUBROUTINES = [0x201800, 0x200c00];
/** Loop counters live outside the data window the snippets may write. */
const COUNTER = DATA_ADDR + 0x1000;
const PAGE_DIRECTORY = 0x300000;
/** The data window, the 64 KiB the 16-bit modes can reach from it, and the code. */
const COMPARED_RAM: Array<[number, number]> = [[DATA_ADDR, DATA_ADDR + 0x10000], [CODE, CODE + 0x2000]];

interface Program {
  main: number[];
  subroutine: number[];
  subroutineAt: number;
  regs: Int32Array;
  eflags: number;
  data: Uint8Array;
  mode: FuzzMode;
}

/**
 * flat: CPL 0, flat segments; paged: the same through a 4 MiB identity page; limited: DS and ES
 * with a 2 MiB limit (inline segment checks); based: flat, with FS and GS based inside the data
 * window and small limits (GS read-only), and FS/GS accesses among the snippets (Linux's per-CPU
 * data and stack canary); user: CPL 3 (HLT faults); real16 and pm16: the same
 * bytes run as 16-bit code (they decode differently: random 16-bit code) on 64 KiB segments based
 * at the data window, in real mode and in 16-bit protected mode.
 */
type FuzzMode = "flat" | "paged" | "limited" | "based" | "user" | "real16" | "pm16";
const MODES: FuzzMode[] = ["flat", "flat", "paged", "limited", "based", "user", "real16", "pm16"];

/** The based mode's FS (writable) and GS (read-only): base and limit inside the data window. */
const FS_BASE = DATA_ADDR + 0x400, FS_LIMIT = 0x3ff;
const GS_BASE = DATA_ADDR + 0x800, GS_LIMIT = 0x7ff;

/**
 * A few FS/GS accesses: loads, stores, MOVZX, read-modify-writes and the moffs form, mostly inside
 * the segment, sometimes across its limit (#GP), stores through GS always faulting.
 */
function segmentAccesses(rng: Random): number[] {
  const out: number[] = [];
  for (let n = 1 + rng.below(4); n > 0; n--) {
    const fs = rng.chance(0.6);
    const limit = fs ? FS_LIMIT : GS_LIMIT;
    const offset = rng.chance(0.05) ? limit - 2 + rng.below(6) : rng.below(limit - 3);
    // Not ESP (the stack) nor ESI (the snippets' pointer).
    const reg = rng.pick([0, 1, 2, 3, 5, 7]);
    const modrm = 0x05 | (reg << 3);
    const prefix = fs ? 0x64 : 0x65;
    switch (rng.below(7)) {
      case 0: out.push(prefix, 0x8b, modrm, ...le32(offset)); break; // mov reg, seg:[disp32]
      case 1: if (fs) out.push(prefix, 0x89, modrm, ...le32(offset)); break; // mov seg:[disp32], reg
      case 2: out.push(prefix, 0xa1, ...le32(offset)); break; // mov eax, seg:moffs32
      case 3: if (fs || rng.chance(0.1)) out.push(prefix, 0x01, modrm, ...le32(offset)); break; // add seg:[disp32], reg
      case 4: out.push(prefix, 0x0f, 0xb6, modrm, ...le32(offset)); break; // movzx reg, byte seg:[disp32]
      case 5: out.push(prefix, 0x03, modrm, ...le32(offset)); break; // add reg, seg:[disp32]
      default: if (fs) out.push(prefix, 0xff, 0x05, ...le32(offset)); break; // inc dword seg:[disp32]
    }
  }
  return out;
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Oracle snippet code without its trailing state (registers and data come from the first one). */
function snippet(seed: number): number[] {
  return Array.from(generateCase(seed).code);
}

/**
 * main:  mov dword [COUNTER], n
 *   top: <snippet> ; call SUBROUTINE ; mov eax, imm (patched) ; <snippet>
 *        inc dword [patch]   (sometimes: code rewriting itself)
 *        dec dword [COUNTER] ; jnz top ; hlt
 * sub:   <snippet> ; ret
 */
function generateProgram(seed: number): Program {
  const rng = new Random(seed * 7919);
  const base = generateCase(seed);
  const subroutineAt = rng.pick(SUBROUTINES);
  const mode = new Random(seed * 104729).pick(MODES);
  const main: number[] = [];
  main.push(0xc7, 0x05, ...le32(COUNTER), ...le32(1 + rng.below(6)));
  const top = CODE + main.length;
  main.push(...snippet(seed + 100000));
  if (mode === "based") main.push(...segmentAccesses(rng));
  const callAt = CODE + main.length;
  main.push(0xe8, ...le32(subroutineAt - (callAt + 5)));
  const patchImmediate = CODE + main.length + 1;
  main.push(0xb8, ...le32(rng.next()));
  main.push(...snippet(seed + 200000));
  if (rng.chance(0.3)) main.push(0xff, 0x05, ...le32(patchImmediate)); // inc dword [imm of mov eax]
  main.push(0xff, 0x0d, ...le32(COUNTER)); // dec dword [COUNTER]
  const jumpAt = CODE + main.length;
  main.push(0x0f, 0x85, ...le32(top - (jumpAt + 6)));
  main.push(0xf4);
  const subroutine = [...snippet(seed + 300000), ...(mode === "based" ? segmentAccesses(rng) : []), 0xc3];
  const regs = Int32Array.from(base.regs);
  regs[4] = STACK_TOP;
  regs[6] = POINTER;
  if (main.length > subroutineAt - CODE) throw new Error(`seed ${seed}: the main program overlaps the subroutine`);
  return { main, subroutine, subroutineAt, regs, eflags: base.eflags, data: base.data, mode };
}

function load(cpu: Cpu, p: Program): void {
  cpu.ram8.fill(0, DATA_ADDR, DATA_ADDR + 0x10000);
  cpu.ram8.set(p.data, DATA_ADDR);
  cpu.ram8.fill(0, CODE, CODE + 0x2000);
  cpu.ram8.set(p.main, CODE);
  cpu.ram8.set(p.subroutine, p.subroutineAt);
  cpu.invalidateAllCode();
  cpu.regs.set(p.regs);
  cpu.eflags = p.eflags;
  cpu.lazyOp = 0;
  cpu.eip = CODE;
  cpu.halted = false;
  cpu.instructionsRetired = 0;
  cpu.fpu.reset();
  cpu.fpu.controlWord = 0x27f;
  cpu.cr0 = (cpu.cr0 & ~Cr0.PG) | Cr0.PE;
  cpu.flushTlb(true);
  if (p.mode === "real16" || p.mode === "pm16") {
    if (p.mode === "real16") cpu.cr0 &= ~Cr0.PE;
    cpu.setCpl(0);
    cpu.setSegmentCache(Seg.CS, 0x08, CODE, 0xffff, 0x9b);
    for (const seg of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) cpu.setSegmentCache(seg, 0x10, DATA_ADDR, 0xffff, 0x93);
    cpu.eip = 0;
    cpu.regs[4] = STACK_TOP - DATA_ADDR;
    cpu.regs[6] = POINTER - DATA_ADDR;
    return;
  }
  const user = p.mode === "user";
  const dataLimit = p.mode === "limited" ? 0x1fffff : -1;
  cpu.setCpl(user ? 3 : 0);
  cpu.setSegmentCache(Seg.CS, user ? 0x1b : 0x08, 0, -1, user ? 0xc0fb : 0xc09b);
  for (const seg of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) {
    cpu.setSegmentCache(seg, user ? 0x23 : 0x10, 0, seg === Seg.DS || seg === Seg.ES ? dataLimit : -1, user ? 0xc0f3 : 0xc093);
  }
  if (p.mode === "based") {
    cpu.setSegmentCache(Seg.FS, 0x18, FS_BASE, FS_LIMIT, 0x4093);
    cpu.setSegmentCache(Seg.GS, 0x20, GS_BASE, GS_LIMIT, 0x4091);
  }
  if (p.mode === "paged") {
    // Identity map with one 4 MiB page: every access goes through page-walk-filled TLB entries.
    new DataView(cpu.bus.memory.ram.buffer).setUint32(PAGE_DIRECTORY, 0x87, true);
    cpu.cr4 |= Cr4.PSE;
    cpu.cr3 = PAGE_DIRECTORY;
    cpu.cr0 |= Cr0.PG;
    cpu.flushTlb(true);
  }
}

function describeState(cpu: Cpu): string {
  const regs = Array.from(cpu.regs, (v) => (v >>> 0).toString(16)).join(" ");
  const segments = Array.from(cpu.segSel).slice(0, 6).join(",");
  return `eip=${(cpu.eip >>> 0).toString(16)} regs=${regs} eflags=${materializeFlags(cpu).toString(16)} retired=${cpu.instructionsRetired} ` +
    `halted=${cpu.halted} cr2=${(cpu.cr2 >>> 0).toString(16)} seg=${segments} x87top=${cpu.fpu.top}`;
}

function firstMemoryDifference(a: Cpu, b: Cpu): string | null {
  for (const [from, to] of COMPARED_RAM) {
    if (Buffer.compare(a.ram8.subarray(from, to), b.ram8.subarray(from, to)) === 0) continue;
    for (let i = from; i < to; i++) if (a.ram8[i] !== b.ram8[i]) return `ram[${i.toString(16)}]: interpreter ${a.ram8[i]}, jit ${b.ram8[i]}`;
  }
  return null;
}

/** Runs one program on both CPUs; returns a description of the first divergence, or null. */
function runDifferential(seed: number, interpreted: Cpu, translated: Cpu, rng: Random): string | null {
  const program = generateProgram(seed);
  load(interpreted, program);
  load(translated, program);
  translated.jit.hotThreshold = rng.pick([0, 0, 1, 3]);
  for (let step = 0; step < 400; step++) {
    const budget = 1 + rng.below(rng.chance(0.5) ? 8 : 120);
    const a = stepOrFault(interpreted, budget);
    const b = stepOrFault(translated, budget);
    const stateA = describeState(interpreted);
    const stateB = describeState(translated);
    if (a !== b || stateA !== stateB) {
      return `seed ${seed} (${program.mode}) after step ${step} (budget ${budget}): vectors ${a}/${b}\n  interpreter ${stateA}\n  jit         ${stateB}`;
    }
    const memory = firstMemoryDifference(interpreted, translated);
    if (memory !== null) return `seed ${seed} after step ${step}: ${memory}`;
    // Beyond the program lie zeros: thousands of fresh blocks of ADD [BX+SI],AL teach nothing.
    const offset = (interpreted.eip + interpreted.segBase[Seg.CS] - CODE) >>> 0;
    if (a >= 0 || interpreted.halted || offset >= 0x2000) return null;
  }
  return null;
}

describe("JIT differential fuzzing", () => {
  // Both translators: JavaScript, and WebAssembly for what it covers (the rest of a program then
  // runs in JavaScript translations beside it).
  it.each([["JavaScript", false], ["WebAssembly", true]])(`%s translations match the interpreter on ${PROGRAMS} random programs`, { timeout: Math.max(120_000, PROGRAMS * 30) }, (_name, wasm) => {
    const interpreted = applyTestEngine(createFlatCpu(4 << 20), "interpreter");
    const translated = applyTestEngine(createFlatCpu(4 << 20), "jit");
    translated.jit.wasm = wasm;
    const rng = new Random(FIRST_SEED);
    const failures: string[] = [];
    for (let seed = FIRST_SEED; seed < FIRST_SEED + PROGRAMS && failures.length < 5; seed++) {
      const failure = runDifferential(seed, interpreted, translated, rng);
      if (failure !== null) failures.push(failure);
    }
    expect(failures, failures.join("\n\n")).toEqual([]);
    expect(translated.translations.translated).toBeGreaterThan(PROGRAMS);
    if (wasm) expect(translated.translations.translatedToWasm).toBeGreaterThan(PROGRAMS / 2);
    else expect(translated.translations.translatedToWasm).toBe(0);
  });
});
