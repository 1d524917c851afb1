/**
 * x87 exceptions (SDM vol. 1 8.4-8.7, vol. 3 CR0.NE): #D, #U, #O, #P and #IS with their masked
 * responses and C1, the results withheld when unmasked, pending exceptions reported by the next
 * waiting instruction as #MF (CR0.NE = 1) or FERR# (CR0.NE = 0), and the instruction pointers
 * FNSTENV shows. Expected status words are composed by hand from the bits: IE 0x1, DE 0x2,
 * ZE 0x4, OE 0x8, UE 0x10, PE 0x20, SF 0x40, ES 0x80, C1 0x200, TOP << 11, B 0x8000.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Cr0, Seg } from "./constants.js";
import { Cpu } from "./cpu.js";
import { Vector } from "./fault.js";
import { runInstructions } from "./interpreter.js";
import { RecordingBus } from "./system-harness.js";
import { applyTestEngine, assemble, assembleProgram, CPU_ENGINES, createFlatCpu, loadBytes, requireTool, runToHalt, setTestEngine } from "./test-support.js";

const DATA = 0x20000;
const CODE = 0x1000;

function run(body: string, setup?: (cpu: Cpu) => void) {
  const cpu = createFlatCpu();
  cpu.regs[4] = 0x80000;
  setup?.(cpu);
  const code = assemble(`bits 32\norg ${CODE}\n${body}\nhlt\n`);
  loadBytes(cpu, CODE, code);
  cpu.eip = CODE;
  const vector = runToHalt(cpu, 10000);
  const view = new DataView(cpu.bus.memory.ram.buffer);
  return {
    cpu,
    faults: vector >= 0 ? [vector] : [],
    f64: (o: number) => view.getFloat64(DATA + o, true),
    i32: (o: number) => view.getInt32(DATA + o, true),
    u16: (o: number) => view.getUint16(DATA + o, true),
  };
}

const native = (cpu: Cpu) => { cpu.cr0 |= Cr0.NE; };
const setF64 = (cpu: Cpu, offset: number, value: number) => new DataView(cpu.bus.memory.ram.buffer).setFloat64(DATA + offset, value, true);
const setI32 = (cpu: Cpu, offset: number, value: number) => new DataView(cpu.bus.memory.ram.buffer).setInt32(DATA + offset, value, true);
const loadCw = (cw: number) => `mov word [${DATA + 100}], ${cw}\nfldcw [${DATA + 100}]`;

describe.runIf(requireTool("nasm") || process.env.CI).each(CPU_ENGINES)("x87 exceptions (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));

  it("flags a denormal single operand (#D) and a signaling NaN (#IA) on FLD", () => {
    const r = run(`fninit
      fld dword [${DATA + 64}]
      fstp qword [${DATA}]
      fnstsw [${DATA + 8}]
      fnclex
      fld dword [${DATA + 68}]
      fnstsw [${DATA + 10}]`, (cpu) => { setI32(cpu, 64, 1); setI32(cpu, 68, 0x7f800001); });
    expect(r.f64(0)).toBe(2 ** -149); // a normal number in the register
    expect(r.u16(8)).toBe(0x0002);
    expect(r.u16(10)).toBe(0x3801); // IE, TOP 7: the quiet NaN was pushed
  });

  it("loads a denormal single despite unmasked #D, withholds an arithmetic result, reports at FWAIT", () => {
    // The load going ahead is what the host CPU does (fpu-native.test.ts); the FADD keeps ST(0).
    const r = run(`mov dword [${DATA + 200}], wait_at
      mov dword [${DATA + 204}], add_at
      fninit
      ${loadCw(0x37d)}
      fld dword [${DATA + 64}]
      fnstsw [${DATA + 8}]
      fnclex
      fld1
      add_at: fadd dword [${DATA + 64}]
      fnstsw [${DATA + 10}]
      fnsave [${DATA + 16}]
      frstor [${DATA + 16}]
      wait_at: fwait`, (cpu) => { native(cpu); setI32(cpu, 64, 1); });
    expect(r.u16(8)).toBe(0xb882); // DE, ES, B, TOP 7: loaded
    expect(r.u16(10)).toBe(0xb082); // TOP 6
    expect(r.faults).toEqual([Vector.MF]);
    expect(r.cpu.eip).toBe(r.i32(200));
    expect(r.u16(16 + 8)).toBe(0x0fff); // R7 and R6 valid
    expect([r.i32(16 + 28), r.i32(16 + 32), r.u16(16 + 36)]).toEqual([0, 0x80000000 | 0, 0x3fff]); // ST(0) still 1.0
    expect(r.i32(16 + 12)).toBe(r.i32(204)); // FIP: the FADD
    expect(r.i32(16 + 16)).toBe(8 | (0x005 << 16)); // FCS 8, FOP D8 05
    expect(r.i32(16 + 20)).toBe(DATA + 64); // FDP
    expect(r.i32(16 + 24) & 0xffff).toBe(16); // FDS
  });

  it("underflows 2^-1100 on its way to memory (UE|PE, zero) and rounds it up to 2^-1074 under RC up", () => {
    // The final state matches a P6-class CPU (measured: 0030, +0); this model's registers, having
    // the double's exponent range, already denormalise (and flag) at the FMUL: second status word.
    const r = run(`fninit
      fld qword [${DATA + 64}]
      fmul qword [${DATA + 72}]
      fstp qword [${DATA}]
      fnstsw [${DATA + 8}]
      fnclex
      ${loadCw(0xb7f)}
      fld qword [${DATA + 64}]
      fmul qword [${DATA + 72}]
      fnstsw [${DATA + 10}]
      fstp qword [${DATA + 16}]`, (cpu) => { setF64(cpu, 64, 2 ** -1000); setF64(cpu, 72, 2 ** -100); });
    expect(r.f64(0)).toBe(0);
    expect(r.u16(8)).toBe(0x0030);
    expect(r.f64(16)).toBe(Number.MIN_VALUE);
    expect(r.u16(10)).toBe(0x3a30); // model: flagged at the FMUL, C1 = rounded up
  });

  it("rounds overflowing single stores per RC (masked) and wraps register overflow when unmasked", () => {
    const masked = run(`fninit
      fld qword [${DATA + 64}]
      fst dword [${DATA}]
      fnstsw [${DATA + 8}]
      ${loadCw(0xf7f)}
      fst dword [${DATA + 4}]
      fnstsw [${DATA + 10}]`, (cpu) => setF64(cpu, 64, 2 ** 200));
    expect(masked.i32(0)).toBe(0x7f800000); // +inf with C1 set, as measured on a P6-class CPU
    expect(masked.u16(8)).toBe(0x3a28);
    expect(masked.i32(4)).toBe(0x7f7fffff); // toward zero: the largest single
    expect(masked.u16(10)).toBe(0x3828);
    // In this model the register range is the double's, so 2^1100 overflows a register; unmasked,
    // it is delivered with the exponent wrapped by 1536 (IEEE 754-1985 7.3).
    const unmasked = run(`fninit
      ${loadCw(0x377)}
      fld qword [${DATA + 64}]
      fmul qword [${DATA + 72}]
      fnstsw [${DATA + 8}]
      fnclex
      fstp qword [${DATA}]`, (cpu) => { native(cpu); setF64(cpu, 64, 2 ** 1000); setF64(cpu, 72, 2 ** 100); });
    expect(unmasked.faults).toEqual([]);
    expect(unmasked.f64(0)).toBe(2 ** -436);
    expect(unmasked.u16(8)).toBe(0xb888);
  });

  it("stores denormal singles and withholds the store on unmasked #U", () => {
    const r = run(`fninit
      fld qword [${DATA + 64}]
      fst dword [${DATA}]
      fnstsw [${DATA + 8}]
      ${loadCw(0x36f)}
      mov dword [${DATA + 4}], 0x12345678
      fstp dword [${DATA + 4}]
      fnstsw [${DATA + 10}]`, (cpu) => { native(cpu); setF64(cpu, 64, 2 ** -140); });
    expect(r.i32(0)).toBe(0x200); // 2^-140 = 2^9 units of 2^-149, exact: no UE when masked
    expect(r.u16(8)).toBe(0x3800);
    expect(r.i32(4)).toBe(0x12345678);
    expect(r.u16(10)).toBe(0xb890); // UE, ES, B; not popped
  });

  it("reports inexact results with C1 telling the rounding direction, under precision control", () => {
    // PC = double, then single: the status words a P6-class CPU gives (measured).
    const r = run(`fninit
      ${loadCw(0x27f)}
      fld qword [${DATA + 64}]
      fadd qword [${DATA + 72}]
      fnstsw [${DATA + 8}]
      fstp qword [${DATA}]
      fld1
      fdiv qword [${DATA + 80}]
      fnstsw [${DATA + 10}]
      fstp qword [${DATA + 16}]
      ${loadCw(0x07f)}
      fld1
      fdiv qword [${DATA + 80}]
      fnstsw [${DATA + 12}]
      fstp qword [${DATA + 24}]
      fld qword [${DATA + 88}]
      fsqrt
      fnstsw [${DATA + 14}]
      fstp qword [${DATA + 32}]`, (cpu) => { setF64(cpu, 64, 0.1); setF64(cpu, 72, 0.2); setF64(cpu, 80, 3); setF64(cpu, 88, 2); });
    expect(r.f64(0)).toBe(0.1 + 0.2);
    expect(r.u16(8)).toBe(0x3a20); // 0.30000000000000004 lies above the exact sum
    expect(r.f64(16)).toBe(1 / 3);
    expect(r.u16(10)).toBe(0x3820); // the double below 1/3
    expect(r.f64(24)).toBe(Math.fround(1 / 3)); // 24-bit precision
    expect(r.u16(12)).toBe(0x3a20);
    expect(r.f64(32)).toBe(Math.fround(Math.SQRT2));
    expect(r.u16(14)).toBe(0x3820); // rounded down at 24 bits
  });

  it("pushes the indefinite on masked stack overflow and nothing when unmasked", () => {
    const eight = "fld1\n".repeat(8);
    const masked = run(`fninit\n${eight}fldz\nfnstsw [${DATA + 8}]\nfstp qword [${DATA}]`);
    expect(masked.u16(8)).toBe(0x3a41); // IE, SF, C1 (overflow), TOP 7
    expect(masked.i32(4)).toBe(0xfff80000 | 0); // the real indefinite
    const unmasked = run(`fninit\n${loadCw(0x37e)}\n${eight}fldz\nfnstsw [${DATA + 8}]\nfnclex\nfstp qword [${DATA}]`, native);
    expect(unmasked.u16(8)).toBe(0x82c1); // IE, SF, C1, ES, B; TOP still 0
    expect(unmasked.f64(0)).toBe(1);
    expect(unmasked.faults).toEqual([]);
  });

  it("leaves the destination alone on unmasked stack underflow (C1 = 0)", () => {
    const r = run(`fninit
      ${loadCw(0x37e)}
      fld1
      fadd st0, st2
      fnstsw [${DATA + 8}]
      fnclex
      fstp qword [${DATA}]`, native);
    expect(r.u16(8)).toBe(0xb8c1);
    expect(r.f64(0)).toBe(1);
  });

  it("runs the no-wait forms with an exception pending and traps on FSTSW", () => {
    const r = run(`mov dword [${DATA + 200}], wait_at
      mov dword [${DATA + 204}], div_at
      fninit
      ${loadCw(0x37b)}
      fld1
      fldz
      div_at: fdivp st1, st0
      fnstsw ax
      mov [${DATA + 8}], ax
      fnstenv [${DATA + 16}]
      wait_at: fstsw ax`, native);
    expect(r.faults).toEqual([Vector.MF]);
    expect(r.cpu.eip).toBe(r.i32(200));
    expect(r.u16(8)).toBe(0xb084); // ZE, ES, B, TOP 6: the quotient was withheld, nothing popped
    expect(r.u16(16 + 8)).toBe(0x1fff); // R7 valid (1.0), R6 zero, the rest empty
    expect(r.i32(16 + 12)).toBe(r.i32(204));
    expect(r.i32(16 + 16)).toBe(8 | (0x6f9 << 16)); // FOP DE F9
    expect(r.i32(16 + 20)).toBe(0); // FLDCW, a control instruction, did not set FDP
  });

  it("makes an exception pending when FLDCW unmasks its flag; FLDCW itself waits", () => {
    const r = run(`mov dword [${DATA + 200}], wait_at
      fninit
      fld1
      fldz
      fdivp st1, st0
      fnstsw [${DATA + 8}]
      ${loadCw(0x37b)}
      fnstsw [${DATA + 10}]
      wait_at: fldcw [${DATA + 100}]`, native);
    expect(r.u16(8)).toBe(0x3804); // masked: ZE only, result stored (+inf)
    expect(r.u16(10)).toBe(0xb884);
    expect(r.faults).toEqual([Vector.MF]);
    expect(r.cpu.eip).toBe(r.i32(200));
  });

  it("keeps a pending exception across FNSAVE/FRSTOR: FNSAVE clears it, FRSTOR brings it back", () => {
    const r = run(`mov dword [${DATA + 200}], wait_at
      mov dword [${DATA + 204}], div_at
      fninit
      ${loadCw(0x37b)}
      fld1
      fldz
      div_at: fdivp st1, st0
      fnsave [${DATA + 0x100}]
      fnstsw [${DATA + 8}]
      fwait
      frstor [${DATA + 0x100}]
      fnstsw [${DATA + 10}]
      wait_at: fwait`, native);
    expect(r.u16(8)).toBe(0);
    expect(r.u16(10)).toBe(0xb084);
    expect(r.faults).toEqual([Vector.MF]);
    expect(r.cpu.eip).toBe(r.i32(200));
    expect(r.i32(0x100 + 12)).toBe(r.i32(204)); // FIP in the image
  });

  it("stores rounded integers with PE/C1 and the integer indefinite on masked #IA", () => {
    const r = run(`fninit
      fld qword [${DATA + 64}]
      fistp dword [${DATA}]
      fnstsw [${DATA + 8}]
      fld qword [${DATA + 72}]
      fistp dword [${DATA + 4}]
      fnstsw [${DATA + 10}]
      fnclex
      ${loadCw(0x37e)}
      mov dword [${DATA + 12}], 7
      fld qword [${DATA + 72}]
      fistp dword [${DATA + 12}]
      fnstsw [${DATA + 16}]`, (cpu) => { native(cpu); setF64(cpu, 64, 2.7); setF64(cpu, 72, 1e10); });
    expect(r.i32(0)).toBe(3);
    expect(r.u16(8)).toBe(0x0220);
    expect(r.i32(4)).toBe(0x80000000 | 0);
    expect(r.u16(10)).toBe(0x0021);
    expect(r.i32(12)).toBe(7);
    expect(r.u16(16)).toBe(0xb881); // not popped
  });

  it("asserts FERR# instead of #MF with CR0.NE = 0 and releases it on FNCLEX", () => {
    const ferr: boolean[] = [];
    const r = run(`fninit
      ${loadCw(0x37b)}
      fld1
      fldz
      fdivp st1, st0
      fwait
      fnstsw [${DATA + 8}]
      fnclex
      fnstsw [${DATA + 10}]
      fwait`, (cpu) => { cpu.fpu.onFerrChange = (asserted) => ferr.push(asserted); });
    expect(r.faults).toEqual([]);
    expect(ferr).toEqual([true, false]);
    expect(r.u16(8)).toBe(0xb084);
    expect(r.u16(10)).toBe(0x3000);
  });

  it("compares NaNs: FCOM raises #IA, FUCOM does not", () => {
    const r = run(`fninit
      fld qword [${DATA + 64}]
      fld1
      fucom st1
      fnstsw [${DATA + 8}]
      fcom st1
      fnstsw [${DATA + 10}]`, (cpu) => setF64(cpu, 64, NaN));
    expect(r.u16(8)).toBe(0x3000 | 0x4500); // unordered
    expect(r.u16(10)).toBe(0x3000 | 0x4500 | 0x01);
  });
});

/** A latch for FERR# in front of "IRQ13": set on assertion, cleared by OUT 0xF0, as on the AT. */
class Irq13Bus extends RecordingBus {
  latch = false;
  clears = 0;
  override portOut(port: number, size: 1 | 2 | 4, value: number): void {
    if (port === 0xf0) { this.latch = false; this.clears++; }
    super.portOut(port, size, value);
  }
}

describe.runIf(requireTool("nasm") || process.env.CI).each(CPU_ENGINES)("x87 exception handlers in real mode (nasm) (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));

  it("takes IRQ13 through FERR# (NE = 0), then #MF (NE = 1), with real-mode FNSTENV images", () => {
    const bus = new Irq13Bus(1 << 20);
    const cpu = applyTestEngine(new Cpu(bus));
    cpu.fpu.onFerrChange = (asserted) => { if (asserted) bus.latch = true; };
    cpu.interruptSource = {
      hasPending: () => bus.latch,
      acknowledge: () => { bus.latch = false; return 0x75; },
    };
    cpu.ram8.set(assembleProgram("fpu-exceptions.asm"), 0x7c00);
    cpu.setSegmentCache(Seg.CS, 0, 0, 0xffff, 0x9b);
    cpu.eip = 0x7c00;
    for (let i = 0; i < 100 && !cpu.halted; i++) runInstructions(cpu, 10000);
    const vectors = bus.events.filter((e) => e.kind === "vector").map((e) => e.value);
    const values = bus.events.filter((e) => e.kind === "value").map((e) => e.value.toString(16));
    const checkpoints = bus.events.filter((e) => e.kind === "checkpoint").map((e) => e.value);
    expect(checkpoints).toEqual([1, 2]);
    expect(vectors).toEqual([0x75, 0x10]);
    expect(bus.clears).toBe(1);
    // IRQ13 handler: status (ZE ES B, TOP 6: nothing stored or popped), FIP = the FDIVP, FOP DE F9.
    expect(values[0]).toBe("b084");
    expect(values[1]).toBe(values[2]);
    expect(values[3]).toBe("6f9");
    expect(values[4]).toBe(values[2]); // the 32-bit real-mode image: FIP[15:0] ...
    expect(values[5]).toBe("6f9"); // ... and FIP[31:16] (zero) beside FOP
    // #MF handler: the saved IP is the FWAIT; FIP the FDIV m32 (FOP D8 36), FDP its operand.
    expect(values[6]).toBe(values[7]);
    expect(values[8]).toBe(values[9]);
    expect(values[10]).toBe("36");
    expect(values[11]).toBe(values[12]);
    expect(values).toHaveLength(13);
  });
});
