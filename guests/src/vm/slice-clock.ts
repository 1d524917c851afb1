import { VirtualClock, type Clock, type Nanoseconds, type TimerHandle, type TimerOptions } from "@vmk/kernel";

/**
 * The clock the machine's devices see. Time is counted in retired instructions while the processor
 * runs, so a guest that polls a device inside a slice (the PIT while it calibrates the TSC, a UART's
 * line status while it waits to transmit) sees it move in step with the time-stamp counter instead of
 * frozen for a slice and then jumping. Inside a slice this clock is ahead of its time line by the time
 * the instructions retired so far stand for, and timers set then are measured from there.
 *
 * On a virtual host clock the time line is that clock. On a real host clock it is the guest's own
 * virtual time line (`paced`), stepped by the real-time vCPU loop and kept from running ahead of the
 * host: the counter ticks once per instruction, and any catch-up with the host clock in the middle of
 * a run would show as a step in TSC, PIT and RTC together that a calibration loop takes for an SMI
 * (Linux's pit_calibrate_tsc gave up: "Marking TSC unstable"). The guest's time only jumps while it
 * is halted, when nobody is timing a loop.
 *
 * The slice's length is fixed when it starts (up to the next deadline then known), so a timer set
 * inside it for a moment it has already passed fires when the slice ends, stamped with its own
 * deadline: such a device can see time up to one slice (10 µs) earlier than at its last access.
 */
export class SliceClock implements Clock {
  readonly kind: Clock["kind"];
  /** On a real host clock: the guest's own time line, which the real-time vCPU loop moves. */
  readonly paced: VirtualClock | undefined;
  /** Called when a timer is set outside a slice (a host event reached a device while the vCPU slept). */
  onTimerSet: (() => void) | undefined;
  private readonly line: Clock;
  private sliceStart: number | undefined;

  constructor(
    base: Clock,
    /** Instructions retired since power-on (the processor's counter, settled at block ends). */
    private readonly retired: () => number,
    private readonly nsPerInstruction: number,
  ) {
    this.kind = base.kind;
    this.paced = base.kind === "real" ? new VirtualClock(0) : undefined;
    this.line = this.paced ?? base;
  }

  /** Guest time the running slice has covered so far; 0 outside a slice. */
  get sliceOffset(): Nanoseconds {
    return this.sliceStart === undefined ? 0 : (this.retired() - this.sliceStart) * this.nsPerInstruction;
  }

  now(): Nanoseconds {
    return this.line.now() + this.sliceOffset;
  }

  setTimer(delay: Nanoseconds, callback: () => void, options?: TimerOptions): TimerHandle {
    const inSlice = this.sliceStart !== undefined;
    const timer = this.line.setTimer(delay + this.sliceOffset, callback, options);
    if (!inSlice) this.onTimerSet?.();
    return timer;
  }

  pendingTimers(): number {
    return this.line.pendingTimers();
  }

  /** A slice starts: from here until `endSlice`, retired instructions move this clock. */
  beginSlice(): void {
    this.sliceStart = this.retired();
  }

  endSlice(): void {
    this.sliceStart = undefined;
  }
}
