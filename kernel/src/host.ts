import "reflect-metadata";
import { container as rootContainer, type DependencyContainer } from "tsyringe";
import { KERNEL_API_VERSION, KERNEL_RELEASE } from "./api-version.js";
import type { Clock } from "./clock/clock.js";
import { RealTimeClock } from "./clock/real-time-clock.js";
import { VirtualClock } from "./clock/virtual-clock.js";
import { ManagementApi, type HostConfig } from "./console/management-api.js";
import { FaultRecord } from "./io/fault-record.js";
import { MmioSpace, PortSpace } from "./io/io-spaces.js";
import { InterruptController } from "./irq/interrupt-controller.js";
import { KernelLog } from "./log/kernel-log.js";
import { MachineMemory } from "./memory/machine-memory.js";
import type { InterruptService, ModuleServiceProvider } from "./module/module-api.js";
import { ModuleLoader, type LoaderOptions } from "./module/module-loader.js";
import { PciBus } from "./pci/pci-bus.js";
import { NetworkStack, type DefaultNetworkSpec } from "./net/network-stack.js";
import { netUplinksProvider } from "./net/module-uplinks.js";
import { DhcpService } from "./net/dhcp/dhcp-service.js";
import { StorageStack } from "./storage/storage-stack.js";
import { VmRegistry } from "./guest/vm-registry.js";
import type { Vmm } from "./guest/vmm.js";
import { scsiAdaptersProvider } from "./storage/module-adapters.js";
import { pciClassName } from "./pci/config-registers.js";
import type { PciDeviceModel } from "./pci/pci-device-model.js";
import type { PciSlot } from "./pci/pci-address.js";
import { KernelTokens, Tokens } from "./tokens.js";

export interface HostOptions {
  name?: string;
  /** "virtual" (default: deterministic, driven by the owner) or "real", or a clock instance. */
  clock?: "virtual" | "real" | Clock;
  /** Machine memory in bytes (default 256 MiB). */
  memoryBytes?: number;
  modules?: Partial<LoaderOptions>;
  /** vSwitch0's uplink (default vmnic0) and vmk0's address on "Management Network" (no vmk0 without it). */
  network?: DefaultNetworkSpec;
  /** The virtual machine monitor VMs run on (guests/ provides one); without it the host runs no VMs. */
  vmm?: Vmm;
}

export type HostState = "created" | "booting" | "running" | "shut down";

/**
 * One vmkernel instance. It owns a tsyringe container: the host container holds the kernel's
 * internals; its parent, the public container, holds only the exported tokens, and every loaded module
 * gets a child of that public container.
 */
export class Host {
  readonly name: string;
  readonly container: DependencyContainer;
  readonly publicContainer: DependencyContainer;
  readonly clock: Clock;
  private state: HostState = "created";
  /** Services each module gets scoped to itself; subsystems add theirs at construction. */
  private readonly moduleServiceProviders: ModuleServiceProvider[] = [];

  constructor(options: HostOptions = {}) {
    this.name = options.name ?? "vmk-host";
    this.clock = options.clock instanceof Object ? options.clock : options.clock === "real" ? new RealTimeClock() : new VirtualClock();
    const config: HostConfig = { name: this.name, memoryBytes: options.memoryBytes ?? 256 * 1024 * 1024 };
    const loaderOptions: LoaderOptions = { searchPaths: options.modules?.searchPaths ?? [], preferSource: options.modules?.preferSource ?? false };

    this.publicContainer = rootContainer.createChildContainer();
    this.container = this.publicContainer.createChildContainer();
    const c = this.container;
    c.registerInstance(KernelTokens.HostConfig, config);
    c.registerInstance(KernelTokens.LoaderOptions, loaderOptions);
    c.registerInstance(KernelTokens.PublicContainer, this.publicContainer);
    c.registerInstance(KernelTokens.ModuleServiceProviders, this.moduleServiceProviders);
    c.registerInstance(Tokens.Clock, this.clock);
    c.registerInstance(KernelTokens.MachineMemory, new MachineMemory(config.memoryBytes));
    for (const [token, service] of [
      [KernelTokens.KernelLog, KernelLog],
      [KernelTokens.FaultRecord, FaultRecord],
      [KernelTokens.MmioSpace, MmioSpace],
      [KernelTokens.PortSpace, PortSpace],
      [KernelTokens.InterruptController, InterruptController],
      [KernelTokens.PciBus, PciBus],
      [KernelTokens.ModuleLoader, ModuleLoader],
      [KernelTokens.Network, NetworkStack],
      [KernelTokens.Dhcp, DhcpService],
      [KernelTokens.Storage, StorageStack],
      [KernelTokens.Management, ManagementApi],
    ] as const) {
      c.registerSingleton(token, service as never);
    }
    if (options.vmm) {
      c.registerInstance(KernelTokens.Vmm, options.vmm);
      c.registerSingleton(KernelTokens.VirtualMachines, VmRegistry);
      this.management.bindVirtualMachines(this.vms);
    }
    this.registerPublicServices();
    this.management.bindState(() => this.state);
    // As an ESX install does: vSwitch0 on the first uplink, with the management and VM port groups.
    this.network.configureDefaults(options.network ?? {});
  }

  get log(): KernelLog {
    return this.container.resolve(KernelTokens.KernelLog);
  }
  get pci(): PciBus {
    return this.container.resolve(KernelTokens.PciBus);
  }
  get interrupts(): InterruptController {
    return this.container.resolve(KernelTokens.InterruptController);
  }
  get memory(): MachineMemory {
    return this.container.resolve(KernelTokens.MachineMemory);
  }
  get mmio(): MmioSpace {
    return this.container.resolve(KernelTokens.MmioSpace);
  }
  get ports(): PortSpace {
    return this.container.resolve(KernelTokens.PortSpace);
  }
  get faults(): FaultRecord {
    return this.container.resolve(KernelTokens.FaultRecord);
  }
  get loader(): ModuleLoader {
    return this.container.resolve(KernelTokens.ModuleLoader);
  }
  get management(): ManagementApi {
    return this.container.resolve(KernelTokens.Management);
  }
  get network(): NetworkStack {
    return this.container.resolve(KernelTokens.Network);
  }
  /** DHCP servers on port groups (none until configured). */
  get dhcp(): DhcpService {
    return this.container.resolve(KernelTokens.Dhcp);
  }
  get storage(): StorageStack {
    return this.container.resolve(KernelTokens.Storage);
  }
  /** The host's VMs; only a host given a VMM has them. */
  get vms(): VmRegistry {
    if (!this.container.isRegistered(KernelTokens.VirtualMachines)) throw new Error(`host ${this.name} has no virtual machine monitor`);
    return this.container.resolve(KernelTokens.VirtualMachines);
  }
  get hostState(): HostState {
    return this.state;
  }

  /** Plugs a card into a PCI slot before boot (or hot-plugs it after; call rescan()). */
  attachPci(slot: PciSlot, model: PciDeviceModel) {
    return this.pci.attach(slot, model);
  }

  /**
   * Boots: firmware assigns PCI resources, the kernel scans the bus, finds modules, loads those whose
   * devices are present and binds drivers. Module failures are logged, never thrown.
   */
  async boot(): Promise<void> {
    if (this.state !== "created") throw new Error(`host ${this.name} is already ${this.state}`);
    this.state = "booting";
    const log = this.log;
    log.info("vmkernel", `vmk ${KERNEL_RELEASE} (kernel API ${KERNEL_API_VERSION}) booting host ${this.name}`);
    log.info("vmkernel", `machine memory: ${(this.memory.size / 1048576).toFixed(0)} MiB, clock: ${this.clock.kind}`);
    this.pci.assignResources();
    for (const fn of this.pci.enumerate()) {
      const c = fn.config;
      const bars = c.bars
        .filter((b) => b !== undefined)
        .map((b) => `BAR${b.index} ${b.kind === "io" ? "io" : "mem"} 0x${c.barAddress(b.index).toString(16)}/${formatSize(b.size)}`)
        .join(", ");
      log.info(
        "pci",
        `${fn.name} ${hex4(c.vendorId)}:${hex4(c.deviceId)} ${hex4(c.subsystemVendorId)}:${hex4(c.subsystemId)} ${pciClassName(c.classCode)}: ${fn.model.modelName}` +
          (bars ? ` [${bars}]` : "") +
          (fn.gsi !== undefined ? ` irq ${fn.gsi}` : ""),
      );
    }
    const found = this.loader.discover();
    log.info("loader", `${found} module package${found === 1 ? "" : "s"} found`);
    await this.loader.bindAll();
    this.state = "running";
    log.info("vmkernel", `host ${this.name} is up`);
  }

  /** True while a module's code is being imported (real file I/O, not something virtual time can hurry). */
  get loadingModules(): boolean {
    return this.loader.list().some((m) => m.state === "loading");
  }

  /** Binds drivers to devices plugged after boot. */
  rescan(): Promise<void> {
    this.pci.assignResources();
    return this.loader.bindAll();
  }

  /** Unloads every module (remove, exit) and stops the clock. */
  async shutdown(): Promise<void> {
    if (this.state === "shut down") return;
    for (const module of this.loader.list()) {
      if (module.state === "loaded") await this.loader.unload(module.name);
    }
    if (this.clock instanceof RealTimeClock) this.clock.stop();
    this.state = "shut down";
    this.log.info("vmkernel", `host ${this.name} shut down`);
  }

  private registerPublicServices(): void {
    const p = this.publicContainer;
    const irq = this.interrupts;
    const log = this.log;
    p.registerInstance(Tokens.KernelApiVersion, KERNEL_API_VERSION);
    p.registerInstance(Tokens.Clock, this.clock);
    p.registerInstance(Tokens.Logger, {
      error: (m: string) => log.error("kernel", m),
      warn: (m: string) => log.warn("kernel", m),
      info: (m: string) => log.info("kernel", m),
      debug: (m: string) => log.debug("kernel", m),
    });
    const interrupts: InterruptService = {
      requestIrq: (vector, handler, options) => irq.requestIrq(vector, handler, options),
      mask: (vector) => irq.mask(vector),
      unmask: (vector) => irq.unmask(vector),
    };
    p.registerInstance(Tokens.Interrupts, interrupts);
    p.registerInstance(Tokens.NetUplinks, this.network.uplinks.forModules());
    this.moduleServiceProviders.push(netUplinksProvider(this.network.uplinks));
    p.registerInstance(Tokens.ScsiAdapters, this.storage.adapters.forModules());
    this.moduleServiceProviders.push(scsiAdaptersProvider(this.storage.adapters));
  }
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, "0");
}

export function formatSize(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes >>> 20}M`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes >>> 10}K`;
  return `${bytes}`;
}
