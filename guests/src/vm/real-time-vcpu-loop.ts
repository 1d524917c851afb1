import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { Clock } from "@vmk/kernel";
import type { VcpuLoop, VcpuLoopHost, VcpuLoopStats } from "./vcpu-loop.js";

/** Instructions per slice: the time-stamp counter is re-aligned with the host clock between slices. */
export const REAL_TIME_SLICE_INSTRUCTIONS = 20_000;
/** Wall time the vCPU may hold the event loop before timers, stdin and sockets get their turn. */
export const REAL_TIME_BURST_MS = 4;
/**
 * A halted processor sleeps until the interrupt controller raises INT; this bounds the sleep in case
 * the guest halted with interrupts off and only a reset or power-off will end it.
 */
const MAX_HALT_SLEEP_MS = 50;

/**
 * The vCPU on the host's real clock. It runs bursts of slices for a few milliseconds and then yields
 * to Node's event loop, where the clock's device timers (PIT, RTC, UART, NIC) fire and I/O is read.
 * Guest time is host time: the PIT and RTC read the clock, and the time-stamp counter is moved up to
 * it before every slice. When the processor halts the loop sleeps until an interrupt is requested.
 */
export class RealTimeVcpuLoop implements VcpuLoop {
  readonly stats: VcpuLoopStats = { slices: 0, haltedNs: 0 };
  private active = false;
  private wakeSleeper: (() => void) | undefined;
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: VcpuLoopHost,
    private readonly clock: Clock,
  ) {}

  get running(): boolean {
    return this.active;
  }

  /** Settles when the loop has returned after `stop()` or the VM stopped. */
  get done(): Promise<void> {
    return this.finished;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.host.machine.onInterruptRequest = () => this.wakeSleeper?.();
    this.finished = this.loop();
  }

  stop(): void {
    this.active = false;
    this.host.machine.onInterruptRequest = undefined;
    this.wakeSleeper?.();
  }

  private async loop(): Promise<void> {
    const machine = this.host.machine;
    while (this.active) {
      const burstEnd = performance.now() + REAL_TIME_BURST_MS;
      let halted = false;
      do {
        let executed: number;
        try {
          executed = machine.runSlice(REAL_TIME_SLICE_INSTRUCTIONS, this.clock.now() - this.host.powerOnTime);
        } catch (error) {
          this.stop();
          this.host.failed(error);
          return;
        }
        this.stats.slices++;
        if (!this.host.afterSlice() || !this.active) return;
        halted = executed === 0 || machine.halted;
      } while (!halted && performance.now() < burstEnd);
      if (halted) await this.sleepUntilInterrupt();
      else await yieldToEventLoop();
    }
  }

  private sleepUntilInterrupt(): Promise<void> {
    const start = this.clock.now();
    return new Promise<void>((resolve) => {
      const timeout = setTimeout(() => this.wakeSleeper?.(), MAX_HALT_SLEEP_MS);
      this.wakeSleeper = () => {
        this.wakeSleeper = undefined;
        clearTimeout(timeout);
        this.stats.haltedNs += this.clock.now() - start;
        resolve();
      };
    });
  }
}
