import * as R from "./registers.js";
import { DeadlineTimer, type TimerHost } from "./timers.js";
import { NOT_ARMED, type E1000State } from "./state.js";

const ICR_INDEX = R.reg(R.ICR);
const IMS_INDEX = R.reg(R.IMS);
const ITR_INDEX = R.reg(R.ITR);
const RDTR_INDEX = R.reg(R.RDTR);
const RADV_INDEX = R.reg(R.RADV);
const TIDV_INDEX = R.reg(R.TIDV);
const TADV_INDEX = R.reg(R.TADV);

export interface InterruptHost extends TimerHost {
  setInterruptLine(asserted: boolean): void;
}

/**
 * Interrupt causes, mask, throttling and the receive/transmit delay timers (SDM 13.4.17-13.4.22,
 * 3.2.7, 3.4): the line is (ICR & IMS) != 0, asserted no more often than ITR allows; RXT0 and TXDW
 * can be held back by the packet timers (RDTR/TIDV, restarted per packet) and absolute timers
 * (RADV/TADV, started by the first packet).
 */
export class Interrupts {
  private readonly regs: Uint32Array;
  private readonly throttle: DeadlineTimer;
  readonly rxPacketTimer: DeadlineTimer;
  readonly rxAbsoluteTimer: DeadlineTimer;
  readonly txPacketTimer: DeadlineTimer;
  readonly txAbsoluteTimer: DeadlineTimer;

  constructor(
    private readonly state: E1000State,
    private readonly host: InterruptHost,
  ) {
    this.regs = state.regs;
    const s = state;
    this.throttle = new DeadlineTimer(host, "e1000 ITR", () => s.throttledUntil, (d) => (s.throttledUntil = d), () => this.update());
    const rxExpired = (): void => this.rxTimerExpired();
    const txExpired = (): void => this.txTimerExpired();
    this.rxPacketTimer = new DeadlineTimer(host, "e1000 RDTR", () => s.rxPacketTimer, (d) => (s.rxPacketTimer = d), rxExpired);
    this.rxAbsoluteTimer = new DeadlineTimer(host, "e1000 RADV", () => s.rxAbsoluteTimer, (d) => (s.rxAbsoluteTimer = d), rxExpired);
    this.txPacketTimer = new DeadlineTimer(host, "e1000 TIDV", () => s.txPacketTimer, (d) => (s.txPacketTimer = d), txExpired);
    this.txAbsoluteTimer = new DeadlineTimer(host, "e1000 TADV", () => s.txAbsoluteTimer, (d) => (s.txAbsoluteTimer = d), txExpired);
  }

  raise(causes: number): void {
    this.regs[ICR_INDEX] = (this.regs[ICR_INDEX]! | causes) & R.ICR_VALID;
    this.update();
  }

  /** ICR read: every cause is returned and cleared, and the line drops. */
  readCauses(): number {
    const value = this.regs[ICR_INDEX]!;
    this.regs[ICR_INDEX] = 0;
    this.update();
    return value;
  }

  /** Writing 1s to ICR clears those causes. */
  clearCauses(value: number): void {
    this.regs[ICR_INDEX] = this.regs[ICR_INDEX]! & ~value;
    this.update();
  }

  setMask(value: number): void {
    this.regs[IMS_INDEX] = (this.regs[IMS_INDEX]! | value) & R.ICR_VALID;
    this.update();
  }

  clearMask(value: number): void {
    this.regs[IMS_INDEX] = this.regs[IMS_INDEX]! & ~value;
    this.update();
  }

  /** Re-evaluates the interrupt line after any change of ICR, IMS or ITR, or when the ITR interval ends. */
  update(): void {
    const state = this.state;
    const pending = (this.regs[ICR_INDEX]! & this.regs[IMS_INDEX]!) !== 0;
    if (!pending) {
      if (state.throttledUntil !== NOT_ARMED) this.throttle.cancel();
      if (state.interruptAsserted) {
        state.interruptAsserted = false;
        this.host.setInterruptLine(false);
      }
      return;
    }
    if (state.interruptAsserted) return;
    const now = this.host.now();
    if (now < state.interruptAllowedAt && (this.regs[ITR_INDEX]! & 0xffff) !== 0) {
      if (state.throttledUntil === NOT_ARMED) this.throttle.arm(state.interruptAllowedAt);
      return;
    }
    if (state.throttledUntil !== NOT_ARMED) this.throttle.cancel();
    state.interruptAsserted = true;
    state.interruptAllowedAt = now + (this.regs[ITR_INDEX]! & 0xffff) * R.ITR_UNIT_NS;
    this.host.setInterruptLine(true);
  }

  /** A received packet's descriptors were written back: RXT0 now, or when a delay timer expires. */
  packetReceived(): void {
    const packetDelay = this.regs[RDTR_INDEX]! & 0xffff;
    if (packetDelay === 0) {
      this.rxTimerExpired();
      return;
    }
    const now = this.host.now();
    this.rxPacketTimer.arm(now + packetDelay * R.DELAY_UNIT_NS);
    const absoluteDelay = this.regs[RADV_INDEX]! & 0xffff;
    if (absoluteDelay !== 0 && !this.rxAbsoluteTimer.armed) this.rxAbsoluteTimer.arm(now + absoluteDelay * R.DELAY_UNIT_NS);
  }

  /** RDTR.FPD: pending receive write-backs are flushed and RXT0 raised at once. */
  flushReceiveTimers(): void {
    if (this.rxPacketTimer.armed || this.rxAbsoluteTimer.armed) this.rxTimerExpired();
  }

  /** Transmit descriptors with RS were written back; `delayed` when the packet asked for IDE. */
  descriptorsWrittenBack(delayed: boolean): void {
    const packetDelay = this.regs[TIDV_INDEX]! & 0xffff;
    if (!delayed || packetDelay === 0) {
      this.txTimerExpired();
      return;
    }
    const now = this.host.now();
    this.txPacketTimer.arm(now + packetDelay * R.DELAY_UNIT_NS);
    const absoluteDelay = this.regs[TADV_INDEX]! & 0xffff;
    if (absoluteDelay !== 0 && !this.txAbsoluteTimer.armed) this.txAbsoluteTimer.arm(now + absoluteDelay * R.DELAY_UNIT_NS);
  }

  /** After a restore: clock timers for the deadlines in the state. */
  resyncTimers(): void {
    for (const timer of this.allTimers()) timer.sync();
  }

  /** Reset: every timer stopped, causes and mask cleared, line dropped. */
  reset(): void {
    for (const timer of this.allTimers()) timer.cancel();
    this.state.interruptAllowedAt = 0;
    this.regs[ICR_INDEX] = 0;
    this.regs[IMS_INDEX] = 0;
    this.update();
  }

  /** Detach: clock timers dropped, deadlines kept in the state. */
  release(): void {
    for (const timer of this.allTimers()) timer.release();
  }

  private allTimers(): DeadlineTimer[] {
    return [this.throttle, this.rxPacketTimer, this.rxAbsoluteTimer, this.txPacketTimer, this.txAbsoluteTimer];
  }

  private rxTimerExpired(): void {
    if (this.rxPacketTimer.armed) this.rxPacketTimer.cancel();
    if (this.rxAbsoluteTimer.armed) this.rxAbsoluteTimer.cancel();
    this.raise(R.ICR_RXT0);
  }

  private txTimerExpired(): void {
    if (this.txPacketTimer.armed) this.txPacketTimer.cancel();
    if (this.txAbsoluteTimer.armed) this.txAbsoluteTimer.cancel();
    this.raise(R.ICR_TXDW);
  }
}
