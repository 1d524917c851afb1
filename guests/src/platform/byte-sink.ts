/** Where a device's output characters go on the host side (a terminal, a log, a test buffer). */
export interface ByteSink {
  writeByte(byte: number): void;
}

/** Keeps everything written, for tests and for logs read after the fact. */
export class CollectingByteSink implements ByteSink {
  readonly bytes: number[] = [];

  writeByte(byte: number): void {
    this.bytes.push(byte & 0xff);
  }

  text(): string {
    return String.fromCharCode(...this.bytes);
  }

  clear(): void {
    this.bytes.length = 0;
  }
}

/** Anything with a Node-style `write(chunk)`, such as process.stdout. */
export interface ChunkWriter {
  write(chunk: Uint8Array): unknown;
}

/**
 * Forwards bytes to a stream, batched per line (and per turn of the event loop) so that a guest
 * printing one character per OUT does not cost one write call per character.
 */
export class StreamByteSink implements ByteSink {
  private pending: number[] = [];
  private flushQueued = false;

  constructor(private readonly stream: ChunkWriter) {}

  writeByte(byte: number): void {
    this.pending.push(byte & 0xff);
    if (byte === 0x0a) {
      this.flush();
    } else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  flush(): void {
    this.flushQueued = false;
    if (this.pending.length === 0) return;
    const chunk = Uint8Array.from(this.pending);
    this.pending = [];
    this.stream.write(chunk);
  }
}
