import { describe, expect, it } from "vitest";
import { VirtualClock } from "./virtual-clock.js";
import type { ExecutionDomain } from "../exec/execution-domain.js";

describe("VirtualClock", () => {
  it("fires timers in deadline order, equal deadlines in the order they were set", () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push("c@" + clock.now()));
    clock.setTimer(100, () => fired.push("a@" + clock.now()));
    clock.setTimer(200, () => fired.push("b1@" + clock.now()));
    clock.setTimer(200, () => fired.push("b2@" + clock.now()));
    clock.setTimer(0, () => fired.push("now@" + clock.now()));
    const result = clock.runUntilIdle();
    expect(fired).toEqual(["now@0", "a@100", "b1@200", "b2@200", "c@300"]);
    expect(result).toEqual({ events: 5, now: 300, idle: true });
  });

  it("cancels timers, including ones that would fire in the same batch", () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const later = clock.setTimer(50, () => fired.push("later"));
    clock.setTimer(10, () => {
      fired.push("first");
      later.cancel();
    });
    const never = clock.setTimer(20, () => fired.push("never"));
    never.cancel();
    expect(never.pending).toBe(false);
    clock.runUntilIdle();
    expect(fired).toEqual(["first"]);
    expect(later.pending).toBe(false);
  });

  it("runs timers scheduled from callbacks, and stops at a deadline with time set to it", () => {
    const clock = new VirtualClock();
    let ticks = 0;
    const tick = () => {
      ticks++;
      clock.setTimer(1_000, tick);
    };
    clock.setTimer(1_000, tick);
    const result = clock.runUntil(10_500);
    expect(ticks).toBe(10);
    expect(result.now).toBe(10_500);
    expect(result.idle).toBe(false);
    expect(clock.advance(1_000).events).toBe(1);
    expect(clock.now()).toBe(11_500);
  });

  it("charges a throwing callback to its domain and keeps running the queue", () => {
    const clock = new VirtualClock();
    const faults: string[] = [];
    const domain: ExecutionDomain = { name: "bad", alive: true, fault: (e, what) => faults.push(`${what}: ${(e as Error).message}`) };
    let after = false;
    clock.setTimer(5, () => {
      throw new Error("boom");
    }, { domain, label: "watchdog" });
    clock.setTimer(6, () => (after = true));
    clock.runUntilIdle();
    expect(faults).toEqual(["watchdog: boom"]);
    expect(after).toBe(true);
  });

  it("rejects negative or non-finite delays", () => {
    const clock = new VirtualClock();
    expect(() => clock.setTimer(-1, () => {})).toThrow(RangeError);
    expect(() => clock.setTimer(Number.NaN, () => {})).toThrow(RangeError);
  });
});
