import { VirtualClock } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { RecordingIrqLine } from "../test-support.js";
import { SystemControlPortB } from "../system-control-port-b/system-control-port-b.js";
import { Pit } from "./pit.js";
import { nsAtPitTick, PIT_HZ, pitTicksAt } from "./pit-time.js";

function setup() {
  const clock = new VirtualClock();
  const irq0 = new RecordingIrqLine(clock);
  const pit = new Pit({ clock, outputs: [irq0] });
  const out = (port: number, value: number) => pit.ports.writeByte(port - 0x40, value);
  const inb = (port: number) => pit.ports.readByte(port - 0x40);
  const port61 = new SystemControlPortB({ clock, pit });
  irq0.risingEdges.length = 0; // power-on drives OUT high: not part of any test
  return { clock, irq0, pit, out, inb, port61 };
}

/** Time of PIT input clock `tick` after `start` (a tick on the clock's own grid). */
const at = (start: number, ticks: number) => nsAtPitTick(pitTicksAt(start) + ticks);

describe("8254 PIT", () => {
  it("converts between time and input clocks exactly at any uptime", () => {
    for (const tick of [0, 1, 1193, PIT_HZ - 1, PIT_HZ, 123456789012]) {
      expect(pitTicksAt(nsAtPitTick(tick))).toBe(tick);
      expect(pitTicksAt(nsAtPitTick(tick) - 1)).toBe(tick - 1);
    }
  });

  it("mode 2 interrupts once per count on virtual time (Linux periodic: 0x34, LATCH)", () => {
    const { clock, irq0, out } = setup();
    out(0x43, 0x34);
    out(0x40, 1193 & 0xff);
    out(0x40, 1193 >> 8);
    clock.runUntil(10_000_000);
    expect(irq0.risingEdges).toHaveLength(10);
    expect(irq0.risingEdges).toEqual(Array.from({ length: 10 }, (_, k) => at(0, 1193 * (k + 1))));
  });

  it("mode 3 makes a square wave: OUT high for the first half, edges once per period", () => {
    const { clock, irq0, out, inb } = setup();
    out(0x43, 0x36);
    out(0x40, 11932 & 0xff);
    out(0x40, 11932 >> 8);
    const readStatus = () => {
      out(0x43, 0xe2); // read-back status of counter 0
      return inb(0x40);
    };
    clock.runUntil(at(0, 11932 * 3 + 10));
    expect(readStatus() & 0x80).toBe(0x80);
    clock.runUntil(at(0, 11932 * 3 + 5966));
    expect(readStatus() & 0x80).toBe(0);
    clock.runUntil(1_000_000_000);
    expect(irq0.risingEdges).toHaveLength(Math.floor(PIT_HZ / 11932));
    expect(irq0.risingEdges[98]).toBe(at(0, 11932 * 99));
  });

  it("counts down as time passes and freezes a latched value until it is read", () => {
    const { clock, out, inb } = setup();
    out(0x43, 0x34);
    out(0x40, 0x00);
    out(0x40, 0x10); // 4096
    clock.runUntil(at(0, 500));
    out(0x43, 0x00); // counter latch, counter 0
    clock.runUntil(at(0, 900));
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(4096 - 500);
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(4096 - 900); // live again
  });

  it("reads back status (OUT, null count, control bits) and count together", () => {
    const { clock, out, inb } = setup();
    out(0x43, 0x30); // counter 0, LSB/MSB, mode 0
    out(0x43, 0xe2);
    expect(inb(0x40)).toBe(0x40 | 0x30); // OUT low, null count
    out(0x40, 100);
    out(0x40, 0);
    clock.runUntil(at(0, 40));
    out(0x43, 0xc2); // latch count and status
    expect(inb(0x40)).toBe(0x30); // count loaded, OUT still low
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(60);
    clock.runUntil(at(0, 100));
    out(0x43, 0xe2);
    expect(inb(0x40)).toBe(0x80 | 0x30); // terminal count: OUT high
  });

  it("mode 0 raises IRQ0 once at terminal count, and mode 4 strobes once (Linux oneshot)", () => {
    const { clock, irq0, out } = setup();
    out(0x43, 0x30);
    out(0x40, 0xe8);
    out(0x40, 0x03); // 1000
    clock.runUntilIdle();
    expect(irq0.risingEdges).toEqual([at(0, 1000)]);

    out(0x43, 0x38);
    const start = clock.now();
    out(0x40, 50);
    out(0x40, 0);
    clock.runUntilIdle();
    expect(irq0.risingEdges.slice(1)).toEqual([at(start, 51)]);
  });

  it("counts in BCD and honours LSB-only and MSB-only access", () => {
    const { clock, out, inb } = setup();
    out(0x43, 0x35); // counter 0, LSB/MSB, mode 2, BCD
    out(0x40, 0x00);
    out(0x40, 0x10); // 1000 decimal
    clock.runUntil(at(0, 1));
    expect(inb(0x40) | (inb(0x40) << 8)).toBe(0x0999);

    out(0x43, 0x50); // counter 1, LSB only, mode 0
    out(0x41, 200);
    out(0x43, 0x40);
    expect(inb(0x41)).toBe(200);
    out(0x43, 0x60); // counter 1, MSB only
    out(0x41, 0x02); // 512
    out(0x43, 0x40);
    expect(inb(0x41)).toBe(0x02);
  });

  it("gates counter 2 from port 0x61 and shows its OUT in bit 5 (TSC calibration)", () => {
    const { clock, out, inb, port61 } = setup();
    port61.ports.writeByte(0, 0x00);
    out(0x43, 0xb0); // counter 2, LSB/MSB, mode 0
    out(0x42, 0x9c);
    out(0x42, 0x2e); // 11932 (~10 ms)
    clock.runUntil(20_000_000);
    expect(port61.ports.readByte(0) & 0x20).toBe(0); // gate low: not counting
    out(0x43, 0x80);
    expect(inb(0x42) | (inb(0x42) << 8)).toBe(11932);

    const start = clock.now();
    port61.ports.writeByte(0, 0x01); // gate high, speaker off
    clock.runUntil(at(start, 11931));
    expect(port61.ports.readByte(0) & 0x21).toBe(0x01);
    clock.runUntil(at(start, 11932));
    expect(port61.ports.readByte(0) & 0x21).toBe(0x21);
  });

  it("restarts modes 2 and 3 on a gate rising edge and loads a new count at the end of the cycle", () => {
    const { clock, out, inb, pit } = setup();
    out(0x43, 0xb4); // counter 2, mode 2
    out(0x42, 100);
    out(0x42, 0);
    pit.setGate(2, true);
    const start = clock.now();
    clock.runUntil(at(start, 30));
    out(0x42, 50);
    out(0x42, 0); // takes effect when the current 100-count cycle ends
    clock.runUntil(at(start, 90));
    out(0x43, 0x80);
    expect(inb(0x42)).toBe(10);
    inb(0x42);
    clock.runUntil(at(start, 110));
    out(0x43, 0x80);
    expect(inb(0x42)).toBe(40);
    inb(0x42);
    pit.setGate(2, false);
    pit.setGate(2, true);
    out(0x43, 0x80);
    expect(inb(0x42)).toBe(50);
  });

  it("toggles the refresh bit of port 0x61 every 15 µs", () => {
    const { clock, port61 } = setup();
    const first = port61.ports.readByte(0) & 0x10;
    clock.runUntil(15_085);
    expect(port61.ports.readByte(0) & 0x10).not.toBe(first);
  });

  it("saves and restores counters mid-count, and keeps interrupting afterwards", () => {
    const original = setup();
    original.out(0x43, 0x34);
    original.out(0x40, 0xa9);
    original.out(0x40, 0x04); // 1193
    original.out(0x43, 0xb0);
    original.out(0x42, 0x10); // counter 2 loaded, gate low
    original.clock.runUntil(2_500_000);
    const state = JSON.parse(JSON.stringify(original.pit.saveState()));
    expect(state.version).toBe(1);

    const irq0 = new RecordingIrqLine(original.clock);
    const clone = new Pit({ clock: original.clock, outputs: [irq0] });
    clone.restoreState(state);
    expect(clone.saveState()).toEqual(original.pit.saveState());
    original.pit.ports.writeByte(3, 0x00);
    clone.ports.writeByte(3, 0x00);
    expect(clone.ports.readByte(0)).toBe(original.pit.ports.readByte(0));
    expect(clone.ports.readByte(0)).toBe(original.pit.ports.readByte(0));
    irq0.risingEdges.length = 0;
    original.clock.runUntil(5_000_000);
    expect(irq0.risingEdges).toEqual([3, 4, 5].map((k) => at(0, 1193 * k)));
    expect(() => clone.restoreState({ ...state, version: 2 })).toThrow(/version/);
  });
});
