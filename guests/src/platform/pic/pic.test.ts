import { describe, expect, it } from "vitest";
import { PicPair } from "./pic-pair.js";

/** The PC's PIC ports driven through the pair's port windows. */
function setup() {
  const pic = new PicPair();
  const out = (port: number, value: number) => {
    if (port === 0x20 || port === 0x21) pic.masterPorts.writeByte(port - 0x20, value);
    else if (port === 0xa0 || port === 0xa1) pic.slavePorts.writeByte(port - 0xa0, value);
    else pic.elcrPorts.writeByte(port - 0x4d0, value);
  };
  const inb = (port: number) => {
    if (port === 0x20 || port === 0x21) return pic.masterPorts.readByte(port - 0x20);
    if (port === 0xa0 || port === 0xa1) return pic.slavePorts.readByte(port - 0xa0);
    return pic.elcrPorts.readByte(port - 0x4d0);
  };
  return { pic, out, inb };
}

/** Linux's init_8259A: ICW1 edge + cascade + ICW4, vectors 0x30/0x38, cascade on IR2, 8086 mode. */
function initLikeLinux(out: (port: number, value: number) => void, autoEoi = false) {
  out(0x21, 0xff);
  out(0xa1, 0xff);
  out(0x20, 0x11);
  out(0x21, 0x30);
  out(0x21, 0x04);
  out(0x21, autoEoi ? 0x03 : 0x01);
  out(0xa0, 0x11);
  out(0xa1, 0x38);
  out(0xa1, 0x02);
  out(0xa1, 0x01);
  out(0x21, 0x00);
  out(0xa1, 0x00);
}

describe("8259A PIC pair", () => {
  it("keeps the mask across the probe Linux does before initialising", () => {
    const { out, inb } = setup();
    out(0x21, 0xff);
    expect(inb(0x21)).toBe(0xff);
    out(0x21, 0xfb);
    expect(inb(0x21)).toBe(0xfb);
  });

  it("runs the ICW1-ICW4 sequence: vector base from ICW2, IMR cleared by ICW1", () => {
    const { pic, out, inb } = setup();
    out(0x21, 0x5a);
    out(0x20, 0x11);
    expect(inb(0x21)).toBe(0); // ICW1 clears the mask
    out(0x21, 0x30);
    out(0x21, 0x04);
    out(0x21, 0x01);
    expect(pic.master.state.vectorBase).toBe(0x30);
    expect(pic.master.state.cascade).toBe(0x04);
    expect(pic.master.inX86Mode).toBe(true);
    out(0x21, 0xfe); // now OCW1
    expect(inb(0x21)).toBe(0xfe);
  });

  it("delivers an edge, holds lower priorities while in service, and lets higher ones nest", () => {
    const { pic, out } = setup();
    initLikeLinux(out);
    pic.setIrq(3, true);
    expect(pic.hasPending()).toBe(true);
    expect(pic.acknowledge()).toBe(0x33);
    expect(pic.hasPending()).toBe(false);
    pic.setIrq(5, true); // lower priority: waits
    expect(pic.hasPending()).toBe(false);
    pic.setIrq(1, true); // higher priority: nests
    expect(pic.acknowledge()).toBe(0x31);
    out(0x20, 0x20); // non-specific EOI ends IRQ1, the highest in service
    expect(pic.master.state.isr).toBe(0x08);
    expect(pic.hasPending()).toBe(false);
    out(0x20, 0x63); // specific EOI for IRQ3
    expect(pic.acknowledge()).toBe(0x35);
  });

  it("routes slave requests through the cascade and needs EOI on both chips", () => {
    const { pic, out, inb } = setup();
    initLikeLinux(out);
    pic.setIrq(8, true);
    expect(pic.acknowledge()).toBe(0x38);
    expect(pic.master.state.isr).toBe(0x04);
    expect(pic.slave.state.isr).toBe(0x01);
    pic.setIrq(12, true); // same chip, lower priority than IRQ8
    expect(pic.hasPending()).toBe(false);
    out(0xa0, 0x60); // slave specific EOI IRQ8
    expect(pic.hasPending()).toBe(false); // master IR2 still in service
    out(0x20, 0x62);
    expect(pic.acknowledge()).toBe(0x3c);
    out(0x20, 0x0b); // OCW3 read ISR
    expect(inb(0x20)).toBe(0x04);
  });

  it("reads IRR and ISR through OCW3 and answers a poll command", () => {
    const { pic, out, inb } = setup();
    initLikeLinux(out);
    pic.setIrq(6, true);
    out(0x20, 0x0a);
    expect(inb(0x20)).toBe(0x40);
    out(0x20, 0x0b);
    expect(inb(0x20)).toBe(0x00);
    out(0x20, 0x0c); // poll
    expect(inb(0x20)).toBe(0x86);
    expect(pic.master.state.isr).toBe(0x40);
    out(0x20, 0x0c);
    expect(inb(0x20)).toBe(0x00); // nothing more requested
  });

  it("answers IRQ7 without setting ISR when the request vanished before INTA", () => {
    const { pic, out } = setup();
    initLikeLinux(out);
    pic.setIrq(4, true);
    expect(pic.hasPending()).toBe(true);
    pic.setIrq(4, false);
    expect(pic.acknowledge()).toBe(0x37);
    expect(pic.master.state.isr).toBe(0);
  });

  it("answers IRQ15 from the slave (master IR2 in service) when the slave request vanished", () => {
    const { pic, out } = setup();
    initLikeLinux(out);
    pic.setIrq(10, true);
    // The request drops between the CPU seeing INT and the INTA cycle reaching the slave.
    pic.slave.setLine(2, false);
    expect(pic.acknowledge()).toBe(0x3f);
    expect(pic.slave.state.isr).toBe(0);
  });

  it("samples edges in edge mode: a line held high requests once", () => {
    const { pic, out } = setup();
    initLikeLinux(out);
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x35);
    out(0x20, 0x20);
    expect(pic.hasPending()).toBe(false); // still high, no new edge
    pic.setIrq(5, false);
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x35);
  });

  it("makes ELCR lines level-sensitive: requests again after EOI while the line stays high", () => {
    const { pic, out, inb } = setup();
    initLikeLinux(out);
    out(0x4d0, 0xff); // IRQ0-2 cannot be level-triggered on a PC
    out(0x4d1, 0xff); // nor IRQ8 and IRQ13
    expect(inb(0x4d0)).toBe(0xf8);
    expect(inb(0x4d1)).toBe(0xde);
    pic.setIrq(11, true);
    expect(pic.acknowledge()).toBe(0x3b);
    out(0xa0, 0x20);
    out(0x20, 0x20);
    expect(pic.hasPending()).toBe(true);
    expect(pic.acknowledge()).toBe(0x3b);
    out(0xa0, 0x20);
    out(0x20, 0x20);
    pic.setIrq(11, false);
    expect(pic.hasPending()).toBe(false);
  });

  it("honours the mask, special mask mode and auto-EOI", () => {
    const { pic, out } = setup();
    initLikeLinux(out, true);
    out(0x21, 0x01);
    pic.setIrq(0, true);
    expect(pic.hasPending()).toBe(false);
    out(0x21, 0x00);
    expect(pic.acknowledge()).toBe(0x30);
    expect(pic.master.state.isr).toBe(0); // auto-EOI

    const fresh = setup();
    initLikeLinux(fresh.out);
    fresh.pic.setIrq(3, true);
    fresh.pic.acknowledge();
    fresh.pic.setIrq(6, true);
    expect(fresh.pic.hasPending()).toBe(false);
    fresh.out(0x21, 0x08); // mask the level in service
    fresh.out(0x20, 0x68); // set special mask mode
    expect(fresh.pic.acknowledge()).toBe(0x36); // lower priority gets through
  });

  it("rotates priorities on EOI and by the set-priority command", () => {
    const { pic, out } = setup();
    initLikeLinux(out);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
    out(0x20, 0xa0); // rotate on non-specific EOI: IR1 becomes lowest
    pic.setIrq(0, true);
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x33); // IR2..IR7 now outrank IR0
    out(0x20, 0x20);
    out(0x20, 0xc4); // set priority: IR4 lowest, IR5 highest
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x35);
  });

  it("reports INT changes for waking a halted CPU", () => {
    const { pic, out } = setup();
    initLikeLinux(out);
    const seen: boolean[] = [];
    pic.onInterruptRequest = (asserted) => seen.push(asserted);
    pic.setIrq(1, true);
    pic.acknowledge();
    expect(seen).toEqual([true, false]);
  });

  it("saves and restores its state, including pending requests", () => {
    const { pic, out } = setup();
    initLikeLinux(out);
    out(0x4d1, 0x08);
    pic.setIrq(4, true);
    pic.acknowledge();
    pic.setIrq(11, true);
    const saved = JSON.parse(JSON.stringify(pic.saveState()));
    const copy = new PicPair();
    copy.restoreState(saved);
    expect(copy.saveState()).toEqual(pic.saveState());
    out(0x20, 0x20);
    copy.masterPorts.writeByte(0, 0x20);
    expect(copy.acknowledge()).toBe(pic.acknowledge());
    expect(() => copy.restoreState({ ...saved, version: 99 })).toThrow(/version/);
  });
});
