import type { Nanoseconds } from "../clock/clock.js";
import { formatMac } from "../net/packets/mac-address.js";
import type { VmConfig } from "./vm-config.js";
import type { VmConsoleLine, VmResetCause, VmRuntime, VmRuntimeEvent, VmRuntimeStats, VmStopReason } from "./vmm.js";

/** As ESX names them; suspended comes with checkpoints. */
export type VmPowerState = "poweredOff" | "poweredOn" | "suspended";

export type VmEvent =
  | { kind: "poweredOn"; vm: string; time: Nanoseconds }
  | { kind: "reset"; vm: string; time: Nanoseconds; cause: VmResetCause }
  | { kind: "poweredOff"; vm: string; time: Nanoseconds; reason: VmStopReason; exitCode?: number; detail?: string };

export interface VmLastStop {
  reason: VmStopReason;
  exitCode?: number;
  detail?: string;
  time: Nanoseconds;
}

/** The console's view of one VM, as plain data. */
export interface VmView {
  id: number;
  name: string;
  guestOS: string;
  powerState: VmPowerState;
  memoryBytes: number;
  numVcpus: number;
  nics: Array<{ name: string; mac: string; networkName: string; virtualDev: string }>;
  lastStop?: VmLastStop;
  stats?: VmRuntimeStats;
}

/**
 * One registered virtual machine: its configuration, power state and, while it runs, the VMM's
 * runtime. A fresh runtime is built at every power-on, as ESX starts a new VMX process.
 */
export class VirtualMachine {
  private currentRuntime: VmRuntime | undefined;
  private detachRuntime: (() => void) | undefined;
  private stop: VmLastStop | undefined;
  private readonly listeners = new Set<(event: VmEvent) => void>();

  constructor(
    readonly id: number,
    readonly config: VmConfig,
  ) {}

  get name(): string {
    return this.config.displayName;
  }

  get powerState(): VmPowerState {
    return this.currentRuntime?.powerState === "poweredOn" ? "poweredOn" : "poweredOff";
  }

  get runtime(): VmRuntime | undefined {
    return this.currentRuntime;
  }

  get lastStop(): VmLastStop | undefined {
    return this.stop;
  }

  /** COMn's host end while the VM runs. */
  serial(index: number): VmConsoleLine | undefined {
    return this.currentRuntime?.serial(index);
  }

  onEvent(listener: (event: VmEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes a runtime the registry built and follows its events until it powers off. */
  adoptRuntime(runtime: VmRuntime): void {
    this.detachRuntime?.();
    this.currentRuntime = runtime;
    this.detachRuntime = runtime.onEvent((event) => this.follow(event));
  }

  view(): VmView {
    const config = this.config;
    return {
      id: this.id,
      name: this.name,
      guestOS: config.guestOS,
      powerState: this.powerState,
      memoryBytes: config.memoryBytes,
      numVcpus: config.numVcpus,
      nics: config.nics.map((nic) => ({ name: `ethernet${nic.index}`, mac: formatMac(nic.mac), networkName: nic.networkName, virtualDev: nic.virtualDev })),
      ...(this.stop ? { lastStop: { ...this.stop } } : {}),
      ...(this.currentRuntime ? { stats: this.currentRuntime.stats() } : {}),
    };
  }

  private follow(event: VmRuntimeEvent): void {
    if (event.kind === "poweredOff") {
      this.stop = { reason: event.reason, time: event.time, ...(event.exitCode !== undefined ? { exitCode: event.exitCode } : {}), ...(event.detail !== undefined ? { detail: event.detail } : {}) };
    }
    const vmEvent: VmEvent = { ...event, vm: this.name };
    for (const listener of [...this.listeners]) listener(vmEvent);
  }
}

