import type { ExecutionDomain } from "../exec/execution-domain.js";
import { describeError } from "../exec/execution-domain.js";
import type { KernelLog } from "../log/kernel-log.js";
import type { AdapterRegistrationOptions, AdapterRegistry, RegisteredScsiAdapter, ScsiAdapter } from "./scsi-adapter.js";
import { SCSI_LOG, type ScsiHost } from "./scsi-host.js";

export interface AdapterRegistryListener {
  adapterRegistered(host: ScsiHost): void;
  adapterUnregistered(host: ScsiHost): void;
}

export type HostFactory = (name: string, adapter: ScsiAdapter, domain: ExecutionDomain) => ScsiHost;

/**
 * Names adapters vmhba0, vmhba1, ... in registration order: vmhba0 is the first adapter whose driver
 * registers (at boot, the first HBA in PCI scan order, as on ESX, where it is usually the local
 * controller). Numbers are not reused while their adapter is registered; an adapter that registers
 * again at the same bus address (its driver reloaded) gets its old name back, so runtime names and
 * preferred paths keep pointing at it.
 */
export class ScsiAdapterRegistry implements AdapterRegistry {
  private readonly hosts = new Map<string, ScsiHost>();
  private readonly namesByBusAddress = new Map<string, string>();
  private nextIndex = 0;

  constructor(
    private readonly log: KernelLog,
    private readonly createHost: HostFactory,
    private readonly listener: AdapterRegistryListener,
  ) {}

  register(adapter: ScsiAdapter, options: AdapterRegistrationOptions = {}): RegisteredScsiAdapter {
    checkLimits(adapter);
    const name = this.nameFor(adapter.busAddress);
    const domain = options.domain ?? new AdapterFaultDomain(name, adapter.driver, this.log);
    const host = this.createHost(name, adapter, domain);
    this.hosts.set(name, host);
    const l = adapter.limits;
    this.log.info(SCSI_LOG, `${name}: ${adapter.driver} ${adapter.busAddress} ${adapter.model} registered (can_queue ${l.canQueue}, cmd_per_lun ${l.cmdPerLun}, sg_tablesize ${l.sgTablesize}, max_sectors ${l.maxSectors})`);
    this.listener.adapterRegistered(host);
    return host;
  }

  unregister(registered: RegisteredScsiAdapter): void {
    const host = this.hosts.get(registered.name);
    if (host === undefined || host !== registered) throw new Error(`${registered.name} is not a registered adapter`);
    this.hosts.delete(host.name);
    this.log.info(SCSI_LOG, `${host.name}: ${host.adapter.driver} ${host.adapter.busAddress} unregistered`);
    this.listener.adapterUnregistered(host);
  }

  get(name: string): ScsiHost | undefined {
    return this.hosts.get(name);
  }

  /** Registered adapters in vmhba number order. */
  list(): ScsiHost[] {
    return [...this.hosts.values()].sort((a, b) => vmhbaNumber(a.name) - vmhbaNumber(b.name));
  }

  /**
   * The view handed to modules under Tokens.ScsiAdapters. Given the module's fault domain, adapters
   * it registers are charged to it unless the registration names another.
   */
  forModules(domain?: ExecutionDomain): AdapterRegistry {
    return Object.freeze({
      register: (adapter: ScsiAdapter, options: AdapterRegistrationOptions = {}) => this.register(adapter, { domain: options.domain ?? domain }),
      unregister: (registered: RegisteredScsiAdapter) => this.unregister(registered),
    });
  }

  private nameFor(busAddress: string): string {
    const remembered = this.namesByBusAddress.get(busAddress);
    if (remembered !== undefined && !this.hosts.has(remembered)) return remembered;
    const name = `vmhba${this.nextIndex++}`;
    if (remembered === undefined && busAddress !== "") this.namesByBusAddress.set(busAddress, name);
    return name;
  }
}

/** The fault domain of an adapter registered without one: a throw takes this adapter, and only it, offline. */
class AdapterFaultDomain implements ExecutionDomain {
  alive = true;
  constructor(
    readonly name: string,
    private readonly driver: string,
    private readonly log: KernelLog,
  ) {}

  fault(error: unknown, activity: string): void {
    this.alive = false;
    this.log.error(SCSI_LOG, `${this.name} (${this.driver}): ${activity} threw: ${describeError(error)}; adapter quarantined`);
  }
}

function checkLimits(adapter: ScsiAdapter): void {
  const { canQueue, cmdPerLun, sgTablesize, maxSectors } = adapter.limits;
  for (const [field, value] of Object.entries({ canQueue, cmdPerLun, sgTablesize, maxSectors })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${adapter.driver} ${adapter.busAddress}: limits.${field} must be a positive integer (got ${value})`);
  }
  const { maxTargetId, maxLun } = adapter.scan;
  if (!Number.isInteger(maxTargetId) || maxTargetId < 0 || !Number.isInteger(maxLun) || maxLun < 0 || maxLun > 0x3fff) {
    throw new RangeError(`${adapter.driver} ${adapter.busAddress}: scan limits must be non-negative integers, max LUN at most 16383`);
  }
}

function vmhbaNumber(name: string): number {
  return Number(name.slice("vmhba".length));
}
