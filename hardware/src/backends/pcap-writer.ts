import { closeSync, openSync, writeSync } from "node:fs";
import type { Nanoseconds } from "@vmk/kernel";
import type { FrameDirection, FrameTap } from "./frame-tap.js";
import { PCAP_DEFAULT_SNAPLEN, encodeGlobalHeader, encodeRecord } from "./pcap-format.js";

export interface PcapWriterOptions {
  /** Nanosecond timestamps (magic 0xa1b23c4d, the default) or microseconds (0xa1b2c3d4). */
  nanosecond?: boolean;
  snaplen?: number;
  /**
   * Seconds since the Unix epoch added to host-clock time to make the capture's absolute timestamps
   * (for instance the wall time at which the clock started). Default 0: captures start at the epoch,
   * as the host clock does. Kept apart from the nanoseconds, which a double holds exactly only up to
   * about 104 days.
   */
  epochOffsetSeconds?: number;
  /** Record only one direction of the wire (default both). */
  direction?: FrameDirection;
}

/**
 * A pcap tap: add it to a wire and every frame crossing it is appended to the file. Each record goes
 * out in one synchronous write, so the file is a valid capture at any moment, even while the wire
 * is still carrying traffic or after the process dies.
 */
export class PcapWriter implements FrameTap {
  readonly nanosecond: boolean;
  readonly snaplen: number;
  private readonly offsetSeconds: number;
  private readonly offsetNanoseconds: number;
  private readonly direction: FrameDirection | undefined;
  private fd: number | undefined;
  private written = 0;

  constructor(
    readonly path: string,
    options: PcapWriterOptions = {},
  ) {
    this.nanosecond = options.nanosecond ?? true;
    this.snaplen = options.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    const offset = options.epochOffsetSeconds ?? 0;
    this.offsetSeconds = Math.floor(offset);
    this.offsetNanoseconds = Math.round((offset - this.offsetSeconds) * 1e9);
    this.direction = options.direction;
    this.fd = openSync(path, "w");
    writeAll(this.fd, encodeGlobalHeader(this.nanosecond, this.snaplen));
  }

  get framesWritten(): number {
    return this.written;
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  onFrame(frame: Uint8Array, direction: FrameDirection, time: Nanoseconds): void {
    if (this.direction !== undefined && direction !== this.direction) return;
    this.write(frame, time);
  }

  /** Appends one frame captured at host-clock `time`. */
  write(frame: Uint8Array, time: Nanoseconds): void {
    if (this.fd === undefined) throw new Error(`pcap ${this.path} is closed`);
    const whole = Math.max(0, Math.round(time)) + this.offsetNanoseconds;
    const seconds = Math.floor(whole / 1e9);
    writeAll(this.fd, encodeRecord(this.offsetSeconds + seconds, whole - seconds * 1e9, frame, this.nanosecond, this.snaplen));
    this.written++;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}
