import type { VmConsoleLine } from "@vmk/kernel";
import type { SerialBackend, SerialInput } from "../platform/uart/serial-backend.js";

const DEFAULT_SCROLLBACK_BYTES = 64 * 1024;

/**
 * The host end of a guest serial port as the console uses it: the guest's characters go to every
 * listener (batched per line and per turn of the event loop) and into a bounded scrollback; what the
 * console sends is put on the wire towards the guest, held until the UART is connected.
 */
export class SerialConsoleLine implements SerialBackend, VmConsoleLine {
  private input: SerialInput | undefined;
  private readonly early: Array<Uint8Array | string> = [];
  private readonly listeners = new Set<(bytes: Uint8Array) => void>();
  private readonly history: Uint8Array;
  private historyEnd = 0;
  private historyWrapped = false;
  private pending: number[] = [];
  private flushQueued = false;

  constructor(scrollbackBytes = DEFAULT_SCROLLBACK_BYTES) {
    this.history = new Uint8Array(scrollbackBytes);
  }

  // ---- SerialBackend (the UART's side) ----

  transmit(byte: number): void {
    const value = byte & 0xff;
    this.history[this.historyEnd] = value;
    this.historyEnd++;
    if (this.historyEnd === this.history.length) {
      this.historyEnd = 0;
      this.historyWrapped = true;
    }
    if (this.listeners.size === 0) return;
    this.pending.push(value);
    if (value === 0x0a) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  connect(input: SerialInput): void {
    this.input = input;
    for (const chunk of this.early.splice(0)) input.receive(chunk);
  }

  // ---- VmConsoleLine (the console's side) ----

  send(bytes: Uint8Array | string): void {
    if (this.input) this.input.receive(bytes);
    else this.early.push(bytes);
  }

  onOutput(listener: (bytes: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  scrollback(): Uint8Array {
    if (!this.historyWrapped) return this.history.slice(0, this.historyEnd);
    const out = new Uint8Array(this.history.length);
    out.set(this.history.subarray(this.historyEnd));
    out.set(this.history.subarray(0, this.historyEnd), this.history.length - this.historyEnd);
    return out;
  }

  /** The scrollback as text (Latin-1: one character per byte, as a terminal log would keep it). */
  text(): string {
    const bytes = this.scrollback();
    let out = "";
    for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
    return out;
  }

  flush(): void {
    this.flushQueued = false;
    if (this.pending.length === 0) return;
    const chunk = Uint8Array.from(this.pending);
    this.pending = [];
    for (const listener of [...this.listeners]) listener(chunk);
  }
}
