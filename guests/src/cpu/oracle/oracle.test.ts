/**
 * The host CPU as oracle: random user-level sequences run natively (gcc -m32 helper) and in the
 * emulator must leave identical registers, defined flags and memory, under the interpreter and
 * under the JIT. Set VMK_CPU_ORACLE_CASES (VMK_CPU_ORACLE_JIT_CASES for the JIT) for a longer run
 * and VMK_CPU_ORACLE_SEED to move the seed window.
 */
import { describe, expect, it } from "vitest";
import { compareResults } from "./compare.js";
import { runEmulated } from "./emulated.js";
import { generateCase } from "./generator.js";
import { buildNativeRunner, runNative } from "./native.js";
import { CPU_ENGINES } from "../test-support.js";

const CASES = Number(process.env.VMK_CPU_ORACLE_CASES ?? 50000);
const JIT_CASES = Number(process.env.VMK_CPU_ORACLE_JIT_CASES ?? 20000);
const FIRST_SEED = Number(process.env.VMK_CPU_ORACLE_SEED ?? 1);
const BATCH = 2000;

const runner = buildNativeRunner();
const unavailable = "error" in runner ? runner.error : null;
const mustRun = process.env.CI === "true" || process.env.CI === "1";

describe("oracle: emulator vs host CPU", () => {
  if (unavailable !== null && !mustRun) {
    it.skip(`native oracle unavailable: ${unavailable}`, () => {});
    return;
  }

  it("has a native runner", () => {
    expect(unavailable, unavailable ?? "").toBeNull();
  });

  for (const engine of CPU_ENGINES) {
    // Translating every block of every fresh case costs a `new Function` each: fewer JIT cases.
    const cases = engine !== "interpreter" ? Math.min(CASES, JIT_CASES) : CASES;
    it(`agrees on ${cases} random sequences (${engine})`, { timeout: Math.max(60_000, cases * 20) }, () => {
      if (!("path" in runner)) throw new Error(unavailable ?? "no runner");
      const failures: string[] = [];
      for (let start = 0; start < cases && failures.length < 10; start += BATCH) {
        const batch = [];
        for (let i = start; i < Math.min(cases, start + BATCH); i++) batch.push(generateCase(FIRST_SEED + i));
        const native = runNative(runner.path, batch);
        batch.forEach((c, i) => {
          const diff = compareResults(c, runEmulated(c, engine), native[i]);
          if (diff !== null && failures.length < 10) failures.push(diff);
        });
      }
      expect(failures, failures.join("\n\n")).toEqual([]);
    });
  }
});
