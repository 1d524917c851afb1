import { describe, expect, it } from "vitest";
import { assemble, createFlatCpu, runFlat } from "./test-support.js";
import { runInstructions } from "./interpreter.js";
import { materializeFlags } from "./flags.js";

describe("smoke", () => {
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
    `);
    runFlat(cpu, 0x1000, code, runInstructions);
    expect(cpu.regs[0]).toBe(55);
    expect(cpu.regs[3]).toBe(165);
    expect(materializeFlags(cpu) & 0x8d5).toBe(0x4); // IMUL: CF=OF=0; 165 = 0xa5 has even parity
  });
});
