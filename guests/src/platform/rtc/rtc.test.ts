import { VirtualClock } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { RecordingIrqLine } from "../test-support.js";
import { Rtc, UIP_LEAD_NS } from "./rtc.js";

const MIB = 1024 * 1024;
/** A leap day, one second before midnight minus one: exercises every carry. Thursday. */
const START = Date.UTC(2024, 1, 29, 23, 59, 58);

function setup(options: { ramBytes?: number; startTime?: number } = {}) {
  const clock = new VirtualClock();
  const irq8 = new RecordingIrqLine(clock);
  const rtc = new Rtc({ clock, irq: irq8, ramBytes: options.ramBytes ?? 64 * MIB, startTime: options.startTime ?? START });
  const read = (index: number) => {
    rtc.ports.writeByte(0, index);
    return rtc.ports.readByte(1);
  };
  const write = (index: number, value: number) => {
    rtc.ports.writeByte(0, index);
    rtc.ports.writeByte(1, value);
  };
  const time = () => [0, 2, 4, 6, 7, 8, 9, 0x32].map(read);
  return { clock, irq8, rtc, read, write, time };
}

describe("MC146818 RTC / CMOS", () => {
  it("shows the configured start time in BCD, 24-hour, and carries into the next month", () => {
    const { clock, time } = setup();
    expect(time()).toEqual([0x58, 0x59, 0x23, 0x05, 0x29, 0x02, 0x24, 0x20]);
    clock.runUntil(2_000_000_000);
    expect(time()).toEqual([0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24, 0x20]);
  });

  it("encodes in binary with register B DM set", () => {
    const { read, write, time } = setup();
    write(0x0b, 0x06);
    expect(time()).toEqual([58, 59, 23, 5, 29, 2, 24, 20]);
    expect(read(0x0b)).toBe(0x06);
  });

  it("uses 12-hour format with the PM flag when 24/12 is clear", () => {
    const { clock, read, write } = setup();
    write(0x0b, 0x00);
    expect(read(4)).toBe(0x80 | 0x11); // 11 PM
    clock.runUntil(2_000_000_000);
    expect(read(4)).toBe(0x12); // 12 AM
    write(0x0b, 0x04); // binary 12-hour
    expect(read(4)).toBe(12);
  });

  it("takes a new time written under SET and runs on from it", () => {
    const { clock, read, write, time } = setup();
    write(0x0b, 0x82);
    write(0, 0x30);
    write(2, 0x15);
    write(4, 0x09);
    write(7, 0x31);
    write(8, 0x12);
    write(9, 0x99);
    write(0x32, 0x19);
    write(6, 0x06);
    clock.runUntil(5_000_000_000);
    expect(read(0)).toBe(0x30); // frozen while SET
    write(0x0b, 0x02);
    clock.runUntil(6_000_000_000);
    expect(time()).toEqual([0x31, 0x15, 0x09, 0x06, 0x31, 0x12, 0x99, 0x19]);
  });

  it("sets UIP only in the 244 µs before each update", () => {
    const { clock, read, write } = setup({ startTime: Date.UTC(2024, 0, 1) });
    clock.runUntil(1_000_000_000 - UIP_LEAD_NS - 1);
    expect(read(0x0a) & 0x80).toBe(0);
    clock.runUntil(1_000_000_000 - UIP_LEAD_NS);
    expect(read(0x0a) & 0x80).toBe(0x80);
    expect(read(0)).toBe(0x00);
    clock.runUntil(1_000_000_000);
    expect(read(0x0a)).toBe(0x26);
    expect(read(0)).toBe(0x01);
    clock.runUntil(2_000_000_000 - 1000);
    write(0x0b, 0x82); // SET stops updates: UIP stays clear
    expect(read(0x0a) & 0x80).toBe(0);
  });

  it("interrupts at the periodic rate of register A (1024 Hz) while the handler reads C", () => {
    const { clock, irq8, rtc, read, write } = setup();
    write(0x0a, 0x26);
    write(0x0b, 0x42);
    const flags: number[] = [];
    const handler = () => {
      if (irq8.level) clock.setTimer(0, () => flags.push(read(0x0c)));
    };
    const originalSetLevel = irq8.setLevel.bind(irq8);
    irq8.setLevel = (level) => {
      originalSetLevel(level);
      handler();
    };
    clock.runUntil(100_000_000);
    expect(irq8.risingEdges).toHaveLength(102);
    // The divider's second boundaries fall on whole seconds of the start time, so ticks sit on k/1024 s.
    expect(irq8.risingEdges.slice(0, 3)).toEqual([1, 2, 3].map((k) => Math.ceil((k * 1e9) / 1024)));
    expect(flags.every((c) => c === 0xc0)).toBe(true);
    expect(rtc.nmiDisabled).toBe(false);
  });

  it("clears register C on read and drops IRQ8", () => {
    const { clock, irq8, read, write } = setup();
    write(0x0b, 0x12); // UIE
    clock.runUntil(1_000_000_000);
    expect(irq8.level).toBe(true);
    expect(read(0x0c)).toBe(0xd0); // IRQF, UF, and PF (the default 1024 Hz rate runs with PIE off)
    expect(irq8.level).toBe(false);
    expect(read(0x0c)).toBe(0x00);
  });

  it("raises the alarm when the time matches, with 0xC0-0xFF as don't-care", () => {
    const { clock, irq8, read, write } = setup();
    write(0x01, 0x03);
    write(0x03, 0x00);
    write(0x05, 0x00); // 00:00:03
    write(0x0b, 0x22); // AIE
    clock.runUntil(4_999_999_999);
    expect(irq8.risingEdges).toEqual([]);
    clock.runUntil(5_000_000_000);
    expect(irq8.risingEdges).toEqual([5_000_000_000]);
    expect(read(0x0c) & 0xa0).toBe(0xa0);

    write(0x01, 0xff);
    write(0x03, 0xc0);
    write(0x05, 0xc0);
    clock.runUntil(6_000_000_000);
    expect(irq8.risingEdges).toEqual([5_000_000_000, 6_000_000_000]);
  });

  it("sets the periodic and update flags even with their interrupts off, without IRQ8", () => {
    const { clock, irq8, read } = setup();
    clock.runUntil(3_000_000_000);
    // PF and UF; AF too, since the power-on alarm registers (00:00:00) matched at midnight.
    expect(read(0x0c)).toBe(0x70);
    expect(irq8.risingEdges).toEqual([]);
  });

  it("holds time in divider reset and makes the first update half a second after release", () => {
    const { clock, read, write } = setup({ startTime: Date.UTC(2024, 0, 1) });
    write(0x0a, 0x70);
    clock.runUntil(10_000_000_000);
    expect(read(0)).toBe(0x00);
    write(0x0a, 0x26);
    clock.runUntil(10_499_999_999);
    expect(read(0)).toBe(0x00);
    clock.runUntil(10_500_000_000);
    expect(read(0)).toBe(0x01);
  });

  it("reports valid RAM and time in register D, and masks NMI from bit 7 of the index", () => {
    const { rtc, read } = setup();
    expect(read(0x0d)).toBe(0x80);
    rtc.ports.writeByte(0, 0x8d);
    expect(rtc.nmiDisabled).toBe(true);
    expect(rtc.ports.readByte(1)).toBe(0x80);
  });

  it("fills the memory-size bytes and checksum from the RAM size", () => {
    const small = setup({ ramBytes: 32 * MIB });
    expect([0x15, 0x16].map(small.read)).toEqual([0x80, 0x02]); // 640 KiB
    expect([0x17, 0x18, 0x30, 0x31].map(small.read)).toEqual([0x00, 0x7c, 0x00, 0x7c]); // 31 MiB in KiB
    expect([0x34, 0x35].map(small.read)).toEqual([0x00, 0x01]); // 16 MiB in 64 KiB units

    const large = setup({ ramBytes: 512 * MIB });
    expect([0x17, 0x18].map(large.read)).toEqual([0xff, 0xff]); // capped at 64 MiB - 1 KiB
    expect([0x34, 0x35].map(large.read)).toEqual([0x00, 0x1f]); // 496 MiB / 64 KiB = 7936
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += large.read(i);
    expect((large.read(0x2e) << 8) | large.read(0x2f)).toBe(sum);
  });

  it("keeps ordinary CMOS bytes", () => {
    const { read, write } = setup();
    write(0x40, 0xa5);
    write(0x7f, 0x5a);
    expect(read(0x40)).toBe(0xa5);
    expect(read(0x7f)).toBe(0x5a);
  });

  it("clears interrupt enables and flags on RESET but keeps the time", () => {
    const { clock, irq8, rtc, read, write } = setup();
    write(0x0b, 0x72);
    clock.runUntil(1_000_000_000);
    expect(irq8.level).toBe(true);
    rtc.reset();
    expect(irq8.level).toBe(false);
    expect(read(0x0b)).toBe(0x02);
    expect(read(0)).toBe(0x59);
  });

  it("saves and restores time, flags and RAM", () => {
    const a = setup();
    a.write(0x0b, 0x12);
    a.write(0x50, 0x42);
    a.clock.runUntil(1_500_000_000);
    const state = JSON.parse(JSON.stringify(a.rtc.saveState()));
    const irq = new RecordingIrqLine(a.clock);
    const b = new Rtc({ clock: a.clock, irq, ramBytes: 1 * MIB, startTime: 0 });
    b.restoreState(state);
    expect(b.saveState()).toEqual(a.rtc.saveState());
    expect(irq.level).toBe(true);
    b.ports.writeByte(0, 0x50);
    expect(b.ports.readByte(1)).toBe(0x42);
    expect(() => b.restoreState({ ...state, version: 0 })).toThrow(/version/);
  });
});
