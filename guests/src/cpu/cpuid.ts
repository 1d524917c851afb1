/** CPUID: a Pentium II (family 6 model 3) that owns up to exactly what this emulator implements. */
import type { Cpu } from "./cpu.js";

export const CPU_SIGNATURE = 0x0633;

export const enum Feature {
  FPU = 1 << 0, PSE = 1 << 3, TSC = 1 << 4, MSR = 1 << 5, CX8 = 1 << 8, SEP = 1 << 11,
  PGE = 1 << 13, CMOV = 1 << 15, FXSR = 1 << 24,
}

export const FEATURES_EDX = Feature.FPU | Feature.PSE | Feature.TSC | Feature.MSR | Feature.CX8 | Feature.SEP |
  Feature.PGE | Feature.CMOV | Feature.FXSR;

export function cpuid(cpu: Cpu): void {
  const regs = cpu.regs;
  let leaf = regs[0] >>> 0;
  if (leaf > 2 && leaf < 0x80000000) leaf = 2;
  switch (leaf) {
    case 0:
      regs[0] = 2;
      regs[3] = 0x756e6547; // "Genu"
      regs[2] = 0x49656e69; // "ineI"
      regs[1] = 0x6c65746e; // "ntel"
      return;
    case 1:
      regs[0] = CPU_SIGNATURE;
      regs[3] = 0;
      regs[1] = 0;
      regs[2] = FEATURES_EDX;
      return;
    case 2:
      // One iteration; descriptor 0x40 says "no L2 cache", the honest answer for an emulator.
      regs[0] = 0x00000001 | (0x40 << 8);
      regs[3] = 0; regs[1] = 0; regs[2] = 0;
      return;
    default:
      regs[0] = 0; regs[3] = 0; regs[1] = 0; regs[2] = 0;
  }
}
