import { VirtualClock } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { A20Gate } from "../a20/a20-gate.js";
import { RecordingIrqLine } from "../test-support.js";
import { I8042 } from "./keyboard-controller.js";
import { translateSet2Sequence } from "./scancode-translation.js";

function setup(aux: "mouse" | "absent" = "absent") {
  const clock = new VirtualClock();
  const irq1 = new RecordingIrqLine(clock);
  const irq12 = new RecordingIrqLine(clock);
  const a20 = new A20Gate();
  let resets = 0;
  const kbc = new I8042({ keyboardIrq: irq1, auxIrq: irq12, a20, aux, requestCpuReset: () => resets++ });
  const command = (value: number) => kbc.commandPort.writeByte(0, value);
  const data = (value: number) => kbc.dataPort.writeByte(0, value);
  const status = () => kbc.commandPort.readByte(0);
  /** Everything waiting in the output buffer, as a polling driver drains it. */
  const drain = () => {
    const bytes: number[] = [];
    while (status() & 0x01) bytes.push(kbc.dataPort.readByte(0));
    return bytes;
  };
  return { irq1, irq12, a20, kbc, command, data, status, drain, resets: () => resets };
}

describe("i8042 keyboard controller", () => {
  it("passes its self test and interface tests", () => {
    const { command, status, drain } = setup();
    expect(status() & 0x01).toBe(0);
    command(0xaa);
    expect(status() & 0x0d).toBe(0x0d); // output full, system flag, last write was a command
    expect(drain()).toEqual([0x55]);
    command(0xab);
    command(0xa9);
    expect(drain()).toEqual([0x00, 0x00]);
  });

  it("reads and writes the command byte and toggles the port disables", () => {
    const { kbc, command, data, drain } = setup();
    command(0x20);
    expect(drain()).toEqual([0x45]);
    command(0x60);
    data(0x47);
    expect(kbc.commandByte).toBe(0x47);
    command(0xa7);
    command(0xad);
    command(0x20);
    expect(drain()).toEqual([0x77]);
    command(0xa8);
    command(0xae);
    command(0x20);
    expect(drain()).toEqual([0x47]);
  });

  it("resets the keyboard (FA AA) with an IRQ1 edge per byte", () => {
    const { irq1, kbc, data } = setup();
    data(0xff);
    expect(irq1.level).toBe(true);
    expect(kbc.dataPort.readByte(0)).toBe(0xfa);
    expect(irq1.level).toBe(true); // the next byte moved in at once
    expect(kbc.dataPort.readByte(0)).toBe(0xaa);
    expect(irq1.level).toBe(false);
    expect(irq1.risingEdges).toHaveLength(2);
  });

  it("identifies as an MF2 keyboard, translated or raw", () => {
    const { command, data, drain } = setup();
    data(0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x41]); // 0x83 through the translation ROM
    command(0x60);
    data(0x05); // translation off
    data(0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x83]);
  });

  it("sets LEDs and the scan code set, and echoes", () => {
    const { kbc, command, data, drain } = setup();
    command(0x60);
    data(0x05);
    data(0xed);
    data(0x07);
    expect(drain()).toEqual([0xfa, 0xfa]);
    expect(kbc.keyboard.leds).toBe(7);
    data(0xf0);
    data(0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0x02]);
    data(0xf0);
    data(0x01);
    data(0xf0);
    data(0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0xfa, 0xfa, 0x01]);
    data(0xee);
    data(0x12); // not a command
    expect(drain()).toEqual([0xee, 0xfe]);
  });

  it("translates set 2 key events to set 1 when the command byte asks", () => {
    const { kbc, drain } = setup();
    kbc.keyboard.sendScancodes([0x1c]);
    kbc.keyboard.sendScancodes([0xf0, 0x1c]);
    kbc.keyboard.sendScancodes([0xe0, 0x75]); // cursor up
    expect(drain()).toEqual([0x1e, 0x9e, 0xe0, 0x48]);
    expect(translateSet2Sequence([0xe0, 0xf0, 0x75])).toEqual([0xe0, 0xc8]);
  });

  it("drives A20 through the output port (0xD1) and reads it back (0xD0)", () => {
    const { a20, command, data, drain } = setup();
    const changes: boolean[] = [];
    a20.onChange((enabled) => changes.push(enabled));
    command(0xd1);
    data(0xdf);
    expect(a20.a20Enabled).toBe(true);
    command(0xd0);
    expect(drain()).toEqual([0xcf]);
    command(0xd1);
    data(0xdd);
    expect(a20.a20Enabled).toBe(false);
    expect(changes).toEqual([true, false]);
  });

  it("resets the CPU with a 0xFE pulse or the output port's reset bit", () => {
    const { command, data, resets } = setup();
    command(0xff); // pulses nothing
    expect(resets()).toBe(0);
    command(0xfe);
    expect(resets()).toBe(1);
    command(0xd1);
    data(0x02);
    expect(resets()).toBe(2);
  });

  it("times out writes to an absent auxiliary device but loops back 0xD3 data", () => {
    const { irq12, command, data, status, kbc } = setup();
    command(0xd4);
    data(0xf2);
    expect(status() & 0x61).toBe(0x61); // output full, aux data, timeout
    expect(kbc.dataPort.readByte(0)).toBe(0xfe);
    command(0xd3);
    data(0x5a);
    expect(status() & 0x61).toBe(0x21);
    expect(kbc.dataPort.readByte(0)).toBe(0x5a);
    expect(irq12.risingEdges).toEqual([]); // aux interrupt disabled in the command byte
  });

  it("talks to a PS/2 mouse on the aux port with IRQ12 and reports movement", () => {
    const { irq12, kbc, command, data, drain } = setup("mouse");
    command(0x60);
    data(0x47); // both interrupts on
    command(0xd4);
    data(0xf2);
    expect(irq12.level).toBe(true);
    expect(drain()).toEqual([0xfa, 0x00]);
    command(0xd4);
    data(0xf4);
    expect(drain()).toEqual([0xfa]);
    kbc.mouse!.move(5, -3, 0x01);
    expect(drain()).toEqual([0x29, 0x05, 0xfd]);
    command(0xd4);
    data(0xe9);
    expect(drain()).toEqual([0xfa, 0x24, 0x02, 100]);
  });

  it("saves and restores controller, keyboard and mouse", () => {
    const a = setup("mouse");
    a.command(0x60);
    a.data(0x47);
    a.command(0xd1);
    a.data(0x03);
    a.data(0xed);
    a.data(0xff);
    const state = JSON.parse(JSON.stringify(a.kbc.saveState()));
    const b = setup("mouse");
    b.kbc.restoreState(state);
    expect(b.kbc.saveState()).toEqual(a.kbc.saveState());
    expect(b.drain()).toEqual(a.drain());
    expect(() => b.kbc.restoreState({ ...state, version: 3 })).toThrow(/version/);
  });
});
