import { describe, expect, it } from "vitest";
import { assembleTestKernel } from "./test-kernels.js";
import { portAccessCycles, SYSTEM_PORT_CYCLES } from "../cpu/io.js";
import { PAUSE_STALL_CYCLES } from "../cpu/ops-system.js";
import type { PcVmRuntime } from "./pc-vm-runtime.js";
import { testVm } from "./test-rig.js";

/** Counts from now on the runtime's vCPU's accesses to ports 00h-FFh (each stalls it). */
function countSystemPortAccesses(runtime: PcVmRuntime): () => number {
  const bus = runtime.machine.cpu.bus;
  const portIn = bus.portIn.bind(bus), portOut = bus.portOut.bind(bus);
  let count = 0;
  bus.portIn = (port, size) => {
    if (portAccessCycles(port) !== 0) count++;
    return portIn(port, size);
  };
  bus.portOut = (port, size, value) => {
    if (portAccessCycles(port) !== 0) count++;
    portOut(port, size, value);
  };
  return () => count;
}

const PIT_HZ = 1_193_182;
const PIT_PERIOD_NS = (1193 * 1e9) / PIT_HZ;

describe("a PC virtual machine on virtual time", () => {
  it("runs a multiboot kernel that takes PIT interrupts through the PIC, prints on COM1 and exits through port 0xF4", () => {
    const vm = testVm({ images: { kernel: assembleTestKernel("timer.asm") } });
    vm.runtime.powerOn();
    vm.runUntilPoweredOff(1e9);
    expect(vm.runtime.powerState).toBe("poweredOff");
    const output = vm.com1.text();
    expect(output).toMatch(/^vmk timer test\n\.{10}\ntsc [0-9a-f]{8}\n$/);
    expect(vm.runtime.exitCode).toBe((0x21 << 1) | 1);
    // Powered off, the machine leaves no device timers on the host clock.
    expect(vm.clock.pendingTimers()).toBe(0);
    // The TSC ticks at 1 GHz of guest time and agrees with the PIT across nine timer periods.
    const tscTicks = parseInt(/tsc ([0-9a-f]{8})/.exec(output)![1]!, 16);
    expect(tscTicks / (9 * PIT_PERIOD_NS)).toBeCloseTo(1, 2);
  });

  it("idles in HLT without executing: virtual time jumps to the next timer", () => {
    const vm = testVm({ images: { kernel: assembleTestKernel("timer.asm") } });
    const systemPortAccesses = countSystemPortAccesses(vm.runtime);
    vm.runtime.powerOn();
    vm.runUntilPoweredOff(1e9);
    const stats = vm.runtime.stats();
    // Ten timer periods pass while the guest sleeps in HLT; only the instructions it ran (the UART
    // polling loops, 1 ns each), its stalls (its accesses to the PIC and the PIT) and the halted
    // stretches add up to guest time.
    expect(stats.haltedNs).toBeGreaterThan(9 * PIT_PERIOD_NS);
    expect(systemPortAccesses()).toBeGreaterThan(10);
    expect(stats.stalledNs).toBe(systemPortAccesses() * SYSTEM_PORT_CYCLES);
    expect(Math.abs(stats.instructions + stats.stalledNs + stats.haltedNs - stats.guestTimeNs)).toBeLessThan(10_000);
    expect(stats.slices).toBeLessThan(1_000);
  });

  it("counts a spin loop's PAUSE stalls as guest time that the TSC and the PIT agree on", () => {
    const vm = testVm({ images: { kernel: assembleTestKernel("pause-wait.asm") } });
    const systemPortAccesses = countSystemPortAccesses(vm.runtime);
    vm.runtime.powerOn();
    vm.runUntilPoweredOff(1e9);
    expect(vm.runtime.exitCode).toBe((0x12 << 1) | 1);
    const [, delta, turns] = /tsc\/10ms ([0-9a-f]{8}) turns ([0-9a-f]{8})/.exec(vm.com1.text())!.map((hex) => parseInt(hex, 16));
    // 10 ms of the PIT is 10 M cycles of the 1 GHz counter, stalls included.
    expect(delta / 10_000_000).toBeCloseTo(1, 2);
    // Each turn is four instructions, a PAUSE's stall and the stall of reading port 61h, not four cycles.
    const turn = 4 + PAUSE_STALL_CYCLES + SYSTEM_PORT_CYCLES;
    expect(turns).toBeGreaterThan(10_000_000 / turn * 0.98);
    expect(turns).toBeLessThan(10_000_000 / turn * 1.02);
    const stats = vm.runtime.stats();
    expect(stats.stalledNs).toBe(turns * PAUSE_STALL_CYCLES + systemPortAccesses() * SYSTEM_PORT_CYCLES);
    expect(Math.abs(stats.instructions + stats.stalledNs + stats.haltedNs - stats.guestTimeNs)).toBeLessThan(10_000);
  });

  it("is deterministic: two runs produce the same output, instruction count and time", () => {
    const run = () => {
      const vm = testVm({ images: { kernel: assembleTestKernel("timer.asm") } });
      vm.runtime.powerOn();
      vm.runUntilPoweredOff(1e9);
      const stats = vm.runtime.stats();
      return [vm.com1.text(), stats.instructions, stats.guestTimeNs, vm.clock.now()];
    };
    expect(run()).toEqual(run());
  });
});
