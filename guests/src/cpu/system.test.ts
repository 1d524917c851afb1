/** System-level behaviour checked with small nasm programs from guests/test-programs. */
import { beforeAll, describe, expect, it } from "vitest";
import { PeriodicInterrupt, runProgram } from "./system-harness.js";
import { CPU_ENGINES, requireTool, setTestEngine } from "./test-support.js";

const hasNasm = requireTool("nasm");
const mustRun = process.env.CI === "true" || process.env.CI === "1";
const suite = hasNasm || mustRun ? describe : describe.skip;

suite.each(CPU_ENGINES)("system programs (nasm) (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("nasm is installed", () => expect(hasNasm, "install nasm to assemble the CPU system tests").toBe(true));

  it("takes and returns from each exception class", () => {
    const run = runProgram("exceptions.asm");
    expect(run.checkpoints).toEqual([1, 2]);
    expect(run.exceptions).toEqual([
      [0, 0], [6, 0], [3, 0], [4, 0], [5, 0], [13, 0x1000], [11, 0x48], [13, 0], [12, 0], [7, 0], [1, 0], [0x40, 0],
      [13, 0], [8, 0],
    ]);
    expect(run.cpu.halted).toBe(true);
  });
});

suite.each(CPU_ENGINES)("paging (nasm) (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("translates, sets A/D bits, faults with CR2 and flushes", () => {
    const run = runProgram("paging.asm");
    expect(run.checkpoints).toEqual([1, 2]);
    expect(run.exceptions).toEqual([[14, 3], [14, 0], [14, 2]]);
    expect(run.values.map((v) => v.toString(16))).toEqual([
      "cafebabe",
      (0x32000 | 0x67).toString(16), // present, rw, user, accessed, dirty
      (0x33000 | 0x27).toString(16), // accessed only
      (0x400000 | 0xe7).toString(16), // big page: accessed + dirty
      "5",
      "30004",
      "31008",
      "35",
      "34",
      "11111111",
      "31000",
    ]);
  });
});

suite.each(CPU_ENGINES)("privilege transitions (nasm) (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("moves between ring 0 and ring 3 by IRET, INT, call gates and SYSENTER", () => {
    const run = runProgram("privilege.asm");
    expect(run.checkpoints).toEqual([1, 2, 3]);
    expect(run.exceptions).toEqual([[13, 0], [13, 0x10], [0x41, 0]]);
    expect(run.values.map((v) => v.toString(16))).toEqual([
      "1b", // ring 3 CS
      "80000", // ESP back after INT 0x41 / IRET
      "8", // call gate target runs in ring 0
      "1234", // parameter copied to the inner stack
      "1b", // return CS
      "7fffc", // caller's ESP saved on the inner stack (after pushing the parameter)
      "80000", // RETF 4 released the parameter on the outer stack
      "23", // back on the ring-3 stack segment
      "8", // SYSENTER lands in CS 0x08
      "88000", // with SYSENTER_ESP
      "1b", // SYSEXIT returns to CS 0x1B
    ]);
  });
});

suite.each(CPU_ENGINES)("task switches (nasm) (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("switches through a task gate, returns with IRET and jumps between TSSs", () => {
    const run = runProgram("taskswitch.asm");
    expect(run.checkpoints).toEqual([1, 2, 3, 4, 5]);
    expect(run.exceptions).toEqual([]);
    expect(run.values.map((v) => v.toString(16))).toEqual(["4000", "30", "28", "aaaa", "28", "8", "0", "28"]);
  });
});

suite.each(CPU_ENGINES)("shutdown (nasm) (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("resets the machine on a triple fault and reports it", () => {
    const run = runProgram("triple-fault.asm");
    expect(run.checkpoints).toEqual([1]);
    expect(run.tripleFaults).toBe(1);
    expect(run.cpu.eip).toBe(0xfff0);
    expect(run.cpu.segSel[1]).toBe(0xf000);
  });
});

suite.each(CPU_ENGINES)("real mode (nasm) (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("runs interrupts, exceptions, 16-bit addressing and far calls", () => {
    const run = runProgram("realmode.asm");
    expect(run.checkpoints).toEqual([1, 2]);
    expect(run.values.map((v) => v.toString(16))).toEqual(["1235", "de", "beef", "4242", "fa", "fffe", "5555"]);
  });
});

suite.each(CPU_ENGINES)("virtual-8086 mode (nasm) (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("enters V86 with IRET, traps I/O, takes INT n to ring 0 and back, checks alignment", () => {
    const run = runProgram("v86.asm");
    expect(run.checkpoints).toEqual([1]);
    expect(run.exceptions).toEqual([[13, 0], [17, 0]]);
    expect(run.values.map((v) => v.toString(16))).toEqual(["23002", "100", "0"]);
    expect(run.cpu.regs[3]).toBe(0x4321);
  });
});

suite.each(CPU_ENGINES)("double fault through a task gate (nasm) (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("switches to the #DF task and pushes the error code there", () => {
    const run = runProgram("double-fault-task.asm");
    expect(run.checkpoints).toEqual([1, 2]);
    expect(run.values.slice(0, 4).map((v) => v.toString(16))).toEqual(["0", "30", "28", "4000"]);
    // The saved EIP points at the faulting instruction (a fault restarts it).
    const image = run.cpu.ram8;
    const savedEip = run.values[4];
    expect([image[savedEip], image[savedEip + 1]]).toEqual([0x8e, 0xd8]); // mov ds, ax
  });
});

suite.each(CPU_ENGINES)("mini OS with a timer (nasm) (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));
  it("takes timer interrupts in HLT and in ring 3, and serves system calls", () => {
    const timer = new PeriodicInterrupt(50);
    const run = runProgram("mini-os.asm", 2_000_000, 8 << 20, timer);
    expect(run.checkpoints).toEqual([1, 2]);
    expect(run.values.map((v) => v.toString(16))).toEqual(["1b", "1", (1007).toString(16)]);
    expect(timer.acknowledged).toBeGreaterThanOrEqual(5);
    expect(run.cpu.halted).toBe(true);
  });
});
