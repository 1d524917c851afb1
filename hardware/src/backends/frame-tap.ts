import type { Nanoseconds } from "@vmk/kernel";

/** Which way a frame travelled through a backend: from end A to end B, or back. */
export type FrameDirection = "a-to-b" | "b-to-a";

/** Sees every frame a backend carries (a pcap writer, a test's recorder). It must not modify the frame. */
export interface FrameTap {
  onFrame(frame: Uint8Array, direction: FrameDirection, time: Nanoseconds): void;
}

export interface DirectionCounters {
  frames: number;
  bytes: number;
  /** Sent while there was no carrier, or still in flight when the cable was pulled. */
  dropped: number;
}

export function emptyDirectionCounters(): DirectionCounters {
  return { frames: 0, bytes: 0, dropped: 0 };
}
