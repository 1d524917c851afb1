import { NS_PER_MS, NS_PER_S, NS_PER_US, type Clock, type Nanoseconds, type TimerHandle } from "@vmk/kernel";
import type { IrqLine } from "../irq-line.js";
import { PortRegisterFile, type PortRegister } from "../port-register-file.js";
import { CmosOffset, writeCmosConfiguration, type CmosConfiguration } from "./cmos-layout.js";
import {
  calendarFromSeconds,
  decodeHour,
  decodeNumber,
  encodeHour,
  encodeNumber,
  secondsFromCalendar,
  type TimeEncoding,
} from "./rtc-calendar.js";

export const RTC_STATE_VERSION = 1;

/** MC146818 register indexes. */
export const RtcRegister = {
  Seconds: 0x00,
  SecondsAlarm: 0x01,
  Minutes: 0x02,
  MinutesAlarm: 0x03,
  Hours: 0x04,
  HoursAlarm: 0x05,
  DayOfWeek: 0x06,
  DayOfMonth: 0x07,
  Month: 0x08,
  Year: 0x09,
  A: 0x0a,
  B: 0x0b,
  C: 0x0c,
  D: 0x0d,
} as const;

export const RtcRegA = { UpdateInProgress: 0x80, DividerMask: 0x70, DividerNormal: 0x20, RateMask: 0x0f } as const;
export const RtcRegB = {
  Set: 0x80,
  PeriodicEnable: 0x40,
  AlarmEnable: 0x20,
  UpdateEndedEnable: 0x10,
  SquareWaveEnable: 0x08,
  Binary: 0x04,
  TwentyFourHour: 0x02,
  DaylightSaving: 0x01,
} as const;
export const RtcRegC = { Irq: 0x80, Periodic: 0x40, Alarm: 0x20, UpdateEnded: 0x10 } as const;
const REG_D_VALID_RAM_AND_TIME = 0x80;
const NMI_DISABLE = 0x80;
const ALARM_DONT_CARE = 0xc0;

/** UIP rises this long before the update, so a reader who saw it clear has that long to read. */
export const UIP_LEAD_NS = 244 * NS_PER_US;
/** Leaving divider reset, the first update comes half a second later. */
const FIRST_UPDATE_AFTER_DIVIDER_RESET_NS = 500 * NS_PER_MS;
const TIME_BASE_HZ = 32_768;
/** Any alarm pattern that can match at all matches within a day of updates. */
const ALARM_SCAN_LIMIT = 86_400;

export interface RtcState {
  version: typeof RTC_STATE_VERSION;
  /** CMOS bytes 0x00-0x7F; the time registers hold their last rendered (or, while SET, written) values. */
  cmos: number[];
  index: number;
  nmiDisabled: boolean;
  /** The time shown at `secondStart`, as seconds since 1970 in the guest's own zone. */
  seconds: number;
  /** VM-clock time of the divider chain's last one-second boundary. */
  secondStart: Nanoseconds;
  /** The chip's day-of-week counter runs on its own; this is its offset from the true weekday. */
  dayOfWeekOffset: number;
  /** Register C flags (bits 6:4). */
  flags: number;
  /** Periodic flags are evaluated for boundaries after this time. */
  periodicCheckedAt: Nanoseconds;
}

export interface RtcOptions extends CmosConfiguration {
  clock: Clock;
  irq: IrqLine;
  /** The wall-clock time (ms since 1970) the RTC shows at the moment it is created. */
  startTime: number;
}

function floorDiv(numerator: number, denominator: number): number {
  let quotient = Math.floor(numerator / denominator);
  if (quotient * denominator > numerator) quotient--;
  else if ((quotient + 1) * denominator <= numerator) quotient++;
  return quotient;
}

/**
 * Motorola MC146818 real-time clock with its 114 bytes of battery-backed CMOS RAM, behind the PC's
 * index/data ports 0x70/0x71 (bit 7 of the index masks NMI). Time and the periodic divider are
 * derived from the VM clock on access; a timer is armed only while an interrupt enable waits for its
 * next event with IRQ8 low.
 */
export class Rtc {
  readonly ports: PortRegisterFile;
  private state: RtcState;
  private readonly clock: Clock;
  private readonly irq: IrqLine;
  private timer: TimerHandle | undefined;
  private readonly registers: readonly PortRegister[];

  constructor(options: RtcOptions) {
    this.clock = options.clock;
    this.irq = options.irq;
    const now = this.clock.now();
    const cmos = new Array<number>(128).fill(0);
    writeCmosConfiguration(cmos, options);
    cmos[RtcRegister.A] = RtcRegA.DividerNormal | 0x06;
    cmos[RtcRegister.B] = RtcRegB.TwentyFourHour;
    this.state = {
      version: RTC_STATE_VERSION,
      cmos,
      index: 0,
      nmiDisabled: false,
      seconds: Math.floor(options.startTime / 1000),
      secondStart: now - (((options.startTime % 1000) + 1000) % 1000) * NS_PER_MS,
      dayOfWeekOffset: 0,
      flags: 0,
      periodicCheckedAt: now,
    };
    this.render();
    this.registers = this.registerTable();
    this.ports = PortRegisterFile.fromTable([
      { name: "index (NMI mask in bit 7)", write: (value) => this.selectRegister(value) },
      { name: "data", read: () => this.readRegister(this.state.index), write: (value) => this.writeRegister(this.state.index, value) },
    ]);
  }

  /** NMI is masked through bit 7 of port 0x70. */
  get nmiDisabled(): boolean {
    return this.state.nmiDisabled;
  }

  readRegister(index: number): number {
    const flagsBefore = this.state.flags;
    this.advance(this.clock.now());
    const register = this.registers[index];
    const value = register ? register.read!() : this.state.cmos[index]!;
    if (this.state.flags !== flagsBefore || index === RtcRegister.C) this.updateInterrupt();
    return value;
  }

  writeRegister(index: number, value: number): void {
    this.advance(this.clock.now());
    const register = this.registers[index];
    if (register) register.write?.(value);
    else this.state.cmos[index] = value & 0xff;
    this.updateInterrupt();
  }

  /** The RESET pin: interrupt enables and flags clear; time, RAM and the divider are untouched. */
  reset(): void {
    const s = this.state;
    s.cmos[RtcRegister.B]! &= ~(RtcRegB.PeriodicEnable | RtcRegB.AlarmEnable | RtcRegB.UpdateEndedEnable | RtcRegB.SquareWaveEnable);
    s.flags = 0;
    this.updateInterrupt();
  }

  saveState(): RtcState {
    this.advance(this.clock.now());
    return { ...this.state, cmos: [...this.state.cmos] };
  }

  restoreState(state: RtcState): void {
    if (state.version !== RTC_STATE_VERSION) throw new Error(`MC146818 state version ${state.version} is not ${RTC_STATE_VERSION}`);
    this.state = { ...state, cmos: [...state.cmos] };
    this.advance(this.clock.now());
    this.updateInterrupt();
  }

  private get encoding(): TimeEncoding {
    const b = this.state.cmos[RtcRegister.B]!;
    return { binary: (b & RtcRegB.Binary) !== 0, twentyFourHour: (b & RtcRegB.TwentyFourHour) !== 0 };
  }

  private get dividerRunning(): boolean {
    return (this.state.cmos[RtcRegister.A]! & RtcRegA.DividerMask) === RtcRegA.DividerNormal;
  }

  private get updatesEnabled(): boolean {
    return this.dividerRunning && !(this.state.cmos[RtcRegister.B]! & RtcRegB.Set);
  }

  private registerTable(): PortRegister[] {
    const timeRegister = (name: string, index: number): PortRegister => ({
      name,
      read: () => this.state.cmos[index]!,
      write: (value) => this.writeTime(index, value),
    });
    const alarmRegister = (name: string, index: number): PortRegister => ({
      name,
      read: () => this.state.cmos[index]!,
      write: (value) => (this.state.cmos[index] = value),
    });
    const table: PortRegister[] = [
      timeRegister("seconds", RtcRegister.Seconds),
      alarmRegister("seconds alarm", RtcRegister.SecondsAlarm),
      timeRegister("minutes", RtcRegister.Minutes),
      alarmRegister("minutes alarm", RtcRegister.MinutesAlarm),
      timeRegister("hours", RtcRegister.Hours),
      alarmRegister("hours alarm", RtcRegister.HoursAlarm),
      timeRegister("day of week", RtcRegister.DayOfWeek),
      timeRegister("day of month", RtcRegister.DayOfMonth),
      timeRegister("month", RtcRegister.Month),
      timeRegister("year", RtcRegister.Year),
      { name: "register A", read: () => this.readRegisterA(), write: (value) => this.writeRegisterA(value) },
      { name: "register B", read: () => this.state.cmos[RtcRegister.B]!, write: (value) => this.writeRegisterB(value) },
      { name: "register C", read: () => this.readRegisterC() },
      { name: "register D", read: () => REG_D_VALID_RAM_AND_TIME },
    ];
    table[CmosOffset.Century] = timeRegister("century", CmosOffset.Century);
    return table;
  }

  private selectRegister(value: number): void {
    this.state.nmiDisabled = (value & NMI_DISABLE) !== 0;
    this.state.index = value & 0x7f;
  }

  private readRegisterA(): number {
    const s = this.state;
    const intoSecond = this.clock.now() - s.secondStart;
    const uip = this.updatesEnabled && intoSecond >= NS_PER_S - UIP_LEAD_NS;
    return (s.cmos[RtcRegister.A]! & ~RtcRegA.UpdateInProgress) | (uip ? RtcRegA.UpdateInProgress : 0);
  }

  private writeRegisterA(value: number): void {
    const s = this.state;
    const wasRunning = this.dividerRunning;
    s.cmos[RtcRegister.A] = value & ~RtcRegA.UpdateInProgress;
    if (!wasRunning && this.dividerRunning) {
      const now = this.clock.now();
      s.secondStart = now + FIRST_UPDATE_AFTER_DIVIDER_RESET_NS - NS_PER_S;
      s.periodicCheckedAt = now;
    }
  }

  private writeRegisterB(value: number): void {
    const s = this.state;
    const before = s.cmos[RtcRegister.B]!;
    // Setting SET aborts any update and clears UIE (the update-ended interrupt makes no sense while stopped).
    if (value & RtcRegB.Set) value &= ~RtcRegB.UpdateEndedEnable;
    s.cmos[RtcRegister.B] = value;
    if (before & RtcRegB.Set && !(value & RtcRegB.Set)) {
      this.parseTimeRegisters();
    } else if ((before ^ value) & (RtcRegB.Binary | RtcRegB.TwentyFourHour) && !(value & RtcRegB.Set)) {
      this.render();
    }
  }

  private readRegisterC(): number {
    const s = this.state;
    const value = s.flags | (this.irqFlag ? RtcRegC.Irq : 0);
    s.flags = 0;
    return value;
  }

  private get irqFlag(): boolean {
    const s = this.state;
    const enables = s.cmos[RtcRegister.B]! & (RtcRegB.PeriodicEnable | RtcRegB.AlarmEnable | RtcRegB.UpdateEndedEnable);
    // The flags in C sit at the same bit positions as their enables in B.
    return (s.flags & enables) !== 0;
  }

  private writeTime(index: number, value: number): void {
    this.state.cmos[index] = value;
    if (!(this.state.cmos[RtcRegister.B]! & RtcRegB.Set)) this.parseTimeRegisters();
  }

  /** Takes the time registers as the new time, keeping the divider's phase. */
  private parseTimeRegisters(): void {
    const s = this.state;
    const enc = this.encoding;
    const cmos = s.cmos;
    const year = decodeNumber(cmos[CmosOffset.Century]!, enc.binary) * 100 + decodeNumber(cmos[RtcRegister.Year]!, enc.binary);
    const seconds = secondsFromCalendar({
      second: decodeNumber(cmos[RtcRegister.Seconds]!, enc.binary),
      minute: decodeNumber(cmos[RtcRegister.Minutes]!, enc.binary),
      hour: decodeHour(cmos[RtcRegister.Hours]!, enc),
      dayOfMonth: decodeNumber(cmos[RtcRegister.DayOfMonth]!, enc.binary),
      month: decodeNumber(cmos[RtcRegister.Month]!, enc.binary),
      year,
    });
    if (Number.isFinite(seconds)) s.seconds = seconds;
    const written = decodeNumber(cmos[RtcRegister.DayOfWeek]!, enc.binary);
    const actual = calendarFromSeconds(s.seconds).dayOfWeek;
    s.dayOfWeekOffset = (((written - actual) % 7) + 7) % 7;
  }

  private render(): void {
    const s = this.state;
    const enc = this.encoding;
    const time = calendarFromSeconds(s.seconds);
    s.cmos[RtcRegister.Seconds] = encodeNumber(time.second, enc.binary);
    s.cmos[RtcRegister.Minutes] = encodeNumber(time.minute, enc.binary);
    s.cmos[RtcRegister.Hours] = encodeHour(time.hour, enc);
    s.cmos[RtcRegister.DayOfWeek] = encodeNumber(((time.dayOfWeek - 1 + s.dayOfWeekOffset) % 7) + 1, enc.binary);
    s.cmos[RtcRegister.DayOfMonth] = encodeNumber(time.dayOfMonth, enc.binary);
    s.cmos[RtcRegister.Month] = encodeNumber(time.month, enc.binary);
    s.cmos[RtcRegister.Year] = encodeNumber(time.year % 100, enc.binary);
    s.cmos[CmosOffset.Century] = encodeNumber(Math.floor(time.year / 100) % 100, enc.binary);
  }

  private alarmMatches(): boolean {
    const cmos = this.state.cmos;
    const pairs = [
      [RtcRegister.SecondsAlarm, RtcRegister.Seconds],
      [RtcRegister.MinutesAlarm, RtcRegister.Minutes],
      [RtcRegister.HoursAlarm, RtcRegister.Hours],
    ] as const;
    return pairs.every(([alarm, time]) => (cmos[alarm]! & ALARM_DONT_CARE) === ALARM_DONT_CARE || cmos[alarm] === cmos[time]);
  }

  /** Runs the update cycles and periodic ticks that have happened by `now`, setting their flags. */
  private advance(now: Nanoseconds): void {
    const s = this.state;
    if (!this.dividerRunning) return;
    const updates = Math.floor((now - s.secondStart) / NS_PER_S);
    if (updates > 0) {
      s.secondStart += updates * NS_PER_S;
      if (this.updatesEnabled) {
        // Each update compares the alarm; once AF is latched, the seconds in between need no rendering.
        const scanned = s.flags & RtcRegC.Alarm ? 1 : Math.min(updates, ALARM_SCAN_LIMIT);
        s.seconds += updates - scanned;
        for (let i = 0; i < scanned; i++) {
          s.seconds++;
          this.render();
          if (this.alarmMatches()) s.flags |= RtcRegC.Alarm;
        }
        s.flags |= RtcRegC.UpdateEnded;
      }
    }
    const period = this.periodicPeriodTicks();
    if (period > 0) {
      const unit = period * NS_PER_S;
      if ((now - s.periodicCheckedAt) * TIME_BASE_HZ >= unit) {
        s.flags |= RtcRegC.Periodic;
      } else {
        // Both instants are within a period of the last second boundary: the products stay exact.
        const before = floorDiv((s.periodicCheckedAt - s.secondStart) * TIME_BASE_HZ, unit);
        const after = floorDiv((now - s.secondStart) * TIME_BASE_HZ, unit);
        if (after > before) s.flags |= RtcRegC.Periodic;
      }
    }
    s.periodicCheckedAt = now;
  }

  /** Register A's rate select in 32.768 kHz time-base ticks, 0 when the periodic interrupt is off. */
  private periodicPeriodTicks(): number {
    const rate = this.state.cmos[RtcRegister.A]! & RtcRegA.RateMask;
    if (rate === 0) return 0;
    // Rates 1 and 2 repeat rates 8 and 9 (256 and 128 Hz) on a 32.768 kHz time base.
    return rate <= 2 ? 1 << (rate + 6) : 1 << (rate - 1);
  }

  /** IRQ8 follows IRQF; while it is low, a timer waits for the next event an enable cares about. */
  private updateInterrupt(): void {
    const asserted = this.irqFlag;
    this.irq.setLevel(asserted);
    this.timer?.cancel();
    this.timer = undefined;
    if (asserted || !this.dividerRunning) return;
    const s = this.state;
    const b = s.cmos[RtcRegister.B]!;
    const now = this.clock.now();
    let next = Number.POSITIVE_INFINITY;
    if (b & (RtcRegB.AlarmEnable | RtcRegB.UpdateEndedEnable) && this.updatesEnabled) next = s.secondStart + NS_PER_S;
    const period = this.periodicPeriodTicks();
    if (b & RtcRegB.PeriodicEnable && period > 0) {
      const unit = period * NS_PER_S;
      const index = floorDiv((now - s.secondStart) * TIME_BASE_HZ, unit) + 1;
      next = Math.min(next, s.secondStart + Math.ceil((index * unit) / TIME_BASE_HZ));
    }
    if (!Number.isFinite(next)) return;
    this.timer = this.clock.setTimer(Math.max(0, next - now), () => this.timerExpired(), { label: "rtc" });
  }

  private timerExpired(): void {
    this.timer = undefined;
    this.advance(this.clock.now());
    this.updateInterrupt();
  }
}
