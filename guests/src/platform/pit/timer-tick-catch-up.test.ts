import { VirtualClock } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { PcPlatform } from "../pc-platform.js";
import { nsAtPitTick } from "./pit-time.js";
import { MAX_TIMER_TICK_BACKLOG } from "./timer-tick-catch-up.js";

/** Linux's HZ=250 LATCH. */
const LATCH = 4773;
const TIMER_VECTOR = 0x30;

function setup() {
  const clock = new VirtualClock();
  const platform = new PcPlatform({ clock, ramBytes: 16 << 20 });
  const outb = (port: number, value: number) => platform.portOut(port, 1, value);
  for (const [port, value] of [[0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x38], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0], [0xa1, 0]]) {
    outb(port!, value!);
  }
  const program = (mode: number, count: number) => {
    outb(0x43, 0x30 | (mode << 1));
    outb(0x40, count & 0xff);
    outb(0x40, count >> 8);
  };
  /** The processor with interrupts on: INTA, then the handler's EOI, for every request the PIC raises. */
  const takeTimerInterrupts = () => {
    let taken = 0;
    while (platform.hasPending()) {
      expect(platform.acknowledge()).toBe(TIMER_VECTOR);
      outb(0x20, 0x20);
      taken++;
    }
    return taken;
  };
  return { clock, platform, outb, program, takeTimerInterrupts };
}

describe("IRQ0 tick catch-up", () => {
  it("delivers periodic ticks that arrived while the guest had interrupts off, one per INTA", () => {
    const { clock, platform, program, takeTimerInterrupts } = setup();
    program(2, LATCH);
    // Five periods with interrupts off (a serial console write spinning on the transmitter).
    clock.runUntil(nsAtPitTick(5 * LATCH) + 1);
    expect(platform.timerCatchUp.backlog).toBe(4);
    expect(takeTimerInterrupts()).toBe(5);
    expect(platform.timerCatchUp.backlog).toBe(0);
    // Then the ticks come one per period again.
    clock.runUntil(nsAtPitTick(6 * LATCH) + 1);
    expect(takeTimerInterrupts()).toBe(1);
  });

  it("counts every period over a long run, however the guest takes them", () => {
    const { clock, program, takeTimerInterrupts } = setup();
    program(2, LATCH);
    let taken = 0;
    for (let period = 1; period <= 250; period++) {
      clock.runUntil(nsAtPitTick(period * LATCH) + 1);
      if (period % 7 === 0 || period === 250) taken += takeTimerInterrupts();
    }
    expect(taken).toBe(250);
  });

  it("owes nothing for ticks while IRQ0 is masked, nor for a one-shot count", () => {
    const masked = setup();
    masked.program(2, LATCH);
    masked.outb(0x21, 0x01);
    masked.clock.runUntil(nsAtPitTick(5 * LATCH) + 1);
    expect(masked.platform.timerCatchUp.backlog).toBe(0);

    const oneShot = setup();
    oneShot.program(0, LATCH);
    oneShot.clock.runUntil(nsAtPitTick(LATCH) + 1);
    oneShot.program(0, LATCH);
    oneShot.clock.runUntil(nsAtPitTick(3 * LATCH) + 10);
    expect(oneShot.platform.timerCatchUp.backlog).toBe(0);
  });

  it("drops the backlog when the guest reprograms the period, and caps it", () => {
    const { clock, platform, program, takeTimerInterrupts } = setup();
    program(2, LATCH);
    clock.runUntil(nsAtPitTick(4 * LATCH) + 1);
    expect(platform.timerCatchUp.backlog).toBe(3);
    program(2, 1193);
    expect(takeTimerInterrupts()).toBe(1);
    program(2, 2);
    clock.runUntil(clock.now() + 10_000_000);
    expect(platform.timerCatchUp.backlog).toBe(MAX_TIMER_TICK_BACKLOG);
  });

  it("keeps the backlog across save and restore", () => {
    const { clock, platform, program } = setup();
    program(2, LATCH);
    clock.runUntil(nsAtPitTick(3 * LATCH) + 1);
    const saved = JSON.parse(JSON.stringify(platform.saveState()));
    const copy = setup();
    copy.clock.runUntil(clock.now());
    copy.platform.restoreState(saved);
    expect(copy.platform.timerCatchUp.backlog).toBe(2);
    expect(copy.takeTimerInterrupts()).toBe(3);
  });
});
