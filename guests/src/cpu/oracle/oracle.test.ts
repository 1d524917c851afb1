/**
 * The host CPU as oracle: random user-level sequences run natively (gcc -m32 helper) and in the
 * emulator must leave identical registers, defined flags and memory. Set VMK_CPU_ORACLE_CASES
 * for a longer run and VMK_CPU_ORACLE_SEED to move the seed window.
 */
import { describe, expect, it } from "vitest";
import { compareResults } from "./compare.js";
import { runEmulated } from "./emulated.js";
import { generateCase } from "./generator.js";
import { buildNativeRunner, runNative } from "./native.js";

const CASES = Number(process.env.VMK_CPU_ORACLE_CASES ?? 50000);
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

  it(`agrees on ${CASES} random sequences`, { timeout: Math.max(60_000, CASES * 20) }, () => {
    if (!("path" in runner)) throw new Error(unavailable ?? "no runner");
    const failures: string[] = [];
    for (let start = 0; start < CASES && failures.length < 10; start += BATCH) {
      const cases = [];
      for (let i = start; i < Math.min(CASES, start + BATCH); i++) cases.push(generateCase(FIRST_SEED + i));
      const native = runNative(runner.path, cases);
      cases.forEach((c, i) => {
        const diff = compareResults(c, runEmulated(c), native[i]);
        if (diff !== null && failures.length < 10) failures.push(diff);
      });
    }
    expect(failures, failures.join("\n\n")).toEqual([]);
  });
});
