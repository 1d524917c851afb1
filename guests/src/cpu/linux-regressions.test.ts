import { describe, expect, it } from "vitest";
import { RamOnlyBus } from "./bus.js";
import { Reg, Seg } from "./constants.js";
import { Cpu } from "./cpu.js";
import { runInstructions } from "./interpreter.js";

describe("regressions found booting Linux", () => {
  it("counts the instructions a batch ran before a fault: they are guest time, as they are TSC ticks", () => {
    const bus = new RamOnlyBus(1 << 20);
    const ram = bus.ram;
    // Real mode at 0:7C00: 100 × (nop; loop), then DIV by zero. #DE goes through IVT[0] to a HLT at 0:7E00.
    ram.set([0xb9, 100, 0, 0x90, 0xe2, 0xfd, 0x31, 0xdb, 0xf7, 0xf3], 0x7c00);
    ram.set([0xf4], 0x7e00);
    ram.set([0x00, 0x7e, 0x00, 0x00], 0);
    const cpu = new Cpu(bus);
    cpu.reset();
    cpu.setSegmentCache(Seg.CS, 0, 0, 0xffff, 0x9b);
    cpu.eip = 0x7c00;
    cpu.regs[Reg.ESP] = 0x7000;
    const retiredBefore = cpu.instructionsRetired;
    const executed = runInstructions(cpu, 10_000);
    expect(cpu.halted).toBe(true);
    // mov, 100 × (nop, loop), xor, the faulting div, hlt.
    expect(executed).toBe(1 + 200 + 1 + 1 + 1);
    expect(cpu.instructionsRetired - retiredBefore).toBe(executed - 1);
  });
});
