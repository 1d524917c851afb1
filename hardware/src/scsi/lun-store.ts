/**
 * Where a logical unit's blocks live. Positions and lengths are in bytes and always whole blocks; the
 * logical unit checks ranges before calling. A rejected promise is a medium error for the command.
 */
export interface LunStore {
  /** Current size in bytes. */
  readonly byteLength: number;
  /** Fills `target` entirely from `position`. */
  read(target: Uint8Array, position: number): Promise<void>;
  write(source: Uint8Array, position: number): Promise<void>;
  /** Makes every completed write durable (SYNCHRONIZE CACHE, FUA). */
  flush(): Promise<void>;
  /** Deallocates a range; it reads back as zeros afterwards. */
  discard(position: number, length: number): Promise<void>;
  resize(byteLength: number): Promise<void>;
  close(): Promise<void>;
}

/** A store refused a write for lack of space (a thin-provisioned file on a full file system). */
export function isOutOfSpace(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "ENOSPC";
}
