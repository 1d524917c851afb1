import type { DmaPort } from "@vmk/kernel";
import { FrameFlags, MfiStatus, SGE32_SIZE, SGE64_SIZE } from "./mfi-frames.js";

export interface ScatterGatherElement {
  address: number;
  length: number;
}

export type SglDecode = { ok: true; elements: ScatterGatherElement[]; total: number } | { ok: false; status: MfiStatus };

export function sgeSize(flags: number): number {
  return flags & FrameFlags.SGL64 ? SGE64_SIZE : SGE32_SIZE;
}

/** Bytes of frame the SGL of `count` elements at `offset` occupies: what must be fetched. */
export function sglEnd(offset: number, count: number, flags: number): number {
  return offset + count * sgeSize(flags);
}

/**
 * Decodes the SGL of a fetched frame: 32-bit (address, length) or, with MFI_FRAME_SGL64, 64-bit
 * address and 32-bit length. IEEE (skinny) SGEs and lists longer than the firmware's limit are invalid.
 */
export function decodeSgl(frame: DataView, offset: number, count: number, flags: number, maxElements: number): SglDecode {
  if (flags & FrameFlags.IEEE_SGL || count > maxElements) return { ok: false, status: MfiStatus.INVALID_SGL };
  const size = sgeSize(flags);
  if (offset + count * size > frame.byteLength) return { ok: false, status: MfiStatus.INVALID_SGL };
  const elements: ScatterGatherElement[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const at = offset + i * size;
    const address = flags & FrameFlags.SGL64 ? frame.getUint32(at, true) + frame.getUint32(at + 4, true) * 2 ** 32 : frame.getUint32(at, true);
    const length = frame.getUint32(at + size - 4, true);
    elements.push({ address, length });
    total += length;
  }
  return { ok: true, elements, total };
}

/** Reads `length` bytes from the buffers the SGL describes; undefined if any piece is blocked. */
export function gather(dma: DmaPort, elements: readonly ScatterGatherElement[], length: number): Uint8Array | undefined {
  const data = new Uint8Array(length);
  return gatherInto(dma, elements, data) ? data : undefined;
}

/** Fills `into` from the buffers the SGL describes, in order; false if any piece is blocked or the SGL is short. */
export function gatherInto(dma: DmaPort, elements: readonly ScatterGatherElement[], into: Uint8Array): boolean {
  const length = into.length;
  let done = 0;
  for (const element of elements) {
    if (done >= length) break;
    const piece = Math.min(element.length, length - done);
    if (piece === 0) continue;
    if (!dma.read(element.address, piece === length ? into : into.subarray(done, done + piece))) return false;
    done += piece;
  }
  return done === length;
}

/** Writes `data` into the buffers the SGL describes, in order; false if any piece is blocked or the SGL is short. */
export function scatter(dma: DmaPort, elements: readonly ScatterGatherElement[], data: Uint8Array): boolean {
  let done = 0;
  for (const element of elements) {
    if (done >= data.length) break;
    const piece = Math.min(element.length, data.length - done);
    if (piece === 0) continue;
    if (!dma.write(element.address, piece === data.length ? data : data.subarray(done, done + piece))) return false;
    done += piece;
  }
  return done === data.length;
}
