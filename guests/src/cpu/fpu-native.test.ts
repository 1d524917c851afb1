/**
 * The host CPU as x87 oracle: random operations under random rounding control and precision
 * control (single or double; extended is 53 bits in this model), mostly with all exceptions
 * masked, sometimes with one unmasked, run natively by the oracle's runner and in the emulator.
 * The status word after the operation, the stored results, the register file (an FNSAVE image)
 * and the #MF (SIGFPE on the host) raised by the final waiting FSTP must agree bit for bit.
 * Operands keep to moderate exponents (plus zeros, infinities, the indefinite NaN and single
 * denormals), where a double register and an extended one give the same results.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Cr0 } from "./constants.js";
import { Vector } from "./fault.js";
import { CODE_ADDR, DATA_ADDR, DATA_SIZE, type OracleCase } from "./oracle/generator.js";
import { buildNativeRunner, runNative } from "./oracle/native.js";
import { Random } from "./oracle/random.js";
import { applyTestEngine, CPU_ENGINES, createFlatCpu, runToHalt, setTestEngine } from "./test-support.js";

const CW = DATA_ADDR, A = DATA_ADDR + 0x08, B = DATA_ADDR + 0x10, SW = DATA_ADDR + 0x20, RES = DATA_ADDR + 0x28, RES32 = DATA_ADDR + 0x30;
/** An FNSAVE image: the whole register file after the operation (pointers are not compared). */
const SAVE = DATA_ADDR + 0x40;
const RES64 = DATA_ADDR + 0x38;
const CASES = Number(process.env.VMK_CPU_FPU_ORACLE_CASES ?? 4000);

const runner = buildNativeRunner();
const unavailable = "error" in runner ? runner.error : null;
const mustRun = process.env.CI === "true" || process.env.CI === "1";

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** The operations: name and the bytes between FLD [A] and FNSTSW. */
const OPERATIONS: Array<[string, number[]]> = [
  ...["fadd", "fmul", "", "", "fsub", "fsubr", "fdiv", "fdivr"].flatMap((name, r): Array<[string, number[]]> => name === "" ? [] : [
    [`${name} qword`, [0xdc, 0x05 | (r << 3), ...le32(B)]],
    [`${name} dword`, [0xd8, 0x05 | (r << 3), ...le32(B)]],
  ]),
  ["fsqrt", [0xd9, 0xfa]],
  ["frndint", [0xd9, 0xfc]],
  ["fst dword", [0xd9, 0x15, ...le32(RES32)]],
  ["fist dword", [0xdb, 0x15, ...le32(RES32)]],
  ["fcom qword", [0xdc, 0x15, ...le32(B)]],
  ["fld dword", [0xd9, 0x05, ...le32(B)]],
  ["fxtract", [0xd9, 0xf4]],
  // ST(0) = A, ST(1) = B: partial remainders when the exponents are 64 or more apart.
  ["fprem", [0xdd, 0x05, ...le32(B), 0xd9, 0xc9, 0xd9, 0xf8]],
  ["fprem1", [0xdd, 0x05, ...le32(B), 0xd9, 0xc9, 0xd9, 0xf5]],
  ["fst qword", [0xdd, 0x15, ...le32(RES64)]],
  ["fistp dword", [0xdb, 0x1d, ...le32(RES32)]],
  ["fcomp qword", [0xdc, 0x1d, ...le32(B)]],
  ["fucompp", [0xdd, 0x05, ...le32(B), 0xda, 0xe9]],
  ["fdivp st1", [0xdd, 0x05, ...le32(B), 0xde, 0xf9]],
  ["fsubrp st1", [0xdd, 0x05, ...le32(B), 0xde, 0xe1]],
  ["fmul st0, st1", [0xdd, 0x05, ...le32(B), 0xd8, 0xc9]],
  // Stack faults: ST(2) and ST(3) are empty.
  ["fxch st2", [0xd9, 0xca]],
  ["fadd st0, st3", [0xd8, 0xc3]],
];

const SPECIALS = [0, -0, 1, -1, 3, 0.1, 2.5, -2.5, Infinity, -Infinity, NaN, 2147483648.5, 1e10];

function randomDouble(rng: Random): number {
  if (rng.chance(0.15)) return rng.pick(SPECIALS);
  const mantissa = 1 + rng.next() / 0x100000000 + rng.next() / 0x100000000 / 0x100000;
  const exponent = rng.below(81) - 40;
  return (rng.chance(0.5) ? -1 : 1) * mantissa * Math.pow(2, exponent);
}

/**
 * Functions whose results come from Math (not bit-exact): only their status words are compared,
 * without C1 (the rounding direction is not known here). A second FLD [B] supplies ST(0) for the
 * two-operand ones, A being ST(1).
 */
const FUNCTIONS: Array<[string, number[]]> = [
  ["fsin", [0xd9, 0xfe]],
  ["fcos", [0xd9, 0xff]],
  ["fptan", [0xd9, 0xf2]],
  ["fsincos", [0xd9, 0xfb]],
  ["fpatan", [0xdd, 0x05, ...le32(B), 0xd9, 0xf3]],
  ["fyl2x", [0xdd, 0x05, ...le32(B), 0xd9, 0xf1]],
];

function makeCase(seed: number, operations = OPERATIONS): { c: OracleCase; text: string } {
  const rng = new Random(seed);
  const [name, bytes] = operations[rng.below(operations.length)]!;
  let cw = 0x7f | (rng.pick([0, 2]) << 8) | (rng.below(4) << 10);
  // Sometimes one exception unmasked: the next waiting instruction (the final FSTP) then raises
  // #MF, SIGFPE on the host, and what was withheld or stored shows in memory and the status word.
  if (rng.chance(0.3)) cw &= ~(1 << rng.below(6));
  const data = new Uint8Array(DATA_SIZE);
  const view = new DataView(data.buffer);
  view.setUint16(0, cw, true);
  const a = randomDouble(rng);
  view.setFloat64(A - DATA_ADDR, a, true);
  let b: number | string = randomDouble(rng);
  if (name.endsWith("dword") && !name.startsWith("fst") && !name.startsWith("fist")) {
    if (rng.chance(0.2)) {
      const bits = rng.next() & 0x807fffff; // a denormal single (or a zero)
      view.setUint32(B - DATA_ADDR, bits, true);
      b = `single bits ${(bits >>> 0).toString(16)}`;
    } else view.setFloat32(B - DATA_ADDR, b, true);
  } else view.setFloat64(B - DATA_ADDR, b, true);
  if (Number.isNaN(a)) view.setUint32(A - DATA_ADDR + 4, 0xfff80000, true); // the indefinite: payloads are not modelled
  if (typeof b === "number" && Number.isNaN(b) && !name.endsWith("dword")) view.setUint32(B - DATA_ADDR + 4, 0xfff80000, true);
  if (typeof b === "number" && Number.isNaN(b) && name.endsWith("dword")) view.setUint32(B - DATA_ADDR, 0xffc00000, true);
  const code = Uint8Array.from([
    0xdb, 0xe3, // fninit
    0xd9, 0x2d, ...le32(CW), // fldcw
    0xdd, 0x05, ...le32(A), // fld qword [A]
    ...bytes,
    0xdd, 0x3d, ...le32(SW), // fnstsw [SW]
    0xdd, 0x35, ...le32(SAVE), // fnsave [SAVE]: no wait, then a clean FPU
    0xdd, 0x25, ...le32(SAVE), // frstor [SAVE]: brings a pending exception back
    0xdd, 0x1d, ...le32(RES), // fstp qword [RES]: waits, so #MF (SIGFPE) if one is pending
  ]);
  const c: OracleCase = { seed, code, regs: new Int32Array(8), eflags: 0x202, data, undefinedFlags: 0, everUndefinedFlags: 0 };
  return { c, text: `${name} cw=${cw.toString(16)} a=${a} b=${b}` };
}

const cpu = createFlatCpu(2 << 20);

const SIGFPE = 8;

function runEmulator(c: OracleCase): { data: Uint8Array; signal: number; eip: number } {
  cpu.ram8.fill(0, DATA_ADDR, CODE_ADDR + 0x1000);
  cpu.ram8.set(c.data, DATA_ADDR);
  cpu.ram8.set(c.code, CODE_ADDR);
  cpu.ram8[CODE_ADDR + c.code.length] = 0xf4;
  cpu.invalidateCode(CODE_ADDR, c.code.length + 16);
  cpu.fpu.reset();
  cpu.cr0 |= Cr0.NE; // Linux runs the host with native #MF reporting
  cpu.eip = CODE_ADDR;
  cpu.halted = false;
  const vector = runToHalt(cpu, 1000);
  if (vector >= 0 && vector !== Vector.MF) throw new Error(`vector ${vector}`);
  return { data: cpu.ram8.slice(DATA_ADDR, DATA_ADDR + DATA_SIZE), signal: vector === Vector.MF ? SIGFPE : 0, eip: vector >= 0 ? cpu.eip >>> 0 : 0 };
}

function hex(bytes: Uint8Array, from: number, length: number): string {
  return Array.from(bytes.subarray(from - DATA_ADDR, from - DATA_ADDR + length)).reverse().map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Control, status and tag words and the eight registers of the FNSAVE image. */
function image(data: Uint8Array): string {
  const view = new DataView(data.buffer, data.byteOffset);
  const top = (view.getUint16(SAVE + 4 - DATA_ADDR, true) >> 11) & 7;
  const tags = view.getUint16(SAVE + 8 - DATA_ADDR, true);
  // Empty registers keep whatever they held before (FNINIT does not clear them): not compared.
  const regs = Array.from({ length: 8 }, (_, i) => ((tags >> (2 * ((top + i) & 7))) & 3) === 3 ? "empty" : hex(data, SAVE + 28 + i * 10, 10)).join(" ");
  return `cw ${hex(data, SAVE, 2)} sw ${hex(data, SAVE + 4, 2)} tw ${hex(data, SAVE + 8, 2)} st ${regs}`;
}

describe("x87 rounding and flags: emulator vs host CPU", () => {
  if (unavailable !== null && !mustRun) {
    it.skip(`native oracle unavailable: ${unavailable}`, () => {});
    return;
  }
  for (const engine of CPU_ENGINES) {
    describe(engine, () => {
      beforeAll(() => {
        setTestEngine(engine);
        applyTestEngine(cpu, engine);
      });
      it(`agrees on ${CASES} operations`, { timeout: 120_000 }, () => {
        if (!("path" in runner)) throw new Error(unavailable ?? "no runner");
        const cases = Array.from({ length: CASES }, (_, i) => makeCase(0xf870 + i));
        const native = runNative(runner.path, cases.map((k) => k.c));
        const failures: string[] = [];
        cases.forEach(({ c, text }, i) => {
          const run = runEmulator(c);
          const mine = run.data;
          const theirs = native[i]!;
          const fault = (signal: number, eip: number) => signal === 0 ? "" : ` signal ${signal} at +${(eip - CODE_ADDR).toString(16)}`;
          const got = `sw ${hex(mine, SW, 2)} res ${hex(mine, RES, 8)} res32 ${hex(mine, RES32, 4)} res64 ${hex(mine, RES64, 8)}${fault(run.signal, run.eip)}\n    ${image(mine)}`;
          const want = `sw ${hex(theirs.data, SW, 2)} res ${hex(theirs.data, RES, 8)} res32 ${hex(theirs.data, RES32, 4)} res64 ${hex(theirs.data, RES64, 8)}${fault(theirs.signal, theirs.eip)}\n    ${image(theirs.data)}`;
          if (got !== want && failures.length < 12) failures.push(`${text}\n  emulator ${got}\n  native   ${want}`);
        });
        expect(failures, failures.join("\n")).toEqual([]);
      });
      it(`agrees on the status words of ${CASES / 4} transcendental operations`, { timeout: 120_000 }, () => {
        if (!("path" in runner)) throw new Error(unavailable ?? "no runner");
        const cases = Array.from({ length: CASES / 4 }, (_, i) => makeCase(0x7a00 + i, FUNCTIONS));
        const native = runNative(runner.path, cases.map((k) => k.c));
        const failures: string[] = [];
        cases.forEach(({ c, text }, i) => {
          const mine = runEmulator(c).data;
          const theirs = native[i]!;
          const view = (d: Uint8Array) => new DataView(d.buffer, d.byteOffset).getUint16(SW - DATA_ADDR, true) & ~0x200;
          if (view(mine) !== view(theirs.data) && failures.length < 12) {
            failures.push(`${text}: emulator ${view(mine).toString(16)} native ${view(theirs.data).toString(16)}`);
          }
        });
        expect(failures, failures.join("\n")).toEqual([]);
      });
    });
  }
});
