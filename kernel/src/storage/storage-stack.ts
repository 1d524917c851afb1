import { inject, injectable } from "tsyringe";
import type { Clock } from "../clock/clock.js";
import { describeError, type ExecutionDomain } from "../exec/execution-domain.js";
import type { KernelLog } from "../log/kernel-log.js";
import { KernelTokens, Tokens } from "../tokens.js";
import { ScsiAdapterRegistry, type AdapterRegistryListener } from "./adapter-registry.js";
import type { BlockDevice } from "./block-device.js";
import { deviceNameFor } from "./device-identity.js";
import { LunDiscovery, type DiscoveredLun, type DiscoveryPort } from "./lun-discovery.js";
import { PathProber } from "./path-prober.js";
import { issuePinned, type PinnedOutcome } from "./pinned-command.js";
import type { DataDirection } from "./scsi-constants.js";
import type { ScsiAdapter } from "./scsi-adapter.js";
import { NMP_LOG, ScsiDevice, comparePaths, type PolicyOptions } from "./scsi-device.js";
import { SCSI_LOG, ScsiHost } from "./scsi-host.js";
import { ScsiPath, type PathEvents, type PathState } from "./scsi-path.js";
import { DEFAULT_STORAGE_SETTINGS, type PathSelectionPolicyName, type StorageSettings } from "./storage-settings.js";
import type { AdapterView, DeviceView, PathView, StorageView } from "./storage-views.js";

/**
 * The vmkernel's storage stack, as ESX moves a block: device (naa.*) → path (vmhbaN:C0:Tt:Ll) →
 * adapter → LUN. Drivers register adapters (they become vmhbaN and are scanned); LUNs seen through
 * several adapters become one device with several paths; the rest of the kernel reads and writes
 * devices through the BlockDevice API.
 */
@injectable()
export class StorageStack implements AdapterRegistryListener, PathEvents, DiscoveryPort {
  readonly adapters: ScsiAdapterRegistry;
  readonly settings: StorageSettings;
  private readonly devicesByName = new Map<string, ScsiDevice>();
  private readonly pathsByName = new Map<string, ScsiPath>();
  private readonly prober: PathProber;

  constructor(
    @inject(Tokens.Clock) private readonly clock: Clock,
    @inject(KernelTokens.KernelLog) private readonly log: KernelLog,
    settings: Partial<StorageSettings> = {},
  ) {
    this.settings = { ...DEFAULT_STORAGE_SETTINGS, ...settings };
    this.adapters = new ScsiAdapterRegistry(log, (name, adapter, domain) => this.createHost(name, adapter, domain), this);
    this.prober = new PathProber(clock, this.settings, (path, state) => path.setState(state, "answered the path probe"));
  }

  // ---- adapters and scanning ----

  adapterRegistered(host: ScsiHost): void {
    // Scanned from the clock, never inside the driver's registering call (its probe may not be done).
    host.scan = new Promise<void>((resolve) => {
      this.clock.setTimer(0, () => void this.scanHost(host).then(resolve), { label: `${host.name} scan` });
    });
  }

  adapterUnregistered(host: ScsiHost): void {
    host.remove();
  }

  /** Rescans one adapter (by vmhba name) or all; resolves when the scans are done. */
  rescan(adapterName?: string): Promise<void> {
    const hosts = adapterName === undefined ? this.adapters.list() : [this.requireHost(adapterName)];
    return Promise.all(hosts.map((host) => this.rescanHost(host))).then(() => undefined);
  }

  /** Resolves when every scan started so far (registration scans included) is over. */
  scansComplete(): Promise<void> {
    return Promise.all(this.adapters.list().map((host) => host.scan)).then(() => undefined);
  }

  // ---- devices ----

  device(name: string): BlockDevice {
    return this.requireDevice(name);
  }

  /** Devices in name order. */
  devices(): ScsiDevice[] {
    return [...this.devicesByName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  setPolicy(deviceName: string, policy: PathSelectionPolicyName, options: PolicyOptions = {}): void {
    this.requireDevice(deviceName).setPolicy(policy, options);
  }

  setPreferredPath(deviceName: string, runtimeName: string): void {
    this.requireDevice(deviceName).setPreferredPath(runtimeName);
  }

  setQueueDepth(deviceName: string, depth: number | undefined): void {
    this.requireDevice(deviceName).setQueueDepth(depth);
  }

  /** Administrative path state (esxcli storage core path set --state): disabled paths carry no I/O and are not probed. */
  setPathEnabled(runtimeName: string, enabled: boolean): void {
    const path = this.pathsByName.get(runtimeName);
    if (path === undefined) throw new Error(`no path ${runtimeName}`);
    if (enabled) {
      if (path.state !== "disabled") return;
      if (path.host.acceptsIo) path.setAdminState("active", "enabled by the administrator");
      else path.setAdminState("dead", `enabled while ${path.host.name} is ${path.host.state}`);
    } else {
      path.setAdminState("disabled", "disabled by the administrator");
    }
  }

  // ---- PathEvents ----

  pathStateChanged(path: ScsiPath, previous: PathState, reason: string): void {
    const device = path.device;
    if (device === undefined) return;
    if (path.state === "dead") {
      this.log.warn(NMP_LOG, `${path.runtimeName} (${device.name}): path ${previous} → dead: ${reason}`);
      this.prober.watch(path);
    } else {
      this.log.info(NMP_LOG, `${path.runtimeName} (${device.name}): path ${previous} → ${path.state}: ${reason}`);
    }
    // Also on a death: a device waiting for this path's adapter to recover must now start its APD clock.
    device.pathsMayBeUsable();
  }

  // ---- DiscoveryPort ----

  pathFor(host: ScsiHost, target: number, lun: number): ScsiPath {
    const existing = this.pathsByName.get(`${host.name}:C0:T${target}:L${lun}`);
    return existing !== undefined && existing.host === host ? existing : new ScsiPath(host, target, lun, this);
  }

  issue(path: ScsiPath, cdb: Uint8Array, direction: DataDirection, allocationLength: number): Promise<PinnedOutcome> {
    const spec = { cdb, direction, buffer: new Uint8Array(allocationLength), retries: this.settings.commandRetries, timeoutNs: this.settings.commandTimeoutNs };
    return issuePinned(path, spec, this.clock, this.settings);
  }

  // ---- management views ----

  describe(): StorageView {
    return { adapters: this.listAdapters(), devices: this.listDevices(), paths: this.listPaths() };
  }

  listAdapters(): AdapterView[] {
    return this.adapters.list().map((host) => ({
      name: host.name,
      driver: host.adapter.driver,
      busAddress: host.adapter.busAddress,
      model: host.adapter.model,
      state: host.state,
      ...(host.reason !== undefined ? { reason: host.reason } : {}),
      limits: { ...host.adapter.limits },
      scan: { ...host.adapter.scan },
      outstanding: host.outstandingCount,
      paths: host.paths.size,
      stats: { ...host.stats },
    }));
  }

  listDevices(): DeviceView[] {
    return this.devices().map((device) => ({
      name: device.name,
      displayName: `${device.inquiry.vendor} Disk (${device.name})`,
      vendor: device.inquiry.vendor,
      model: device.inquiry.model,
      revision: device.inquiry.revision,
      blocks: device.blocks,
      blockSize: device.blockSize,
      sizeBytes: device.sizeBytes,
      queueDepth: device.queueDepth,
      policy: {
        name: device.selector.policy,
        ...(device.preferredPath !== undefined ? { preferredPath: device.preferredPath.runtimeName } : {}),
        ...(device.roundRobinIops !== undefined ? { iops: device.roundRobinIops } : {}),
      },
      status: device.paths.some((p) => p.alive) ? "on" : "all paths down",
      paths: device.paths.map((p) => p.runtimeName),
      workingPaths: device.paths.filter((p) => device.selector.isWorking(p)).map((p) => p.runtimeName),
      stats: device.stats(),
    }));
  }

  listPaths(): PathView[] {
    return [...this.pathsByName.values()].sort(comparePaths).map((path) => {
      const device = path.device!;
      return {
        runtimeName: path.runtimeName,
        adapter: path.host.name,
        channel: 0 as const,
        target: path.target,
        lun: path.lun,
        device: device.name,
        state: path.state,
        ...(path.reason !== undefined ? { reason: path.reason } : {}),
        preferred: device.preferredPath === path,
        working: device.selector.isWorking(path),
        stats: { ...path.stats },
      };
    });
  }

  // ---- internals ----

  private createHost(name: string, adapter: ScsiAdapter, domain: ExecutionDomain): ScsiHost {
    return new ScsiHost(name, adapter, domain, this.clock, this.log, this.settings, (host) => this.rescanHost(host));
  }

  /** One scan at a time per adapter: a rescan asked for during a scan runs after it. */
  private rescanHost(host: ScsiHost): Promise<void> {
    host.scan = host.scan.then(() => this.scanHost(host));
    return host.scan;
  }

  private async scanHost(host: ScsiHost): Promise<void> {
    if (!host.acceptsIo) return;
    try {
      const found = await new LunDiscovery(host, this, this.log).scan();
      if (host.state === "removed") return;
      this.attach(host, found);
      this.log.info(SCSI_LOG, `${host.name}: scan found ${found.length} disk LUN${found.length === 1 ? "" : "s"}`);
    } catch (error) {
      this.log.error(SCSI_LOG, `${host.name}: scan failed: ${describeError(error)}`);
    }
  }

  /** Groups what a scan found into devices by identity; paths not found again die. */
  private attach(host: ScsiHost, found: DiscoveredLun[]): void {
    const seen = new Set<ScsiPath>();
    for (const lun of found) {
      const path = lun.path;
      const name = deviceNameFor(lun.ids, path.runtimeName);
      const device = this.deviceFor(name, lun);
      seen.add(path);
      if (path.device === device) {
        if (path.state === "dead") path.setState("active", "found by rescan");
        continue;
      }
      const previous = this.pathsByName.get(path.runtimeName);
      if (previous !== undefined) this.detach(previous);
      if (path.device !== undefined) path.device.removePath(path);
      if (path.state === "dead") path.state = "active";
      this.pathsByName.set(path.runtimeName, path);
      host.paths.add(path);
      device.addPath(path);
      this.log.info(NMP_LOG, `${path.runtimeName}: path to ${name} added (${device.paths.length} path${device.paths.length === 1 ? "" : "s"})`);
    }
    for (const path of [...host.paths]) if (!seen.has(path) && path.alive) path.setState("dead", "not found by rescan");
  }

  private deviceFor(name: string, lun: DiscoveredLun): ScsiDevice {
    let device = this.devicesByName.get(name);
    const { blocks, blockSize } = lun.capacity;
    if (device === undefined) {
      device = new ScsiDevice(name, lun.inquiry, lun.capacity, this.clock, this.log, this.settings);
      this.devicesByName.set(name, device);
      const { vendor, model, revision } = lun.inquiry;
      this.log.info(NMP_LOG, `${name}: ${vendor} ${model} ${revision}, ${blocks} blocks of ${blockSize} bytes (${formatBytes(blocks * blockSize)}), policy ${device.selector.policy}`);
    } else if (device.blocks !== blocks || device.blockSize !== blockSize) {
      this.log.warn(NMP_LOG, `${name}: capacity changed from ${device.blocks} to ${blocks} blocks of ${blockSize} bytes`);
      device.resize(lun.capacity);
    }
    return device;
  }

  private detach(path: ScsiPath): void {
    path.device?.removePath(path);
    path.host.paths.delete(path);
    this.pathsByName.delete(path.runtimeName);
  }

  private requireHost(name: string): ScsiHost {
    const host = this.adapters.get(name);
    if (host === undefined) throw new Error(`no adapter ${name}`);
    return host;
  }

  private requireDevice(name: string): ScsiDevice {
    const device = this.devicesByName.get(name);
    if (device === undefined) throw new Error(`no storage device ${name}`);
    return device;
  }
}

function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
