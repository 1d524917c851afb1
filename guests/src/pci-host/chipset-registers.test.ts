import { describe, expect, it } from "vitest";
import { I440fxHostBridge, SmramBit } from "./i440fx-host-bridge.js";
import { Piix3IsaBridge } from "./piix3-isa-bridge.js";
import { UNCONNECTED_IRQ } from "../platform/irq-line.js";

describe("i440FX host bridge registers", () => {
  it("comes up decoding memory as a bus master, class host bridge, PAMs routing to PCI", () => {
    const bridge = new I440fxHostBridge();
    expect(bridge.config.command).toBe(0x0006);
    expect(bridge.config.classCode).toBe(0x060000);
    expect(bridge.shadowRegions().every((r) => !r.readEnable && !r.writeEnable)).toBe(true);
    expect(bridge.smramControl).toBe(0x02);
  });

  it("stores PAM attributes with PAM0's reserved low nibble and maps them to the shadow segments", () => {
    const bridge = new I440fxHostBridge();
    bridge.config.write(0x58, 4, 0x33333333); // DRAMT (not modelled, read-only) + PAM0..2
    expect(bridge.config.read(0x59, 1)).toBe(0x30);
    bridge.config.write(0x5a, 1, 0x12); // PAM1: C0000 read-enable, C4000 write-enable
    const regions = bridge.shadowRegions();
    expect(regions[0]).toEqual({ start: 0xc0000, size: 0x4000, readEnable: false, writeEnable: true });
    expect(regions[1]).toEqual({ start: 0xc4000, size: 0x4000, readEnable: true, writeEnable: false });
    expect(regions[12]).toEqual({ start: 0xf0000, size: 0x10000, readEnable: true, writeEnable: true });
    bridge.reset();
    expect(bridge.config.read(0x59, 1)).toBe(0);
  });

  it("locks SMRAM: D_LCK clears D_OPEN and freezes everything but D_CLS until reset", () => {
    const bridge = new I440fxHostBridge();
    bridge.config.write(0x72, 1, SmramBit.Open | SmramBit.Enable | 0x07);
    expect(bridge.smramControl).toBe(SmramBit.Open | SmramBit.Enable | 0x02);
    bridge.config.write(0x72, 1, SmramBit.Open | SmramBit.Enable | SmramBit.Lock);
    expect(bridge.smramControl).toBe(SmramBit.Enable | SmramBit.Lock | 0x02);
    bridge.config.write(0x72, 1, SmramBit.Open | SmramBit.Close);
    expect(bridge.smramControl).toBe(SmramBit.Enable | SmramBit.Lock | SmramBit.Close | 0x02);
    bridge.reset();
    expect(bridge.smramControl).toBe(0x02);
  });
});

describe("PIIX3 function 0 registers", () => {
  it("has the datasheet reset values and keeps the PIRQRC reserved bits zero", () => {
    const piix3 = new Piix3IsaBridge({ isaIrq: () => UNCONNECTED_IRQ });
    expect(piix3.config.read(0x60, 4)).toBe(0x80808080);
    expect(piix3.config.register("IORT")).toBe(0x4d);
    expect(piix3.config.register("TOM")).toBe(0x02);
    expect(piix3.config.register("SMICNTL")).toBe(0x08);
    piix3.config.write(0x60, 1, 0xff);
    expect(piix3.config.read(0x60, 1)).toBe(0x8f);
    expect(piix3.config.read(0x40, 4)).toBe(0); // unnamed device-specific bytes stay read-only zero
    piix3.config.write(0x40, 4, 0xffffffff);
    expect(piix3.config.read(0x40, 4)).toBe(0);
  });
});
