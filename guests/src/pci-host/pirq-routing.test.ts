import { describe, expect, it } from "vitest";
import { encodeConfigAddress } from "./config-address.js";
import { i440fxPirqForSlot } from "./pci-interrupt-router.js";
import { ScratchCard, pciMachine } from "./test-support.js";

const IRQ10 = 1 << 2;
const IRQ11 = 1 << 3;

function routePirqs(machine: ReturnType<typeof pciMachine>, routes: number) {
  machine.outl(0xcf8, encodeConfigAddress(0, 1, 0, 0x60));
  machine.outl(0xcfc, routes);
}

describe("PIIX3 PIRQ routing", () => {
  it("follows the i440FX slot swizzle", () => {
    expect(i440fxPirqForSlot(1, 1)).toBe(0);
    expect(i440fxPirqForSlot(2, 1)).toBe(1);
    expect(i440fxPirqForSlot(3, 1)).toBe(2);
    expect(i440fxPirqForSlot(3, 2)).toBe(3);
    expect(i440fxPirqForSlot(4, 1)).toBe(3);
    expect(i440fxPirqForSlot(5, 1)).toBe(0);
    expect(() => i440fxPirqForSlot(3, 0)).toThrow(/INTA/);
  });

  it("delivers a card's INTA# to the 8259 input its PIRQ is steered to", () => {
    const machine = pciMachine();
    const card = new ScratchCard();
    machine.host.bus.attach({ device: 3 }, card); // 00:03.0 INTA# → PIRQC
    routePirqs(machine, 0x0b0b0a0a); // A,B → IRQ10; C,D → IRQ11
    card.port!.setInterrupt(true);
    expect(machine.platform.pic.slave.state.lines & IRQ11).toBe(IRQ11);
    expect(machine.host.isaBridge.pirqStatus()[2]).toEqual({ pirq: "C", irq: 11, assertedBy: ["0000:00:03.0"] });
    expect(card.config.status & 0x08).toBe(0x08);
    card.port!.setInterrupt(false);
    expect(machine.platform.pic.slave.state.lines & IRQ11).toBe(0);
  });

  it("holds nothing while routing is disabled, and follows a route change with the level", () => {
    const machine = pciMachine();
    const card = new ScratchCard();
    machine.host.bus.attach({ device: 3 }, card);
    card.port!.setInterrupt(true);
    expect(machine.platform.pic.slave.state.lines & (IRQ10 | IRQ11)).toBe(0);
    routePirqs(machine, 0x800a8080); // PIRQC → IRQ10
    expect(machine.platform.pic.slave.state.lines & IRQ10).toBe(IRQ10);
    routePirqs(machine, 0x800b8080); // now IRQ11: IRQ10 released
    expect(machine.platform.pic.slave.state.lines & (IRQ10 | IRQ11)).toBe(IRQ11);
    routePirqs(machine, 0x80088080); // IRQ8 is a reserved encoding: not routed
    expect(machine.platform.pic.slave.state.lines & 0xff).toBe(0);
  });

  it("wire-ORs functions sharing a PIRQ and PIRQs sharing an IRQ", () => {
    const machine = pciMachine();
    const a = new ScratchCard();
    const b = new ScratchCard();
    machine.host.bus.attach({ device: 3 }, a); // PIRQC
    machine.host.bus.attach({ device: 7 }, b); // (7-1) & 3 = PIRQC as well
    routePirqs(machine, 0x0a0a0a0a);
    a.port!.setInterrupt(true);
    b.port!.setInterrupt(true);
    a.port!.setInterrupt(false);
    expect(machine.platform.pic.slave.state.lines & IRQ10).toBe(IRQ10);
    b.port!.setInterrupt(false);
    expect(machine.platform.pic.slave.state.lines & IRQ10).toBe(0);
  });

  it("honours the function's INTx-disable bit", () => {
    const machine = pciMachine();
    const card = new ScratchCard();
    machine.host.bus.attach({ device: 3 }, card);
    routePirqs(machine, 0x0b0b0a0a);
    machine.outl(0xcf8, encodeConfigAddress(0, 3, 0, 0x04));
    machine.outl(0xcfc, 0x0400);
    card.port!.setInterrupt(true);
    expect(machine.platform.pic.slave.state.lines & IRQ11).toBe(0);
    machine.outl(0xcfc, 0x0000);
    expect(machine.platform.pic.slave.state.lines & IRQ11).toBe(IRQ11);
  });

  it("reaches the CPU through the PIC as the programmed vector", () => {
    const machine = pciMachine();
    const card = new ScratchCard();
    machine.host.bus.attach({ device: 3 }, card);
    routePirqs(machine, 0x0b0b0a0a);
    const outb = (port: number, value: number) => machine.platform.portOut(port, 1, value);
    for (const [port, value] of [[0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x38], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0], [0xa1, 0]]) outb(port!, value!);
    outb(0x4d1, 0x0c); // IRQ10/11 level-triggered, as firmware sets them for PCI
    card.port!.setInterrupt(true);
    expect(machine.platform.hasPending()).toBe(true);
    expect(machine.platform.acknowledge()).toBe(0x38 + 3);
  });
});
