import type { Clock, TimerHandle } from "@vmk/kernel";
import type { VcpuLoop, VcpuLoopHost, VcpuLoopStats } from "./vcpu-loop.js";

/**
 * Guest speed on a virtual clock: one instruction is one nanosecond (a nominal 1000 MIPS, so the
 * time-stamp counter ticks at 1 GHz). Chosen so instruction counts and times read the same in tests.
 */
export const VIRTUAL_NS_PER_INSTRUCTION = 1;
/** At most 10 µs of guest time per slice: how late a device interrupt can be noticed. */
export const VIRTUAL_SLICE_INSTRUCTIONS = 10_000;
/** A slice never shrinks below this, even when a timer is due almost at once. */
const MIN_SLICE_INSTRUCTIONS = 64;

/** A clock the loop can ask for its next deadline (the kernel's VirtualClock). */
export interface SteppedClock extends Clock {
  nextDeadline(ignoreLabel?: string): number | undefined;
}

/**
 * The label of every vCPU timer (a running vCPU's next slice, a halted one's wake-up): other vCPUs on
 * the same clock look past them. Only device and host timers, and interrupts, bound a slice or end
 * a halt; otherwise two halted VMs wake each other forever at the same instant, and a running VM
 * ends each slice at the other's next one or wake-up (64-instruction lockstep).
 */
const VCPU_TIMER_LABEL = "vCPU";

export function isSteppedClock(clock: Clock): clock is SteppedClock {
  return clock.kind === "virtual" && typeof (clock as Partial<SteppedClock>).nextDeadline === "function";
}

/**
 * The vCPU as an event on a virtual clock, so it interleaves deterministically with every device,
 * host and network timer on that clock. A slice runs up to the next timer deadline (at most
 * VIRTUAL_SLICE_INSTRUCTIONS) and the next slice is scheduled as many nanoseconds later as
 * instructions ran. A halted processor costs nothing: the loop waits for the next deadline or for
 * the interrupt controller to raise INT, whichever comes first, and time jumps there.
 */
export class VirtualTimeVcpuLoop implements VcpuLoop {
  private readonly counters: VcpuLoopStats = { slices: 0, haltedNs: 0 };
  private active = false;
  private timer: TimerHandle | undefined;
  private parkedAt: number | undefined;

  constructor(
    private readonly host: VcpuLoopHost,
    private readonly clock: SteppedClock,
  ) {}

  get stats(): VcpuLoopStats {
    const parked = this.parkedAt === undefined ? 0 : this.clock.now() - this.parkedAt;
    return { slices: this.counters.slices, haltedNs: this.counters.haltedNs + parked };
  }

  get running(): boolean {
    return this.active;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.host.machine.onInterruptRequest = () => this.wake();
    this.schedule(0);
  }

  stop(): void {
    this.active = false;
    this.timer?.cancel();
    this.timer = undefined;
    this.endParking();
    this.host.machine.onInterruptRequest = undefined;
  }

  private schedule(delayNs: number): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimer(delayNs, () => this.slice(), { label: VCPU_TIMER_LABEL });
  }

  private wake(): void {
    if (!this.active || this.parkedAt === undefined) return;
    this.endParking();
    this.schedule(0);
  }

  private endParking(): void {
    if (this.parkedAt === undefined) return;
    this.counters.haltedNs += this.clock.now() - this.parkedAt;
    this.parkedAt = undefined;
  }

  private slice(): void {
    this.timer = undefined;
    this.endParking();
    if (!this.active) return;
    const machine = this.host.machine;
    const now = this.clock.now();
    // VMs on one clock see each other's frames at most one slice late, as they see a device's
    // interrupt. The full scan past other vCPUs' timers only runs when the earliest timer is near.
    let next = this.clock.nextDeadline();
    if (next !== undefined && next - now < VIRTUAL_SLICE_INSTRUCTIONS * VIRTUAL_NS_PER_INSTRUCTION) next = this.clock.nextDeadline(VCPU_TIMER_LABEL);
    const untilNext = next === undefined ? VIRTUAL_SLICE_INSTRUCTIONS : Math.floor((next - now) / VIRTUAL_NS_PER_INSTRUCTION);
    const budget = Math.max(MIN_SLICE_INSTRUCTIONS, Math.min(VIRTUAL_SLICE_INSTRUCTIONS, untilNext));
    let executed: number;
    try {
      executed = machine.runSlice(budget, now - this.host.powerOnTime);
    } catch (error) {
      this.stop();
      this.host.failed(error);
      return;
    }
    this.counters.slices++;
    if (!this.host.afterSlice() || !this.active) return;
    if (executed > 0) {
      this.schedule(executed * VIRTUAL_NS_PER_INSTRUCTION);
      return;
    }
    // Halted: sleep until the next device or host timer on this clock, or until INT is raised.
    this.parkedAt = now;
    const deadline = this.clock.nextDeadline(VCPU_TIMER_LABEL);
    if (deadline !== undefined) this.timer = this.clock.setTimer(Math.max(0, deadline - now), () => this.slice(), { label: VCPU_TIMER_LABEL });
  }
}
