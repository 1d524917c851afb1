import { VirtualClock } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { CollectingByteSink } from "./byte-sink.js";
import { PcPlatform } from "./pc-platform.js";

function setup() {
  const clock = new VirtualClock();
  const exits: number[] = [];
  let cpuResets = 0;
  const com1 = new CollectingByteSink();
  const debug = new CollectingByteSink();
  const platform = new PcPlatform({
    clock,
    ramBytes: 128 * 1024 * 1024,
    rtcStartTime: Date.UTC(2025, 5, 1, 12, 0, 0),
    com1: { transmit: (byte) => com1.writeByte(byte) },
    debugConsole: debug,
    onExit: (code) => exits.push(code),
    onCpuReset: () => cpuResets++,
  });
  const outb = (port: number, value: number) => platform.portOut(port, 1, value);
  const inb = (port: number) => platform.portIn(port, 1);
  /** The PIC programming every Linux kernel does: vectors 0x30-0x3F, all lines unmasked. */
  const initPic = () => {
    for (const [port, value] of [[0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x38], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0], [0xa1, 0]]) {
      outb(port!, value!);
    }
  };
  return { clock, platform, outb, inb, initPic, exits, com1, debug, cpuResets: () => cpuResets };
}

describe("PcPlatform", () => {
  it("floats unclaimed ports high at every width and records them", () => {
    const { platform } = setup();
    expect(platform.portIn(0x300, 1)).toBe(0xff);
    expect(platform.portIn(0x300, 2)).toBe(0xffff);
    expect(platform.portIn(0x300, 4)).toBe(0xffffffff);
    platform.portOut(0x300, 1, 0);
    expect(platform.faults.count("port-unclaimed")).toBe(4);
    platform.portOut(0x80, 1, 0x42); // the I/O-delay port is claimed
    expect(platform.faults.count("port-unclaimed")).toBe(4);
  });

  it("delivers the PIT's IRQ0 through the master PIC to the CPU", () => {
    const { clock, platform, outb, initPic } = setup();
    initPic();
    outb(0x43, 0x34);
    outb(0x40, 0xa9);
    outb(0x40, 0x04);
    expect(platform.hasPending()).toBe(false);
    clock.runUntil(1_000_000);
    expect(platform.hasPending()).toBe(true);
    expect(platform.acknowledge()).toBe(0x30);
    outb(0x20, 0x20);
    clock.runUntil(2_000_000);
    expect(platform.acknowledge()).toBe(0x30);
  });

  it("delivers the RTC's IRQ8 through the cascade", () => {
    const { clock, platform, outb, inb, initPic } = setup();
    initPic();
    outb(0x70, 0x0b);
    outb(0x71, 0x12); // update-ended interrupt
    clock.runUntil(1_000_000_000);
    expect(platform.acknowledge()).toBe(0x38);
    outb(0x70, 0x0c);
    expect(inb(0x71) & 0x90).toBe(0x90);
  });

  it("sends COM1 output to its backend and keyboard replies to IRQ1", () => {
    const { clock, platform, outb, inb, initPic, com1 } = setup();
    initPic();
    for (const c of "Linux\n") {
      while (!(inb(0x3fd) & 0x20)) clock.advance(10_000);
      outb(0x3f8, c.charCodeAt(0));
    }
    clock.runUntilIdle();
    expect(com1.text()).toBe("Linux\n");
    outb(0x64, 0xaa);
    expect(platform.acknowledge()).toBe(0x31);
    expect(inb(0x60)).toBe(0x55);
  });

  it("opens A20 through port 0x92 and through the keyboard controller, and resets the CPU", () => {
    const { platform, outb, cpuResets } = setup();
    expect(platform.a20.a20Enabled).toBe(false);
    outb(0x92, 0x02);
    expect(platform.a20.a20Enabled).toBe(true);
    outb(0x92, 0x00);
    outb(0x64, 0xd1);
    outb(0x60, 0x03);
    expect(platform.a20.a20Enabled).toBe(true);
    outb(0x64, 0xfe);
    outb(0x92, 0x01);
    expect(cpuResets()).toBe(2);
  });

  it("ends the VM through 0xF4 and prints through 0xE9", () => {
    const { platform, outb, inb, exits, debug } = setup();
    outb(0xe9, 0x41);
    expect(inb(0xe9)).toBe(0xe9);
    expect(debug.text()).toBe("A");
    outb(0xf4, 0x01);
    expect(exits).toEqual([3]);
    expect(platform.debugExit).toBeDefined();
  });

  it("splits 16-bit accesses into byte cycles on the 8-bit devices", () => {
    const { platform, outb } = setup();
    outb(0x21, 0xa5);
    outb(0x20, 0x0a); // read IRR at 0x20
    // Low byte from 0x20 (IRR: the PIT's OUT0 rose at power-on), high byte from 0x21 (IMR).
    expect(platform.portIn(0x20, 2)).toBe(0xa501);
    platform.portOut(0x70, 2, 0x5a40); // index 0x40, then data 0x5a
    platform.portOut(0x70, 1, 0x40);
    expect(platform.portIn(0x71, 1)).toBe(0x5a);
  });

  it("saves and restores the whole platform", () => {
    const a = setup();
    a.initPic();
    a.outb(0x43, 0x34);
    a.outb(0x40, 0x00);
    a.outb(0x40, 0x10);
    a.outb(0x92, 0x02);
    a.outb(0x3fb, 0x03);
    a.outb(0x70, 0x20);
    a.outb(0x71, 0x99);
    a.clock.runUntil(1_000_000);
    const state = JSON.parse(JSON.stringify(a.platform.saveState()));
    const b = new PcPlatform({ clock: a.clock, ramBytes: 1 << 20 });
    b.restoreState(state);
    expect(b.saveState()).toEqual(a.platform.saveState());
    expect(b.a20.a20Enabled).toBe(true);
    expect(b.hasPending()).toBe(a.platform.hasPending());
    expect(b.acknowledge()).toBe(a.platform.acknowledge());
    expect(() => b.restoreState({ ...state, version: 5 })).toThrow(/version/);
  });

  it("resets every device but keeps the RTC's time and RAM", () => {
    const { platform, outb, inb } = setup();
    outb(0x3ff, 0x11);
    outb(0x70, 0x40);
    outb(0x71, 0x77);
    outb(0x92, 0x02);
    platform.reset();
    expect(platform.a20.a20Enabled).toBe(false);
    outb(0x70, 0x40);
    expect(inb(0x71)).toBe(0x77);
    outb(0x70, 0x04);
    expect(inb(0x71)).toBe(0x12);
  });
});
