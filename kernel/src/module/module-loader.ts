import { inject, injectable } from "tsyringe";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import type { DependencyContainer } from "tsyringe";
import { KERNEL_API_VERSION } from "../api-version.js";
import type { Clock, TimerHandle, TimerOptions } from "../clock/clock.js";
import { describeError, runInDomainAsync, type ExecutionDomain } from "../exec/execution-domain.js";
import type { InterruptController } from "../irq/interrupt-controller.js";
import type { KernelLog } from "../log/kernel-log.js";
import { PAGE_SIZE, type MachineMemory } from "../memory/machine-memory.js";
import type { PciBus, PciFunction } from "../pci/pci-bus.js";
import { PciDeviceHandle } from "../pci/pci-device-handle.js";
import { matchPciId, pciIdMatches, pciIdSpecificity, type PciDeviceId, type PciDriver, type PciIdentity } from "../pci/pci-driver.js";
import { KernelTokens, Tokens } from "../tokens.js";
import { discoverPackages } from "./discovery.js";
import { checkApiCompatibility, formatClaim, sameClaim, validateManifest, type ModuleManifest } from "./manifest.js";
import { isVmkModule, type InterruptService, type Logger, type ModuleContext, type ModulePages, type ModuleServiceProvider, type PciDriverRegistry, type VmkModule } from "./module-api.js";

export type ModuleState = "available" | "refused" | "loading" | "loaded" | "unloaded" | "quarantined";

export interface ModuleInfo {
  name: string;
  version: string;
  dir: string;
  origin: string;
  kind?: string;
  kernelApi?: string;
  state: ModuleState;
  /** Why it was refused or quarantined. */
  reason?: string;
  claims: string[];
  devices: string[];
  loads: number;
}

interface ModuleRecord {
  name: string;
  version: string;
  dir: string;
  origin: string;
  manifest?: ModuleManifest;
  state: ModuleState;
  reason?: string;
  loads: number;
  session?: ModuleSession;
}

interface Binding {
  readonly fn: PciFunction;
  readonly session: ModuleSession;
  readonly driver: PciDriver;
  readonly handle: PciDeviceHandle;
}

export interface LoaderOptions {
  /** node_modules folders and package folders searched for plugins. */
  searchPaths: readonly string[];
  /** Load a module's TypeScript `source` entry instead of its built `entry` (development and tests). */
  preferSource?: boolean;
}

/** One load of a module: its fault domain and everything it holds, released together. */
class ModuleSession implements ExecutionDomain {
  alive = true;
  readonly drivers: PciDriver[] = [];
  readonly timers = new Set<TimerHandle>();
  readonly irqReleases = new Set<() => void>();
  readonly cleanups: (() => void)[] = [];
  /** Machine page runs the module allocated for itself (ModulePages), by address. */
  readonly pageRuns = new Set<number>();
  entry?: VmkModule;
  context?: ModuleContext;

  constructor(
    readonly record: ModuleRecord,
    private readonly onFault: (session: ModuleSession, error: unknown, activity: string) => void,
  ) {}

  get name(): string {
    return this.record.name;
  }

  fault(error: unknown, activity: string): void {
    this.onFault(this, error, activity);
  }
}

/**
 * The vmkernel module loader. Finds plugin packages, validates their manifests and kernel API range,
 * loads a driver only when a device it claims is present, binds devices through the drivers' ID
 * tables, and isolates failures: a module that throws from any callback is quarantined, its devices
 * released, and the host goes on.
 */
@injectable()
export class ModuleLoader {
  private readonly records = new Map<string, ModuleRecord>();
  private readonly bindings = new Map<string, Binding>();
  private readonly probeFailures = new Map<string, { session: ModuleSession; reason: string }>();

  constructor(
    @inject(KernelTokens.KernelLog) private readonly log: KernelLog,
    @inject(Tokens.Clock) private readonly clock: Clock,
    @inject(KernelTokens.InterruptController) private readonly irq: InterruptController,
    @inject(KernelTokens.PciBus) private readonly bus: PciBus,
    @inject(KernelTokens.MachineMemory) private readonly memory: MachineMemory,
    @inject(KernelTokens.PublicContainer) private readonly publicContainer: DependencyContainer,
    @inject(KernelTokens.LoaderOptions) private readonly options: LoaderOptions,
    @inject(KernelTokens.ModuleServiceProviders) private readonly serviceProviders: readonly ModuleServiceProvider[],
  ) {}

  /** Scans the search paths and records every plugin with its verdict. Returns the module count. */
  discover(): number {
    const { packages, problems } = discoverPackages(this.options.searchPaths);
    for (const problem of problems) this.log.warn("loader", `ignoring package at ${problem.dir}: ${problem.reason}`);
    for (const pkg of packages) {
      const result = validateManifest(pkg.packageJson, pkg.dir);
      const raw = pkg.packageJson as { name?: unknown; version?: unknown };
      const name = typeof raw.name === "string" && raw.name ? raw.name : pkg.dir;
      const version = typeof raw.version === "string" ? raw.version : "?";
      if (this.records.has(name)) {
        if (this.records.get(name)!.dir !== pkg.dir) this.log.warn("loader", `module ${name} at ${pkg.dir} ignored: already provided by ${this.records.get(name)!.dir}`);
        continue;
      }
      const record: ModuleRecord = { name, version, dir: pkg.dir, origin: pkg.origin, state: "available", loads: 0 };
      this.records.set(name, record);
      if (!result.ok) {
        this.refuse(record, `invalid manifest: ${result.problems.join("; ")}`);
        continue;
      }
      record.manifest = result.manifest;
      const incompatible = checkApiCompatibility(result.manifest.kernelApi, KERNEL_API_VERSION);
      if (incompatible) {
        this.refuse(record, incompatible);
        continue;
      }
      const clash = this.findClaimClash(record);
      if (clash) {
        this.refuse(record, clash);
        continue;
      }
      this.log.info("loader", `found module ${name} ${version} (${result.manifest.kind}, kernel API ${result.manifest.kernelApi})`);
    }
    return this.records.size;
  }

  /**
   * Loads the modules whose claims match present, unbound devices (and every service module), then
   * binds devices to drivers. Safe to call again after hot-plug or a load.
   */
  async bindAll(): Promise<void> {
    for (const record of this.records.values()) {
      if (record.state === "available" && record.manifest?.kind === "service") await this.loadRecord(record);
    }
    for (const fn of this.bus.enumerate()) {
      if (this.bindings.has(fn.name)) continue;
      const candidate = this.claimingModule(identityOf(fn));
      if (candidate && candidate.state === "available") await this.loadRecord(candidate);
    }
    await this.probeUnbound();
  }

  async load(name: string): Promise<ModuleInfo> {
    const record = this.require(name);
    if (record.state === "refused") throw new Error(`module ${name} was refused: ${record.reason}`);
    if (record.state === "loaded") return this.info(record);
    await this.loadRecord(record);
    await this.probeUnbound();
    return this.info(record);
  }

  async unload(name: string): Promise<ModuleInfo> {
    const record = this.require(name);
    const session = record.session;
    if (record.state !== "loaded" || !session) throw new Error(`module ${name} is not loaded (state: ${record.state})`);
    for (const binding of this.bindingsOf(session)) {
      await runInDomainAsync(session, `remove ${binding.fn.name}`, () => binding.driver.remove(binding.handle));
      this.releaseBinding(binding);
      if (!session.alive) return this.info(record);
    }
    if (session.entry?.exit && session.context) {
      const ctx = session.context;
      const exit = session.entry.exit.bind(session.entry);
      await runInDomainAsync(session, "module exit", () => exit(ctx));
      if (!session.alive) return this.info(record);
    }
    this.endSession(session);
    record.state = "unloaded";
    record.reason = undefined;
    this.log.info("loader", `module ${name} unloaded`);
    return this.info(record);
  }

  async reload(name: string): Promise<ModuleInfo> {
    if (this.require(name).state === "loaded") await this.unload(name);
    return this.load(name);
  }

  list(): ModuleInfo[] {
    return [...this.records.values()].map((r) => this.info(r));
  }

  get(name: string): ModuleInfo | undefined {
    const record = this.records.get(name);
    return record && this.info(record);
  }

  /** Which module and driver hold a PCI function. */
  bindingOf(fnName: string): { module: string; driver: string } | undefined {
    const binding = this.bindings.get(fnName);
    return binding && { module: binding.session.name, driver: binding.driver.name };
  }

  probeFailureOf(fnName: string): string | undefined {
    return this.probeFailures.get(fnName)?.reason;
  }

  // ---- internals ----

  private async loadRecord(record: ModuleRecord): Promise<void> {
    const manifest = record.manifest;
    if (!manifest) return;
    record.state = "loading";
    record.loads++;
    const session = new ModuleSession(record, (s, error, activity) => this.quarantine(s, error, activity));
    record.session = session;
    const file = join(record.dir, this.options.preferSource && manifest.source ? manifest.source : manifest.entry);
    this.log.info("loader", `loading ${record.name} ${record.version} from ${file}`);
    let exported: unknown;
    try {
      // A fresh URL per load gives a reloaded module fresh module-level state.
      const url = pathToFileURL(file).href + (record.loads > 1 ? `?load=${record.loads}` : "");
      const namespace = (await import(url)) as { default?: unknown; vmkModule?: unknown };
      exported = namespace.default ?? namespace.vmkModule;
    } catch (error) {
      this.endSession(session);
      this.refuse(record, `entry ${manifest.entry} failed to load: ${describeError(error)}`);
      return;
    }
    if (!isVmkModule(exported)) {
      this.endSession(session);
      this.refuse(record, `entry ${manifest.entry} does not export a module (a default export with an init(context) function)`);
      return;
    }
    session.entry = exported;
    session.context = this.createContext(session);
    const context = session.context;
    const init = exported.init.bind(exported);
    const result = await runInDomainAsync(session, "module init", () => init(context));
    if (!result.ok || !session.alive) return;
    record.state = "loaded";
    record.reason = undefined;
    this.log.info("loader", `module ${record.name} loaded (${session.drivers.length} driver${session.drivers.length === 1 ? "" : "s"} registered)`);
  }

  private async probeUnbound(): Promise<void> {
    for (const fn of this.bus.enumerate()) {
      if (this.bindings.has(fn.name)) continue;
      const identity = identityOf(fn);
      const match = this.bestDriverFor(identity);
      if (!match) continue;
      const { session, driver, id } = match;
      if (this.probeFailures.get(fn.name)?.session === session) continue;
      const handle = new PciDeviceHandle(fn, this.bus, this.irq, this.memory, session.name);
      const binding: Binding = { fn, session, driver, handle };
      this.bindings.set(fn.name, binding);
      this.log.info(session.name, `probing ${fn.name} [${hex4(identity.vendorId)}:${hex4(identity.deviceId)}] ${fn.model.modelName}`);
      const result = await runInDomainAsync(session, `probe ${fn.name}`, () => driver.probe(handle, id));
      if (!session.alive) continue;
      if (!result.ok) continue;
      if (typeof result.value === "number" && result.value < 0) {
        const reason = `probe failed with error ${result.value}`;
        this.log.warn(session.name, `${fn.name}: ${reason}`);
        this.probeFailures.set(fn.name, { session, reason: `${session.name}: ${reason}` });
        this.releaseBinding(binding);
        continue;
      }
      this.probeFailures.delete(fn.name);
      this.log.info("loader", `${fn.name} claimed by ${session.name} (driver ${driver.name})`);
    }
  }

  private bestDriverFor(identity: PciIdentity): { session: ModuleSession; driver: PciDriver; id: PciDeviceId } | undefined {
    let best: { session: ModuleSession; driver: PciDriver; id: PciDeviceId; score: number } | undefined;
    for (const record of this.records.values()) {
      const session = record.session;
      if (!session?.alive || record.state !== "loaded") continue;
      for (const driver of session.drivers) {
        const id = matchPciId(driver.idTable, identity);
        if (!id) continue;
        const score = pciIdSpecificity(id);
        if (!best || score > best.score) best = { session, driver, id, score };
      }
    }
    return best;
  }

  private claimingModule(identity: PciIdentity): ModuleRecord | undefined {
    let best: { record: ModuleRecord; score: number } | undefined;
    for (const record of this.records.values()) {
      for (const claim of record.manifest?.pciClaims ?? []) {
        if (record.state === "refused" || !pciIdMatches(claim, identity)) continue;
        const score = pciIdSpecificity(claim);
        if (!best || score > best.score) best = { record, score };
      }
    }
    return best?.record;
  }

  private findClaimClash(record: ModuleRecord): string | undefined {
    for (const claim of record.manifest!.pciClaims) {
      for (const other of this.records.values()) {
        if (other === record || other.state === "refused") continue;
        if (other.manifest?.pciClaims.some((c) => sameClaim(c, claim))) return `duplicate claim: PCI ${formatClaim(claim)} is already claimed by ${other.name}`;
      }
    }
    return undefined;
  }

  private createContext(session: ModuleSession): ModuleContext {
    const name = session.name;
    const log: Logger = {
      error: (m) => this.log.error(name, m),
      warn: (m) => this.log.warn(name, m),
      info: (m) => this.log.info(name, m),
      debug: (m) => this.log.debug(name, m),
    };
    const hostClock = this.clock;
    const clock: Clock = {
      kind: hostClock.kind,
      now: () => hostClock.now(),
      pendingTimers: () => session.timers.size,
      setTimer: (delay: number, callback: () => void, options: TimerOptions = {}) => {
        if (!session.alive) throw new Error(`${name} is quarantined`);
        const handle = hostClock.setTimer(
          delay,
          () => {
            session.timers.delete(handle);
            callback();
          },
          { label: `${name}: ${options.label ?? "timer"}`, domain: session },
        );
        session.timers.add(handle);
        const cancel = handle.cancel.bind(handle);
        return {
          get pending() {
            return handle.pending;
          },
          deadline: handle.deadline,
          cancel: () => {
            session.timers.delete(handle);
            cancel();
          },
        };
      },
    };
    const interrupts: InterruptService = {
      requestIrq: (vector, handler, options) => {
        if (!session.alive) throw new Error(`${name} is quarantined`);
        const free = this.irq.requestIrq(vector, handler, { ...options, domain: session });
        const release = () => {
          if (session.irqReleases.delete(release)) free();
        };
        session.irqReleases.add(release);
        return release;
      },
      mask: (vector) => this.irq.mask(vector),
      unmask: (vector) => this.irq.unmask(vector),
    };
    const pciDrivers: PciDriverRegistry = {
      register: (driver) => {
        if (!driver || typeof driver.probe !== "function" || typeof driver.remove !== "function" || !Array.isArray(driver.idTable)) {
          throw new TypeError(`${name}: a PCI driver needs a name, an idTable, probe() and remove()`);
        }
        session.drivers.push(driver);
        // Binding happens after init returns, or now if the module is already running (late registration).
        if (session.record.state === "loaded") void this.probeUnbound();
      },
      unregister: (driver) => {
        for (const binding of this.bindingsOf(session).filter((b) => b.driver === driver)) {
          void runInDomainAsync(session, `remove ${binding.fn.name}`, () => driver.remove(binding.handle)).then(() => this.releaseBinding(binding));
        }
        const index = session.drivers.indexOf(driver);
        if (index >= 0) session.drivers.splice(index, 1);
      },
    };
    const memory = this.memory;
    const pages: ModulePages = {
      alloc: (count, limit) => {
        if (!session.alive) throw new Error(`${name} is quarantined`);
        const run = memory.allocPages(count, name, limit);
        session.pageRuns.add(run.address);
        return { address: run.address, pages: run.pages, bytes: memory.bytes.subarray(run.address, run.address + run.pages * PAGE_SIZE) };
      },
      free: (address) => {
        if (!session.pageRuns.delete(address)) throw new Error(`${name}: free of 0x${address.toString(16)}: not a page run this module allocated`);
        memory.freeRun(address);
      },
    };
    const container = this.publicContainer.createChildContainer();
    const context: ModuleContext = {
      name,
      version: session.record.version,
      kernelApiVersion: KERNEL_API_VERSION,
      container,
      log,
      clock,
      interrupts,
      pciDrivers,
      pages,
    };
    container.registerInstance(Tokens.ModuleContext, context);
    container.registerInstance(Tokens.Logger, log);
    container.registerInstance(Tokens.Clock, clock);
    container.registerInstance(Tokens.Interrupts, interrupts);
    container.registerInstance(Tokens.PciDrivers, pciDrivers);
    const scope = { name, domain: session as ExecutionDomain, onRelease: (cleanup: () => void) => void session.cleanups.push(cleanup) };
    for (const provider of this.serviceProviders) container.registerInstance(provider.token, provider.create(scope));
    return context;
  }

  /** A module faulted: it is cut off without being called again, and everything it held is released. */
  private quarantine(session: ModuleSession, error: unknown, activity: string): void {
    if (!session.alive) return;
    const record = session.record;
    const reason = `${activity} threw: ${describeError(error)}`;
    this.log.error("loader", `module ${record.name} quarantined: ${reason}`);
    if (error instanceof Error && error.stack) this.log.debug(record.name, error.stack);
    for (const binding of this.bindingsOf(session)) {
      this.releaseBinding(binding);
      this.log.warn("loader", `${binding.fn.name} released from ${record.name}`);
    }
    this.endSession(session);
    record.state = "quarantined";
    record.reason = reason;
  }

  private endSession(session: ModuleSession): void {
    session.alive = false;
    for (const timer of session.timers) timer.cancel();
    session.timers.clear();
    for (const release of [...session.irqReleases]) release();
    this.irq.releaseDomain(session);
    for (const address of session.pageRuns) this.memory.freeRun(address);
    session.pageRuns.clear();
    session.drivers.length = 0;
  }

  private releaseBinding(binding: Binding): void {
    binding.handle.release();
    binding.fn.model.reset();
    if (this.bindings.get(binding.fn.name) === binding) this.bindings.delete(binding.fn.name);
  }

  private bindingsOf(session: ModuleSession): Binding[] {
    return [...this.bindings.values()].filter((b) => b.session === session);
  }

  private refuse(record: ModuleRecord, reason: string): void {
    record.state = "refused";
    record.reason = reason;
    this.log.warn("loader", `module ${record.name} refused: ${reason}`);
  }

  private require(name: string): ModuleRecord {
    const record = this.records.get(name);
    if (!record) throw new Error(`no module named ${name} (known: ${[...this.records.keys()].join(", ") || "none"})`);
    return record;
  }

  private info(record: ModuleRecord): ModuleInfo {
    return {
      name: record.name,
      version: record.version,
      dir: record.dir,
      origin: record.origin,
      kind: record.manifest?.kind,
      kernelApi: record.manifest?.kernelApi,
      state: record.state,
      reason: record.reason,
      claims: (record.manifest?.pciClaims ?? []).map(formatClaim),
      devices: record.session ? this.bindingsOf(record.session).map((b) => b.fn.name) : [],
      loads: record.loads,
    };
  }
}

function identityOf(fn: PciFunction): PciIdentity {
  const c = fn.config;
  return { vendorId: c.vendorId, deviceId: c.deviceId, subsystemVendorId: c.subsystemVendorId, subsystemId: c.subsystemId, classCode: c.classCode };
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, "0");
}
