/**
 * Random bytes executed from random states in real, 16/32-bit protected, paged and ring-3
 * modes: the emulator may only ever raise architectural exceptions, never a host error.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { RamOnlyBus } from "./bus.js";
import { Cpu } from "./cpu.js";
import { Cr0, Seg } from "./constants.js";
import { runInstructions, stepOrFault } from "./interpreter.js";
import { Random } from "./oracle/random.js";
import { applyTestEngine, CPU_ENGINES, setTestEngine } from "./test-support.js";

const RAM = 1 << 20;

type Mode = "real" | "pm16" | "pm32" | "paged" | "ring3" | "v86";

function randomCpu(rng: Random, mode: Mode): Cpu {
  const cpu = applyTestEngine(new Cpu(new RamOnlyBus(RAM)));
  const ram = cpu.ram8;
  for (let i = 0; i < RAM; i += 4) cpu.ram32[i >> 2] = rng.next();
  // A few plausible descriptor tables and page tables amid the noise.
  cpu.gdtrBase = rng.below(RAM - 0x1000);
  cpu.gdtrLimit = rng.below(0x400);
  cpu.idtrBase = rng.below(RAM - 0x1000);
  cpu.idtrLimit = rng.chance(0.5) ? 0x7ff : rng.below(0x800);
  for (let r = 0; r < 8; r++) cpu.regs[r] = rng.interesting();
  cpu.eflags = (rng.next() & 0x0cd5) | 0x2;
  if (mode !== "real") {
    cpu.cr0 |= Cr0.PE;
    const big = mode !== "pm16";
    const codeAttr = big ? 0xc09b : 0x009b;
    const dataAttr = big ? 0xc093 : 0x0093;
    for (let s = 0; s < 6; s++) cpu.setSegmentCache(s, 8 * (s + 1), 0, big ? -1 : 0xfffff, s === Seg.CS ? codeAttr : dataAttr);
    if (mode === "paged") {
      cpu.cr3 = rng.below(RAM) & ~0xfff;
      cpu.cr4 = rng.next() & 0x90;
      cpu.cr0 |= Cr0.PG;
    }
    if (mode === "ring3") {
      for (let s = 0; s < 6; s++) cpu.setSegmentCache(s, 8 * (s + 1) + 3, 0, -1, (s === Seg.CS ? 0xc0fb : 0xc0f3));
      cpu.setCpl(3);
    }
    if (mode === "v86") {
      cpu.eflags |= 0x20000;
      cpu.setCpl(3);
      cpu.refreshSegmentRights();
    }
    cpu.setSegmentCache(Seg.TR, 0x28, rng.below(RAM), 0x67 + rng.below(0x2000), 0x8b);
  }
  cpu.eip = rng.below(mode === "real" || mode === "pm16" || mode === "v86" ? 0xff00 : RAM - 64);
  void ram;
  return cpu;
}

describe.each(CPU_ENGINES)("hostile instruction streams (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));

  for (const mode of ["real", "pm16", "pm32", "paged", "ring3", "v86"] as const) {
    it(`never escapes the emulator in ${mode} mode`, () => {
      const rng = new Random(0x5eed + mode.length);
      let faults = 0;
      for (let trial = 0; trial < 120; trial++) {
        const cpu = randomCpu(rng, mode);
        cpu.onTripleFault = () => { cpu.halted = true; };
        try {
          for (let i = 0; i < 200; i++) if (stepOrFault(cpu) >= 0) faults++;
          runInstructions(cpu, 2000);
        } catch (e) {
          throw new Error(`trial ${trial} in ${mode}: ${(e as Error).stack}`);
        }
      }
      expect(faults).toBeGreaterThan(0);
    });
  }
});
