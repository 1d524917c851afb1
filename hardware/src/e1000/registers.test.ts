import { describe, expect, it } from "vitest";
import { PciDeviceHandle } from "@vmk/kernel";
import { E1000Rig } from "./test-rig.js";
import * as R from "./registers.js";

describe("8254x PCI function", () => {
  it("82540EM: IDs, class, 32-bit memory BAR0 of 128 KiB and an 8-byte I/O BAR2", () => {
    const rig = new E1000Rig({ variant: "82540EM" });
    const h = rig.handle;
    expect([h.vendorId, h.deviceId, h.subsystemVendorId, h.subsystemId]).toEqual([0x8086, 0x100e, 0x8086, 0x001e]);
    expect(h.classCode).toBe(0x020000);
    expect(rig.fn.config.interruptPin).toBe(1);
    const bars = h.bars();
    expect(bars.map((b) => [b.index, b.kind, b.size, b.is64, b.prefetchable])).toEqual([
      [0, "memory", 0x20000, false, false],
      [2, "io", 8, false, false],
    ]);
  });

  it("82545EM: 64-bit memory BAR0/1, I/O BAR4 and an MSI capability", () => {
    const rig = new E1000Rig({ variant: "82545EM" });
    expect([rig.handle.deviceId, rig.handle.subsystemId]).toEqual([0x100f, 0x1001]);
    expect(rig.handle.bars().map((b) => [b.index, b.kind, b.is64])).toEqual([
      [0, "memory", true],
      [4, "io", false],
    ]);
    expect(rig.fn.config.findCapabilities(0x05)).toHaveLength(1);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBe(0);
  });

  it("reaches every register through IOADDR/IODATA", () => {
    const rig = new E1000Rig();
    const io = rig.handle.mapBar(2);
    io.write32(R.IOADDR, R.RDTR);
    io.write32(R.IODATA, 0x1234);
    expect(rig.read(R.RDTR)).toBe(0x1234);
    io.write32(R.IOADDR, 0xfff00000 | R.VET);
    expect(io.read32(R.IOADDR)).toBe(R.VET);
    expect(io.read32(R.IODATA)).toBe(0x8100);
    // Byte writes to IOADDR are ignored by the chip.
    io.write8(R.IOADDR, 0x08);
    expect(io.read32(R.IOADDR)).toBe(R.VET);
  });

  it("decodes 32-bit accesses only: narrow writes are dropped", () => {
    const rig = new E1000Rig();
    rig.regs.write16(R.RDTR, 0x55);
    expect(rig.read(R.RDTR)).toBe(0);
    expect(rig.host.faults.count("access-width")).toBe(1);
  });

  it("masks writes as the SDM register table says (the Linux e1000 register self-test patterns hold)", () => {
    const rig = new E1000Rig();
    const patterns: [number, number, number][] = [
      [R.FCAL, 0xffffffff, 0xffffffff],
      [R.FCAH, 0x0000ffff, 0xffffffff],
      [R.VET, 0x0000ffff, 0xffffffff],
      [R.RDTR, 0x0000ffff, 0xffffffff],
      [R.RDLEN, 0x000fff80, 0x000fffff],
      [R.RDH, 0x0000ffff, 0x0000ffff],
      [R.FCRTH, 0x0000fff8, 0x0000fff8],
      [R.TIPG, 0x3fffffff, 0x3fffffff],
      [R.TDLEN, 0x000fff80, 0x000fffff],
      [R.RDBAL, 0xfffffff0, 0xffffffff],
      [R.TXCW, 0xc000ffff, 0x0000ffff],
      [R.RA + 4, 0x8003ffff, 0xffffffff],
      [R.MTA + 8, 0xffffffff, 0xffffffff],
    ];
    for (const [offset, mask, write] of patterns) {
      for (const pattern of [0x5a5a5a5a, 0xa5a5a5a5, 0x00000000, 0xffffffff]) {
        rig.write(offset, pattern & write);
        expect((rig.read(offset) & mask) >>> 0, rig.model.registerName(offset)).toBe((pattern & write & mask) >>> 0);
      }
    }
    rig.write(R.RCTL, 0x06dfb3fe);
    expect(rig.read(R.RCTL)).toBe(0x06dfb3fe);
    const status = rig.read(R.STATUS);
    rig.write(R.STATUS, 0xfffff833);
    expect(rig.read(R.STATUS)).toBe(status);
  });

  it("CTRL.RST self-clears, restores reset values and reloads the station address", () => {
    const rig = new E1000Rig();
    rig.write(R.RA, 0);
    rig.write(R.RA + 4, 0);
    rig.write(R.VET, 0x88a8);
    rig.write(R.IMS, 0xffff);
    rig.write(R.CTRL, R.CTRL_RST);
    expect(rig.read(R.CTRL) & R.CTRL_RST).toBe(0);
    expect(rig.read(R.VET)).toBe(0x8100);
    expect(rig.read(R.IMS)).toBe(0);
    expect(rig.read(R.RA)).toBe(0xaa211b00);
    expect(rig.read(R.RA + 4)).toBe((0x8000_0000 | 0xccbb) >>> 0);
    expect(rig.read(R.PBA)).toBe(0x00100030);
  });

  it("a function-level reset through the handle leaves the model usable", () => {
    const rig = new E1000Rig();
    rig.model.reset();
    const handle = new PciDeviceHandle(rig.fn, rig.host.pci, rig.host.interrupts, rig.host.memory, "again");
    expect(handle.vendorId).toBe(0x8086);
    expect(rig.read(R.VET)).toBe(0x8100);
  });
});
