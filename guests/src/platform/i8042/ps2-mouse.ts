import { Ps2OutputQueue, Ps2Response, type Ps2Device } from "./ps2-device.js";

export const PS2_MOUSE_STATE_VERSION = 1;

export interface Ps2MouseState {
  version: typeof PS2_MOUSE_STATE_VERSION;
  output: number[];
  lastSent: number;
  reporting: boolean;
  remote: boolean;
  wrap: boolean;
  sampleRate: number;
  resolution: number;
  scaling21: boolean;
  buttons: number;
  /** Movement not yet reported (remote mode, or while reporting is off). */
  dx: number;
  dy: number;
  awaitingArgument: number | null;
}

const MOUSE_BUFFER_DEPTH = 16;
const STANDARD_MOUSE_ID = 0x00;
const DEFAULT_SAMPLE_RATE = 100;
/** 4 counts per millimetre. */
const DEFAULT_RESOLUTION = 2;
const WRAP_EXITS = [0xec, 0xff];

export const MouseButton = { Left: 0x01, Right: 0x02, Middle: 0x04 } as const;

type MouseCommand = (mouse: Ps2Mouse) => void;

/**
 * A standard two/three-button PS/2 mouse (ID 00): stream and remote modes, wrap mode, sample rate,
 * resolution, scaling, status request, and three-byte movement packets.
 */
export class Ps2Mouse implements Ps2Device {
  state: Ps2MouseState = Ps2Mouse.powerOnState();
  onOutput: (() => void) | undefined;
  private readonly queue = new Ps2OutputQueue(MOUSE_BUFFER_DEPTH);

  private static readonly COMMANDS: Readonly<Record<number, MouseCommand>> = {
    0xff: (m) => {
      m.restoreDefaults();
      m.queue.clear();
      m.send(Ps2Response.Ack, Ps2Response.SelfTestPassed, STANDARD_MOUSE_ID);
    },
    0xfe: (m) => m.send(m.queue.lastSent),
    0xf6: (m) => {
      m.restoreDefaults();
      m.send(Ps2Response.Ack);
    },
    0xf5: (m) => {
      m.state.reporting = false;
      m.send(Ps2Response.Ack);
    },
    0xf4: (m) => {
      m.state.reporting = true;
      m.send(Ps2Response.Ack);
    },
    0xf3: (m) => m.expectArgument(0xf3),
    0xf2: (m) => m.send(Ps2Response.Ack, STANDARD_MOUSE_ID),
    0xf0: (m) => {
      m.state.remote = true;
      m.send(Ps2Response.Ack);
    },
    0xee: (m) => {
      m.state.wrap = true;
      m.send(Ps2Response.Ack);
    },
    0xec: (m) => {
      m.state.wrap = false;
      m.send(Ps2Response.Ack);
    },
    0xeb: (m) => {
      m.send(Ps2Response.Ack);
      m.sendPacket();
    },
    0xea: (m) => {
      m.state.remote = false;
      m.send(Ps2Response.Ack);
    },
    0xe9: (m) => m.send(Ps2Response.Ack, m.statusByte(), m.state.resolution, m.state.sampleRate),
    0xe8: (m) => m.expectArgument(0xe8),
    0xe7: (m) => {
      m.state.scaling21 = true;
      m.send(Ps2Response.Ack);
    },
    0xe6: (m) => {
      m.state.scaling21 = false;
      m.send(Ps2Response.Ack);
    },
  };

  static powerOnState(): Ps2MouseState {
    return {
      version: PS2_MOUSE_STATE_VERSION,
      output: [],
      lastSent: Ps2Response.Ack,
      reporting: false,
      remote: false,
      wrap: false,
      sampleRate: DEFAULT_SAMPLE_RATE,
      resolution: DEFAULT_RESOLUTION,
      scaling21: false,
      buttons: 0,
      dx: 0,
      dy: 0,
      awaitingArgument: null,
    };
  }

  write(byte: number): void {
    const s = this.state;
    if (s.wrap && !WRAP_EXITS.includes(byte)) {
      this.send(byte);
      return;
    }
    const pending = s.awaitingArgument;
    s.awaitingArgument = null;
    if (pending === 0xf3) {
      s.sampleRate = byte;
      this.send(Ps2Response.Ack);
    } else if (pending === 0xe8) {
      s.resolution = byte & 3;
      this.send(Ps2Response.Ack);
    } else {
      const command = Ps2Mouse.COMMANDS[byte];
      if (command) command(this);
      else this.send(Ps2Response.Resend);
    }
  }

  /** Host input: relative motion (y up is positive, as PS/2 reports it) and the buttons now held. */
  move(dx: number, dy: number, buttons: number): void {
    const s = this.state;
    s.dx += dx;
    s.dy += dy;
    s.buttons = buttons & 7;
    if (s.reporting && !s.remote && !s.wrap) this.sendPacket();
  }

  peekOutput(): number | undefined {
    return this.queue.bytes[0];
  }

  takeOutput(): number | undefined {
    return this.queue.take();
  }

  reset(): void {
    this.queue.clear();
    this.state = Ps2Mouse.powerOnState();
  }

  saveState(): Ps2MouseState {
    return { ...this.state, output: [...this.queue.bytes], lastSent: this.queue.lastSent };
  }

  restoreState(state: Ps2MouseState): void {
    if (state.version !== PS2_MOUSE_STATE_VERSION) throw new Error(`PS/2 mouse state version ${state.version} is not ${PS2_MOUSE_STATE_VERSION}`);
    this.state = { ...state, output: [] };
    this.queue.bytes = [...state.output];
    this.queue.lastSent = state.lastSent;
  }

  private restoreDefaults(): void {
    const s = this.state;
    s.reporting = false;
    s.remote = false;
    s.wrap = false;
    s.sampleRate = DEFAULT_SAMPLE_RATE;
    s.resolution = DEFAULT_RESOLUTION;
    s.scaling21 = false;
    s.dx = 0;
    s.dy = 0;
  }

  private statusByte(): number {
    const s = this.state;
    // The status byte reports buttons as left in bit 2, middle in bit 1, right in bit 0.
    const buttons = (s.buttons & MouseButton.Left ? 4 : 0) | (s.buttons & MouseButton.Middle ? 2 : 0) | (s.buttons & MouseButton.Right ? 1 : 0);
    return (s.remote ? 0x40 : 0) | (s.reporting ? 0x20 : 0) | (s.scaling21 ? 0x10 : 0) | buttons;
  }

  /** One movement packet; motion beyond the 9-bit range is clipped and flagged as overflow. */
  private sendPacket(): void {
    const s = this.state;
    const clip = (v: number) => Math.max(-256, Math.min(255, v));
    const dx = clip(s.dx);
    const dy = clip(s.dy);
    const header =
      s.buttons | 0x08 | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0) | (dx !== s.dx ? 0x40 : 0) | (dy !== s.dy ? 0x80 : 0);
    s.dx = 0;
    s.dy = 0;
    if (this.queue.bytes.length + 3 > MOUSE_BUFFER_DEPTH) return; // a packet is sent whole or not at all
    this.send(header, dx & 0xff, dy & 0xff);
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
