/** x87 behaviour on nasm snippets run in flat protected mode; results are read back from memory. */
import { beforeAll, describe, expect, it } from "vitest";
import { Cr0 } from "./constants.js";
import { Vector } from "./fault.js";
import { assemble, CPU_ENGINES, createFlatCpu, loadBytes, requireTool, runToHalt, setTestEngine } from "./test-support.js";

const DATA = 0x20000;

function run(body: string, setup?: (cpu: ReturnType<typeof createFlatCpu>) => void) {
  const cpu = createFlatCpu();
  cpu.regs[4] = 0x80000;
  setup?.(cpu);
  const code = assemble(`bits 32\norg 0x1000\n${body}\nhlt\n`);
  loadBytes(cpu, 0x1000, code);
  cpu.eip = 0x1000;
  const faults: number[] = [];
  const vector = runToHalt(cpu, 10000);
  if (vector >= 0) faults.push(vector);
  const view = new DataView(cpu.bus.memory.ram.buffer);
  return { cpu, faults, f64: (o: number) => view.getFloat64(DATA + o, true), i32: (o: number) => view.getInt32(DATA + o, true), u16: (o: number) => view.getUint16(DATA + o, true), view };
}

describe.runIf(requireTool("nasm") || process.env.CI).each(CPU_ENGINES)("x87 (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));

  it("initialises to the documented state", () => {
    const r = run(`fninit\nfnstsw [${DATA}]\nfnstcw [${DATA + 2}]\nfnstenv [${DATA + 16}]`);
    expect(r.u16(0)).toBe(0);
    expect(r.u16(2)).toBe(0x37f);
    expect(r.u16(16 + 8)).toBe(0xffff); // all tags empty
  });

  it("does arithmetic on the register stack and in memory", () => {
    const r = run(`fninit
      fld1
      fldpi
      faddp st1, st0
      fstp qword [${DATA}]
      fild dword [${DATA + 64}]
      fimul word [${DATA + 68}]
      fistp dword [${DATA + 8}]
      fld qword [${DATA + 72}]
      fsqrt
      fst qword [${DATA + 16}]
      fld1
      fdivr st0, st1            ; st0 = st1 / st0
      fstp qword [${DATA + 24}]
      fld1
      fsub st0, st1             ; 1 - sqrt(2)
      fstp qword [${DATA + 32}]
      fld1
      fsubr st0, st1            ; sqrt(2) - 1
      fstp qword [${DATA + 40}]
    `, (cpu) => {
      const v = new DataView(cpu.bus.memory.ram.buffer);
      v.setInt32(DATA + 64, -7, true);
      v.setInt16(DATA + 68, 6, true);
      v.setFloat64(DATA + 72, 2, true);
    });
    expect(r.f64(0)).toBe(1 + Math.PI);
    expect(r.i32(8)).toBe(-42);
    expect(r.f64(16)).toBe(Math.SQRT2);
    expect(r.f64(24)).toBe(Math.SQRT2);
    expect(r.f64(32)).toBe(1 - Math.SQRT2);
    expect(r.f64(40)).toBe(Math.SQRT2 - 1);
  });

  it("rounds integer stores by the rounding control", () => {
    const body = [0, 1, 2, 3].map((rc) => `
      mov word [${DATA + 100}], ${0x37f | (rc << 10)}
      fldcw [${DATA + 100}]
      fld qword [${DATA + 64}]
      fistp dword [${DATA + rc * 8}]
      fld qword [${DATA + 72}]
      fistp dword [${DATA + rc * 8 + 4}]`).join("\n");
    const r = run(body, (cpu) => {
      const v = new DataView(cpu.bus.memory.ram.buffer);
      v.setFloat64(DATA + 64, 2.5, true);
      v.setFloat64(DATA + 72, -1.5, true);
    });
    expect([r.i32(0), r.i32(4)]).toEqual([2, -2]); // nearest even
    expect([r.i32(8), r.i32(12)]).toEqual([2, -2]); // down
    expect([r.i32(16), r.i32(20)]).toEqual([3, -1]); // up
    expect([r.i32(24), r.i32(28)]).toEqual([2, -1]); // chop
  });

  it("converts 80-bit extended and 64-bit integers", () => {
    const r = run(`fninit
      fld tword [${DATA + 64}]
      fst qword [${DATA}]
      fstp tword [${DATA + 16}]
      fild qword [${DATA + 80}]
      fistp qword [${DATA + 32}]
      fild qword [${DATA + 88}]
      fstp qword [${DATA + 40}]`, (cpu) => {
      // pi as 80-bit: 4000 C90FDAA2 2168C235
      cpu.ram8.set([0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40], DATA + 64);
      const v = new DataView(cpu.bus.memory.ram.buffer);
      v.setInt32(DATA + 80, 3, true); v.setInt32(DATA + 84, 0x100, true); // 2^40 + 3
      v.setInt32(DATA + 88, -5, true); v.setInt32(DATA + 92, -1, true); // -5
    });
    expect(r.f64(0)).toBe(Math.PI);
    expect(Array.from(r.cpu.ram8.subarray(DATA + 16, DATA + 26))).toEqual([0x00, 0xc0, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40]);
    expect([r.i32(32), r.i32(36)]).toEqual([3, 0x100]);
    expect(r.f64(40)).toBe(-5);
  });

  it("compares into the condition codes and EFLAGS", () => {
    const r = run(`fninit
      fld1
      fldz
      fcom st1                 ; 0 < 1: C0
      fnstsw ax
      mov [${DATA}], ax
      fcomi st0, st1           ; CF
      pushfd
      pop dword [${DATA + 4}]
      fxch
      fucomip st0, st1         ; 1 > 0: nothing set, pops
      pushfd
      pop dword [${DATA + 8}]
      ftst
      fnstsw [${DATA + 12}]
      fxam
      fnstsw [${DATA + 14}]`);
    expect(r.u16(0) & 0x4500).toBe(0x0100);
    expect(r.i32(4) & 0x45).toBe(0x01);
    expect(r.i32(8) & 0x45).toBe(0x00);
    expect(r.u16(12) & 0x4500).toBe(0x4000); // zero
    expect(r.u16(14) & 0x4700).toBe(0x4000); // class zero, positive
  });

  it("masks stack underflow to a NaN and flags IE|SF", () => {
    const r = run(`fninit\nfadd st0, st1\nfstp qword [${DATA}]\nfnstsw [${DATA + 8}]`);
    expect(Number.isNaN(r.f64(0))).toBe(true);
    expect(r.u16(8) & 0x41).toBe(0x41);
  });

  it("raises #MF on the next waiting instruction after an unmasked exception", () => {
    const r = run(`fninit
      mov word [${DATA}], 0x37b       ; unmask divide-by-zero
      fldcw [${DATA}]
      fld1
      fldz
      fdivp st1, st0
      fwait`, (cpu) => { cpu.cr0 |= Cr0.NE; });
    expect(r.faults).toEqual([Vector.MF]);
  });

  it("raises #NM when CR0.TS is set", () => {
    const r = run(`fld1`, (cpu) => { cpu.cr0 |= Cr0.TS; });
    expect(r.faults).toEqual([Vector.NM]);
  });

  it("saves and restores state with FSAVE/FRSTOR and FXSAVE/FXRSTOR", () => {
    const r = run(`fninit
      fld1
      fldpi
      fnsave [${DATA + 0x100}]
      fnstsw [${DATA}]           ; FNSAVE reinitialised: TOP = 0
      frstor [${DATA + 0x100}]
      fstp qword [${DATA + 8}]
      fxsave [${DATA + 0x200}]
      fninit
      fxrstor [${DATA + 0x200}]
      fstp qword [${DATA + 16}]`);
    expect(r.u16(0)).toBe(0);
    expect(r.f64(8)).toBe(Math.PI);
    expect(r.f64(16)).toBe(1);
    expect(r.faults).toEqual([]);
  });

  it("computes transcendental functions", () => {
    const r = run(`fninit
      fld qword [${DATA + 64}]
      fsin
      fstp qword [${DATA}]
      fld1
      fld1
      fpatan
      fstp qword [${DATA + 8}]
      fld qword [${DATA + 64}]
      fld1
      fscale
      fstp qword [${DATA + 16}]`, (cpu) => new DataView(cpu.bus.memory.ram.buffer).setFloat64(DATA + 64, 3, true));
    expect(r.f64(0)).toBeCloseTo(Math.sin(3), 15);
    expect(r.f64(8)).toBeCloseTo(Math.PI / 4, 15);
    expect(r.f64(16)).toBe(8);
  });

  it("computes partial remainders and packed BCD", () => {
    const r = run(`fninit
      fld qword [${DATA + 72}]     ; divisor 3
      fld qword [${DATA + 64}]     ; dividend 17
      fprem
      fnstsw [${DATA + 40}]
      fstp qword [${DATA}]
      fstp st0
      fild dword [${DATA + 80}]
      fbstp [${DATA + 16}]
      fbld [${DATA + 16}]
      fistp dword [${DATA + 32}]`, (cpu) => {
      const v = new DataView(cpu.bus.memory.ram.buffer);
      v.setFloat64(DATA + 64, 17, true);
      v.setFloat64(DATA + 72, 3, true);
      v.setInt32(DATA + 80, -1234567, true);
    });
    expect(r.f64(0)).toBe(2);
    // quotient 5 = 0b101: C0 = bit 2, C3 = bit 1, C1 = bit 0; C2 clear (complete)
    expect(r.u16(40) & 0x4700).toBe(0x0100 | 0x0200);
    expect(Array.from(r.cpu.ram8.subarray(DATA + 16, DATA + 26))).toEqual([0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0, 0x80]);
    expect(r.i32(32)).toBe(-1234567);
  });
});
