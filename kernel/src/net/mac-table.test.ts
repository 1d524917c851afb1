import { describe, expect, it } from "vitest";
import { MacTable } from "./mac-table.js";

describe("MacTable", () => {
  it("agrees with a Map through random inserts, updates and deletes across growth", () => {
    const table = new MacTable();
    const reference = new Map<string, number>();
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let step = 0; step < 20000; step++) {
      const high = random() & 0x3; // few high halves, many collisions in the low bits' neighbourhood
      const low = random() & 0x3ff;
      const key = `${high}:${low}`;
      if (random() % 3 === 0) {
        expect(table.delete(high, low)).toBe(reference.delete(key));
      } else {
        table.set(high, low, step, step * 10);
        reference.set(key, step);
      }
    }
    expect(table.size).toBe(reference.size);
    for (const [key, value] of reference) {
      const [high, low] = key.split(":").map(Number) as [number, number];
      expect(table.get(high, low)).toBe(value);
      expect(table.stamp(high, low)).toBe(value * 10);
    }
    let visited = 0;
    table.forEach(() => visited++);
    expect(visited).toBe(reference.size);
    expect(table.get(9, 9)).toBe(-1);
  });

  it("keys on full 32-bit halves and deletes by predicate", () => {
    const table = new MacTable();
    table.set(0xffffffff, 0xffffffff, 1, 100);
    table.set(0x0a0050, 0x56000001, 2, 200);
    expect(table.get(0xffffffff, 0xffffffff)).toBe(1);
    expect(table.deleteWhere((_h, _l, _v, stamp) => stamp < 150)).toBe(1);
    expect(table.get(0xffffffff, 0xffffffff)).toBe(-1);
    expect(table.get(0x0a0050, 0x56000001)).toBe(2);
  });
});
