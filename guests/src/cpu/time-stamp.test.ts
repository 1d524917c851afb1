/**
 * RDTSC reads the clock the retired count drives; with CR4.TSD set it faults (#GP) outside CPL 0.
 * Translated code decides that when it runs, not when it was made: the same translation reads the
 * clock, then faults once TSD is set.
 */
import { describe, expect, it } from "vitest";
import { Cr4, Seg } from "./constants.js";
import { Vector } from "./fault.js";
import { applyTestEngine, CPU_ENGINES, createFlatCpu, loadBytes, runToHalt } from "./test-support.js";

const CODE = 0x10000;
/** rdtsc ; mov ebx, eax ; mov esi, edx ; hlt (HLT faults at CPL 3: the run stops there). */
const PROGRAM = Uint8Array.from([0x0f, 0x31, 0x89, 0xc3, 0x89, 0xd6, 0xf4]);
const HLT_AT = CODE + PROGRAM.length - 1;

describe("RDTSC", () => {
  for (const engine of CPU_ENGINES) {
    it(`[${engine}] reads the time-stamp counter at CPL 3, and faults there once CR4.TSD is set`, () => {
      const cpu = applyTestEngine(createFlatCpu(), engine);
      cpu.setCpl(3);
      cpu.setSegmentCache(Seg.CS, 0x1b, 0, -1, 0xc0fb);
      for (const seg of [Seg.ES, Seg.SS, Seg.DS, Seg.FS, Seg.GS]) cpu.setSegmentCache(seg, 0x23, 0, -1, 0xc0f3);
      cpu.regs[4] = 0x80000;
      loadBytes(cpu, CODE, PROGRAM);
      cpu.tscBase = 0x1_2345_0000;
      const run = () => {
        cpu.eip = CODE;
        return runToHalt(cpu, 100);
      };

      const before = cpu.tscBase + cpu.instructionsRetired;
      expect(run()).toBe(Vector.GP);
      expect(cpu.eip).toBe(HLT_AT);
      expect((cpu.regs[6] >>> 0) * 2 ** 32 + (cpu.regs[3] >>> 0)).toBe(before);

      cpu.tscBase += 1000;
      expect(run()).toBe(Vector.GP);
      expect(cpu.eip).toBe(HLT_AT);
      expect((cpu.regs[6] >>> 0) * 2 ** 32 + (cpu.regs[3] >>> 0)).toBe(cpu.tscBase + cpu.instructionsRetired - 3);

      cpu.cr4 |= Cr4.TSD;
      cpu.regs[3] = 0;
      expect(run()).toBe(Vector.GP);
      expect(cpu.eip).toBe(CODE);
      expect(cpu.regs[3]).toBe(0);
      if (engine === "jit") expect(cpu.translations.translatedToWasm).toBe(1);
    });
  }
});
