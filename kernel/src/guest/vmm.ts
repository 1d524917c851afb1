import type { Clock, Nanoseconds } from "../clock/clock.js";
import type { LogLevel } from "../log/kernel-log.js";
import type { NetworkStack } from "../net/network-stack.js";
import type { VmConfig } from "./vm-config.js";

/**
 * The guest interface: what the vmkernel asks of a virtual machine monitor. The kernel keeps the VM
 * records and their power states; a `Vmm` (the guests package's PC machine) builds the machine that
 * runs one. The kernel imports no guest code, so everything crossing here is plain data and callbacks.
 */

/** Why a running VM stopped. */
export type VmStopReason =
  /** The guest wrote the isa-debug-exit port. */
  | "guest-exit"
  /** The guest powered the machine off (ACPI soft off). */
  | "guest-power-off"
  /** Powered off from outside (console, registry). */
  | "requested"
  /** The guest reset the machine while the VM is set to power off on reset. */
  | "guest-reset"
  /** The monitor failed (a boot image that does not load, an internal error). */
  | "error";

/**
 * What made the machine reset: a triple fault, the CPU reset line (pulsed by the keyboard controller
 * or port 0x92), the chipset's reset control register (0xCF9), or the console.
 */
export type VmResetCause = "triple-fault" | "reset-line" | "reset-control-register" | "requested";

export type VmRuntimeEvent =
  | { kind: "poweredOn"; time: Nanoseconds }
  | { kind: "reset"; time: Nanoseconds; cause: VmResetCause }
  | { kind: "poweredOff"; time: Nanoseconds; reason: VmStopReason; exitCode?: number; detail?: string };

/**
 * A serial port's host end as the console sees it: bytes typed towards the guest, the guest's output
 * as it comes, and what it has printed so far.
 */
export interface VmConsoleLine {
  /** Characters towards the guest (a terminal's keystrokes). */
  send(bytes: Uint8Array | string): void;
  /** Calls `listener` with each chunk the guest transmits; returns the unsubscribe function. */
  onOutput(listener: (bytes: Uint8Array) => void): () => void;
  /** The most recent output, bounded (the console's scrollback). */
  scrollback(): Uint8Array;
}

export interface VmNicStats {
  name: string;
  mac: string;
  portGroup: string;
  /** Whether the NIC has a vSwitch port (false: the network was not found or the NIC starts disconnected). */
  connected: boolean;
  framesFromGuest: number;
  framesToGuest: number;
  /** Frames the vSwitch refused from the guest. */
  transmitDrops: number;
  /** DMA the guest programmed outside its RAM or with bus mastering off, blocked and counted. */
  dmaBlocked: number;
  /** The device model's own counters, when it keeps them. */
  deviceCounters?: VmNicDeviceCounters;
}

/**
 * A virtual NIC model's counters. The e1000's statistics registers clear when read, so `registers`
 * counts since the guest's driver last read them (a driver that never reads them sees totals);
 * `internal` holds the model's drop counters, totals since power-on.
 */
export interface VmNicDeviceCounters {
  /** Register name (GPRC, GPTC, MPC, ...) → value. */
  registers: Record<string, number>;
  internal: Record<string, number>;
}

export interface VmRuntimeStats {
  instructions: number;
  /** Guest time run while powered on (virtual or host time, as the clock is). */
  guestTimeNs: Nanoseconds;
  /** Time the vCPU spent halted (HLT), skipped on a virtual clock, slept on a real one. */
  haltedNs: Nanoseconds;
  /** Guest time the vCPU spent in stalls (PAUSE) rather than instructions. */
  stalledNs: Nanoseconds;
  slices: number;
  resets: number;
  nics: VmNicStats[];
}

export type VmRuntimePowerState = "poweredOff" | "poweredOn";

/** One powered-on instance of a VM's machine. */
export interface VmRuntime {
  readonly powerState: VmRuntimePowerState;
  /** The guest's exit status once it stopped through the exit port. */
  readonly exitCode: number | undefined;
  /** Loads the boot image and starts the vCPU; throws if the image cannot be loaded. */
  powerOn(): void;
  powerOff(): void;
  /** A hard reset of the whole machine, as the reset button does. */
  reset(): void;
  /** COMn's host end (index 0 is COM1); undefined for ports the machine does not have. */
  serial(index: number): VmConsoleLine | undefined;
  stats(): VmRuntimeStats;
  /** Calls `listener` on every power event; returns the unsubscribe function. */
  onEvent(listener: (event: VmRuntimeEvent) => void): () => void;
}

/** What the kernel lends a runtime. */
export interface VmRuntimeServices {
  clock: Clock;
  /** Where the VM's NICs get their vSwitch ports; without it NICs stay unplugged. */
  network?: NetworkStack;
  log(level: LogLevel, message: string): void;
}

/** A virtual machine monitor: builds the runtime of a VM from its configuration. */
export interface Vmm {
  /** Shown in the inventory ("vmk PC (i440FX, i686)"). */
  readonly name: string;
  createRuntime(config: VmConfig, services: VmRuntimeServices): VmRuntime;
}
