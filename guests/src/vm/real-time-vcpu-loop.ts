import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { Clock, VirtualClock } from "@vmk/kernel";
import type { VcpuLoop, VcpuLoopHost, VcpuLoopStats } from "./vcpu-loop.js";
import { VIRTUAL_NS_PER_INSTRUCTION } from "./virtual-time-vcpu-loop.js";

/**
 * At most this many instructions (100 µs of guest time) before the devices' timers are looked at
 * again; a timer due sooner ends the slice there. Against 20,000, the Debian boot to its prompt
 * took 18.1-18.2 s instead of 18.4-18.8 (the decompressor, which has no timer, runs in fewer and
 * longer slices).
 */
export const REAL_TIME_SLICE_INSTRUCTIONS = 100_000;
/** Wall time the vCPU may hold the event loop before timers, stdin and sockets get their turn. */
export const REAL_TIME_BURST_MS = 4;
/** A slice never shrinks below this, even when a timer is due almost at once. */
const MIN_SLICE_INSTRUCTIONS = 64;
/**
 * A halted processor sleeps until the interrupt controller raises INT or its next timer is due; this
 * bounds the sleep when there is no timer (a guest halted with interrupts off).
 */
const MAX_HALT_SLEEP_MS = 50;
/** Guest time may run this far ahead of the host before the loop waits for the host to catch up. */
const MAX_LEAD_NS = 2_000_000;

/**
 * The vCPU on the host's real clock, paced as QEMU's -icount sleep=on paces it. The guest has its own
 * time line (the machine's `deviceClock.paced`): while the processor runs, every instruction is one
 * nanosecond of it, exactly as on a virtual clock, so the time-stamp counter, the PIT and the RTC
 * never disagree and never step under a running guest. Guest time is kept from running ahead of the
 * host clock; when it falls behind (this processor is slower than the nominal 1000 MIPS), it catches
 * up while the guest is halted: the idle guest jumps to its next timer at once instead of sleeping, and
 * sleeps for real only once it is level with the host. So a busy guest sees time run slow and an
 * idle one sees host time: `sleep 1` at the shell takes one second.
 *
 * The loop runs bursts of slices for a few milliseconds and then yields to Node's event loop (stdin,
 * sockets, the host's own timers).
 */
export class RealTimeVcpuLoop implements VcpuLoop {
  private readonly counters: VcpuLoopStats = { slices: 0, haltedNs: 0 };
  private active = false;
  private wakeSleeper: (() => void) | undefined;
  private finished: Promise<void> = Promise.resolve();
  /**
   * Wakes the sleeping loop from a device's interrupt or timer request, after the device's code has
   * returned: waking moves guest time and fires timers, which must not run inside another device.
   */
  private readonly wakeSoon = () => {
    if (this.wakeSleeper) queueMicrotask(() => this.wakeSleeper?.());
  };
  private readonly guest: VirtualClock;
  /** Host and guest time at the moment the two were last level. */
  private hostOrigin = 0;
  private guestOrigin = 0;

  constructor(
    private readonly host: VcpuLoopHost,
    private readonly clock: Clock,
  ) {
    const paced = host.machine.deviceClock.paced;
    if (!paced) throw new Error("the real-time vCPU loop needs a machine built on a real clock");
    this.guest = paced;
  }

  get stats(): VcpuLoopStats {
    return { ...this.counters };
  }

  get running(): boolean {
    return this.active;
  }

  /** Settles when the loop has returned after `stop()` or the VM stopped. */
  get done(): Promise<void> {
    return this.finished;
  }

  /** How far guest time is behind the host's (negative: ahead) since the loop started. */
  get lagNs(): number {
    return this.clock.now() - this.hostOrigin - (this.guest.now() - this.guestOrigin);
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.hostOrigin = this.clock.now();
    this.guestOrigin = this.guest.now();
    this.host.machine.onInterruptRequest = this.wakeSoon;
    this.host.machine.deviceClock.onTimerSet = this.wakeSoon;
    this.finished = this.loop();
  }

  stop(): void {
    this.active = false;
    this.host.machine.onInterruptRequest = undefined;
    this.host.machine.deviceClock.onTimerSet = undefined;
    this.wakeSleeper?.();
  }

  private async loop(): Promise<void> {
    const machine = this.host.machine;
    const guest = this.guest;
    // The machine counts guest time from power-on; the runtime's power-on stamp is on the host clock.
    const guestPowerOn = guest.now();
    while (this.active) {
      const burstEnd = performance.now() + REAL_TIME_BURST_MS;
      let sleepFor: number | undefined;
      do {
        // Device timers that came due while the loop was away (or at the end of the last slice).
        guest.runUntil(guest.now());
        const now = guest.now();
        const next = guest.nextDeadline();
        const untilNext = next === undefined ? REAL_TIME_SLICE_INSTRUCTIONS : Math.floor((next - now) / VIRTUAL_NS_PER_INSTRUCTION);
        const budget = Math.max(MIN_SLICE_INSTRUCTIONS, Math.min(REAL_TIME_SLICE_INSTRUCTIONS, untilNext));
        let executed: number;
        try {
          executed = machine.runSlice(budget, now - guestPowerOn);
        } catch (error) {
          this.stop();
          this.host.failed(error);
          return;
        }
        this.counters.slices++;
        if (!this.host.afterSlice() || !this.active) return;
        if (executed > 0) {
          guest.runUntil(guest.now() + executed * VIRTUAL_NS_PER_INSTRUCTION);
          continue;
        }
        // Halted with no interrupt to take: move guest time to the next timer if the host is already
        // past it, otherwise sleep until the host gets there.
        const lag = this.lagNs;
        const deadline = guest.nextDeadline();
        if (deadline !== undefined && deadline - guest.now() <= lag) {
          this.counters.haltedNs += deadline - guest.now();
          guest.runUntil(deadline);
          continue;
        }
        if (lag > 0) {
          this.counters.haltedNs += lag;
          guest.runUntil(guest.now() + lag);
        }
        sleepFor = deadline === undefined ? MAX_HALT_SLEEP_MS * 1e6 : Math.min(MAX_HALT_SLEEP_MS * 1e6, deadline - guest.now());
        break;
      } while (performance.now() < burstEnd);
      if (!this.active) return;
      if (sleepFor === undefined && -this.lagNs > MAX_LEAD_NS) sleepFor = -this.lagNs;
      if (sleepFor !== undefined) await this.sleep(sleepFor);
      else await yieldToEventLoop();
    }
  }

  /**
   * Sleeps up to `ns` of host time, less if an interrupt is raised or a host event sets a device timer.
   * A halted guest then has its time brought level with the host (never past its next timer, which has
   * to fire in order); a running guest that was held back for being ahead keeps its time.
   */
  private sleep(ns: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timeout = setTimeout(() => this.wakeSleeper?.(), Math.max(0, ns / 1e6));
      this.wakeSleeper = () => {
        this.wakeSleeper = undefined;
        clearTimeout(timeout);
        const lag = this.lagNs;
        if (this.active && this.host.machine.halted && lag > 0) {
          const target = Math.min(this.guest.now() + lag, this.guest.nextDeadline() ?? Number.POSITIVE_INFINITY);
          this.counters.haltedNs += target - this.guest.now();
          this.guest.runUntil(target);
        }
        resolve();
      };
    });
  }
}
