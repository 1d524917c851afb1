import { VirtualClock, type Clock } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { Reg, Seg } from "../cpu/constants.js";
import { PcMachine } from "./pc-machine.js";
import { SliceClock } from "./slice-clock.js";

describe("the clock devices see inside a slice", () => {
  it("runs ahead of a virtual clock by the instructions the slice has retired, and timers count from there", () => {
    const base = new VirtualClock(5_000);
    let retired = 100;
    const clock = new SliceClock(base, () => retired, 1);
    expect(clock.now()).toBe(5_000);
    clock.beginSlice();
    retired += 700;
    expect(clock.now()).toBe(5_700);
    const fired: number[] = [];
    clock.setTimer(300, () => fired.push(base.now()));
    clock.endSlice();
    expect(clock.now()).toBe(5_000);
    base.runUntil(10_000);
    expect(fired).toEqual([6_000]);
  });

  it("gives the guest its own time line on a real clock, moved by instructions and by its vCPU loop only", () => {
    const host = new VirtualClock(42_000);
    const real: Clock = { kind: "real", now: () => host.now(), setTimer: (delay, callback) => host.setTimer(delay, callback), pendingTimers: () => host.pendingTimers() };
    let retired = 0;
    const clock = new SliceClock(real, () => retired, 1);
    const paced = clock.paced!;
    expect(clock.now()).toBe(0);
    clock.beginSlice();
    retired = 1_000;
    expect(clock.now()).toBe(1_000);
    const fired: number[] = [];
    clock.setTimer(500, () => fired.push(clock.now()));
    clock.endSlice();
    // The host's time passing moves nothing the guest sees; its loop moves the guest's line.
    host.runUntil(100_000);
    expect(clock.now()).toBe(0);
    expect(fired).toEqual([]);
    expect(host.pendingTimers()).toBe(0);
    paced.runUntil(1_000);
    expect(fired).toEqual([]);
    paced.runUntil(1_500);
    expect(fired).toEqual([1_500]);
  });

  it("tells the vCPU loop about timers a host event sets between slices, not about a slice's own", () => {
    const host = new VirtualClock();
    const real: Clock = { kind: "real", now: () => host.now(), setTimer: (delay, callback) => host.setTimer(delay, callback), pendingTimers: () => host.pendingTimers() };
    const clock = new SliceClock(real, () => 0, 1);
    let told = 0;
    clock.onTimerSet = () => told++;
    clock.beginSlice();
    clock.setTimer(10, () => {});
    clock.endSlice();
    expect(told).toBe(0);
    clock.setTimer(10, () => {});
    expect(told).toBe(1);
  });

  it("lets a guest see the PIT count down within one slice (Linux calibrates the TSC against it)", () => {
    // Real mode at 0:7C00. Counter 0 in mode 2 from 65536; latch and read it into BX, spin `turns`
    // LOOPs (1 ns each), latch and read it into DX, halt. Returns the PIT input clocks counted in
    // between (the count starts at 0, 65536, so the difference is taken modulo 2^16).
    const countedOver = (turns: number) => {
      const clock = new VirtualClock();
      const machine = new PcMachine({ clock, memoryBytes: 1 << 20 });
      const code = [
        0xb0, 0x34, 0xe6, 0x43, 0x30, 0xc0, 0xe6, 0x40, 0xe6, 0x40, // mov al,34h; out 43h,al; xor al,al; out 40h,al; out 40h,al
        0xb0, 0x00, 0xe6, 0x43, 0xe4, 0x40, 0x88, 0xc3, 0xe4, 0x40, 0x88, 0xc7, // latch; in al,40h; mov bl,al; in al,40h; mov bh,al
        0xb9, turns & 0xff, (turns >> 8) & 0xff, 0xe2, 0xfe, // mov cx,turns; L: loop L
        0xb0, 0x00, 0xe6, 0x43, 0xe4, 0x40, 0x88, 0xc2, 0xe4, 0x40, 0x88, 0xc6, // latch; in al,40h; mov dl,al; in al,40h; mov dh,al
        0xf4, // hlt
      ];
      machine.ramBytes.set(code, 0x7c00);
      const cpu = machine.cpu;
      cpu.reset();
      cpu.setSegmentCache(Seg.CS, 0, 0, 0xffff, 0x9b);
      cpu.eip = 0x7c00;
      cpu.eflags &= ~0x200;
      const executed = machine.runSlice(200_000, 0);
      expect(cpu.halted).toBe(true);
      // CX = 0 turns the LOOP 65,536 times.
      expect(executed).toBeGreaterThan(turns === 0 ? 0x10000 : turns);
      // Outside the slice the devices are back on the machine's clock.
      expect(machine.deviceClock.now()).toBe(clock.now());
      return ((cpu.regs[Reg.EBX]! & 0xffff) - (cpu.regs[Reg.EDX]! & 0xffff)) & 0xffff;
    };
    // 65 535 more LOOPs at 1 ns each are 78.2 PIT input clocks (1.193182 MHz) more; the port
    // accesses' stalls are the same in both runs.
    const more = countedOver(0) - countedOver(1);
    expect(more).toBeGreaterThanOrEqual(78);
    expect(more).toBeLessThanOrEqual(79);
  });
});
