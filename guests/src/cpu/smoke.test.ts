import { beforeAll, describe, expect, it } from "vitest";
import { assemble, CPU_ENGINES, createFlatCpu, loadBytes, runToHalt, setTestEngine } from "./test-support.js";
import { materializeFlags } from "./flags.js";

describe.each(CPU_ENGINES)("smoke (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));

  it("runs a loop", () => {
    const cpu = createFlatCpu();
    cpu.regs[4] = 0x10000;
    const code = assemble(`bits 32
      org 0x1000
      mov ecx, 10
      xor eax, eax
    again:
      add eax, ecx
      loop again
      push eax
      pop ebx
      imul ebx, ebx, 3
      hlt
    `);
    loadBytes(cpu, 0x1000, code);
    cpu.eip = 0x1000;
    expect(runToHalt(cpu)).toBe(-1);
    expect(cpu.regs[0]).toBe(55);
    expect(cpu.regs[3]).toBe(165);
    expect(materializeFlags(cpu) & 0x8d5).toBe(0x4); // IMUL: CF=OF=0; 165 = 0xa5 has even parity
  });
});
