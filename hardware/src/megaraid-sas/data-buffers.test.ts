import { describe, expect, it } from "vitest";
import { DataBuffers } from "./data-buffers.js";

describe("DataBuffers", () => {
  it("hands out buffers of exactly the length asked for, reusing one given back", () => {
    const buffers = new DataBuffers();
    const first = buffers.take(4096);
    expect(first).toHaveLength(4096);
    buffers.give(first);
    expect(buffers.pooledBytes).toBe(4096);
    expect(buffers.take(4096)).toBe(first);
    expect(buffers.pooledBytes).toBe(0);
    expect(buffers.take(512)).toHaveLength(512);
  });

  it("never hands the same buffer to two users at once", () => {
    const buffers = new DataBuffers();
    const a = buffers.take(4096);
    const b = buffers.take(4096);
    expect(b).not.toBe(a);
    buffers.give(a);
    buffers.give(b);
    const again = [buffers.take(4096), buffers.take(4096), buffers.take(4096)];
    expect(new Set(again).size).toBe(3);
  });

  it("keeps neither large buffers nor more than its budget", () => {
    const buffers = new DataBuffers();
    buffers.give(new Uint8Array(4 << 20));
    expect(buffers.pooledBytes).toBe(0);
    for (let i = 0; i < 16; i++) buffers.give(new Uint8Array(1 << 20));
    expect(buffers.pooledBytes).toBe(8 << 20);
  });
});
