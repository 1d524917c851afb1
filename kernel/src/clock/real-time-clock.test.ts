import { describe, expect, it } from "vitest";
import { RealTimeClock } from "./real-time-clock.js";

describe("RealTimeClock", () => {
  it("fires timers after their delay, in deadline order, and honours cancellation", async () => {
    const clock = new RealTimeClock();
    const fired: string[] = [];
    const start = clock.now();
    clock.setTimer(30e6, () => fired.push("b"));
    clock.setTimer(10e6, () => fired.push("a"));
    const cancelled = clock.setTimer(20e6, () => fired.push("never"));
    cancelled.cancel();
    // Poll rather than sleep a fixed time: on a loaded machine the event loop may run late.
    for (let waited = 0; fired.length < 2 && waited < 5000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).toEqual(["a", "b"]);
    expect(clock.now() - start).toBeGreaterThanOrEqual(30e6);
    expect(clock.pendingTimers()).toBe(0);
    clock.stop();
  });

  it("moves forward monotonically in nanoseconds", () => {
    const clock = new RealTimeClock();
    const a = clock.now();
    const b = clock.now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Number.isInteger(a)).toBe(true);
  });
});
