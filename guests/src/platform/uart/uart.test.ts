import { VirtualClock } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { RecordingIrqLine } from "../test-support.js";
import type { SerialBackend } from "./serial-backend.js";
import { Uart16550, type UartTransmitPacing } from "./uart-16550.js";

const COM1 = 0x3f8;
const [THR, IER, IIR, LCR, MCR, LSR, MSR, SCR] = [0, 1, 2, 3, 4, 5, 6, 7].map((o) => COM1 + o) as [number, number, number, number, number, number, number, number];
/** 9600 baud, 8N1: ten bits per character. */
const CHAR_NS_9600 = Math.round(10 * 1e9 / 9600);

function setup(transmitPacing: UartTransmitPacing = "line-rate") {
  const clock = new VirtualClock();
  const irq4 = new RecordingIrqLine(clock);
  const sent: { byte: number; at: number }[] = [];
  const backend: SerialBackend = { transmit: (byte) => sent.push({ byte, at: clock.now() }) };
  const uart = new Uart16550({ clock, irq: irq4, backend, name: "COM1", transmitPacing });
  const out = (port: number, value: number) => uart.ports.writeByte(port - COM1, value);
  const inb = (port: number) => uart.ports.readByte(port - COM1);
  /** 9600 8N1, as a driver sets the line up. */
  const program9600 = () => {
    out(LCR, 0x80);
    out(THR, 12);
    out(IER, 0);
    out(LCR, 0x03);
  };
  return { clock, irq4, sent, uart, out, inb, program9600 };
}

describe("16550A UART", () => {
  it("banks the divisor latch over RBR/THR and IER with DLAB", () => {
    const { uart, out, inb, program9600 } = setup();
    out(IER, 0x05);
    program9600();
    expect(uart.baud).toBe(9600);
    expect(inb(IER)).toBe(0x05); // IER untouched by the DLM write
    out(LCR, 0x83);
    expect(inb(THR)).toBe(12);
    expect(inb(IER)).toBe(0);
    out(LCR, 0x03);
    out(IER, 0xff);
    expect(inb(IER)).toBe(0x0f); // bits 7:4 are always zero on a 16550A
    out(SCR, 0x5a);
    expect(inb(SCR)).toBe(0x5a);
  });

  it("paces transmission by the baud rate and reports THRE and TEMT on the way", () => {
    const { clock, sent, out, inb, program9600 } = setup();
    program9600();
    out(IIR, 0x07); // FIFOs on
    for (const c of "abc") out(THR, c.charCodeAt(0));
    expect(inb(LSR) & 0x60).toBe(0x00);
    clock.runUntil(CHAR_NS_9600 * 2);
    expect(inb(LSR) & 0x60).toBe(0x20); // FIFO empty, last character still shifting
    clock.runUntilIdle();
    expect(inb(LSR) & 0x60).toBe(0x60);
    expect(sent).toEqual([
      { byte: 0x61, at: CHAR_NS_9600 },
      { byte: 0x62, at: CHAR_NS_9600 * 2 },
      { byte: 0x63, at: CHAR_NS_9600 * 3 },
    ]);
  });

  it("raises the THRE interrupt when THR empties, cleared by reading IIR or writing THR", () => {
    const { clock, irq4, out, inb, program9600 } = setup();
    program9600();
    out(MCR, 0x08); // OUT2 lets the interrupt reach IRQ4
    out(IER, 0x02); // enabling it with THR empty raises it at once
    expect(irq4.level).toBe(true);
    expect(inb(IIR)).toBe(0x02);
    expect(irq4.level).toBe(false);
    expect(inb(IIR)).toBe(0x01);
    out(THR, 0x41); // straight into the shift register: THR is empty again
    expect(irq4.level).toBe(true);
    out(THR, 0x42); // waits in THR
    expect(irq4.level).toBe(false);
    clock.runUntil(CHAR_NS_9600);
    expect(irq4.level).toBe(true);
    expect(inb(IIR)).toBe(0x02);
  });

  it("interrupts on the receive FIFO trigger level, then on the character timeout", () => {
    const { clock, irq4, uart, out, inb, program9600 } = setup();
    program9600();
    out(IIR, 0x41); // FIFOs on, trigger level 4
    out(MCR, 0x08);
    out(IER, 0x01);
    uart.receive("abc");
    clock.runUntil(CHAR_NS_9600 * 3);
    expect(inb(LSR) & 0x01).toBe(0x01);
    expect(inb(IIR)).toBe(0xc1); // three bytes: below the trigger
    uart.receive("d");
    clock.runUntil(CHAR_NS_9600 * 4);
    expect(inb(IIR)).toBe(0xc4);
    expect(irq4.level).toBe(true);
    expect(inb(THR)).toBe(0x61);
    expect(irq4.level).toBe(false);
    const lastActivity = clock.now();
    clock.runUntil(lastActivity + 4 * CHAR_NS_9600 - 1);
    expect(irq4.level).toBe(false);
    clock.runUntil(lastActivity + 4 * CHAR_NS_9600);
    expect(irq4.level).toBe(true);
    expect(inb(IIR)).toBe(0xcc);
    expect([inb(THR), inb(THR), inb(THR)]).toEqual([0x62, 0x63, 0x64]);
    expect(inb(IIR)).toBe(0xc1);
    expect(inb(LSR) & 0x01).toBe(0);
  });

  it("reports interrupts in the datasheet's priority order", () => {
    const { clock, uart, out, inb, program9600 } = setup();
    program9600();
    out(IER, 0x0f);
    uart.receive([1, 2]); // the second overruns the one-byte RBR (FIFOs off)
    uart.setModemInputs({ cts: false, dsr: true, ri: false, dcd: true });
    clock.runUntilIdle();
    expect(inb(IIR)).toBe(0x06); // line status (overrun)
    expect(inb(LSR) & 0x03).toBe(0x03);
    expect(inb(IIR)).toBe(0x04); // received data
    expect(inb(THR)).toBe(2); // the overrun replaced the unread byte
    expect(inb(IIR)).toBe(0x02); // THR empty
    expect(inb(IIR)).toBe(0x00); // modem status
    expect(inb(MSR)).toBe(0xa1); // DCD, DSR, delta CTS
    expect(inb(IIR)).toBe(0x01);
  });

  it("loops transmit back to receive, mirrors MCR in MSR, and keeps IRQ4 quiet in loopback", () => {
    const { clock, irq4, sent, out, inb, program9600 } = setup();
    program9600();
    out(MCR, 0x1a); // loopback, OUT2, RTS: Linux's autoconfig check expects DCD|CTS
    expect(inb(MSR) & 0xf0).toBe(0x90);
    out(IER, 0x01);
    out(THR, 0x55);
    clock.runUntil(CHAR_NS_9600);
    expect(inb(LSR) & 0x01).toBe(0x01);
    expect(inb(IIR)).toBe(0x04);
    expect(irq4.level).toBe(false);
    expect(inb(THR)).toBe(0x55);
    expect(sent).toEqual([]);
    out(MCR, 0x08);
    out(THR, 0x56);
    clock.runUntilIdle();
    expect(sent.map((s) => s.byte)).toEqual([0x56]);
  });

  it("gates the interrupt with OUT2, as PC boards wire it", () => {
    const { irq4, out } = setup();
    out(IER, 0x02);
    expect(irq4.level).toBe(false);
    out(MCR, 0x08);
    expect(irq4.level).toBe(true);
    out(MCR, 0x00);
    expect(irq4.level).toBe(false);
  });

  it("delivers host input one character time apart and flags a break", () => {
    const { clock, uart, out, inb, program9600 } = setup();
    program9600();
    out(IIR, 0x01);
    uart.receive("hi");
    clock.runUntil(CHAR_NS_9600 - 1);
    expect(inb(LSR) & 0x01).toBe(0);
    clock.runUntil(CHAR_NS_9600 * 2);
    expect([inb(THR), inb(THR)]).toEqual([0x68, 0x69]);
    uart.receiveBreak();
    clock.runUntilIdle();
    expect(inb(LSR) & 0x99).toBe(0x99); // data ready, break, framing, error in FIFO
    expect(inb(THR)).toBe(0);
  });

  it("saves and restores registers, FIFOs and characters in flight", () => {
    const a = setup();
    a.program9600();
    a.out(IIR, 0x01);
    a.out(SCR, 0x77);
    a.out(THR, 0x31);
    a.out(THR, 0x32);
    a.uart.receive("xyz");
    a.clock.runUntil(CHAR_NS_9600 + 10);
    const state = JSON.parse(JSON.stringify(a.uart.saveState()));
    const sent: number[] = [];
    const b = new Uart16550({ clock: a.clock, irq: new RecordingIrqLine(a.clock), backend: { transmit: (byte) => sent.push(byte) } });
    b.restoreState(state);
    expect(b.saveState()).toEqual(a.uart.saveState());
    a.clock.runUntilIdle();
    expect(sent).toEqual([0x32]);
    expect([0, 0, 0].map(() => b.ports.readByte(0))).toEqual([0x78, 0x79, 0x7a]);
    expect(() => b.restoreState({ ...state, version: 7 })).toThrow(/version/);
  });

  describe("with immediate transmission (a virtual port's host end)", () => {
    it("hands each character over as THR is written, with THR and the shift register empty again", () => {
      const { clock, sent, out, inb, program9600 } = setup("immediate");
      program9600();
      out(IIR, 0x07);
      clock.runUntil(1000);
      for (const c of "abc") {
        out(THR, c.charCodeAt(0));
        expect(inb(LSR) & 0x60).toBe(0x60);
      }
      expect(sent).toEqual([0x61, 0x62, 0x63].map((byte) => ({ byte, at: 1000 })));
      expect(clock.pendingTimers()).toBe(0); // nothing left to time on the line
    });

    it("raises THRE after every write, so an interrupt-driven driver refills at once", () => {
      const { irq4, out, inb, program9600 } = setup("immediate");
      program9600();
      out(MCR, 0x08);
      out(IER, 0x02);
      expect(inb(IIR)).toBe(0x02);
      expect(irq4.level).toBe(false);
      out(THR, 0x41);
      expect(irq4.level).toBe(true);
      expect(inb(IIR)).toBe(0x02);
    });

    it("loops back at once, and still receives at the line rate", () => {
      const { clock, sent, uart, out, inb, program9600 } = setup("immediate");
      program9600();
      out(MCR, 0x10);
      out(THR, 0x55);
      expect(inb(LSR) & 0x01).toBe(0x01);
      expect(inb(THR)).toBe(0x55);
      expect(sent).toEqual([]);
      out(MCR, 0x00);
      uart.receive("r");
      clock.runUntil(CHAR_NS_9600 - 1);
      expect(inb(LSR) & 0x01).toBe(0);
      clock.runUntil(CHAR_NS_9600);
      expect(inb(THR)).toBe(0x72);
    });
  });
});
