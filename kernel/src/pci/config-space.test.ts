import { describe, expect, it } from "vitest";
import { PciConfigSpace } from "./config-space.js";
import * as R from "./config-registers.js";

function nic() {
  return new PciConfigSpace({
    vendorId: 0x8086,
    deviceId: 0x100e,
    revisionId: 2,
    classCode: 0x020000,
    subsystemVendorId: 0x8086,
    subsystemId: 0x001e,
    interruptPin: 1,
    bars: [
      { index: 0, kind: "memory", size: 0x20000 },
      { index: 1, kind: "io", size: 0x40 },
      { index: 2, kind: "memory", size: 0x4000, is64: true, prefetchable: true },
    ],
  });
}

describe("PCI type-0 configuration header", () => {
  it("lays out identity fields at their spec offsets, little-endian", () => {
    const c = nic();
    expect(c.read(0x00, 4)).toBe(0x100e8086);
    expect(c.read(0x08, 4)).toBe(0x02000002);
    expect(c.read(0x2c, 4)).toBe(0x001e8086);
    expect(c.read(R.PCI_INTERRUPT_PIN, 1)).toBe(1);
    expect(c.read(R.PCI_HEADER_TYPE, 1)).toBe(0);
  });

  it("ignores writes to read-only identity fields", () => {
    const c = nic();
    c.write(0x00, 4, 0);
    c.write(0x08, 4, 0xffffffff);
    c.write(R.PCI_INTERRUPT_PIN, 1, 4);
    expect(c.read(0x00, 4)).toBe(0x100e8086);
    expect(c.read(0x08, 4)).toBe(0x02000002);
    expect(c.interruptPin).toBe(1);
  });

  it("implements the BAR sizing protocol for 32-bit memory, I/O and 64-bit prefetchable BARs", () => {
    const c = nic();
    c.write(0x10, 4, 0xffffffff);
    expect(c.read(0x10, 4)).toBe(0xfffe0000);
    c.write(0x14, 4, 0xffffffff);
    expect(c.read(0x14, 4)).toBe(0xffffffc1);
    c.write(0x18, 4, 0xffffffff);
    c.write(0x1c, 4, 0xffffffff);
    expect(c.read(0x18, 4)).toBe(0xffffc00c);
    expect(c.read(0x1c, 4)).toBe(0xffffffff);
    // unimplemented BARs read as zero whatever is written
    c.write(0x20, 4, 0xffffffff);
    expect(c.read(0x20, 4)).toBe(0);
    c.write(0x10, 4, 0xfebc0000);
    c.write(0x18, 4, 0x00004000);
    c.write(0x1c, 4, 0x1);
    expect(c.barAddress(0)).toBe(0xfebc0000);
    expect(c.barAddress(2)).toBe(0x1_0000_4000);
  });

  it("keeps only the writable command bits and clears status error bits on write-one", () => {
    const c = nic();
    c.write(R.PCI_COMMAND, 2, 0xffff);
    expect(c.command).toBe(0x0557);
    expect(c.memorySpaceEnabled && c.ioSpaceEnabled && c.busMasterEnabled && c.intxDisabled).toBe(true);
    c.raiseStatus(R.PCI_STATUS_REC_MASTER_ABORT | R.PCI_STATUS_SIG_TARGET_ABORT);
    c.write(R.PCI_STATUS, 2, R.PCI_STATUS_REC_MASTER_ABORT);
    expect(c.status & R.PCI_STATUS_REC_MASTER_ABORT).toBe(0);
    expect(c.status & R.PCI_STATUS_SIG_TARGET_ABORT).not.toBe(0);
    // a write of zero clears nothing
    c.write(R.PCI_STATUS, 2, 0);
    expect(c.status & R.PCI_STATUS_SIG_TARGET_ABORT).not.toBe(0);
  });

  it("reads unaligned or out-of-range accesses as all-ones and drops such writes", () => {
    const c = nic();
    expect(c.read(0x01, 2)).toBe(0xffff);
    expect(c.read(0xfe, 4)).toBe(0xffffffff);
    c.write(0x3b, 2, 0x1234);
    expect(c.read(R.PCI_INTERRUPT_LINE, 1)).toBe(0);
  });

  it("builds a capability list with MSI that software can walk and program", () => {
    const c = nic();
    const pm = c.addCapability(R.PCI_CAP_ID_PM, 8);
    const msi = c.addMsiCapability({ is64: true, multipleMessageCapable: 2, perVectorMasking: true });
    expect(c.status & R.PCI_STATUS_CAP_LIST).not.toBe(0);
    expect(c.read(R.PCI_CAPABILITY_LIST, 1)).toBe(pm);
    expect(c.read(pm + 1, 1)).toBe(msi);
    expect(c.read(msi, 1)).toBe(R.PCI_CAP_ID_MSI);
    expect(c.read(msi + 1, 1)).toBe(0);
    const flags = c.read(msi + 2, 2);
    expect(flags & R.PCI_MSI_FLAGS_64BIT).not.toBe(0);
    expect((flags & R.PCI_MSI_FLAGS_QMASK) >> 1).toBe(2);
    c.write(msi + 4, 4, 0xfee00003); // low two bits are reserved
    c.write(msi + 8, 4, 0);
    c.write(msi + 12, 2, 0x0061);
    expect(c.msiEnabled).toBe(false);
    c.write(msi + 2, 2, flags | R.PCI_MSI_FLAGS_ENABLE | (1 << 4));
    expect(c.msi()).toEqual({ enabled: true, address: 0xfee00000, data: 0x61, vectors: 2, maskBits: 0 });
    expect(c.msiEnabled).toBe(true);
    // read-only capability bits survive an all-ones write
    c.write(msi + 2, 2, 0xffff);
    expect(c.read(msi + 2, 2) & 0x18e).toBe(0x18e & flags);
    expect(c.findCapabilities(R.PCI_CAP_ID_MSI)).toEqual([msi]);
  });

  it("resets software state but keeps identity, and round-trips a snapshot", () => {
    const c = nic();
    c.write(0x10, 4, 0xfebc0000);
    c.write(R.PCI_COMMAND, 2, R.PCI_COMMAND_MEMORY);
    const snap = c.snapshot();
    const d = nic();
    d.restore(JSON.parse(JSON.stringify(snap)));
    expect(d.barAddress(0)).toBe(0xfebc0000);
    expect(d.memorySpaceEnabled).toBe(true);
    c.reset();
    expect(c.command).toBe(0);
    expect(c.barAddress(0)).toBe(0);
    expect(c.vendorId).toBe(0x8086);
  });

  it("rejects impossible BAR layouts", () => {
    expect(() => new PciConfigSpace({ vendorId: 1, deviceId: 1, classCode: 0, bars: [{ index: 0, kind: "memory", size: 3000 }] })).toThrow(/power of two/);
    expect(
      () =>
        new PciConfigSpace({
          vendorId: 1,
          deviceId: 1,
          classCode: 0,
          bars: [
            { index: 0, kind: "memory", size: 4096, is64: true },
            { index: 1, kind: "io", size: 16 },
          ],
        }),
    ).toThrow(/in use/);
  });
});
