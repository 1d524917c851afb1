/** Run-loop behaviour: self-modifying code, interrupts, HLT, shadows, single-step, REP restart. */
import { beforeAll, describe, expect, it } from "vitest";
import type { InterruptSource } from "./bus.js";
import { Flag, Seg } from "./constants.js";
import { runInstructions, stepOrFault } from "./interpreter.js";
import { CPU_ENGINES, createFlatCpu, loadBytes, setTestEngine } from "./test-support.js";
import { Vector } from "./fault.js";
import { refreshBreakpoints } from "./debug-registers.js";

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

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

describe.each(CPU_ENGINES)("run loop (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
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

  it("takes a pending interrupt before fetching the next block, whose page then faults", () => {
    const cpu = cpuWithIdt();
    // Paging with an identity map of the low 4 MiB but for MISSING, where the loop then jumps.
    const MISSING = 0x5000;
    const view = new DataView(cpu.bus.memory.ram.buffer);
    for (let i = 0; i < 1024; i++) view.setUint32(0x81000 + 4 * i, (i << 12) === MISSING ? 0 : (i << 12) | 3, true);
    view.setUint32(0x80000, 0x81000 | 3, true);
    cpu.cr3 = 0x80000;
    cpu.cr0 |= 0x80000000;
    cpu.flushTlb(true);
    // The interrupt is raised just as control reaches MISSING: the fetch there must wait for it.
    let fetchedBeforeInterrupt = false;
    const source: InterruptSource = {
      hasPending: () => cpu.eip === MISSING && acknowledged === 0,
      acknowledge: () => { acknowledged++; fetchedBeforeInterrupt = cpu.cr2 === MISSING; return 0x30; },
    };
    let acknowledged = 0;
    cpu.interruptSource = source;
    cpu.eflags |= Flag.IF;
    // mov ecx, 20 ; L: dec ecx ; jnz L ; jmp MISSING
    loadBytes(cpu, 0x1000, Uint8Array.from([0xb9, 20, 0, 0, 0, 0x49, 0x75, 0xfd, 0xe9, ...le32(MISSING - 0x100d)]));
    cpu.eip = 0x1000;
    expect(stepOrFault(cpu, 1000)).toBe(Vector.PF);
    expect(acknowledged).toBe(1);
    expect(fetchedBeforeInterrupt).toBe(false);
    expect(cpu.cr2).toBe(MISSING);
    expect(cpu.eip).toBe(MISSING);
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

describe.each(CPU_ENGINES)("NMI (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
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

describe.each(CPU_ENGINES)("self-modifying code inside one block (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
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

describe.each(CPU_ENGINES)("precise stack faults (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("POP to a faulting destination and PUSHAD past the stack limit leave ESP unchanged", () => {
    const cpu = createFlatCpu();
    cpu.setSegmentCache(Seg.ES, 0x10, 0, 0xfff, 0x4093);
    cpu.regs[4] = 0x8000;
    // pop dword [es:0x5000]
    loadBytes(cpu, 0x1000, Uint8Array.from([0x26, 0x8f, 0x05, 0x00, 0x50, 0x00, 0x00]));
    cpu.eip = 0x1000;
    expect(stepOrFault(cpu)).toBe(Vector.GP);
    expect(cpu.regs[4]).toBe(0x8000);
    // pushad with SS limited so the fourth push faults
    cpu.setSegmentCache(Seg.SS, 0x10, 0, 0xfff, 0x4093);
    cpu.regs[4] = 0x100c;
    loadBytes(cpu, 0x1010, Uint8Array.from([0x60]));
    cpu.eip = 0x1010;
    expect(stepOrFault(cpu)).toBe(Vector.SS);
    expect(cpu.regs[4]).toBe(0x100c);
    expect(cpu.eip).toBe(0x1010);
  });
});

describe.each(CPU_ENGINES)("bulk REP MOVS/STOS (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("copies and fills across pages like the element loop, including overlap", () => {
    const cpu = createFlatCpu();
    for (let i = 0; i < 0x3000; i++) cpu.ram8[0x10000 + i] = (i * 7) & 0xff;
    // rep movsd (ESI=0x10004, EDI=0x20ffc, ECX=0x800) ; rep stosb (EDI=0x30ffe, ECX=5, AL=0xab)
    // ; overlapping rep movsb forward (ESI=0x40000, EDI=0x40001, ECX=8)
    loadBytes(cpu, 0x1000, Uint8Array.from([
      0xbe, 0x04, 0x00, 0x01, 0x00, 0xbf, 0xfc, 0x0f, 0x02, 0x00, 0xb9, 0x00, 0x08, 0x00, 0x00, 0xf3, 0xa5,
      0xbf, 0xfe, 0x0f, 0x03, 0x00, 0xb9, 0x05, 0x00, 0x00, 0x00, 0xb0, 0xab, 0xf3, 0xaa,
      0xbe, 0x00, 0x00, 0x04, 0x00, 0xbf, 0x01, 0x00, 0x04, 0x00, 0xb9, 0x08, 0x00, 0x00, 0x00, 0xf3, 0xa4, 0xf4,
    ]));
    cpu.ram8[0x40000] = 0x5a;
    cpu.eip = 0x1000;
    runInstructions(cpu, 100);
    for (let i = 0; i < 0x2000; i++) expect(cpu.ram8[0x20ffc + i]).toBe(((i + 4) * 7) & 0xff);
    expect(Array.from(cpu.ram8.subarray(0x30ffe, 0x31004))).toEqual([0xab, 0xab, 0xab, 0xab, 0xab, 0]);
    expect(Array.from(cpu.ram8.subarray(0x40000, 0x4000a))).toEqual([0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0]);
    expect(cpu.regs[1]).toBe(0);
    expect(cpu.regs[7]).toBe(0x40009);
  });
});

describe.each(CPU_ENGINES)("debug registers (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("traps after a write that hits a data breakpoint and faults on an instruction breakpoint", () => {
    const cpu = cpuWithIdt(0x9000);
    // mov [0x20004], eax ; nop ; nop
    loadBytes(cpu, 0x1000, Uint8Array.from([0xa3, 0x04, 0x00, 0x02, 0x00, 0x90, 0x90]));
    cpu.dr[0] = 0x20004;
    cpu.dr[1] = 0x1006;
    // DR0: write, 4 bytes (R/W0=01, LEN0=11); DR1: execute (R/W1=00, LEN1=00); L0 | L1
    cpu.dr[7] = 0x400 | 0x1 | 0x4 | (0x1 << 16) | (0x3 << 18);
    refreshBreakpoints(cpu);
    cpu.eip = 0x1000;
    runInstructions(cpu, 1); // the store, then the #DB trap into the handler
    expect(cpu.eip).toBe(0x9000);
    expect(cpu.dr[6] & 0xf).toBe(0x1);
    expect(cpu.read32(Seg.SS, cpu.regs[4])).toBe(0x1005);
    runInstructions(cpu, 2); // IRET, then the NOP at 0x1005
    expect(cpu.eip).toBe(0x1006);
    runInstructions(cpu, 1); // instruction breakpoint at 0x1006: a fault before it runs
    expect(cpu.eip).toBe(0x9000);
    expect(cpu.dr[6] & 0xf).toBe(0x2);
    expect(cpu.read32(Seg.SS, cpu.regs[4])).toBe(0x1006);
  });
});
