import { FrameFlags, Header } from "./mfi-frames.js";
import type { FrameContext } from "./state.js";

/** A frame as the firmware fetched it from host memory: its bytes and the fields every handler reads. */
export class FetchedFrame {
  readonly view: DataView;

  constructor(
    /** Where it was fetched from; a reused fetch buffer is re-aimed at each frame. */
    public address: number,
    readonly bytes: Uint8Array,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get command(): number {
    return this.bytes[Header.COMMAND]!;
  }
  get senseLength(): number {
    return this.bytes[Header.SENSE_LENGTH]!;
  }
  get targetId(): number {
    return this.bytes[Header.TARGET_ID]!;
  }
  get lun(): number {
    return this.bytes[Header.LUN]!;
  }
  get cdbLength(): number {
    return this.bytes[Header.CDB_LENGTH]!;
  }
  get sgeCount(): number {
    return this.bytes[Header.SGE_COUNT]!;
  }
  get flags(): number {
    return this.view.getUint16(Header.FLAGS, true);
  }
  get dataLength(): number {
    return this.u32(Header.DATA_LENGTH);
  }
  get context(): FrameContext {
    return { low: this.u32(Header.CONTEXT), high: this.u32(Header.CONTEXT_HIGH) };
  }

  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  /** A 64-bit field (low word first); the high word only counts when `wide`. */
  u64(offset: number, wide = true): number {
    return this.u32(offset) + (wide ? this.u32(offset + 4) * 2 ** 32 : 0);
  }

  /** The sense buffer of an I/O or pass-through frame (same place in both), 64-bit with MFI_FRAME_SENSE64. */
  get senseAddress(): number {
    return this.u64(24, (this.flags & FrameFlags.SENSE64) !== 0);
  }
}
