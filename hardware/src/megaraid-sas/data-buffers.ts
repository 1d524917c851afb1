/** Transfers above this size get a buffer of their own: pooling them would pin a lot of memory for rare commands. */
const LARGEST_POOLED = 1 << 20;
/** The pool never holds more than this in idle buffers. */
const POOL_BYTES = 8 << 20;

/**
 * The firmware's staging buffers for data moving between host memory (through the DMA port) and a
 * logical unit, reused from command to command: a fresh buffer per I/O costs an allocation, its
 * zeroing, page faults when the file system writes into it, and garbage collection afterwards.
 * A buffer goes back only once nothing uses it any more (the logical unit has answered).
 */
export class DataBuffers {
  private readonly free = new Map<number, Uint8Array[]>();
  private idleBytes = 0;

  /** A buffer of exactly `length` bytes; its contents are whatever the last user left. */
  take(length: number): Uint8Array {
    const list = this.free.get(length);
    if (list !== undefined && list.length > 0) {
      this.idleBytes -= length;
      return list.pop()!;
    }
    return new Uint8Array(length);
  }

  give(buffer: Uint8Array): void {
    const length = buffer.length;
    if (length === 0 || length > LARGEST_POOLED || this.idleBytes + length > POOL_BYTES) return;
    let list = this.free.get(length);
    if (list === undefined) {
      list = [];
      this.free.set(length, list);
    }
    list.push(buffer);
    this.idleBytes += length;
  }

  get pooledBytes(): number {
    return this.idleBytes;
  }
}
