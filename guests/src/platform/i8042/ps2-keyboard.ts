import { Ps2OutputQueue, Ps2Response, type Ps2Device } from "./ps2-device.js";
import { translateSet2Sequence } from "./scancode-translation.js";

export const PS2_KEYBOARD_STATE_VERSION = 1;

export interface Ps2KeyboardState {
  version: typeof PS2_KEYBOARD_STATE_VERSION;
  output: number[];
  lastSent: number;
  scanning: boolean;
  scancodeSet: 1 | 2;
  leds: number;
  typematic: number;
  /** A command that waits for its argument byte. */
  awaitingArgument: number | null;
}

const KEYBOARD_BUFFER_DEPTH = 16;
/** MF2 keyboard identity. */
const KEYBOARD_ID = [0xab, 0x83] as const;
/** Typematic 10.9 characters/s after 500 ms, the power-on default. */
const DEFAULT_TYPEMATIC = 0x2b;
/** The key-detection-error/overrun code in sets 2 and 1. */
const OVERRUN_CODE = { 1: 0xff, 2: 0x00 } as const;

type KeyboardCommand = (keyboard: Ps2Keyboard) => void;

/**
 * An MF2 keyboard on the PS/2 keyboard port: reset with basic assurance test, identify, LEDs,
 * typematic rate, scan code sets 1 and 2, echo, resend, enable and disable. Host key events are given
 * as set 2 sequences and sent in the set the guest selected.
 */
export class Ps2Keyboard implements Ps2Device {
  state: Ps2KeyboardState = Ps2Keyboard.powerOnState();
  onOutput: (() => void) | undefined;
  private readonly queue = new Ps2OutputQueue(KEYBOARD_BUFFER_DEPTH);

  private static readonly COMMANDS: Readonly<Record<number, KeyboardCommand>> = {
    0xff: (k) => {
      k.restoreDefaults();
      k.queue.clear();
      k.send(Ps2Response.Ack, Ps2Response.SelfTestPassed);
    },
    0xfe: (k) => k.send(k.queue.lastSent),
    0xf6: (k) => {
      k.restoreDefaults();
      k.send(Ps2Response.Ack);
    },
    0xf5: (k) => {
      k.restoreDefaults();
      k.state.scanning = false;
      k.send(Ps2Response.Ack);
    },
    0xf4: (k) => {
      k.queue.clear();
      k.state.scanning = true;
      k.send(Ps2Response.Ack);
    },
    0xf3: (k) => k.expectArgument(0xf3),
    0xf2: (k) => k.send(Ps2Response.Ack, ...KEYBOARD_ID),
    0xf0: (k) => k.expectArgument(0xf0),
    0xee: (k) => k.send(Ps2Response.Echo),
    0xed: (k) => k.expectArgument(0xed),
  };

  private static readonly ARGUMENTS: Readonly<Record<number, (keyboard: Ps2Keyboard, argument: number) => void>> = {
    0xed: (k, leds) => {
      k.state.leds = leds & 0x07;
      k.send(Ps2Response.Ack);
    },
    0xf3: (k, rate) => {
      k.state.typematic = rate & 0x7f;
      k.send(Ps2Response.Ack);
    },
    0xf0: (k, set) => {
      if (set === 0) k.send(Ps2Response.Ack, k.state.scancodeSet);
      else if (set === 1 || set === 2) {
        k.state.scancodeSet = set;
        k.send(Ps2Response.Ack);
      } else k.send(Ps2Response.Resend); // set 3 is not offered
    },
  };

  static powerOnState(): Ps2KeyboardState {
    return {
      version: PS2_KEYBOARD_STATE_VERSION,
      output: [],
      lastSent: Ps2Response.Ack,
      scanning: true,
      scancodeSet: 2,
      leds: 0,
      typematic: DEFAULT_TYPEMATIC,
      awaitingArgument: null,
    };
  }

  write(byte: number): void {
    const pending = this.state.awaitingArgument;
    // A command byte where an argument was expected abandons the old command, as keyboards do.
    if (pending !== null && byte < 0xed) {
      this.state.awaitingArgument = null;
      Ps2Keyboard.ARGUMENTS[pending]!(this, byte);
      return;
    }
    this.state.awaitingArgument = null;
    const command = Ps2Keyboard.COMMANDS[byte];
    if (command) command(this);
    else this.send(Ps2Response.Resend);
  }

  /** A key event from the host as set 2 bytes (make: `1C`, break: `F0 1C`). Ignored while scanning is off. */
  sendScancodes(set2: readonly number[]): void {
    if (!this.state.scanning) return;
    const bytes = this.state.scancodeSet === 1 ? translateSet2Sequence(set2) : [...set2];
    if (this.queue.bytes.length + bytes.length > KEYBOARD_BUFFER_DEPTH - 1) {
      if (!this.queue.full) this.send(OVERRUN_CODE[this.state.scancodeSet]);
      return;
    }
    this.send(...bytes);
  }

  get leds(): number {
    return this.state.leds;
  }

  peekOutput(): number | undefined {
    return this.queue.bytes[0];
  }

  takeOutput(): number | undefined {
    return this.queue.take();
  }

  reset(): void {
    this.queue.clear();
    this.state = Ps2Keyboard.powerOnState();
  }

  saveState(): Ps2KeyboardState {
    return { ...this.state, output: [...this.queue.bytes], lastSent: this.queue.lastSent };
  }

  restoreState(state: Ps2KeyboardState): void {
    if (state.version !== PS2_KEYBOARD_STATE_VERSION) throw new Error(`PS/2 keyboard state version ${state.version} is not ${PS2_KEYBOARD_STATE_VERSION}`);
    this.state = { ...state, output: [] };
    this.queue.bytes = [...state.output];
    this.queue.lastSent = state.lastSent;
  }

  private restoreDefaults(): void {
    this.state.scanning = true;
    this.state.scancodeSet = 2;
    this.state.leds = 0;
    this.state.typematic = DEFAULT_TYPEMATIC;
  }

  private expectArgument(command: number): void {
    this.state.awaitingArgument = command;
    this.send(Ps2Response.Ack);
  }

  private send(...bytes: number[]): void {
    this.queue.push(...bytes);
    this.onOutput?.();
  }
}
