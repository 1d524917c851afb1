import { describe, expect, it } from "vitest";
import { encodeConfigAddress } from "./config-address.js";
import { pciMachine } from "./test-support.js";

describe("configuration mechanism #1", () => {
  it("keeps CONFIG_ADDRESS for dword accesses only, with reserved bits reading zero (Linux's type-1 probe)", () => {
    const { platform, outl, inl } = pciMachine();
    platform.portOut(0xcfb, 1, 0x01);
    outl(0xcf8, 0x80000000);
    expect(inl(0xcf8)).toBe(0x80000000);
    outl(0xcf8, 0xffffffff);
    expect(inl(0xcf8)).toBe(0x80fffffc);
    platform.portOut(0xcf8, 2, 0x1234);
    expect(inl(0xcf8)).toBe(0x80fffffc);
    expect(platform.portIn(0xcfa, 2)).toBe(0xffff);
  });

  it("reads the i440FX and PIIX3 identities at 00:00.0 and 00:01.0", () => {
    const { outl, inl } = pciMachine();
    outl(0xcf8, encodeConfigAddress(0, 0, 0, 0));
    expect(inl(0xcfc)).toBe(0x12378086);
    outl(0xcf8, encodeConfigAddress(0, 0, 0, 8));
    expect(inl(0xcfc)).toBe(0x06000002);
    outl(0xcf8, encodeConfigAddress(0, 1, 0, 0));
    expect(inl(0xcfc)).toBe(0x70008086);
    outl(0xcf8, encodeConfigAddress(0, 1, 0, 0x0c));
    expect((inl(0xcfc) >>> 16) & 0xff).toBe(0x80); // multi-function header
  });

  it("answers byte and word accesses at every data-port offset", () => {
    const { platform, outl } = pciMachine();
    outl(0xcf8, encodeConfigAddress(0, 0, 0, 0));
    expect(platform.portIn(0xcfc, 1)).toBe(0x86);
    expect(platform.portIn(0xcfd, 1)).toBe(0x80);
    expect(platform.portIn(0xcfe, 1)).toBe(0x37);
    expect(platform.portIn(0xcff, 1)).toBe(0x12);
    expect(platform.portIn(0xcfc, 2)).toBe(0x8086);
    expect(platform.portIn(0xcfe, 2)).toBe(0x1237);
    // An unaligned word straddling two config bytes is split by the port space, as the CPU's bus does.
    expect(platform.portIn(0xcfd, 2)).toBe(0x3780);
  });

  it("writes through the data port with the access width", () => {
    const { platform, outl, inl } = pciMachine();
    outl(0xcf8, encodeConfigAddress(0, 1, 0, 0x60));
    expect(inl(0xcfc)).toBe(0x80808080);
    platform.portOut(0xcfd, 1, 0x0b);
    platform.portOut(0xcfe, 2, 0x0a0a);
    expect(inl(0xcfc)).toBe(0x0a0a0b80);
  });

  it("master-aborts with the enable bit clear, on other buses and on empty slots", () => {
    const { platform, outl, inl, host } = pciMachine();
    outl(0xcf8, encodeConfigAddress(0, 0, 0, 0) & 0x7fffffff);
    expect(inl(0xcfc)).toBe(0xffffffff);
    outl(0xcf8, encodeConfigAddress(1, 0, 0, 0));
    expect(inl(0xcfc)).toBe(0xffffffff);
    outl(0xcf8, encodeConfigAddress(0, 7, 0, 0));
    expect(inl(0xcfc)).toBe(0xffffffff);
    expect(platform.portIn(0xcfc, 1)).toBe(0xff);
    outl(0xcf8, encodeConfigAddress(0, 1, 3, 0));
    expect(inl(0xcfc)).toBe(0xffffffff);
    outl(0xcf8, encodeConfigAddress(0, 7, 0, 0x3c));
    outl(0xcfc, 0x12345678); // goes nowhere, changes nothing
    expect(host.bus.list().map((f) => f.name)).toEqual(["0000:00:00.0", "0000:00:01.0"]);
  });

  it("decodes the PIIX3 reset control register at 0xCF9 (Linux reboot=pci writes 0x02 then 0x06)", () => {
    const { platform, resets } = pciMachine();
    platform.portOut(0xcf9, 1, 0x02);
    expect(platform.portIn(0xcf9, 1)).toBe(0x02);
    expect(resets).toEqual([]);
    platform.portOut(0xcf9, 1, 0x06);
    expect(resets).toEqual([true]);
    platform.portOut(0xcf9, 1, 0x04);
    expect(resets).toEqual([true, false]);
  });

  it("saves and restores CONFIG_ADDRESS and the configuration spaces", () => {
    const a = pciMachine();
    a.outl(0xcf8, encodeConfigAddress(0, 1, 0, 0x60));
    a.outl(0xcfc, 0x0b0a8080);
    const saved = JSON.parse(JSON.stringify(a.host.saveState()));
    const b = pciMachine();
    b.host.restoreState(saved);
    expect(b.inl(0xcf8)).toBe(encodeConfigAddress(0, 1, 0, 0x60));
    expect(b.inl(0xcfc)).toBe(0x0b0a8080);
  });
});
