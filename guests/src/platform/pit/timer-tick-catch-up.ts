import type { IrqLine } from "../irq-line.js";
import type { PicPair } from "../pic/pic-pair.js";
import type { PitCounter } from "./pit-counter.js";

export interface TimerTickCatchUpState {
  backlog: number;
  /** The counter period the backlog was counted at. */
  period: number;
}

/** Ticks held back at most (4 s at Linux's HZ=250): beyond that a guest loses them, as it would on hardware. */
export const MAX_TIMER_TICK_BACKLOG = 1000;

/**
 * The wire from PIT counter 0 to IRQ0, with the catch-up VMware's monitors do for periodic timer
 * interrupts. An 8259 input latches one edge; a tick that arrives while the previous one has not been
 * taken yet (the guest had interrupts off for longer than a period, e.g. Linux busy-waiting on the
 * serial console's transmitter with interrupts disabled) is lost on real hardware, and a guest that
 * counts ticks as time (Linux's PIT clocksource, jiffies) falls behind. Here such ticks are counted and
 * handed to the guest one by one, as fresh edges, each time the PIC takes the previous one; they run
 * at once after the handler's EOI, so the guest catches up as soon as it has interrupts on again.
 * Only a periodic count (modes 2 and 3) with IRQ0 unmasked builds a backlog: a one-shot count is
 * re-armed by the guest, which notices late events itself, and a masked IRQ0 is not wanted.
 */
export class TimerTickCatchUp implements IrqLine {
  private level = false;
  private waitingWhenDropped = false;
  private heldBack = 0;
  /** The count the backlog was built at: ticks of another period are not owed. */
  private heldBackPeriod = 0;

  private counter: PitCounter | undefined;

  constructor(
    private readonly pic: PicPair,
    private readonly irq: number,
  ) {}

  /** The counter whose OUT this wire carries (the PIT is built after its output lines). */
  drivenBy(counter: PitCounter): void {
    this.counter = counter;
  }

  /** Ticks waiting to be delivered. */
  get backlog(): number {
    return this.heldBack;
  }

  set backlog(ticks: number) {
    this.heldBack = Math.max(0, Math.min(MAX_TIMER_TICK_BACKLOG, Math.floor(ticks)));
  }

  saveState(): TimerTickCatchUpState {
    return { backlog: this.heldBack, period: this.heldBackPeriod };
  }

  restoreState(state: TimerTickCatchUpState | undefined): void {
    this.backlog = state?.backlog ?? 0;
    this.heldBackPeriod = state?.period ?? 0;
  }

  setLevel(asserted: boolean): void {
    // OUT drops for a clock before each periodic edge, which withdraws the untaken request from the
    // 8259's IRR: whether a tick was still waiting is decided as the line falls.
    if (!asserted && this.level) this.waitingWhenDropped = this.pic.edgeWaiting(this.irq);
    const waiting = this.waitingWhenDropped || this.pic.edgeWaiting(this.irq);
    if (asserted && !this.level && waiting && this.periodic() && !this.pic.masked(this.irq)) {
      const period = this.counter!.state.period;
      if (period !== this.heldBackPeriod) this.heldBack = 0;
      this.heldBackPeriod = period;
      this.backlog = this.heldBack + 1;
    }
    if (asserted) this.waitingWhenDropped = false;
    this.level = asserted;
    this.pic.setIrq(this.irq, asserted);
  }

  /** The PIC took a request from `irq`: one held-back tick becomes the next edge. */
  acknowledged(irq: number): void {
    if (irq !== this.irq || this.heldBack === 0) return;
    if (!this.periodic() || this.counter!.state.period !== this.heldBackPeriod) {
      this.heldBack = 0;
      return;
    }
    this.heldBack--;
    this.pic.setIrq(this.irq, false);
    this.pic.setIrq(this.irq, true);
    this.level = true;
  }

  private periodic(): boolean {
    const counter = this.counter;
    if (counter === undefined || !counter.state.counting) return false;
    return counter.mode === 2 || counter.mode === 3;
  }
}
