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
import type { NetworkView, PortView } from "../net/network-views.js";
import type { DhcpLeaseEntry, DhcpServerView, DhcpService } from "../net/dhcp/dhcp-service.js";
import type { DhcpSettings } from "../net/dhcp/dhcp-settings.js";
import type { PortStatsView } from "../net/port-statistics.js";
import type { PingOptions, PingReport } from "../net/ping-session.js";
import type { StorageStack } from "../storage/storage-stack.js";
import type { StorageView } from "../storage/storage-views.js";
import type { VmRegistry } from "../guest/vm-registry.js";
import type { VirtualMachine, VmPowerState, VmView } from "../guest/virtual-machine.js";
import type { VmNicDeviceCounters } from "../guest/vmm.js";
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

/** A row of the vSwitch port table, with the VM and NIC behind a VM's port. */
export interface PortTableRow extends PortView {
  /** The VM whose NIC holds the port (clientType "vm"). */
  vm?: string;
  /** That NIC ("ethernet0"). */
  nic?: string;
}

/** One virtual NIC of one VM, with the counters of both ends: its vSwitch port and the VMM's device. */
export interface VmNicView {
  vm: string;
  vmId: number;
  powerState: VmPowerState;
  /** "ethernet0" */
  nic: string;
  mac: string;
  virtualDev: string;
  /** The port group the .vmx names. */
  portGroup: string;
  /** Whether the NIC holds a vSwitch port now. */
  connected: boolean;
  portId?: number;
  vswitch?: string;
  vlanId?: number;
  /** The address a host DHCP server has bound to this MAC, if any. */
  ipAddress?: string;
  /**
   * The vSwitch port's counters seen from the VM: tx is what the guest sent into the switch, rx what
   * the switch delivered to it. Present while the port exists.
   */
  port?: PortStatsView;
  /** The VMM's side while the VM runs: frames through the virtual device, and the device's own counters. */
  device?: {
    framesFromGuest: number;
    framesToGuest: number;
    transmitDrops: number;
    dmaBlocked: number;
    counters?: VmNicDeviceCounters;
  };
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
    @inject(KernelTokens.Dhcp) private readonly dhcp: DhcpService,
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

  /**
   * Every vSwitch port (esxcli network vswitch standard port list, net-stats -l): uplinks, vmknics,
   * DHCP servers and VM NICs, with their counters; a VM's port names the VM and the NIC.
   */
  ports(): PortTableRow[] {
    const owners = new Map<string, { vm: string; nic: string }>();
    for (const vm of this.virtualMachines?.list() ?? []) for (const nic of vm.config.nics) owners.set(`${vm.name}.ethernet${nic.index}`, { vm: vm.name, nic: `ethernet${nic.index}` });
    return this.networkStack.listPorts().map((port) => {
      const owner = port.clientType === "vm" ? owners.get(port.clientName) : undefined;
      return owner ? { ...port, ...owner } : port;
    });
  }

  /** Each VM's virtual NICs with their port and device counters; one VM's when named. */
  vmNics(idOrName?: number | string): VmNicView[] {
    const registry = this.virtualMachines;
    if (registry === undefined) {
      if (idOrName !== undefined) throw new Error(`no VM ${typeof idOrName === "number" ? idOrName : `"${idOrName}"`} (this host runs no virtual machines)`);
      return [];
    }
    const vms = idOrName === undefined ? registry.list() : [registry.get(idOrName)];
    const ports = new Map(this.networkStack.listPorts().filter((p) => p.clientType === "vm").map((p) => [p.clientName, p]));
    const addresses = new Map<string, string>();
    for (const lease of this.dhcp.leases()) if (lease.state === "bound") addresses.set(lease.mac, lease.ipAddress);
    return vms.flatMap((vm) => this.nicViews(vm, ports, addresses));
  }

  /** The DHCP servers on port groups, with their counters and leases. */
  dhcpServers(): DhcpServerView[] {
    return this.dhcp.views();
  }

  /** Every DHCP lease and offer (or one port group's). */
  dhcpLeases(portGroup?: string): DhcpLeaseEntry[] {
    return this.dhcp.leases(portGroup);
  }

  /** Starts (or replaces) the DHCP server of a port group. */
  configureDhcp(settings: DhcpSettings): DhcpServerView {
    this.dhcp.configure(settings);
    return this.dhcp.views().find((v) => v.portGroup === settings.portGroup)!;
  }

  removeDhcp(portGroup: string): void {
    this.dhcp.remove(portGroup);
  }

  /** Storage adapters (vmhbaN), devices (naa.*) and their paths with states. */
  storage(): StorageView {
    return this.storageStack.describe();
  }

  /** vmkping: ICMP echo from a vmkernel NIC. */
  ping(vmknic: string, target: string, options: PingOptions = {}): Promise<PingReport> {
    return this.networkStack.vmknic(vmknic).ping(target, options);
  }

  private nicViews(vm: VirtualMachine, ports: Map<string, PortView>, addresses: Map<string, string>): VmNicView[] {
    const view = vm.view();
    const running = new Map((view.stats?.nics ?? []).map((n) => [n.name, n]));
    return vm.config.nics.map((config, i) => {
      const name = `${vm.name}.ethernet${config.index}`;
      const port = ports.get(name);
      const device = running.get(name);
      const mac = port?.mac ?? view.nics[i]!.mac;
      const ipAddress = addresses.get(mac);
      return {
        vm: vm.name,
        vmId: vm.id,
        powerState: vm.powerState,
        nic: `ethernet${config.index}`,
        mac,
        virtualDev: config.virtualDev,
        portGroup: config.networkName,
        connected: port !== undefined,
        ...(port ? { portId: port.portId, vswitch: port.vswitch, vlanId: port.vlanId, port: port.stats } : {}),
        ...(ipAddress !== undefined ? { ipAddress } : {}),
        ...(device
          ? {
              device: {
                framesFromGuest: device.framesFromGuest,
                framesToGuest: device.framesToGuest,
                transmitDrops: device.transmitDrops,
                dmaBlocked: device.dmaBlocked,
                ...(device.deviceCounters ? { counters: device.deviceCounters } : {}),
              },
            }
          : {}),
      };
    });
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
