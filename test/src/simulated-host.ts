import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  formatLogEntry,
  type FaultEntry,
  type Host,
  type HostOptions,
  type LogEntry,
  type LogQuery,
  type ModuleInfo,
  type PciDeviceInfo,
  type PciDeviceModel,
  type VectorInfo,
  VirtualClock,
  defaultModuleSearchPaths,
  type DefaultNetworkSpec,
} from "@vmk/kernel";
import { assembleHost, hostProfiles, plugCard, type HostProfile, type SlotAssignment } from "@vmk/hardware";

export interface CardPlacement {
  /** PCI device number (0-31) on bus 0. */
  slot: number;
  function?: number;
  mac?: string;
}

/**
 * Builds simulated hosts for tests: choose cards by catalog model and slot, point the loader at module
 * packages, boot on virtual time. Every run is reproducible.
 *
 *   const sim = await simulatedHost().named("esx01").withCard("e1000-82545em", { slot: 3 }).boot();
 */
export class SimulatedHostBuilder {
  private name = "esx-sim";
  private memoryBytes = 64 * 1024 * 1024;
  private profile: HostProfile | undefined;
  private readonly slots: SlotAssignment[] = [];
  private readonly customDevices: { slot: number; function: number; model: PciDeviceModel }[] = [];
  private searchPaths: string[] | undefined;
  private extraSearchPaths: string[] = [];
  private preferSource = process.env.VITEST !== undefined;
  private setup: ((host: Host) => void)[] = [];
  private clock: VirtualClock | undefined;
  private network: DefaultNetworkSpec | undefined;
  private pacedByRealTime = false;

  named(name: string): this {
    this.name = name;
    return this;
  }

  /** Shares one virtual clock between hosts (a lab of hosts wired together runs on one timeline). */
  withClock(clock: VirtualClock): this {
    this.clock = clock;
    return this;
  }

  /** vSwitch0's uplink (default vmnic0) and the management vmk0 address, as an ESX install sets them. */
  withNetwork(spec: DefaultNetworkSpec): this {
    this.network = spec;
    return this;
  }

  /**
   * While waiting (runUntil, complete), never let virtual time run ahead of real time. Needed when a
   * device's backend does real I/O (a file-backed LUN's fsync): otherwise virtual timeouts fire while
   * the real operation is still on its way.
   */
  pacedByRealTimeIo(): this {
    this.pacedByRealTime = true;
    return this;
  }

  withMemory(bytes: number): this {
    this.memoryBytes = bytes;
    return this;
  }

  /** Starts from a named hardware profile ("default", "minimal"); withCard adds to it. */
  withProfile(name: string): this {
    const profile = hostProfiles[name];
    if (!profile) throw new Error(`unknown host profile "${name}" (known: ${Object.keys(hostProfiles).join(", ")})`);
    this.profile = profile;
    this.memoryBytes = profile.memoryBytes;
    return this;
  }

  /** A card from the hardware catalog (e.g. "e1000-82545em") in a slot. */
  withCard(model: string, placement: CardPlacement): this {
    this.slots.push({ device: placement.slot, function: placement.function, model, mac: placement.mac });
    return this;
  }

  /** A device model instance of your own (a third-party model, a fault-injecting fake). */
  withDevice(model: PciDeviceModel, placement: CardPlacement): this {
    this.customDevices.push({ slot: placement.slot, function: placement.function ?? 0, model });
    return this;
  }

  /** Replaces the module search path (default: the workspace's node_modules). */
  withModuleSearchPaths(paths: string[]): this {
    this.searchPaths = paths;
    return this;
  }

  /** Adds a package folder or node_modules folder to search (e.g. the driver package under test). */
  withModules(...paths: string[]): this {
    this.extraSearchPaths.push(...paths);
    return this;
  }

  /** Load modules from their built entry instead of their TypeScript source. */
  usingBuiltModules(): this {
    this.preferSource = false;
    return this;
  }

  /** Runs before boot with the unbooted host (register extra services, attach backends). */
  beforeBoot(step: (host: Host) => void): this {
    this.setup.push(step);
    return this;
  }

  /** Assembles the host without booting it. */
  build(): SimulatedHost {
    const options: HostOptions = {
      name: this.name,
      clock: this.clock ?? new VirtualClock(),
      memoryBytes: this.memoryBytes,
      network: this.network,
      modules: { searchPaths: [...(this.searchPaths ?? defaultModuleSearchPaths(dirname(fileURLToPath(import.meta.url)))), ...this.extraSearchPaths], preferSource: this.preferSource },
    };
    const profile: HostProfile = this.profile ? { ...this.profile, slots: [...this.profile.slots] } : { name: "custom", description: "", memoryBytes: this.memoryBytes, slots: [] };
    const { host, cards, switches } = assembleHost({ ...profile, memoryBytes: this.memoryBytes }, options);
    for (const slot of this.slots) plugCard(host, slot, cards, switches);
    for (const device of this.customDevices) {
      const fn = host.attachPci({ device: device.slot, function: device.function }, device.model);
      cards.set(fn.name, device.model);
    }
    for (const step of this.setup) step(host);
    const sim = new SimulatedHost(host, cards);
    sim.pacedByRealTime = this.pacedByRealTime;
    return sim;
  }

  async boot(): Promise<SimulatedHost> {
    const sim = this.build();
    await sim.boot();
    return sim;
  }
}

export function simulatedHost(): SimulatedHostBuilder {
  return new SimulatedHostBuilder();
}

/** A booted (or bootable) host on virtual time, with inspection helpers. */
export class SimulatedHost {
  readonly clock: VirtualClock;
  /** See SimulatedHostBuilder.pacedByRealTimeIo. */
  pacedByRealTime = false;

  constructor(
    readonly host: Host,
    private readonly cards: Map<string, PciDeviceModel>,
  ) {
    if (!(host.clock instanceof VirtualClock)) throw new Error("a simulated host runs on a VirtualClock");
    this.clock = host.clock;
  }

  async boot(): Promise<void> {
    // Never while a module is being imported (real I/O): hosts whose drivers do not sleep boot at time 0.
    await this.clock.driveUntilSettled(this.host.boot(), () => !this.host.loadingModules);
    await this.settle();
  }

  /** Lets asynchronous kernel work (module loads, probes) finish, then runs due timers. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      this.clock.runUntil(this.clock.now());
    }
  }

  /** Runs every timer and interrupt until nothing is pending, or virtual time reaches `limitNs` from now. */
  runUntilIdle(limitNs = 60e9): { events: number; now: number; idle: boolean } {
    return this.clock.runUntilIdle(this.clock.now() + limitNs);
  }

  /** Advances virtual time by `ns`, firing everything due. */
  runFor(ns: number): void {
    this.clock.advance(ns);
  }

  /** Advances virtual time in steps until `predicate` holds; throws after `timeoutNs`. */
  async runUntil(predicate: () => boolean, timeoutNs = 10e9, stepNs = 1e6): Promise<void> {
    const deadline = this.clock.now() + timeoutNs;
    const virtualStart = this.clock.now();
    const realStart = performance.now();
    while (!predicate()) {
      if (this.clock.now() >= deadline) throw new Error(`condition not met within ${timeoutNs / 1e6} ms of virtual time`);
      if (this.pacedByRealTime && (this.clock.now() - virtualStart) / 1e6 > performance.now() - realStart) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      this.clock.advance(stepNs);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Runs virtual time until `promise` settles (a ping, a module load), then returns its value. */
  async complete<T>(promise: Promise<T>, timeoutNs = 60e9, stepNs = 1e6): Promise<T> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    await this.runUntil(() => settled, timeoutNs, stepNs);
    return promise;
  }

  get now(): number {
    return this.clock.now();
  }

  log(query: LogQuery = {}): LogEntry[] {
    return this.host.management.log(query);
  }

  /** The kernel log as text, one line per entry. */
  logText(query: LogQuery = {}): string {
    return this.log(query).map(formatLogEntry).join("\n");
  }

  pciTree(): PciDeviceInfo[] {
    return this.host.management.pciDevices();
  }

  modules(): ModuleInfo[] {
    return this.host.management.modules();
  }

  module(name: string): ModuleInfo {
    const info = this.modules().find((m) => m.name === name);
    if (!info) throw new Error(`no module ${name}; known: ${this.modules().map((m) => m.name).join(", ")}`);
    return info;
  }

  interrupts(): VectorInfo[] {
    return this.host.management.interrupts();
  }

  faults(): readonly FaultEntry[] {
    return this.host.management.faults();
  }

  /** The hardware model in a slot, typed by the caller. */
  card<T extends PciDeviceModel = PciDeviceModel>(address: string | number): T {
    const key = typeof address === "number" ? `0000:00:${address.toString(16).padStart(2, "0")}.0` : address;
    const model = this.cards.get(key);
    if (!model) throw new Error(`no card at ${key}`);
    return model as T;
  }

  /** Unloads every module, running virtual time while a driver's remove waits for its device. */
  shutdown(): Promise<void> {
    return this.clock.driveUntilSettled(this.host.shutdown(), () => true);
  }
}
