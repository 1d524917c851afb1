import { describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual-clock.js";
import { FaultRecord } from "./fault-record.js";
import { MmioSpace, PortSpace } from "./io-spaces.js";
import type { AccessWidth } from "./address-space.js";

function byteRegisters(size: number) {
  const bytes = new Uint8Array(size);
  const log: string[] = [];
  return {
    bytes,
    log,
    handler: {
      read(offset: number, width: AccessWidth) {
        log.push(`r${width}@${offset}`);
        let v = 0;
        for (let i = width - 1; i >= 0; i--) v = (v << 8) | bytes[offset + i]!;
        return v >>> 0;
      },
      write(offset: number, width: AccessWidth, value: number) {
        log.push(`w${width}@${offset}`);
        for (let i = 0; i < width; i++) bytes[offset + i] = (value >>> (8 * i)) & 0xff;
      },
    },
  };
}

describe("MMIO and port dispatch", () => {
  it("dispatches 1/2/4-byte accesses to the claiming region with region-relative offsets", () => {
    const faults = new FaultRecord(new VirtualClock());
    const mmio = new MmioSpace(faults);
    const dev = byteRegisters(64);
    mmio.map("dev", 0xfebc0000, 64, dev.handler);
    mmio.write(0xfebc0010, 4, 0xdeadbeef);
    expect(mmio.read(0xfebc0010, 4)).toBe(0xdeadbeef);
    expect(mmio.read(0xfebc0012, 2)).toBe(0xdead);
    expect(mmio.read(0xfebc0011, 1)).toBe(0xbe);
    expect(dev.log).toEqual(["w4@16", "r4@16", "r2@18", "r1@17"]);
    expect(faults.count()).toBe(0);
  });

  it("reads all-ones from unclaimed addresses, drops writes and records the master abort", () => {
    const faults = new FaultRecord(new VirtualClock());
    const ports = new PortSpace(faults);
    expect(ports.read(0x3f8, 1)).toBe(0xff);
    expect(ports.read(0xcfc, 2)).toBe(0xffff);
    expect(ports.read(0xcfc, 4)).toBe(0xffffffff);
    ports.write(0x80, 1, 0x12);
    expect(faults.count("port-unclaimed")).toBe(4);
    expect(faults.entries().at(-1)).toMatchObject({ kind: "port-unclaimed", address: 0x80, write: true });
  });

  it("splits unaligned accesses into byte accesses, including across a region boundary", () => {
    const faults = new FaultRecord(new VirtualClock());
    const mmio = new MmioSpace(faults);
    const dev = byteRegisters(16);
    mmio.map("dev", 0x1000, 16, dev.handler);
    mmio.write(0x1001, 4, 0x44332211);
    expect(Array.from(dev.bytes.subarray(0, 6))).toEqual([0, 0x11, 0x22, 0x33, 0x44, 0]);
    expect(mmio.read(0x1001, 4)).toBe(0x44332211);
    // straddles the end: the missing byte is unclaimed and reads as 0xff
    dev.bytes[15] = 0xab;
    expect(mmio.read(0x100f, 2)).toBe(0xffab);
    expect(faults.count("mmio-unclaimed")).toBe(1);
  });

  it("widens narrow reads for 32-bit-only registers and refuses narrow writes", () => {
    const faults = new FaultRecord(new VirtualClock());
    const mmio = new MmioSpace(faults);
    const dev = byteRegisters(16);
    mmio.map("regs", 0x2000, 16, dev.handler, { widths: [4], owner: "0000:00:03.0" });
    dev.bytes.set([1, 2, 3, 4]);
    expect(mmio.read(0x2002, 1)).toBe(3);
    expect(mmio.read(0x2002, 2)).toBe(0x0403);
    expect(dev.log).toEqual(["r4@0", "r4@0"]);
    mmio.write(0x2000, 2, 0xffff);
    expect(dev.bytes[0]).toBe(1);
    expect(faults.entries("access-width")[0]).toMatchObject({ requester: "0000:00:03.0", length: 2 });
  });

  it("refuses overlapping or out-of-space regions and unmaps cleanly", () => {
    const faults = new FaultRecord(new VirtualClock());
    const ports = new PortSpace(faults);
    const a = ports.map("a", 0x100, 0x10, byteRegisters(16).handler);
    expect(() => ports.map("b", 0x108, 0x10, byteRegisters(16).handler)).toThrow(/overlaps a/);
    expect(() => ports.map("c", 0xfff8, 0x10, byteRegisters(16).handler)).toThrow(/outside/);
    ports.unmap(a);
    expect(ports.read(0x100, 1)).toBe(0xff);
  });
});
