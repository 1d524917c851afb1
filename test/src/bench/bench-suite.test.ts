import { describe, expect, it } from "vitest";
import { median } from "./bench-suite.js";

describe("median", () => {
  it("takes the middle value of an odd count, whatever the order", () => {
    expect(median([9, 1, 5])).toBe(5);
  });

  it("averages the two middle values of an even count", () => {
    expect(median([4, 100, 1, 2])).toBe(3);
  });

  it("is not moved by one outlier window", () => {
    expect(median([1000, 1010, 990, 20])).toBe(995);
  });

  it("leaves its input alone", () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it("refuses an empty list", () => {
    expect(() => median([])).toThrow(RangeError);
  });
});
