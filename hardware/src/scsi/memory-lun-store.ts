import type { LunStore } from "./lun-store.js";

/** A store in memory, for tests and scratch disks. Calls complete on a later microtask, like real I/O. */
export class MemoryLunStore implements LunStore {
  private bytes: Uint8Array;
  /** Counts flushes, so tests can tell SYNCHRONIZE CACHE and FUA reached the store. */
  flushes = 0;

  constructor(byteLength: number) {
    this.bytes = new Uint8Array(byteLength);
  }

  get byteLength(): number {
    return this.bytes.length;
  }

  /** The live contents, for test assertions. */
  get contents(): Uint8Array {
    return this.bytes;
  }

  async read(target: Uint8Array, position: number): Promise<void> {
    this.checkRange(position, target.length);
    target.set(this.bytes.subarray(position, position + target.length));
  }

  async write(source: Uint8Array, position: number): Promise<void> {
    this.checkRange(position, source.length);
    this.bytes.set(source, position);
  }

  async flush(): Promise<void> {
    this.flushes++;
  }

  async discard(position: number, length: number): Promise<void> {
    this.checkRange(position, length);
    this.bytes.fill(0, position, position + length);
  }

  async resize(byteLength: number): Promise<void> {
    const resized = new Uint8Array(byteLength);
    resized.set(this.bytes.subarray(0, Math.min(byteLength, this.bytes.length)));
    this.bytes = resized;
  }

  async close(): Promise<void> {}

  private checkRange(position: number, length: number): void {
    if (position < 0 || position + length > this.bytes.length) {
      throw new RangeError(`memory store access ${position}+${length} beyond ${this.bytes.length} bytes`);
    }
  }
}
