import type { Clock } from "@vmk/kernel";
import type { IrqLine } from "./irq-line.js";

/** An IRQ line for device tests: its level, and the clock times of its rising edges. */
export class RecordingIrqLine implements IrqLine {
  level = false;
  readonly risingEdges: number[] = [];

  constructor(private readonly clock: Clock) {}

  setLevel(asserted: boolean): void {
    if (asserted && !this.level) this.risingEdges.push(this.clock.now());
    this.level = asserted;
  }
}
