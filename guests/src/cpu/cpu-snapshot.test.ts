import { beforeAll, describe, expect, it } from "vitest";
import { CPU_STATE_VERSION } from "./cpu-snapshot.js";
import { runProgram } from "./system-harness.js";
import { RamOnlyBus } from "./bus.js";
import { Cpu } from "./cpu.js";
import { runInstructions } from "./interpreter.js";
import { applyTestEngine, CPU_ENGINES, requireTool, setTestEngine } from "./test-support.js";

describe.each(CPU_ENGINES)("CPU state snapshot (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));

  it.runIf(requireTool("nasm") || process.env.CI)("round-trips through JSON and resumes identically", () => {
    // Stop a paging + privilege program part-way, snapshot, and continue both copies.
    const run = runProgram("privilege.asm", 60);
    const state = run.cpu.saveState();
    expect(state.version).toBe(CPU_STATE_VERSION);
    const copy = applyTestEngine(new Cpu(new RamOnlyBus(8 << 20)));
    copy.ram8.set(run.cpu.ram8);
    copy.restoreState(JSON.parse(JSON.stringify(state)));
    expect(copy.saveState()).toEqual(state);
    runInstructions(run.cpu, 200);
    runInstructions(copy, 200);
    expect(copy.saveState()).toEqual(run.cpu.saveState());
  });

  it("rejects unknown versions", () => {
    const cpu = new Cpu(new RamOnlyBus(1 << 20));
    const state = cpu.saveState();
    expect(() => cpu.restoreState({ ...state, version: 99 })).toThrow(/version/);
  });
});
