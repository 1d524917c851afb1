import { inject, injectable } from "tsyringe";
import { KERNEL_API_VERSION, KERNEL_RELEASE } from "../api-version.js";
import type { Clock } from "../clock/clock.js";
import type { FaultEntry, FaultRecord } from "../io/fault-record.js";
import type { InterruptController, VectorInfo } from "../irq/interrupt-controller.js";
import type { KernelLog, LogEntry, LogQuery } from "../log/kernel-log.js";
import type { MachineMemory } from "../memory/machine-memory.js";
import type { ModuleInfo, ModuleLoader } from "../module/module-loader.js";
import type { PciBus } from "../pci/pci-bus.js";
import type { NetworkStack } from "../net/network-stack.js";
import type { NetworkView } from "../net/network-views.js";
import type { PingOptions, PingReport } from "../net/ping-session.js";
import type { StorageStack } from "../storage/storage-stack.js";
import type { StorageView } from "../storage/storage-views.js";
import type { VmRegistry } from "../guest/vm-registry.js";
import type { VmView } from "../guest/virtual-machine.js";
import { pciClassName } from "../pci/config-registers.js";
import { KernelTokens, Tokens } from "../tokens.js";

export interface HostConfig {
  /** Host name, as shown by the console ("esx01"). */
  name: string;
  /** Bytes of machine memory. */
  memoryBytes: number;
}

export interface HostInfo {
  name: string;
  release: string;
  kernelApi: string;
  clock: "virtual" | "real";
  uptimeNs: number;
  memory: { totalBytes: number; freeBytes: number };
  state: string;
}

export interface PciBarView {
  index: number;
  kind: "memory" | "io";
  address: number;
  size: number;
  decoding: boolean;
}

export interface PciDeviceInfo {
  address: string;
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number;
  subsystemId: number;
  classCode: number;
  className: string;
  revision: number;
  model: string;
  bars: PciBarView[];
  /** INTx routing: interrupt line (GSI) and pin letter. */
  interrupt?: { line: number; pin: string; vector: number };
  msiEnabled: boolean;
  busMaster: boolean;
  module?: string;
  driver?: string;
  /** Why no driver holds it, when a probe declined it. */
  probeFailure?: string;
}

/**
 * The console interface: a typed API over the kernel for the CLI, the HTTP API and the web UI. Every
 * result is plain data (JSON-serialisable), so every front end shows the same thing.
 */
@injectable()
export class ManagementApi {
  private stateGetter: () => string = () => "unknown";
  private virtualMachines: VmRegistry | undefined;

  constructor(
    @inject(KernelTokens.HostConfig) private readonly config: HostConfig,
    @inject(Tokens.Clock) private readonly clock: Clock,
    @inject(KernelTokens.KernelLog) private readonly kernelLog: KernelLog,
    @inject(KernelTokens.MachineMemory) private readonly memory: MachineMemory,
    @inject(KernelTokens.PciBus) private readonly bus: PciBus,
    @inject(KernelTokens.InterruptController) private readonly irq: InterruptController,
    @inject(KernelTokens.ModuleLoader) private readonly loader: ModuleLoader,
    @inject(KernelTokens.FaultRecord) private readonly faultRecord: FaultRecord,
    @inject(KernelTokens.Network) private readonly networkStack: NetworkStack,
    @inject(KernelTokens.Storage) private readonly storageStack: StorageStack,
  ) {}

  /** A host with a VMM hands over its VM registry. */
  bindVirtualMachines(registry: VmRegistry): void {
    this.virtualMachines = registry;
  }

  /** Virtual machines with their power state (none on a host without a VMM). */
  vms(): VmView[] {
    return this.virtualMachines?.views() ?? [];
  }

  /** The host supplies its lifecycle state (created, booting, running, ...). */
  bindState(getter: () => string): void {
    this.stateGetter = getter;
  }

  hostInfo(): HostInfo {
    return {
      name: this.config.name,
      release: KERNEL_RELEASE,
      kernelApi: KERNEL_API_VERSION,
      clock: this.clock.kind,
      uptimeNs: this.clock.now(),
      memory: { totalBytes: this.memory.size, freeBytes: this.memory.free },
      state: this.stateGetter(),
    };
  }

  pciDevices(): PciDeviceInfo[] {
    return this.bus.list().map((fn) => {
      const c = fn.config;
      const decoded = fn.decodedRegions();
      const binding = this.loader.bindingOf(fn.name);
      return {
        address: fn.name,
        vendorId: c.vendorId,
        deviceId: c.deviceId,
        subsystemVendorId: c.subsystemVendorId,
        subsystemId: c.subsystemId,
        classCode: c.classCode,
        className: pciClassName(c.classCode),
        revision: c.revisionId,
        model: fn.model.modelName,
        bars: c.bars
          .filter((b) => b !== undefined)
          .map((b) => ({ index: b.index, kind: b.kind, address: c.barAddress(b.index), size: b.size, decoding: decoded.has(b.index) })),
        interrupt:
          fn.gsi === undefined ? undefined : { line: fn.gsi, pin: String.fromCharCode(64 + c.interruptPin), vector: this.irq.lineVector(fn.gsi) },
        msiEnabled: c.msi()?.enabled ?? false,
        busMaster: c.busMasterEnabled,
        module: binding?.module,
        driver: binding?.driver,
        probeFailure: this.loader.probeFailureOf(fn.name),
      };
    });
  }

  modules(): ModuleInfo[] {
    return this.loader.list();
  }

  loadModule(name: string): Promise<ModuleInfo> {
    return this.loader.load(name);
  }

  unloadModule(name: string): Promise<ModuleInfo> {
    return this.loader.unload(name);
  }

  reloadModule(name: string): Promise<ModuleInfo> {
    return this.loader.reload(name);
  }

  /** vSwitches with port groups, uplinks (vmnics), the port table, vmknics and learned neighbours. */
  network(): NetworkView {
    return this.networkStack.describe();
  }

  /** Storage adapters (vmhbaN), devices (naa.*) and their paths with states. */
  storage(): StorageView {
    return this.storageStack.describe();
  }

  /** vmkping: ICMP echo from a vmkernel NIC. */
  ping(vmknic: string, target: string, options: PingOptions = {}): Promise<PingReport> {
    return this.networkStack.vmknic(vmknic).ping(target, options);
  }

  interrupts(): VectorInfo[] {
    return this.irq.info();
  }

  faults(): readonly FaultEntry[] {
    return this.faultRecord.entries();
  }

  log(query: LogQuery = {}): LogEntry[] {
    return this.kernelLog.entries(query);
  }

  subscribeLog(listener: (entry: LogEntry) => void): () => void {
    return this.kernelLog.subscribe(listener);
  }
}
