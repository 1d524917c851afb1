/** A device on a PS/2 port, as the controller sees it: bytes in, a queue of bytes out. */
export interface Ps2Device {
  /** A byte the controller clocks out to the device. */
  write(byte: number): void;
  /** The next byte the device wants to send, without taking it. */
  peekOutput(): number | undefined;
  takeOutput(): number | undefined;
  /** The controller listens here to pull bytes as soon as its output buffer is free. */
  onOutput: (() => void) | undefined;
  reset(): void;
}

/** The common part of PS/2 devices: an output queue of limited depth and the last byte for RESEND. */
export class Ps2OutputQueue {
  bytes: number[] = [];
  lastSent = 0xfa;

  constructor(private readonly depth: number) {}

  get full(): boolean {
    return this.bytes.length >= this.depth;
  }

  push(...bytes: number[]): void {
    for (const byte of bytes) if (!this.full) this.bytes.push(byte & 0xff);
  }

  take(): number | undefined {
    const byte = this.bytes.shift();
    if (byte !== undefined) this.lastSent = byte;
    return byte;
  }

  clear(): void {
    this.bytes = [];
  }
}

export const Ps2Response = {
  Ack: 0xfa,
  Resend: 0xfe,
  SelfTestPassed: 0xaa,
  Echo: 0xee,
} as const;
