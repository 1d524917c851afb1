/** Run-loop behaviour: self-modifying code, interrupts, HLT, shadows, single-step, REP restart. */
import { describe, expect, it } from "vitest";
import type { InterruptSource } from "./bus.js";
import { Flag, Seg } from "./constants.js";
import { runInstructions, stepOrFault } from "./interpreter.js";
import { createFlatCpu, loadBytes } from "./test-support.js";
import { Vector } from "./fault.js";

class OneShotSource implements InterruptSource {
  pending = false;
  acknowledged = 0;
  constructor(readonly vector: number) {}
  hasPending(): boolean { return this.pending; }
  acknowledge(): number { this.pending = false; this.acknowledged++; return this.vector; }
}

/** A flat CPU with an IDT at 0x8000 whose gates all point at `handler` (an IRET by default). */
function cpuWithIdt(handler = 0x9000) {
  const cpu = createFlatCpu();
  cpu.idtrBase = 0x8000;
  cpu.idtrLimit = 0x7ff;
  for (let v = 0; v < 256; v++) {
    const at = 0x8000 + v * 8;
    cpu.ram8.set([handler & 0xff, (handler >> 8) & 0xff, 8, 0, 0, 0x8e, (handler >> 16) & 0xff, handler >>> 24], at);
  }
  loadBytes(cpu, handler, Uint8Array.from([0xcf])); // iret
  cpu.regs[4] = 0x70000;
  return cpu;
}

describe("interpreter", () => {
  it("sees code it has just overwritten (decoded-instruction cache invalidation)", () => {
    const cpu = createFlatCpu();
    // mov byte [0x1009], 0x42 ; mov al, 0x11 (imm byte at 0x1009 gets patched) ; nop
    loadBytes(cpu, 0x1000, Uint8Array.from([0xc6, 0x05, 0x09, 0x10, 0, 0, 0x42, 0xeb, 0x00, 0x11, 0x90]));
    // Execute once unpatched to get the instructions cached: run from 0x1008 (b0 11? no: set up) 
    loadBytes(cpu, 0x1008, Uint8Array.from([0xb0, 0x11]));
    cpu.eip = 0x1008;
    stepOrFault(cpu);
    expect(cpu.regs[0] & 0xff).toBe(0x11);
    cpu.eip = 0x1000;
    stepOrFault(cpu); // patches 0x1009
    cpu.eip = 0x1008;
    stepOrFault(cpu);
    expect(cpu.regs[0] & 0xff).toBe(0x42);
  });

  it("delivers an external interrupt only when IF is set and after the STI shadow", () => {
    const cpu = cpuWithIdt();
    const source = new OneShotSource(0x30);
    cpu.interruptSource = source;
    // sti ; nop ; nop
    loadBytes(cpu, 0x1000, Uint8Array.from([0xfb, 0x90, 0x90, 0x90]));
    cpu.eip = 0x1000;
    source.pending = true;
    runInstructions(cpu, 1); // STI
    expect(source.acknowledged).toBe(0);
    runInstructions(cpu, 1); // shadowed NOP
    expect(source.acknowledged).toBe(0);
    expect(cpu.eip).toBe(0x1002);
    runInstructions(cpu, 1); // interrupt taken, then the handler's IRET runs
    expect(source.acknowledged).toBe(1);
    expect(cpu.eip).toBe(0x1002);
  });

  it("sleeps in HLT until an interrupt arrives", () => {
    const cpu = cpuWithIdt();
    const source = new OneShotSource(0x31);
    cpu.interruptSource = source;
    cpu.eflags |= Flag.IF;
    loadBytes(cpu, 0x1000, Uint8Array.from([0xf4, 0x90]));
    cpu.eip = 0x1000;
    expect(runInstructions(cpu, 100)).toBe(1);
    expect(cpu.halted).toBe(true);
    expect(runInstructions(cpu, 100)).toBe(0);
    source.pending = true;
    runInstructions(cpu, 2); // wake, deliver, IRET back to after HLT, NOP
    expect(cpu.halted).toBe(false);
    expect(cpu.eip).toBe(0x1002);
  });

  it("restarts REP MOVS precisely after a fault mid-way", () => {
    const cpu = cpuWithIdt();
    cpu.setSegmentCache(Seg.ES, 0x10, 0, 0x2003, 0x4093); // destination limit cuts the copy short
    loadBytes(cpu, 0x1000, Uint8Array.from([0xf3, 0xa4])); // rep movsb
    cpu.ram8.set([1, 2, 3, 4, 5, 6], 0x3000);
    cpu.regs[6] = 0x3000;
    cpu.regs[7] = 0x2000;
    cpu.regs[1] = 6;
    cpu.eip = 0x1000;
    expect(stepOrFault(cpu)).toBe(Vector.GP);
    expect(cpu.eip).toBe(0x1000);
    expect(cpu.regs[1]).toBe(2);
    expect(cpu.regs[6]).toBe(0x3004);
    expect(cpu.regs[7]).toBe(0x2004);
    expect(Array.from(cpu.ram8.subarray(0x2000, 0x2006))).toEqual([1, 2, 3, 4, 0, 0]);
  });

  it("traps after one instruction with TF set", () => {
    const cpu = cpuWithIdt(0x9000);
    // Handler: record nothing, just IRET (TF is restored from the frame, so clear it there):
    // and dword [esp+8], ~0x100 ; iret
    loadBytes(cpu, 0x9000, Uint8Array.from([0x81, 0x64, 0x24, 0x08, 0xff, 0xfe, 0xff, 0xff, 0xcf]));
    loadBytes(cpu, 0x1000, Uint8Array.from([0x90, 0x90]));
    cpu.eip = 0x1000;
    cpu.eflags |= Flag.TF;
    runInstructions(cpu, 1);
    expect(cpu.eip).toBe(0x9000);
    expect(cpu.dr[6] & 0x4000).toBe(0x4000);
    expect(cpu.read32(Seg.SS, cpu.regs[4])).toBe(0x1001);
    runInstructions(cpu, 2);
    expect(cpu.eip).toBe(0x1001);
    expect(cpu.eflags & Flag.TF).toBe(0);
  });
});

describe("NMI", () => {
  it("wakes HLT, ignores IF and stays blocked until IRET", () => {
    const cpu = cpuWithIdt();
    loadBytes(cpu, 0x1000, Uint8Array.from([0xf4, 0x90, 0x90]));
    cpu.eip = 0x1000;
    runInstructions(cpu, 5);
    expect(cpu.halted).toBe(true);
    cpu.raiseNmi();
    runInstructions(cpu, 1); // NMI delivered; the handler's IRET runs
    expect(cpu.halted).toBe(false);
    expect(cpu.nmiBlocked).toBe(false);
    expect(cpu.eip).toBe(0x1001);
  });
});

describe("self-modifying code inside one block", () => {
  it("executes the bytes written by the previous instruction", () => {
    const cpu = createFlatCpu();
    // mov byte [0x100a], 0x05 ; mov eax, 1 (its immediate patched to 5) ; then the loop repeats
    // once with the patched byte already cached.
    loadBytes(cpu, 0x1000, Uint8Array.from([0xc6, 0x05, 0x0a, 0x10, 0, 0, 0x05, 0x90, 0x90, 0xb8, 0x01, 0, 0, 0, 0xf4]));
    cpu.eip = 0x1000;
    runInstructions(cpu, 100);
    expect(cpu.regs[0]).toBe(5);
    // Patch it back through an ordinary store and run the same (now cached) block again.
    cpu.eip = 0x1009;
    cpu.halted = false;
    cpu.write8(0, 0x100a, 0x07);
    runInstructions(cpu, 100);
    expect(cpu.regs[0]).toBe(7);
  });
});
