import { open, type FileHandle } from "node:fs/promises";
import type { LunStore } from "./lun-store.js";

/** Discards are written as zeros (Node has no fallocate hole punching); one shared buffer, never modified. */
const ZERO_CHUNK = new Uint8Array(1 << 20);

/**
 * A store in a regular file (a flat image: block N at byte N × block size), using positional reads and
 * writes on one descriptor so concurrent commands never share a file offset.
 */
export class FileLunStore implements LunStore {
  private length: number;

  private constructor(
    private readonly handle: FileHandle,
    byteLength: number,
    readonly path: string,
  ) {
    this.length = byteLength;
  }

  /** Opens an existing image; its size is the file's size. */
  static async open(path: string): Promise<FileLunStore> {
    const handle = await open(path, "r+");
    try {
      const { size } = await handle.stat();
      return new FileLunStore(handle, size, path);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Creates (or empties) an image of `byteLength` bytes; the file is sparse until written. */
  static async create(path: string, byteLength: number): Promise<FileLunStore> {
    const handle = await open(path, "w+");
    try {
      await handle.truncate(byteLength);
      return new FileLunStore(handle, byteLength, path);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  get byteLength(): number {
    return this.length;
  }

  async read(target: Uint8Array, position: number): Promise<void> {
    const first = await this.handle.read(target, 0, target.length, position);
    if (first.bytesRead === target.length) return;
    await this.readRest(target, position, first.bytesRead);
  }

  /** A short read means the file ends early (someone truncated it): rare, so kept off the common path. */
  private async readRest(target: Uint8Array, position: number, alreadyRead: number): Promise<void> {
    let done = alreadyRead;
    while (done < target.length) {
      const { bytesRead } = await this.handle.read(target, done, target.length - done, position + done);
      if (bytesRead === 0) {
        // Someone shortened the file under us: what is not there reads as unwritten blocks do.
        target.fill(0, done);
        return;
      }
      done += bytesRead;
    }
  }

  async write(source: Uint8Array, position: number): Promise<void> {
    let done = (await this.handle.write(source, 0, source.length, position)).bytesWritten;
    while (done < source.length) {
      const { bytesWritten } = await this.handle.write(source, done, source.length - done, position + done);
      done += bytesWritten;
    }
  }

  async flush(): Promise<void> {
    await this.handle.sync();
  }

  async discard(position: number, length: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const chunk = Math.min(ZERO_CHUNK.length, length - done);
      await this.write(chunk === ZERO_CHUNK.length ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, chunk), position + done);
      done += chunk;
    }
  }

  async resize(byteLength: number): Promise<void> {
    await this.handle.truncate(byteLength);
    this.length = byteLength;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
