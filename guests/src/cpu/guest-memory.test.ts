import { describe, expect, it } from "vitest";
import { RamOnlyBus } from "./bus.js";
import { Cpu } from "./cpu.js";
import { CpuArea, GuestMemory } from "./guest-memory.js";

describe("guest memory", () => {
  it("holds exactly the RAM at offset 0 and the processor's TLB and registers after it, page-aligned", () => {
    const memory = new GuestMemory(3 * 4096 + 100);
    expect(memory.ram.byteLength).toBe(3 * 4096 + 100);
    expect(memory.ram.byteOffset).toBe(0);
    expect(memory.ram.buffer).toBe(memory.memory.buffer);
    expect(memory.cpuArea).toBe(4 * 4096);
    expect(memory.memory.buffer.byteLength).toBeGreaterThanOrEqual(memory.cpuArea + CpuArea.BYTES);
  });

  it("is where the processor keeps its registers and TLB, which RAM users cannot reach", () => {
    const bus = new RamOnlyBus(1 << 20);
    const cpu = new Cpu(bus);
    cpu.regs[3] = 0x12345678;
    const words = new Int32Array(bus.memory.memory.buffer);
    expect(words[(bus.memory.cpuArea + CpuArea.REGS) / 4 + 3]).toBe(0x12345678);
    expect(cpu.tlb.buffer).toBe(bus.memory.memory.buffer);
    expect(cpu.tlb.byteOffset).toBe(bus.memory.cpuArea + CpuArea.TLB);
    // The RAM view ends before the processor's area.
    expect(bus.ram.byteOffset + bus.ram.byteLength).toBeLessThanOrEqual(bus.memory.cpuArea);
  });

  it("refuses a size that is not a positive whole number of bytes", () => {
    expect(() => new GuestMemory(0)).toThrow(RangeError);
    expect(() => new GuestMemory(1.5)).toThrow(/positive number of bytes/);
  });
});
