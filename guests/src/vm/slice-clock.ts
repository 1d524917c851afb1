import type { Clock, Nanoseconds, TimerHandle, TimerOptions } from "@vmk/kernel";

/**
 * The clock the machine's devices see. On a virtual clock time stands still while a slice runs, but the
 * processor's time-stamp counter does not: a guest that polls a device inside a slice (the PIT while it
 * calibrates the TSC, a UART's line status while it waits to transmit) would otherwise see the device
 * frozen for up to a slice and then jump. So inside a slice this clock is ahead of the host clock by
 * the time the instructions retired so far stand for, and timers set then are measured from there.
 * On a real clock, time moves during the slice by itself and nothing is added.
 * The slice's length is fixed when it starts (up to the next deadline then known), so a timer set
 * inside it for a moment it has already passed fires when the slice ends, stamped with its own
 * deadline: such a device can see time up to one slice (10 µs) earlier than at its last access.
 */
export class SliceClock implements Clock {
  readonly kind: Clock["kind"];
  private sliceStart: number | undefined;

  constructor(
    private readonly base: Clock,
    /** Instructions retired since power-on (the processor's counter, settled at block ends). */
    private readonly retired: () => number,
    private readonly nsPerInstruction: number,
  ) {
    this.kind = base.kind;
  }

  /** Guest time the running slice has covered so far; 0 outside a slice and on a real clock. */
  get sliceOffset(): Nanoseconds {
    return this.sliceStart === undefined ? 0 : (this.retired() - this.sliceStart) * this.nsPerInstruction;
  }

  now(): Nanoseconds {
    return this.base.now() + this.sliceOffset;
  }

  setTimer(delay: Nanoseconds, callback: () => void, options?: TimerOptions): TimerHandle {
    return this.base.setTimer(delay + this.sliceOffset, callback, options);
  }

  pendingTimers(): number {
    return this.base.pendingTimers();
  }

  /** A slice starts: from here until `endSlice`, retired instructions move this clock. */
  beginSlice(): void {
    if (this.kind === "virtual") this.sliceStart = this.retired();
  }

  endSlice(): void {
    this.sliceStart = undefined;
  }
}
