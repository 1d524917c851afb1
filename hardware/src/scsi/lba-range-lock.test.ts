import { describe, expect, it } from "vitest";
import { LbaRangeLock } from "./lba-range-lock.js";

describe("LbaRangeLock", () => {
  it("lets reads share and disjoint writes run, and queues overlapping writers in arrival order", async () => {
    const lock = new LbaRangeLock();
    const readA = lock.acquire(0, 10, false);
    const readB = lock.acquire(5, 15, false);
    const disjointWrite = lock.acquire(20, 30, true);
    expect([readA.granted, readB.granted, disjointWrite.granted]).toEqual([null, null, null]);

    const order: string[] = [];
    const write = lock.acquire(8, 12, true);
    const laterRead = lock.acquire(9, 10, false);
    void write.granted!.then(() => order.push("write"));
    void laterRead.granted!.then(() => order.push("read"));
    lock.release(readA);
    await Promise.resolve();
    expect(order).toEqual([]);
    lock.release(readB);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(["write"]);
    lock.release(write);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(["write", "read"]);
    lock.release(laterRead);
    lock.release(disjointWrite);
    expect(lock.size).toBe(0);
    expect(() => lock.release(write)).toThrow(/twice/);
  });
});
