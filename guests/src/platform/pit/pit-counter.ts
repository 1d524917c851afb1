/** Access modes of a counter (control word bits 5:4). */
export const enum PitAccess {
  Latch = 0,
  LowByte = 1,
  HighByte = 2,
  LowThenHigh = 3,
}

/** One 8254 counter, as plain data. Times are absolute PIT input clocks on the VM clock. */
export interface PitCounterState {
  /** RW, mode and BCD bits of the last control word (status byte bits 5:0). */
  control: number;
  /** The count register as written (BCD digits in BCD mode). */
  countRegister: number;
  /** The low byte of a two-byte count, written and waiting for the high byte. */
  pendingLowByte: number | null;
  readHighNext: boolean;
  latchedCount: number | null;
  /** Bytes of the latched count still to be read. */
  latchedBytes: number;
  latchedStatus: number | null;
  nullCount: boolean;
  gate: boolean;
  /** A count has been loaded since the control word (modes 1/5: and a trigger seen). */
  counting: boolean;
  /** Modes 1 and 5 have a count but wait for a gate trigger. */
  awaitingTrigger: boolean;
  /** Clock of the current run start; null while stopped. */
  runStart: number | null;
  /** Clocks counted before the run was paused by the gate (modes 0 and 4). */
  clocksBeforeRun: number;
  /** The count the counting element works with, in clocks (0 loads as 65536 or 10000). */
  period: number;
  /** A new count for modes 2/3, loaded at the end of the current cycle. */
  nextPeriod: number | null;
  nextPeriodAt: number | null;
  /** What the counting element holds while no count is loaded (undefined in the datasheet: kept). */
  heldValue: number;
}

const MODE_MASK = 0x0e;
const BCD = 0x01;

export function powerOnPitCounter(gate: boolean): PitCounterState {
  return {
    control: (PitAccess.LowThenHigh << 4) | (3 << 1),
    countRegister: 0,
    pendingLowByte: null,
    readHighNext: false,
    latchedCount: null,
    latchedBytes: 0,
    latchedStatus: null,
    nullCount: true,
    gate,
    counting: false,
    awaitingTrigger: false,
    runStart: null,
    clocksBeforeRun: 0,
    period: 0x10000,
    nextPeriod: null,
    nextPeriodAt: null,
    heldValue: 0,
  };
}

function toBcd(value: number): number {
  return (value % 10) | (Math.floor(value / 10) % 10) << 4 | (Math.floor(value / 100) % 10) << 8 | (Math.floor(value / 1000) % 10) << 12;
}

function fromBcd(value: number): number {
  return (value & 0xf) + ((value >> 4) & 0xf) * 10 + ((value >> 8) & 0xf) * 100 + ((value >> 12) & 0xf) * 1000;
}

/**
 * One counter of an Intel 8254: modes 0-5, binary or BCD, the three access modes, count latch and
 * status latch. Its value and OUT are functions of the clock count since loading, so nothing runs
 * while nobody looks; the owner asks `nextRisingEdge` when an interrupt edge needs a timer.
 */
export class PitCounter {
  state: PitCounterState;

  constructor(initialGate: boolean) {
    this.state = powerOnPitCounter(initialGate);
  }

  get mode(): number {
    const mode = (this.state.control & MODE_MASK) >> 1;
    return mode > 5 ? mode - 4 : mode; // 6 and 7 are aliases of 2 and 3
  }

  get access(): PitAccess {
    return (this.state.control >> 4) & 3;
  }

  get bcd(): boolean {
    return (this.state.control & BCD) !== 0;
  }

  /** Applies a pending mode 2/3 reload once its cycle boundary has passed. */
  sync(now: number): void {
    const s = this.state;
    if (s.nextPeriodAt !== null && now >= s.nextPeriodAt) {
      s.period = s.nextPeriod!;
      s.runStart = s.nextPeriodAt;
      s.clocksBeforeRun = 0;
      s.nextPeriod = null;
      s.nextPeriodAt = null;
      s.nullCount = false;
    }
  }

  writeControl(control: number, now: number): void {
    this.sync(now);
    const s = this.state;
    s.heldValue = this.value(now);
    s.control = control & 0x3f;
    s.pendingLowByte = null;
    s.readHighNext = false;
    s.latchedCount = null;
    s.latchedBytes = 0;
    s.latchedStatus = null;
    s.nullCount = true;
    this.stop();
  }

  writeCount(byte: number, now: number): void {
    this.sync(now);
    const s = this.state;
    switch (this.access) {
      case PitAccess.LowByte:
        this.load(byte, now);
        return;
      case PitAccess.HighByte:
        this.load(byte << 8, now);
        return;
      default:
        if (s.pendingLowByte === null) {
          s.pendingLowByte = byte;
          // Mode 0: writing the first byte stops the count and drives OUT low until the second arrives.
          if (this.mode === 0 && s.counting) {
            s.heldValue = this.value(now);
            this.stop();
          }
        } else {
          const low = s.pendingLowByte;
          s.pendingLowByte = null;
          this.load((byte << 8) | low, now);
        }
    }
  }

  read(now: number): number {
    this.sync(now);
    const s = this.state;
    if (s.latchedStatus !== null) {
      const status = s.latchedStatus;
      s.latchedStatus = null;
      return status;
    }
    const latched = s.latchedCount !== null;
    const value = latched ? s.latchedCount! : this.displayedValue(now);
    let byte: number;
    switch (this.access) {
      case PitAccess.HighByte:
        byte = value >> 8;
        break;
      case PitAccess.LowThenHigh:
        byte = s.readHighNext ? value >> 8 : value & 0xff;
        s.readHighNext = !s.readHighNext;
        break;
      default:
        byte = value & 0xff;
    }
    if (latched && --s.latchedBytes <= 0) s.latchedCount = null;
    return byte & 0xff;
  }

  latchCount(now: number): void {
    this.sync(now);
    const s = this.state;
    if (s.latchedCount !== null) return; // a latched count stays until read
    s.latchedCount = this.displayedValue(now);
    s.latchedBytes = this.access === PitAccess.LowThenHigh ? 2 : 1;
  }

  latchStatus(now: number): void {
    this.sync(now);
    const s = this.state;
    if (s.latchedStatus !== null) return;
    s.latchedStatus = (this.out(now) ? 0x80 : 0) | (s.nullCount ? 0x40 : 0) | s.control;
  }

  setGate(high: boolean, now: number): void {
    const s = this.state;
    if (s.gate === high) return;
    s.gate = high;
    this.sync(now);
    const mode = this.mode;
    if (mode === 1 || mode === 5) {
      if (high && (s.counting || s.awaitingTrigger)) this.trigger(now);
      return;
    }
    if (!s.counting) return;
    if (mode === 2 || mode === 3) {
      // Gate low stops the count with OUT high; the rising edge reloads the count and starts over.
      if (high) {
        if (s.nextPeriod !== null) s.period = s.nextPeriod;
        s.nextPeriod = null;
        s.nextPeriodAt = null;
        s.nullCount = false;
        s.runStart = now;
        s.clocksBeforeRun = 0;
      } else {
        s.heldValue = this.value(now);
        s.runStart = null;
      }
      return;
    }
    // Modes 0 and 4: the gate only suspends counting.
    if (high) {
      s.runStart = now;
    } else {
      s.clocksBeforeRun = this.elapsed(now);
      s.runStart = null;
    }
  }

  out(now: number): boolean {
    this.sync(now);
    const s = this.state;
    const mode = this.mode;
    if (!s.counting) return mode !== 0;
    const elapsed = this.elapsed(now);
    switch (mode) {
      case 0:
      case 1:
        return elapsed >= s.period;
      case 2:
        return s.runStart === null || elapsed % s.period !== s.period - 1;
      case 3:
        return s.runStart === null || elapsed % s.period < Math.ceil(s.period / 2);
      default:
        return elapsed !== s.period;
    }
  }

  /** The next clock after `now` at which OUT rises, or null if it will not rise without software. */
  nextRisingEdge(now: number): number | null {
    this.sync(now);
    const s = this.state;
    if (!s.counting || s.runStart === null) return null;
    const elapsed = this.elapsed(now);
    switch (this.mode) {
      case 0:
      case 1:
        return elapsed < s.period ? now + s.period - elapsed : null;
      case 2:
      case 3:
        return now + (Math.floor(elapsed / s.period) + 1) * s.period - elapsed;
      default:
        return elapsed <= s.period ? now + s.period + 1 - elapsed : null;
    }
  }

  /** Modes whose OUT returns high by itself right after the edge, so the line is pulsed, not held. */
  get pulsesOut(): boolean {
    return this.mode >= 2;
  }

  /** The counting element in clocks remaining, before BCD encoding. */
  value(now: number): number {
    this.sync(now);
    const s = this.state;
    if (!s.counting) return s.heldValue;
    const modulus = this.bcd ? 10000 : 0x10000;
    const elapsed = this.elapsed(now);
    switch (this.mode) {
      case 2:
        return s.runStart === null ? s.heldValue : (s.period - (elapsed % s.period)) % modulus;
      case 3: {
        if (s.runStart === null) return s.heldValue;
        const inCycle = elapsed % s.period;
        const highHalf = Math.ceil(s.period / 2);
        const half = inCycle < highHalf ? highHalf : s.period - highHalf;
        const intoHalf = inCycle < highHalf ? inCycle : inCycle - highHalf;
        return (2 * (half - intoHalf)) % modulus;
      }
      default:
        return (((s.period - elapsed) % modulus) + modulus) % modulus;
    }
  }

  private displayedValue(now: number): number {
    const value = this.value(now);
    return this.bcd ? toBcd(value) : value & 0xffff;
  }

  private elapsed(now: number): number {
    const s = this.state;
    return s.clocksBeforeRun + (s.runStart === null ? 0 : now - s.runStart);
  }

  private stop(): void {
    const s = this.state;
    s.counting = false;
    s.awaitingTrigger = false;
    s.runStart = null;
    s.clocksBeforeRun = 0;
    s.nextPeriod = null;
    s.nextPeriodAt = null;
  }

  private load(raw: number, now: number): void {
    const s = this.state;
    this.sync(now);
    s.countRegister = raw & 0xffff;
    let period = this.bcd ? fromBcd(s.countRegister) : s.countRegister;
    if (period === 0) period = this.bcd ? 10000 : 0x10000;
    const mode = this.mode;
    // A count of 1 is illegal in modes 2 and 3 (the datasheet's minimum is 2); keep it from firing every clock.
    if ((mode === 2 || mode === 3) && period < 2) period = 2;
    if (mode === 1 || mode === 5) {
      // The count waits in the count register for the next gate trigger.
      s.nextPeriod = period;
      s.awaitingTrigger = true;
      return;
    }
    if ((mode === 2 || mode === 3) && s.counting) {
      if (s.runStart === null) {
        s.nextPeriod = period; // loaded by the gate's rising edge
      } else {
        const elapsed = this.elapsed(now);
        s.nextPeriod = period;
        s.nextPeriodAt = now + (Math.floor(elapsed / s.period) + 1) * s.period - elapsed;
      }
      return;
    }
    s.period = period;
    s.counting = true;
    s.nullCount = false;
    s.clocksBeforeRun = 0;
    s.runStart = s.gate ? now : null;
  }

  private trigger(now: number): void {
    const s = this.state;
    if (s.nextPeriod !== null) s.period = s.nextPeriod;
    s.nextPeriod = null;
    s.awaitingTrigger = false;
    s.counting = true;
    s.nullCount = false;
    s.clocksBeforeRun = 0;
    s.runStart = now;
  }
}
