import { describe, expect, it } from "vitest";
import { encodeConfigAddress } from "./config-address.js";
import { setupPciLikeFirmware } from "./pci-firmware-setup.js";
import { ScratchCard, pciMachine } from "./test-support.js";

describe("GuestPciBus", () => {
  it("refuses a second function in an occupied slot", () => {
    const machine = pciMachine();
    expect(() => machine.host.bus.attach({ device: 1 }, new ScratchCard())).toThrow(/00:01.0 is already occupied by Intel 82371SB/);
  });

  it("sizes BARs through config cycles and decodes them only while the command register enables them", () => {
    const machine = pciMachine();
    const card = new ScratchCard();
    const fn = machine.host.bus.attach({ device: 3 }, card);
    const { outl, inl, platform, mmio } = machine;
    outl(0xcf8, encodeConfigAddress(0, 3, 0, 0x10));
    outl(0xcfc, 0xffffffff);
    expect(inl(0xcfc)).toBe(0xfffff000);
    outl(0xcfc, 0xfebf0000);
    outl(0xcf8, encodeConfigAddress(0, 3, 0, 0x14));
    outl(0xcfc, 0xffffffff);
    expect(inl(0xcfc)).toBe(0xffffffe1);
    outl(0xcfc, 0xc040);
    card.registers[0]![4] = 0xcafef00d;
    card.registers[1]![1] = 0x12345678;
    expect(mmio.read(0xfebf0010, 4)).toBe(0xffffffff);
    expect(fn.decodedRegions().size).toBe(0);

    outl(0xcf8, encodeConfigAddress(0, 3, 0, 0x04));
    platform.portOut(0xcfc, 2, 0x0003);
    expect(mmio.read(0xfebf0010, 4)).toBe(0xcafef00d);
    expect(platform.portIn(0xc044, 4)).toBe(0x12345678);
    mmio.write(0xfebf0020, 4, 0x55aa55aa);
    expect(card.registers[0]![8]).toBe(0x55aa55aa);

    platform.portOut(0xcfc, 2, 0x0001); // memory decoding off, I/O stays
    expect(mmio.read(0xfebf0010, 4)).toBe(0xffffffff);
    expect(platform.portIn(0xc044, 4)).toBe(0x12345678);
    outl(0xcf8, encodeConfigAddress(0, 3, 0, 0x14));
    outl(0xcfc, 0xc080); // moved while decoding: the old window goes away
    expect(platform.portIn(0xc084, 4)).toBe(0x12345678);
    expect(platform.portIn(0xc044, 4)).toBe(0xffffffff);
  });

  it("never decodes a memory BAR under guest RAM (DRAM wins below the top of memory)", () => {
    const machine = pciMachine(16 << 20);
    const card = new ScratchCard();
    const fn = machine.host.bus.attach({ device: 3 }, card);
    card.config.write(0x10, 4, 0x00800000);
    card.config.write(0x04, 2, 0x0002);
    expect(fn.decodedRegions().size).toBe(0);
    card.config.write(0x10, 4, 0x01000000);
    expect(fn.decodedRegions().get(0)?.base).toBe(0x01000000);
  });

  it("records a BAR that overlaps another device's window instead of decoding it", () => {
    const machine = pciMachine();
    const card = new ScratchCard();
    const fn = machine.host.bus.attach({ device: 3 }, card);
    card.config.write(0x14, 4, 0x3f8); // on top of COM1
    card.config.write(0x04, 2, 0x0001);
    expect(fn.decodedRegions().size).toBe(0);
    expect(machine.platform.faults.entries("device-error")[0]?.detail).toMatch(/BAR1 not decoded: .*overlaps COM1/);
  });

  it("gives devices DMA into guest RAM gated by bus mastering, and blocks DMA outside RAM", () => {
    const machine = pciMachine(1 << 20);
    const card = new ScratchCard();
    machine.host.bus.attach({ device: 3 }, card);
    const dma = card.port!.dma;
    expect(dma.writeU32(0x1000, 0xdeadbeef)).toBe(false);
    expect(machine.platform.faults.count("dma-bus-master-disabled")).toBe(1);
    card.config.write(0x04, 2, 0x0004);
    expect(dma.writeU32(0x1000, 0xdeadbeef)).toBe(true);
    expect(new DataView(machine.ram.buffer).getUint32(0x1000, true)).toBe(0xdeadbeef);
    const into = new Uint8Array(4);
    expect(dma.read(0x1000, into)).toBe(true);
    expect([...into]).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect(dma.read((1 << 20) - 2, into)).toBe(false);
    expect([...into]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(dma.blocked).toBe(2);
  });

  it("a PCI reset turns decoding off and returns the chipset registers to power-on values", () => {
    const machine = pciMachine();
    const card = new ScratchCard();
    const fn = machine.host.bus.attach({ device: 3 }, card);
    setupPciLikeFirmware(machine.platform.ports, { ramBytes: 16 << 20 });
    expect(fn.decodedRegions().size).toBe(2);
    machine.host.reset();
    expect(fn.decodedRegions().size).toBe(0);
    expect(machine.host.isaBridge.config.read(0x60, 4)).toBe(0x80808080);
    expect(machine.host.hostBridge.config.command).toBe(0x0006);
  });
});

describe("setupPciLikeFirmware", () => {
  it("routes PIRQs like SeaBIOS, places BARs, enables decoding and writes interrupt lines", () => {
    const machine = pciMachine();
    const card = new ScratchCard();
    const fn = machine.host.bus.attach({ device: 3 }, card);
    const result = setupPciLikeFirmware(machine.platform.ports, { ramBytes: 16 << 20 });
    expect(machine.host.isaBridge.pirqStatus().map((p) => p.irq)).toEqual([10, 10, 11, 11]);
    expect(machine.platform.portIn(0x4d1, 1) & 0x0c).toBe(0x0c);
    expect(result.bars).toEqual([
      { device: 3, function: 0, bar: 1, kind: "io", base: 0xc000, size: 32 },
      { device: 3, function: 0, bar: 0, kind: "memory", base: 0xe0000000, size: 4096 },
    ]);
    expect(card.config.interruptLine).toBe(11);
    expect(result.interruptLines.get("03.0")).toBe(11);
    expect(fn.decodedRegions().size).toBe(2);
    expect(machine.host.hostBridge.config.command).toBe(0x0006);
    card.port!.setInterrupt(true);
    expect(machine.platform.pic.slave.state.lines & (1 << 3)).toBe(1 << 3);
  });

  it("refuses a memory window that overlaps RAM", () => {
    const machine = pciMachine();
    expect(() => setupPciLikeFirmware(machine.platform.ports, { ramBytes: 0xf0000000 })).toThrow(/overlaps guest RAM/);
  });
});
