import type { Clock, TimerHandle } from "@vmk/kernel";
import type { IrqLine } from "../irq-line.js";
import { PortRegisterFile } from "../port-register-file.js";
import { PitCounter, powerOnPitCounter, type PitCounterState } from "./pit-counter.js";
import { nsAtPitTick, pitTicksAt } from "./pit-time.js";

export const PIT_STATE_VERSION = 1;

export interface PitState {
  version: typeof PIT_STATE_VERSION;
  counters: PitCounterState[];
}

export interface PitOptions {
  clock: Clock;
  /** OUT of each counter, where the board connects it (on a PC: counter 0 to IRQ0, the others to no IRQ). */
  outputs?: readonly (IrqLine | undefined)[];
}

const READ_BACK = 0xc0;
const READ_BACK_NO_COUNT = 0x20;
const READ_BACK_NO_STATUS = 0x10;

/**
 * Intel 8254 programmable interval timer at 0x40-0x43, clocked at 1.193182 MHz from the VM clock.
 * Counts are computed from time on demand; a timer is armed only for OUT rising edges that drive an
 * interrupt line.
 */
export class Pit {
  /** Counter 2's gate belongs to port 0x61 and starts low; the others are tied high on a PC. */
  readonly counters = [new PitCounter(true), new PitCounter(true), new PitCounter(false)];
  readonly ports: PortRegisterFile;
  private readonly clock: Clock;
  private readonly outputs: readonly (IrqLine | undefined)[];
  private readonly timers: (TimerHandle | undefined)[] = [undefined, undefined, undefined];

  constructor(options: PitOptions) {
    this.clock = options.clock;
    this.outputs = options.outputs ?? [];
    this.ports = PortRegisterFile.fromTable([
      ...this.counters.map((counter, index) => ({
        name: `counter ${index}`,
        read: () => counter.read(this.now()),
        write: (value: number) => {
          counter.writeCount(value, this.now());
          this.outputChanged(index);
        },
      })),
      { name: "control word", write: (value) => this.writeControl(value) },
    ]);
    this.reset();
  }

  setGate(index: number, high: boolean): void {
    this.counters[index]!.setGate(high, this.now());
    this.outputChanged(index);
  }

  out(index: number): boolean {
    return this.counters[index]!.out(this.now());
  }

  reset(): void {
    this.counters.forEach((counter, index) => {
      counter.state = powerOnPitCounter(index !== 2);
      this.outputChanged(index);
    });
  }

  saveState(): PitState {
    return {
      version: PIT_STATE_VERSION,
      counters: this.counters.map((counter) => ({ ...counter.state })),
    };
  }

  restoreState(state: PitState): void {
    if (state.version !== PIT_STATE_VERSION) throw new Error(`8254 state version ${state.version} is not ${PIT_STATE_VERSION}`);
    this.counters.forEach((counter, index) => {
      counter.state = { ...state.counters[index]! };
      this.outputChanged(index);
    });
  }

  private now(): number {
    return pitTicksAt(this.clock.now());
  }

  private writeControl(value: number): void {
    const now = this.now();
    if ((value & READ_BACK) === READ_BACK) {
      this.counters.forEach((counter, index) => {
        if (!(value & (2 << index))) return;
        if (!(value & READ_BACK_NO_STATUS)) counter.latchStatus(now);
        if (!(value & READ_BACK_NO_COUNT)) counter.latchCount(now);
      });
      return;
    }
    const index = value >> 6;
    const counter = this.counters[index]!;
    if ((value & 0x30) === 0) {
      counter.latchCount(now);
      return;
    }
    counter.writeControl(value, now);
    this.outputChanged(index);
  }

  /** Drives the counter's line to its OUT level and arms a timer for the next rising edge. */
  private outputChanged(index: number): void {
    const line = this.outputs[index];
    if (!line) return;
    const now = this.now();
    const counter = this.counters[index]!;
    line.setLevel(counter.out(now));
    this.armEdgeTimer(index, now);
  }

  private armEdgeTimer(index: number, now: number): void {
    this.timers[index]?.cancel();
    this.timers[index] = undefined;
    const edge = this.counters[index]!.nextRisingEdge(now);
    if (edge === null) return;
    const delay = Math.max(0, nsAtPitTick(edge) - this.clock.now());
    this.timers[index] = this.clock.setTimer(delay, () => this.risingEdge(index), { label: `pit counter ${index} OUT` });
  }

  private risingEdge(index: number): void {
    const line = this.outputs[index]!;
    const counter = this.counters[index]!;
    const now = this.now();
    // OUT rises at this clock. Between edges the line is only updated on register accesses, so the low
    // phase before the edge is replayed as a pulse: the PIC must see the transition, not just the level.
    if (counter.pulsesOut) line.setLevel(false);
    line.setLevel(true);
    this.timers[index] = undefined;
    this.armEdgeTimer(index, now);
  }
}
