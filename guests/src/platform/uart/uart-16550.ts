import { NS_PER_S, type Clock, type Nanoseconds, type TimerHandle } from "@vmk/kernel";
import type { IrqLine } from "../irq-line.js";
import { PortRegisterFile, type PortRegister } from "../port-register-file.js";
import type { ModemInputs, SerialBackend, SerialInput } from "./serial-backend.js";
import {
  FIFO_DEPTH,
  UartFcr,
  UartIer,
  IIR_FIFOS_ENABLED,
  UartIirId,
  UartLcr,
  UartLsr,
  LSR_ERRORS,
  UartMcr,
  UartMsr,
  RECEIVE_TRIGGER_LEVELS,
  UART_BASE_BAUD,
} from "./uart-registers.js";

export const UART_STATE_VERSION = 1;

export interface UartState {
  version: typeof UART_STATE_VERSION;
  ier: number;
  /** FCR bits that stick: enable, DMA mode, trigger level. */
  fcr: number;
  lcr: number;
  mcr: number;
  scratch: number;
  divisor: number;
  /** The receive FIFO (one entry deep with FIFOs off) and each character's PE/FE/BI bits. */
  receiveFifo: number[];
  receiveErrors: number[];
  /** The last character read, which RBR repeats when empty. */
  lastReceived: number;
  /** Overrun, latched until LSR is read. */
  overrun: boolean;
  transmitFifo: number[];
  /** The character in the transmit shift register, and when its stop bit ends. */
  shifting: number | null;
  shiftDoneAt: Nanoseconds | null;
  /** The THRE interrupt: set when THR empties, cleared by reading IIR (while it is shown) or writing THR. */
  transmitterEmptyPending: boolean;
  /** MSR: inputs in bits 7:4, change flags in 3:0. */
  msr: number;
  /** Inputs the far end drives, used while not in loopback. */
  lineInputs: number;
  /** Last time a character entered or left the receive FIFO, for the character timeout. */
  receiveActivityAt: Nanoseconds;
  /** Bytes from the host not yet on the wire, and when the next one finishes arriving. */
  hostInput: number[];
  /** Which pending host bytes are breaks rather than characters. */
  hostBreaks: boolean[];
  nextArrivalAt: Nanoseconds | null;
}

/**
 * How the transmitter paces characters. "line-rate": each character takes its bit times at the
 * programmed rate, as on a physical port. "immediate": the line is infinitely fast, as on the serial
 * ports of QEMU, VMware or Hyper-V, whose host ends are files, pipes and terminals that never clock
 * bits: a character written to THR reaches the backend at once and THR and the shift register are
 * empty again straight after the write (THRE raised anew). A guest waiting for THRE before every
 * character (Linux's console, firmware) then spends one LSR read per character instead of busy-waiting
 * for 87 µs of each at 115200 baud. Reception always keeps the line rate: the host's bytes must not
 * overrun the receive FIFO faster than a guest could drain it on real hardware.
 */
export type UartTransmitPacing = "line-rate" | "immediate";

export interface UartOptions {
  clock: Clock;
  irq: IrqLine;
  backend?: SerialBackend;
  /** Names the port in timer diagnostics ("COM1"). */
  name?: string;
  /** "line-rate" (default) or "immediate"; see UartTransmitPacing. */
  transmitPacing?: UartTransmitPacing;
}

const CONNECTED_TERMINAL = UartMsr.Cts | UartMsr.Dsr | UartMsr.Dcd;
/** Divisor latch at power-on (undefined in the datasheet): 115200 baud, so an unprogrammed port still moves. */
const POWER_ON_DIVISOR = 1;
const CHARACTER_TIMEOUT_CHARACTERS = 4;

function powerOnState(): UartState {
  return {
    version: UART_STATE_VERSION,
    ier: 0,
    fcr: 0,
    lcr: 0,
    mcr: 0,
    scratch: 0,
    divisor: POWER_ON_DIVISOR,
    receiveFifo: [],
    receiveErrors: [],
    lastReceived: 0,
    overrun: false,
    transmitFifo: [],
    shifting: null,
    shiftDoneAt: null,
    transmitterEmptyPending: false,
    msr: CONNECTED_TERMINAL,
    lineInputs: CONNECTED_TERMINAL,
    receiveActivityAt: 0,
    hostInput: [],
    hostBreaks: [],
    nextArrivalAt: null,
  };
}

/**
 * National Semiconductor PC16550D UART: 16-byte FIFOs, the divisor latch, the interrupt priority
 * chain reported in IIR, loopback, and the PC's wiring of the IRQ through OUT2. Characters take their
 * real time on the wire at the programmed rate, on the VM clock, in both directions.
 */
export class Uart16550 implements SerialInput {
  readonly ports: PortRegisterFile;
  private state: UartState = powerOnState();
  private readonly clock: Clock;
  private readonly irq: IrqLine;
  private readonly backend: SerialBackend | undefined;
  private readonly label: string;
  private readonly immediateTransmit: boolean;
  private timer: TimerHandle | undefined;
  private timerDeadline = Number.POSITIVE_INFINITY;
  private irqAsserted = false;

  constructor(options: UartOptions) {
    this.clock = options.clock;
    this.irq = options.irq;
    this.backend = options.backend;
    this.label = options.name ?? "uart";
    this.immediateTransmit = options.transmitPacing === "immediate";
    const registers = this.registerTable();
    const divisorLatch = this.divisorLatchRegisters();
    this.ports = new PortRegisterFile((offset) =>
      this.state.lcr & UartLcr.Dlab && offset < divisorLatch.length ? divisorLatch[offset] : registers[offset],
    );
    this.backend?.connect?.(this);
  }

  // ---- the host side ----

  receive(bytes: Iterable<number> | string): void {
    const s = this.state;
    for (const byte of typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes) {
      s.hostInput.push(byte & 0xff);
      s.hostBreaks.push(false);
    }
    this.afterHostInput();
  }

  receiveBreak(): void {
    this.state.hostInput.push(0);
    this.state.hostBreaks.push(true);
    this.afterHostInput();
  }

  setModemInputs(inputs: ModemInputs): void {
    this.access(() => {
      this.state.lineInputs = (inputs.cts ? UartMsr.Cts : 0) | (inputs.dsr ? UartMsr.Dsr : 0) | (inputs.ri ? UartMsr.Ri : 0) | (inputs.dcd ? UartMsr.Dcd : 0);
      this.updateModemInputs();
    });
  }

  /** DTR, RTS, OUT1, OUT2 as the guest drives them (all inactive in loopback). */
  get modemControl(): number {
    return this.state.mcr & UartMcr.Loopback ? 0 : this.state.mcr & 0x0f;
  }

  /** The current bit rate. */
  get baud(): number {
    return UART_BASE_BAUD / (this.state.divisor || 0x10000);
  }

  /** The master reset: registers to their reset values; divisor, scratch and host input survive. */
  reset(): void {
    const s = this.state;
    this.state = { ...powerOnState(), divisor: s.divisor, scratch: s.scratch, lineInputs: s.lineInputs, hostInput: s.hostInput, hostBreaks: s.hostBreaks };
    this.state.msr = this.state.lineInputs;
    this.afterHostInput();
  }

  saveState(): UartState {
    this.advance(this.clock.now());
    const s = this.state;
    return {
      ...s,
      receiveFifo: [...s.receiveFifo],
      receiveErrors: [...s.receiveErrors],
      transmitFifo: [...s.transmitFifo],
      hostInput: [...s.hostInput],
      hostBreaks: [...s.hostBreaks],
    };
  }

  restoreState(state: UartState): void {
    if (state.version !== UART_STATE_VERSION) throw new Error(`16550 state version ${state.version} is not ${UART_STATE_VERSION}`);
    this.state = {
      ...state,
      receiveFifo: [...state.receiveFifo],
      receiveErrors: [...state.receiveErrors],
      transmitFifo: [...state.transmitFifo],
      hostInput: [...state.hostInput],
      hostBreaks: [...state.hostBreaks],
    };
    this.access(() => {});
  }

  // ---- registers ----

  private registerTable(): PortRegister[] {
    return [
      { name: "RBR/THR", read: () => this.access(() => this.readReceiveBuffer()), write: (v) => this.access(() => this.writeTransmitHolding(v)) },
      { name: "IER", read: () => this.state.ier, write: (v) => this.access(() => this.writeInterruptEnable(v)) },
      { name: "IIR/FCR", read: () => this.access(() => this.readInterruptId()), write: (v) => this.access(() => this.writeFifoControl(v)) },
      { name: "LCR", read: () => this.state.lcr, write: (v) => this.access(() => (this.state.lcr = v)) },
      { name: "MCR", read: () => this.state.mcr, write: (v) => this.access(() => this.writeModemControl(v)) },
      { name: "LSR", read: () => this.access(() => this.readLineStatus()) },
      { name: "MSR", read: () => this.access(() => this.readModemStatus()) },
      { name: "SCR", read: () => this.state.scratch, write: (v) => (this.state.scratch = v) },
    ];
  }

  private divisorLatchRegisters(): PortRegister[] {
    return [
      { name: "DLL", read: () => this.state.divisor & 0xff, write: (v) => (this.state.divisor = (this.state.divisor & 0xff00) | v) },
      { name: "DLM", read: () => this.state.divisor >> 8, write: (v) => (this.state.divisor = (this.state.divisor & 0xff) | (v << 8)) },
    ];
  }

  /** Every access first brings the line up to date, then re-evaluates the interrupt and the next event. */
  private access<T>(operation: () => T): T {
    this.advance(this.clock.now());
    const result = operation();
    this.refresh();
    return result;
  }

  private get fifoEnabled(): boolean {
    return (this.state.fcr & UartFcr.Enable) !== 0;
  }

  private get loopback(): boolean {
    return (this.state.mcr & UartMcr.Loopback) !== 0;
  }

  /** Start bit, data bits, parity and stop bits at the current rate. */
  private characterTime(): Nanoseconds {
    const lcr = this.state.lcr;
    const dataBits = 5 + (lcr & UartLcr.WordLengthMask);
    const stopBits = lcr & UartLcr.TwoStopBits ? (dataBits === 5 ? 1.5 : 2) : 1;
    const bits = 1 + dataBits + (lcr & UartLcr.ParityEnable ? 1 : 0) + stopBits;
    return Math.round((bits * NS_PER_S) / this.baud);
  }

  private readReceiveBuffer(): number {
    const s = this.state;
    if (s.receiveFifo.length === 0) return s.lastReceived;
    s.lastReceived = s.receiveFifo.shift()!;
    s.receiveErrors.shift();
    s.receiveActivityAt = this.clock.now();
    return s.lastReceived;
  }

  private writeTransmitHolding(value: number): void {
    const s = this.state;
    const depth = this.fifoEnabled ? FIFO_DEPTH : 1;
    if (s.transmitFifo.length < depth) s.transmitFifo.push(value);
    else if (!this.fifoEnabled) s.transmitFifo[0] = value; // THR overwritten before it moved on
    s.transmitterEmptyPending = false;
    if (s.shifting !== null) return;
    const now = this.clock.now();
    this.startNextCharacter(now);
    // The character's stop bit is already out: hand it over now rather than from a timer at `now`.
    if (this.immediateTransmit) this.advance(now);
  }

  private writeInterruptEnable(value: number): void {
    const s = this.state;
    const enabling = value & ~s.ier & UartIer.TransmitterEmpty;
    s.ier = value & 0x0f;
    // Enabling the THRE interrupt while THR is already empty raises it at once.
    if (enabling && s.transmitFifo.length === 0) s.transmitterEmptyPending = true;
  }

  private readInterruptId(): number {
    const id = this.interruptId();
    if (id === UartIirId.TransmitterEmpty) this.state.transmitterEmptyPending = false;
    return id | (this.fifoEnabled ? IIR_FIFOS_ENABLED : 0);
  }

  private writeFifoControl(value: number): void {
    const s = this.state;
    if ((value ^ s.fcr) & UartFcr.Enable) this.clearFifos(true, true);
    if (!(value & UartFcr.Enable)) {
      s.fcr = 0;
      return;
    }
    s.fcr = value & (UartFcr.Enable | UartFcr.DmaMode | UartFcr.TriggerMask);
    this.clearFifos((value & UartFcr.ClearReceive) !== 0, (value & UartFcr.ClearTransmit) !== 0);
  }

  private clearFifos(receive: boolean, transmit: boolean): void {
    const s = this.state;
    if (receive) {
      s.receiveFifo = [];
      s.receiveErrors = [];
    }
    if (transmit && s.transmitFifo.length > 0) {
      s.transmitFifo = [];
      s.transmitterEmptyPending = true;
    }
  }

  private writeModemControl(value: number): void {
    const s = this.state;
    const wasLoopback = this.loopback;
    s.mcr = value & 0x1f;
    this.updateModemInputs();
    // The receive input is disconnected in loopback; host bytes wait on the wire until it ends.
    if (wasLoopback && !this.loopback) this.afterHostInput();
  }

  private readLineStatus(): number {
    const s = this.state;
    const topErrors = s.receiveErrors[0] ?? 0;
    let value = topErrors | (s.overrun ? UartLsr.Overrun : 0);
    if (s.receiveFifo.length > 0) value |= UartLsr.DataReady;
    if (s.transmitFifo.length === 0) value |= UartLsr.TransmitHoldingEmpty;
    if (s.transmitFifo.length === 0 && s.shifting === null) value |= UartLsr.TransmitterEmpty;
    if (this.fifoEnabled && s.receiveErrors.some((errors) => errors !== 0)) value |= UartLsr.FifoError;
    s.overrun = false;
    if (s.receiveErrors.length > 0) s.receiveErrors[0] = 0;
    return value;
  }

  private readModemStatus(): number {
    const value = this.state.msr;
    this.state.msr &= 0xf0;
    return value;
  }

  /** Recomputes the MSR inputs (from the far end, or from MCR in loopback) and records their changes. */
  private updateModemInputs(): void {
    const s = this.state;
    const mcr = s.mcr;
    const inputs = this.loopback
      ? (mcr & UartMcr.Rts ? UartMsr.Cts : 0) | (mcr & UartMcr.Dtr ? UartMsr.Dsr : 0) | (mcr & UartMcr.Out1 ? UartMsr.Ri : 0) | (mcr & UartMcr.Out2 ? UartMsr.Dcd : 0)
      : s.lineInputs;
    const old = s.msr & 0xf0;
    const changed = old ^ inputs;
    let deltas = s.msr & 0x0f;
    if (changed & UartMsr.Cts) deltas |= UartMsr.DeltaCts;
    if (changed & UartMsr.Dsr) deltas |= UartMsr.DeltaDsr;
    if (changed & UartMsr.Dcd) deltas |= UartMsr.DeltaDcd;
    if (old & UartMsr.Ri && !(inputs & UartMsr.Ri)) deltas |= UartMsr.TrailingEdgeRi;
    s.msr = inputs | deltas;
  }

  /** The IIR identification by the datasheet's priority order. */
  private interruptId(): number {
    const s = this.state;
    const ier = s.ier;
    if (ier & UartIer.ReceiverLineStatus && ((s.receiveErrors[0] ?? 0) & LSR_ERRORS || s.overrun)) return UartIirId.ReceiverLineStatus;
    if (ier & UartIer.ReceivedData) {
      const trigger = this.fifoEnabled ? RECEIVE_TRIGGER_LEVELS[s.fcr >> 6]! : 1;
      if (s.receiveFifo.length >= trigger) return UartIirId.ReceivedData;
      if (this.fifoEnabled && s.receiveFifo.length > 0 && this.clock.now() >= this.characterTimeoutAt()) return UartIirId.CharacterTimeout;
    }
    if (ier & UartIer.TransmitterEmpty && s.transmitterEmptyPending) return UartIirId.TransmitterEmpty;
    if (ier & UartIer.ModemStatus && s.msr & 0x0f) return UartIirId.ModemStatus;
    return UartIirId.None;
  }

  private characterTimeoutAt(): Nanoseconds {
    return this.state.receiveActivityAt + CHARACTER_TIMEOUT_CHARACTERS * this.characterTime();
  }

  // ---- the line ----

  /** Completes every character whose last bit time has passed by `now`, in time order. */
  private advance(now: Nanoseconds): void {
    const s = this.state;
    for (;;) {
      const transmitDone = s.shiftDoneAt ?? Number.POSITIVE_INFINITY;
      const arrival = s.nextArrivalAt ?? Number.POSITIVE_INFINITY;
      const next = Math.min(transmitDone, arrival);
      if (next > now) return;
      if (transmitDone <= arrival) this.finishTransmit(transmitDone);
      else this.finishArrival(arrival);
    }
  }

  private startNextCharacter(at: Nanoseconds): void {
    const s = this.state;
    if (s.transmitFifo.length === 0) {
      s.shifting = null;
      s.shiftDoneAt = null;
      return;
    }
    s.shifting = s.transmitFifo.shift()!;
    s.shiftDoneAt = this.immediateTransmit ? at : at + this.characterTime();
    if (s.transmitFifo.length === 0) s.transmitterEmptyPending = true;
  }

  private finishTransmit(at: Nanoseconds): void {
    const byte = this.state.shifting!;
    if (this.loopback) this.receiveCharacter(byte, 0, at);
    else this.backend?.transmit(byte);
    this.startNextCharacter(at);
  }

  private finishArrival(at: Nanoseconds): void {
    const s = this.state;
    const byte = s.hostInput.shift()!;
    const isBreak = s.hostBreaks.shift()!;
    this.receiveCharacter(byte, isBreak ? UartLsr.Break | UartLsr.Framing : 0, at);
    s.nextArrivalAt = s.hostInput.length > 0 && !this.loopback ? at + this.characterTime() : null;
  }

  private receiveCharacter(byte: number, errors: number, at: Nanoseconds): void {
    const s = this.state;
    const depth = this.fifoEnabled ? FIFO_DEPTH : 1;
    if (s.receiveFifo.length >= depth) {
      // FIFO mode loses the new character; the 16450 mode overwrites RBR. Both report an overrun.
      s.overrun = true;
      if (!this.fifoEnabled) {
        s.receiveFifo[0] = byte;
        s.receiveErrors[0] = errors;
      }
    } else {
      s.receiveFifo.push(byte);
      s.receiveErrors.push(errors);
    }
    s.receiveActivityAt = at;
  }

  private afterHostInput(): void {
    const s = this.state;
    if (s.nextArrivalAt === null && s.hostInput.length > 0 && !this.loopback) s.nextArrivalAt = this.clock.now() + this.characterTime();
    this.refresh();
  }

  /** Drives the IRQ pin (INTR gated by OUT2, which loopback forces inactive) and arms the next event. */
  private refresh(): void {
    const s = this.state;
    const intr = this.interruptId() !== UartIirId.None;
    const asserted = intr && (s.mcr & (UartMcr.Out2 | UartMcr.Loopback)) === UartMcr.Out2;
    if (asserted !== this.irqAsserted) {
      this.irqAsserted = asserted;
      this.irq.setLevel(asserted);
    }
    let next = Math.min(s.shiftDoneAt ?? Number.POSITIVE_INFINITY, s.nextArrivalAt ?? Number.POSITIVE_INFINITY);
    if (this.fifoEnabled && s.ier & UartIer.ReceivedData && s.receiveFifo.length > 0) {
      const timeout = this.characterTimeoutAt();
      if (timeout > this.clock.now()) next = Math.min(next, timeout);
    }
    this.arm(next);
  }

  private arm(deadline: Nanoseconds): void {
    if (deadline === this.timerDeadline && this.timer?.pending) return;
    this.timer?.cancel();
    this.timer = undefined;
    this.timerDeadline = deadline;
    if (!Number.isFinite(deadline)) return;
    this.timer = this.clock.setTimer(Math.max(0, deadline - this.clock.now()), () => this.access(() => {}), { label: `${this.label} line` });
  }
}
