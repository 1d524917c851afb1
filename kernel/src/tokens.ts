/**
 * Injection tokens. Symbols are registered globally (Symbol.for) so that two copies of this package
 * in one process (a third-party driver bundling its own) still agree on them.
 *
 * `Tokens` are exported to modules: every module's child container resolves exactly these, scoped to
 * the module where it matters (its logger names it, its timers and interrupt handlers are charged to it).
 * `KernelTokens` are the host's internals and the console interface; modules never see them.
 */
export const Tokens = {
  /** string: the kernel API version (semver). */
  KernelApiVersion: Symbol.for("vmk.kernel.KernelApiVersion"),
  /** Logger: writes to the kernel log under the module's name. */
  Logger: Symbol.for("vmk.kernel.Logger"),
  /** Clock: virtual or real host time, timers with cancellation. */
  Clock: Symbol.for("vmk.kernel.Clock"),
  /** InterruptService: handler registry, masking. */
  Interrupts: Symbol.for("vmk.kernel.Interrupts"),
  /** PciDriverRegistry: register and unregister PCI drivers. */
  PciDrivers: Symbol.for("vmk.kernel.PciDrivers"),
  /** UplinkRegistry: drivers register their network devices (they become vmnicN uplinks). */
  NetUplinks: Symbol.for("vmk.kernel.NetUplinks"),
  /** AdapterRegistry: drivers register their SCSI host adapters (they become vmhbaN). */
  ScsiAdapters: Symbol.for("vmk.kernel.ScsiAdapters"),
  /** ModuleContext: the module's own view (name, version, container). */
  ModuleContext: Symbol.for("vmk.kernel.ModuleContext"),
} as const;

/** The tokens a module's container exposes. */
export const MODULE_EXPORTED_TOKENS: readonly symbol[] = Object.values(Tokens);

export const KernelTokens = {
  HostConfig: Symbol.for("vmk.kernel.internal.HostConfig"),
  KernelLog: Symbol.for("vmk.kernel.internal.KernelLog"),
  FaultRecord: Symbol.for("vmk.kernel.internal.FaultRecord"),
  MachineMemory: Symbol.for("vmk.kernel.internal.MachineMemory"),
  MmioSpace: Symbol.for("vmk.kernel.internal.MmioSpace"),
  PortSpace: Symbol.for("vmk.kernel.internal.PortSpace"),
  InterruptController: Symbol.for("vmk.kernel.internal.InterruptController"),
  PciBus: Symbol.for("vmk.kernel.internal.PciBus"),
  ModuleLoader: Symbol.for("vmk.kernel.internal.ModuleLoader"),
  LoaderOptions: Symbol.for("vmk.kernel.internal.LoaderOptions"),
  /** ModuleServiceProvider[]: services handed to each module scoped to it. */
  ModuleServiceProviders: Symbol.for("vmk.kernel.internal.ModuleServiceProviders"),
  /** The container modules' child containers descend from: it holds only the exported tokens. */
  PublicContainer: Symbol.for("vmk.kernel.internal.PublicContainer"),
  /** NetworkStack: vSwitches, port groups, uplinks, vmkernel NICs. */
  Network: Symbol.for("vmk.kernel.internal.Network"),
  /** DhcpService: the DHCP servers the host runs on its port groups. */
  Dhcp: Symbol.for("vmk.kernel.internal.Dhcp"),
  /** StorageStack: adapters, paths, devices (naa.*), block I/O. */
  Storage: Symbol.for("vmk.kernel.internal.Storage"),
  /** Vmm: the virtual machine monitor the host runs VMs with (given by whoever assembles the host). */
  Vmm: Symbol.for("vmk.kernel.internal.Vmm"),
  /** VmRegistry: the host's virtual machines. */
  VirtualMachines: Symbol.for("vmk.kernel.internal.VirtualMachines"),
  /** ManagementApi: the console interface (CLI, HTTP API, web UI). */
  Management: Symbol.for("vmk.kernel.console.Management"),
} as const;
