import { inject, injectable } from "tsyringe";
import type { Clock } from "../clock/clock.js";
import type { KernelLog } from "../log/kernel-log.js";
import type { NetworkStack } from "../net/network-stack.js";
import { KernelTokens, Tokens } from "../tokens.js";
import { VirtualMachine, type VmEvent, type VmPowerState, type VmView } from "./virtual-machine.js";
import type { VmConfig } from "./vm-config.js";
import type { Vmm } from "./vmm.js";

const LOG_SOURCE = "vmm";

/**
 * The host's virtual machines: registration from a validated configuration, power operations and
 * their events. Power-on asks the Vmm for a fresh runtime; the VM's NICs get their vSwitch ports
 * from the host's network stack through it.
 */
@injectable()
export class VmRegistry {
  private readonly machines = new Map<number, VirtualMachine>();
  private nextId = 1;
  private readonly listeners = new Set<(event: VmEvent) => void>();

  constructor(
    @inject(Tokens.Clock) private readonly clock: Clock,
    @inject(KernelTokens.KernelLog) private readonly log: KernelLog,
    @inject(KernelTokens.Network) private readonly network: NetworkStack,
    @inject(KernelTokens.Vmm) private readonly vmm: Vmm,
  ) {}

  get monitorName(): string {
    return this.vmm.name;
  }

  /** Registers a VM; names are unique on the host, as the inventory shows VMs by name. */
  create(config: VmConfig): VirtualMachine {
    if (this.find(config.displayName)) throw new Error(`a VM named "${config.displayName}" is already registered`);
    const vm = new VirtualMachine(this.nextId++, config);
    vm.onEvent((event) => this.announce(event));
    this.machines.set(vm.id, vm);
    this.log.info(LOG_SOURCE, `${vm.name}: registered as VM ${vm.id} (${config.memoryBytes / (1 << 20)} MB, ${config.nics.length} NIC${config.nics.length === 1 ? "" : "s"})`);
    return vm;
  }

  /** Unregisters a powered-off VM. */
  remove(idOrName: number | string): void {
    const vm = this.get(idOrName);
    if (vm.powerState !== "poweredOff") throw new Error(`${vm.name} is ${vm.powerState}; power it off first`);
    this.machines.delete(vm.id);
    this.log.info(LOG_SOURCE, `${vm.name}: unregistered`);
  }

  list(): VirtualMachine[] {
    return [...this.machines.values()];
  }

  find(idOrName: number | string): VirtualMachine | undefined {
    if (typeof idOrName === "number") return this.machines.get(idOrName);
    return this.list().find((vm) => vm.name === idOrName);
  }

  get(idOrName: number | string): VirtualMachine {
    const vm = this.find(idOrName);
    if (!vm) throw new Error(`no VM ${typeof idOrName === "number" ? idOrName : `"${idOrName}"`}`);
    return vm;
  }

  state(idOrName: number | string): VmPowerState {
    return this.get(idOrName).powerState;
  }

  powerOn(idOrName: number | string): VirtualMachine {
    const vm = this.get(idOrName);
    if (vm.powerState === "poweredOn") throw new Error(`${vm.name} is already powered on`);
    const runtime = this.vmm.createRuntime(vm.config, {
      clock: this.clock,
      network: this.network,
      log: (level, message) => this.log.log(level, LOG_SOURCE, `${vm.name}: ${message}`),
    });
    vm.adoptRuntime(runtime);
    runtime.powerOn();
    return vm;
  }

  powerOff(idOrName: number | string): void {
    const vm = this.get(idOrName);
    if (vm.powerState === "poweredOff") throw new Error(`${vm.name} is already powered off`);
    vm.runtime!.powerOff();
  }

  reset(idOrName: number | string): void {
    const vm = this.get(idOrName);
    if (vm.powerState !== "poweredOn") throw new Error(`${vm.name} is ${vm.powerState}; only a running VM can be reset`);
    vm.runtime!.reset();
  }

  /** Every VM's power events; returns the unsubscribe function. */
  onEvent(listener: (event: VmEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  views(): VmView[] {
    return this.list().map((vm) => vm.view());
  }

  private announce(event: VmEvent): void {
    if (event.kind === "poweredOn") this.log.info(LOG_SOURCE, `${event.vm}: powered on`);
    else if (event.kind === "reset") this.log.info(LOG_SOURCE, `${event.vm}: reset (${event.cause})`);
    else {
      const status = event.exitCode !== undefined ? `, exit code ${event.exitCode}` : "";
      const detail = event.detail ? `: ${event.detail}` : "";
      this.log.log(event.reason === "error" ? "error" : "info", LOG_SOURCE, `${event.vm}: powered off (${event.reason}${status})${detail}`);
    }
    for (const listener of [...this.listeners]) listener(event);
  }
}
