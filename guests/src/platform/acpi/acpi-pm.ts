import type { AccessWidth, Clock, IoRegionHandler, TimerHandle } from "@vmk/kernel";
import type { IrqLine } from "../irq-line.js";

/** The ACPI power-management timer's rate (ACPI 6.5 §4.8.3.3): 3.579545 MHz, as on every PC. */
export const PM_TIMER_HZ = 3_579_545;
/** Bytes of each fixed-hardware block, as the FADT declares them. */
export const PM1_EVENT_BLOCK_BYTES = 4;
export const PM1_CONTROL_BLOCK_BYTES = 2;
export const PM_TIMER_BLOCK_BYTES = 4;

/** PM1 status and enable bits (ACPI 6.5 tables 4.16 and 4.17). */
export const Pm1Event = { Timer: 1 << 0, BusMaster: 1 << 4, Global: 1 << 5, PowerButton: 1 << 8, SleepButton: 1 << 9, Rtc: 1 << 10, Wake: 1 << 15 } as const;
/** PM1 control bits (ACPI 6.5 table 4.18). */
export const Pm1Control = { SciEnable: 1 << 0, BusMasterReload: 1 << 1, GlobalRelease: 1 << 2, SleepTypeShift: 10, SleepTypeMask: 7 << 10, SleepEnable: 1 << 13 } as const;
/** The SLP_TYP value this board's DSDT gives \_S5 (soft off). */
export const SLEEP_TYPE_SOFT_OFF = 0;
/**
 * Enable bits the register keeps (an OS writes them and reads them back to see the event exists). Of
 * the status bits only TMR_STS is ever set: no SMM firmware releases the global lock, no power or sleep
 * button is modelled, and the RTC's alarm interrupts on IRQ 8 rather than through the SCI.
 */
const ENABLE_BITS = Pm1Event.Timer | Pm1Event.Global | Pm1Event.PowerButton | Pm1Event.SleepButton | Pm1Event.Rtc;
const TIMER_MSB_PERIOD = 2 ** 23;

export interface AcpiPmState {
  version: 1;
  enable: number;
  control: number;
  status: number;
  /** Which half-period of the timer's bit 23 the status bit was last updated for. */
  timerEpoch: number;
}

export interface AcpiPmOptions {
  clock: Clock;
  /** The SCI (IRQ 9 on this board), level-triggered, active while an enabled status bit is set. */
  sci: IrqLine;
  /** The OS wrote SLP_EN with the soft-off type: the board removes power. */
  onSoftOff: () => void;
}

/**
 * The ACPI fixed-hardware registers of the board (ACPI 6.5 §4.8): the PM1a event block (PM1_STS,
 * PM1_EN), the PM1a control block (SCI_EN, SLP_TYP, SLP_EN) and the 24-bit PM timer. The board has no
 * SMI_CMD port, so it is always in ACPI mode (SCI_EN reads 1). Writing SLP_EN with \_S5's type powers
 * the machine off; other sleep states are not offered by the DSDT and such writes do nothing. The timer
 * counts from the machine's clock, so it agrees with the PIT and the TSC; its carry out of bit 23 sets
 * TMR_STS, which raises the SCI when TMR_EN is set.
 */
export class AcpiPm {
  /** PM1a_EVT_BLK: PM1_STS at 0, PM1_EN at 2. */
  readonly eventPorts: IoRegionHandler;
  /** PM1a_CNT_BLK: PM1_CNT. */
  readonly controlPorts: IoRegionHandler;
  /** PM_TMR_BLK: the timer, read-only. */
  readonly timerPorts: IoRegionHandler;
  private state: AcpiPmState;
  private sciAsserted = false;
  /** While TMR_EN is set: fires at the next carry out of bit 23, so the SCI comes on time. */
  private carryTimer: TimerHandle | undefined;

  constructor(private readonly options: AcpiPmOptions) {
    this.state = this.powerOnState();
    this.eventPorts = {
      read: (offset, width) => this.readBytes(offset, width, () => this.updateStatus() | (this.state.enable << 16)),
      write: (offset, width, value) => this.writeEventBlock(offset, width, value),
    };
    this.controlPorts = {
      read: (offset, width) => this.readBytes(offset, width, () => this.state.control | Pm1Control.SciEnable),
      write: (offset, width, value) => this.writeControl(offset, width, value),
    };
    this.timerPorts = { read: (offset, width) => this.readBytes(offset, width, () => this.timerValue()), write: () => {} };
  }

  /** The timer's 24-bit count now. */
  timerValue(): number {
    return this.ticks() % 2 ** 24;
  }

  reset(): void {
    this.carryTimer?.cancel();
    this.carryTimer = undefined;
    this.state = this.powerOnState();
    this.updateSci();
  }

  saveState(): AcpiPmState {
    this.updateStatus();
    return { ...this.state };
  }

  restoreState(state: AcpiPmState): void {
    if (state.version !== 1) throw new Error(`ACPI PM state version ${state.version} is not 1`);
    this.state = { ...state };
    this.updateSci();
  }

  private powerOnState(): AcpiPmState {
    return { version: 1, enable: 0, control: 0, status: 0, timerEpoch: this.epoch() };
  }

  private ticks(): number {
    return Math.floor((this.options.clock.now() * PM_TIMER_HZ) / 1e9);
  }

  private epoch(): number {
    return Math.floor(this.ticks() / TIMER_MSB_PERIOD);
  }

  /** Sets TMR_STS if bit 23 has flipped since the last look; returns PM1_STS. */
  private updateStatus(): number {
    const epoch = this.epoch();
    if (epoch !== this.state.timerEpoch) {
      this.state.timerEpoch = epoch;
      this.state.status |= Pm1Event.Timer;
      this.updateSci();
    }
    return this.state.status;
  }

  /** A register read of any width at any offset of a block whose bytes `value` returns little-endian. */
  private readBytes(offset: number, width: AccessWidth, value: () => number): number {
    const all = value();
    const bits = width * 8;
    return bits === 32 && offset === 0 ? all >>> 0 : Math.floor(all / 2 ** (offset * 8)) % 2 ** bits;
  }

  private writeEventBlock(offset: number, width: AccessWidth, value: number): void {
    this.updateStatus();
    for (let i = 0; i < width; i++) {
      const byte = (value >>> (8 * i)) & 0xff;
      const at = offset + i;
      // PM1_STS bits are write-one-to-clear; PM1_EN is read/write.
      if (at < 2) this.state.status &= ~(byte << (8 * at));
      else if (at < 4) this.state.enable = ((this.state.enable & ~(0xff << (8 * (at - 2)))) | (byte << (8 * (at - 2)))) & ENABLE_BITS;
    }
    this.updateSci();
  }

  private writeControl(offset: number, width: AccessWidth, value: number): void {
    let control = this.state.control;
    for (let i = 0; i < width && offset + i < 2; i++) {
      const shift = 8 * (offset + i);
      control = (control & ~(0xff << shift)) | (((value >>> (8 * i)) & 0xff) << shift);
    }
    // SLP_EN and GBL_RLS are write-only strobes; SCI_EN is fixed at 1 (no legacy mode to return to).
    this.state.control = control & (Pm1Control.BusMasterReload | Pm1Control.SleepTypeMask);
    if (control & Pm1Control.SleepEnable && (control & Pm1Control.SleepTypeMask) >> Pm1Control.SleepTypeShift === SLEEP_TYPE_SOFT_OFF) this.options.onSoftOff();
  }

  private armCarryTimer(): void {
    const wanted = (this.state.enable & Pm1Event.Timer) !== 0 && (this.state.status & Pm1Event.Timer) === 0;
    if (!wanted) {
      this.carryTimer?.cancel();
      this.carryTimer = undefined;
      return;
    }
    if (this.carryTimer?.pending) return;
    const nextCarryNs = Math.ceil((((this.state.timerEpoch + 1) * TIMER_MSB_PERIOD) * 1e9) / PM_TIMER_HZ);
    const delay = Math.max(0, nextCarryNs - this.options.clock.now());
    this.carryTimer = this.options.clock.setTimer(delay, () => {
      this.carryTimer = undefined;
      this.updateStatus();
      this.updateSci();
    }, { label: "ACPI PM timer carry" });
  }

  private updateSci(): void {
    this.armCarryTimer();
    const asserted = (this.state.status & this.state.enable) !== 0;
    if (asserted === this.sciAsserted) return;
    this.sciAsserted = asserted;
    this.options.sci.setLevel(asserted);
  }
}
