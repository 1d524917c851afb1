import type { PcMachine } from "./pc-machine.js";

/** Counters every pacing strategy keeps. */
export interface VcpuLoopStats {
  slices: number;
  /** Time the processor was halted and the loop waited (skipped on a virtual clock, slept on a real one). */
  haltedNs: number;
}

/**
 * What the loop reports to the VM after each slice. `afterSlice` handles the guest's requests (exit,
 * reset) and returns false once the VM has stopped; `failed` gets anything the machine threw.
 */
export interface VcpuLoopHost {
  readonly machine: PcMachine;
  /** Host-clock time of power-on: guest time is measured from here. */
  readonly powerOnTime: number;
  afterSlice(): boolean;
  failed(error: unknown): void;
}

/** Runs a machine's processor against a clock, in slices, until stopped. */
export interface VcpuLoop {
  readonly stats: VcpuLoopStats;
  readonly running: boolean;
  start(): void;
  stop(): void;
}
