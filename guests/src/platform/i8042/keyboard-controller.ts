import type { A20Gate } from "../a20/a20-gate.js";
import type { IrqLine } from "../irq-line.js";
import { PortRegisterFile } from "../port-register-file.js";
import { Ps2Keyboard, type Ps2KeyboardState } from "./ps2-keyboard.js";
import { Ps2Mouse, type Ps2MouseState } from "./ps2-mouse.js";
import { Ps2Response, type Ps2Device } from "./ps2-device.js";
import { SET2_BREAK_PREFIX, translateSet2Byte } from "./scancode-translation.js";

export const I8042_STATE_VERSION = 1;

export const I8042Status = {
  OutputFull: 0x01,
  InputFull: 0x02,
  System: 0x04,
  LastWasCommand: 0x08,
  NotInhibited: 0x10,
  AuxData: 0x20,
  Timeout: 0x40,
  ParityError: 0x80,
} as const;

export const I8042CommandByte = {
  KeyboardInterrupt: 0x01,
  AuxInterrupt: 0x02,
  System: 0x04,
  KeyboardDisabled: 0x10,
  AuxDisabled: 0x20,
  Translate: 0x40,
} as const;

export const I8042OutputPort = {
  ResetInactive: 0x01,
  A20: 0x02,
  KeyboardBufferFull: 0x10,
  AuxBufferFull: 0x20,
} as const;
/** Clock and data lines of both ports idle high. */
const OUTPUT_PORT_IDLE_LINES = 0xcc;

/** A byte waiting for the output buffer, with where it claims to come from. */
interface QueuedByte {
  byte: number;
  aux: boolean;
  timeout: boolean;
}

/** The controller's own registers and buffers. */
export interface I8042ControllerState {
  /** Controller RAM; byte 0 is the command byte. */
  ram: number[];
  outputPort: number;
  /** The output buffer at 0x60 and its source flags, null when empty. */
  outputBuffer: QueuedByte | null;
  /** The last byte read, which 0x60 repeats when empty. */
  lastRead: number;
  lastWasCommand: boolean;
  /** A controller command waiting for its data byte. */
  pendingCommand: number | null;
  /** Controller replies, which go out before device data. */
  replies: QueuedByte[];
  /** A set 2 break prefix absorbed by translation, waiting for the code it modifies. */
  breakPrefixSeen: boolean;
}

export interface I8042State {
  version: typeof I8042_STATE_VERSION;
  controller: I8042ControllerState;
  keyboard: Ps2KeyboardState;
  mouse: Ps2MouseState | null;
}

export interface I8042Options {
  keyboardIrq: IrqLine;
  auxIrq: IrqLine;
  a20: A20Gate;
  /** The output port's reset line went low (command 0xD1 with bit 0 clear, or a 0xFE pulse). */
  requestCpuReset: () => void;
  /** A basic PS/2 mouse on the auxiliary port, or nothing plugged in. */
  aux: "mouse" | "absent";
}

/**
 * The command byte a PC BIOS leaves after POST: keyboard interrupt on, system flag (POST passed) and
 * set 2 → set 1 translation. The aux interrupt stays off until an OS that drives a mouse enables it.
 */
const POST_COMMAND_BYTE = I8042CommandByte.KeyboardInterrupt | I8042CommandByte.System | I8042CommandByte.Translate;

type ControllerCommand = (controller: I8042) => void;

/**
 * Intel 8042 keyboard controller (PS/2 variant) at 0x60/0x64: status, command byte, self and
 * interface tests, the two PS/2 ports with IRQ1 and IRQ12, scan code translation, and the output
 * port whose bits drive the A20 gate and the CPU reset line.
 */
export class I8042 {
  readonly dataPort: PortRegisterFile;
  readonly commandPort: PortRegisterFile;
  readonly keyboard = new Ps2Keyboard();
  readonly mouse: Ps2Mouse | undefined;
  private state: I8042ControllerState;
  private irqLevels = { keyboard: false, aux: false };

  private static readonly COMMANDS: Readonly<Record<number, ControllerCommand>> = {
    0xa7: (c) => c.setCommandByteBits(I8042CommandByte.AuxDisabled, true),
    0xa8: (c) => c.setCommandByteBits(I8042CommandByte.AuxDisabled, false),
    // The interface test checks the port's clock and data lines, which idle correctly with or without a device.
    0xa9: (c) => c.reply(0x00),
    0xaa: (c) => c.reply(0x55),
    0xab: (c) => c.reply(0x00),
    0xad: (c) => c.setCommandByteBits(I8042CommandByte.KeyboardDisabled, true),
    0xae: (c) => c.setCommandByteBits(I8042CommandByte.KeyboardDisabled, false),
    0xd0: (c) => c.reply(c.outputPortValue()),
    0xe0: (c) => c.reply(0x00),
  };

  /** Commands whose data byte follows at 0x60. */
  private static readonly DATA_COMMANDS: Readonly<Record<number, (controller: I8042, data: number) => void>> = {
    0xd1: (c, data) => c.writeOutputPort(data),
    0xd2: (c, data) => c.reply(data, false),
    0xd3: (c, data) => c.reply(data, true),
    0xd4: (c, data) => c.writeToAux(data),
  };

  constructor(private readonly options: I8042Options) {
    this.mouse = options.aux === "mouse" ? new Ps2Mouse() : undefined;
    this.state = this.powerOnState();
    for (const device of this.devices()) device.onOutput = () => this.refill();
    this.dataPort = PortRegisterFile.fromTable([{ name: "data", read: () => this.readData(), write: (value) => this.writeData(value) }]);
    this.commandPort = PortRegisterFile.fromTable([{ name: "status/command", read: () => this.status(), write: (value) => this.writeCommand(value) }]);
    this.applyOutputPort();
  }

  get commandByte(): number {
    return this.state.ram[0]!;
  }

  get outputPort(): number {
    return this.state.outputPort;
  }

  reset(): void {
    this.keyboard.reset();
    this.mouse?.reset();
    this.state = this.powerOnState();
    this.applyOutputPort();
    this.updateIrqs();
  }

  saveState(): I8042State {
    const s = this.state;
    return {
      version: I8042_STATE_VERSION,
      controller: {
        ...s,
        ram: [...s.ram],
        outputBuffer: s.outputBuffer && { ...s.outputBuffer },
        replies: s.replies.map((r) => ({ ...r })),
      },
      keyboard: this.keyboard.saveState(),
      mouse: this.mouse?.saveState() ?? null,
    };
  }

  restoreState(state: I8042State): void {
    if (state.version !== I8042_STATE_VERSION) throw new Error(`i8042 state version ${state.version} is not ${I8042_STATE_VERSION}`);
    const c = state.controller;
    this.state = {
      ...c,
      ram: [...c.ram],
      outputBuffer: c.outputBuffer && { ...c.outputBuffer },
      replies: c.replies.map((r) => ({ ...r })),
    };
    this.keyboard.restoreState(state.keyboard);
    if (this.mouse && state.mouse) this.mouse.restoreState(state.mouse);
    this.updateIrqs();
  }

  private powerOnState(): I8042ControllerState {
    const ram = new Array<number>(32).fill(0);
    ram[0] = POST_COMMAND_BYTE;
    return {
      ram,
      outputPort: I8042OutputPort.ResetInactive,
      outputBuffer: null,
      lastRead: 0,
      lastWasCommand: false,
      pendingCommand: null,
      replies: [],
      breakPrefixSeen: false,
    };
  }

  private devices(): Ps2Device[] {
    return this.mouse ? [this.keyboard, this.mouse] : [this.keyboard];
  }

  private status(): number {
    const s = this.state;
    const out = s.outputBuffer;
    return (
      (out ? I8042Status.OutputFull : 0) |
      (this.commandByte & I8042CommandByte.System ? I8042Status.System : 0) |
      (s.lastWasCommand ? I8042Status.LastWasCommand : 0) |
      I8042Status.NotInhibited |
      (out?.aux ? I8042Status.AuxData : 0) |
      (out?.timeout ? I8042Status.Timeout : 0)
    );
  }

  private readData(): number {
    const s = this.state;
    if (s.outputBuffer) {
      s.lastRead = s.outputBuffer.byte;
      s.outputBuffer = null;
      this.updateIrqs();
      this.refill();
    }
    return s.lastRead;
  }

  private writeData(value: number): void {
    const s = this.state;
    s.lastWasCommand = false;
    const pending = s.pendingCommand;
    s.pendingCommand = null;
    if (pending === null) {
      this.keyboard.write(value);
    } else if (pending >= 0x60 && pending <= 0x7f) {
      s.ram[pending & 0x1f] = value;
      this.refill();
      this.updateIrqs();
    } else {
      I8042.DATA_COMMANDS[pending]!(this, value);
    }
  }

  private writeCommand(value: number): void {
    const s = this.state;
    s.lastWasCommand = true;
    s.pendingCommand = null;
    if (value >= 0x20 && value <= 0x3f) {
      this.reply(s.ram[value & 0x1f]!);
    } else if ((value >= 0x60 && value <= 0x7f) || I8042.DATA_COMMANDS[value]) {
      s.pendingCommand = value;
    } else if (value >= 0xf0) {
      this.pulseOutputPort(value & 0x0f);
    } else {
      I8042.COMMANDS[value]?.(this);
    }
  }

  private setCommandByteBits(bits: number, set: boolean): void {
    const ram = this.state.ram;
    ram[0] = set ? ram[0]! | bits : ram[0]! & ~bits;
    this.refill();
    this.updateIrqs();
  }

  private outputPortValue(): number {
    const out = this.state.outputBuffer;
    return (
      (this.state.outputPort & (I8042OutputPort.ResetInactive | I8042OutputPort.A20)) |
      OUTPUT_PORT_IDLE_LINES |
      (out && !out.aux ? I8042OutputPort.KeyboardBufferFull : 0) |
      (out?.aux ? I8042OutputPort.AuxBufferFull : 0)
    );
  }

  private writeOutputPort(value: number): void {
    this.state.outputPort = value & (I8042OutputPort.ResetInactive | I8042OutputPort.A20);
    this.applyOutputPort();
    if (!(value & I8042OutputPort.ResetInactive)) {
      // The reset line stays low only until the CPU has been reset; the firmware then raises it.
      this.state.outputPort |= I8042OutputPort.ResetInactive;
      this.options.requestCpuReset();
    }
  }

  /** Commands 0xF0-0xFF pulse the output port bits whose mask bit is 0 low for about 6 µs. */
  private pulseOutputPort(mask: number): void {
    if (!(mask & I8042OutputPort.ResetInactive)) this.options.requestCpuReset();
  }

  private applyOutputPort(): void {
    this.options.a20.set("keyboardController", (this.state.outputPort & I8042OutputPort.A20) !== 0);
  }

  private writeToAux(data: number): void {
    if (this.mouse) {
      this.mouse.write(data);
    } else {
      // Nobody clocks the byte in: the controller gives up and reports a timeout on the aux port.
      this.state.replies.push({ byte: Ps2Response.Resend, aux: true, timeout: true });
      this.refill();
    }
  }

  private reply(byte: number, aux = false): void {
    this.state.replies.push({ byte: byte & 0xff, aux, timeout: false });
    this.refill();
  }

  /** Moves the next byte into a free output buffer: controller replies first, then keyboard, then aux. */
  private refill(): void {
    const s = this.state;
    while (!s.outputBuffer) {
      const reply = s.replies.shift();
      if (reply) {
        s.outputBuffer = reply;
        break;
      }
      if (!(this.commandByte & I8042CommandByte.KeyboardDisabled) && this.keyboard.peekOutput() !== undefined) {
        const byte = this.keyboard.takeOutput()!;
        if (this.commandByte & I8042CommandByte.Translate) {
          if (byte === SET2_BREAK_PREFIX) {
            s.breakPrefixSeen = true;
            continue;
          }
          const translated = translateSet2Byte(byte) | (s.breakPrefixSeen ? 0x80 : 0);
          s.breakPrefixSeen = false;
          s.outputBuffer = { byte: translated, aux: false, timeout: false };
        } else {
          s.outputBuffer = { byte, aux: false, timeout: false };
        }
        break;
      }
      if (this.mouse && !(this.commandByte & I8042CommandByte.AuxDisabled) && this.mouse.peekOutput() !== undefined) {
        s.outputBuffer = { byte: this.mouse.takeOutput()!, aux: true, timeout: false };
        break;
      }
      return;
    }
    this.updateIrqs();
  }

  /** IRQ1 and IRQ12 follow the output buffer, each gated by its interrupt enable in the command byte. */
  private updateIrqs(): void {
    const out = this.state.outputBuffer;
    const keyboard = !!out && !out.aux && (this.commandByte & I8042CommandByte.KeyboardInterrupt) !== 0;
    const aux = !!out && out.aux && (this.commandByte & I8042CommandByte.AuxInterrupt) !== 0;
    if (keyboard !== this.irqLevels.keyboard) {
      this.irqLevels.keyboard = keyboard;
      this.options.keyboardIrq.setLevel(keyboard);
    }
    if (aux !== this.irqLevels.aux) {
      this.irqLevels.aux = aux;
      this.options.auxIrq.setLevel(aux);
    }
  }
}
