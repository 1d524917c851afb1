import type { DependencyContainer } from "tsyringe";
import type { Clock } from "../clock/clock.js";
import type { InterruptHandler } from "../irq/interrupt-controller.js";
import type { PciDriver } from "../pci/pci-driver.js";
import type { ExecutionDomain } from "../exec/execution-domain.js";

/** A module's logger: every line lands in the kernel log under the module's name. */
export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export interface InterruptService {
  /** Registers a handler on a vector; returns the function that frees it (free_irq). */
  requestIrq(vector: number, handler: InterruptHandler, options: { name: string; shared?: boolean }): () => void;
  mask(vector: number): void;
  unmask(vector: number): void;
}

export interface PciDriverRegistry {
  register(driver: PciDriver): void;
  unregister(driver: PciDriver): void;
}

/** A run of machine pages a module owns, with the CPU's view of it. */
export interface ModulePageRun {
  /** Machine address of the first page (what dma_map_single maps). */
  readonly address: number;
  readonly pages: number;
  readonly bytes: Uint8Array;
}

/**
 * Machine memory for a module's own use (kmalloc, sk_buff data): not mapped for any device until the
 * driver maps it for DMA. Whatever the module still holds is freed when it unloads or is quarantined.
 */
export interface ModulePages {
  /** Allocates `pages` contiguous zeroed pages below `limit` (a DMA mask + 1); throws when none fit. */
  alloc(pages: number, limit?: number): ModulePageRun;
  free(address: number): void;
}

/** A loaded module as a kernel service sees it when it hands the module its own view of the service. */
export interface ModuleScope {
  readonly name: string;
  /** The module's fault domain: run callbacks into the module through runInDomain with it. */
  readonly domain: ExecutionDomain;
  /** Registers work to undo when the module is unloaded or quarantined (unregister its devices). */
  onRelease(cleanup: () => void): void;
}

/**
 * A kernel service that modules reach through an exported token, scoped per module so that what a
 * module registers is released with it (uplinks, storage adapters).
 */
export interface ModuleServiceProvider {
  readonly token: symbol;
  create(scope: ModuleScope): unknown;
}

/** What the loader hands a module: its identity, its container and the services scoped to it. */
export interface ModuleContext {
  readonly name: string;
  readonly version: string;
  readonly kernelApiVersion: string;
  /** Child container exposing only the exported kernel tokens (Tokens). */
  readonly container: DependencyContainer;
  readonly log: Logger;
  readonly clock: Clock;
  readonly interrupts: InterruptService;
  readonly pciDrivers: PciDriverRegistry;
  readonly pages: ModulePages;
}

/** The default export of a module's entry file. */
export interface VmkModule {
  init(context: ModuleContext): void | Promise<void>;
  exit?(context: ModuleContext): void | Promise<void>;
}

export function isVmkModule(value: unknown): value is VmkModule {
  return typeof value === "object" && value !== null && typeof (value as VmkModule).init === "function";
}
