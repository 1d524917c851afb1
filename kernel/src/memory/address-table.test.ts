import { describe, expect, it } from "vitest";
import { AddressTable } from "./address-table.js";

describe("AddressTable", () => {
  it("behaves like a Map under churn, through growth and deletion that shifts probe chains", () => {
    const table = new AddressTable();
    const reference = new Map<number, number>();
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let step = 0; step < 20_000; step++) {
      // Few distinct keys spread over 2^40, with slab-like alignment, so chains collide and wrap.
      const key = (random() % 700) * 0x1_0000_0080 + 34;
      const op = random() % 4;
      if (op === 0) {
        expect(table.add(key, step)).toBe(!reference.has(key));
        if (!reference.has(key)) reference.set(key, step);
      } else if (op === 1) {
        table.set(key, step);
        reference.set(key, step);
      } else if (op === 2) {
        expect(table.delete(key)).toBe(reference.delete(key));
      } else {
        const value = reference.get(key);
        expect(table.deleteIfValue(key, step)).toBe(false);
        if (value !== undefined) expect(table.deleteIfValue(key, value)).toBe(reference.delete(key));
      }
      expect(table.size).toBe(reference.size);
    }
    for (const [key, value] of reference) expect(table.get(key)).toBe(value);
    expect(table.get(1)).toBeUndefined();
    table.clear();
    expect(table.size).toBe(0);
    expect(table.has([...reference.keys()][0]!)).toBe(false);
  });
});
