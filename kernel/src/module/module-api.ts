import type { DependencyContainer } from "tsyringe";
import type { Clock } from "../clock/clock.js";
import type { InterruptHandler } from "../irq/interrupt-controller.js";
import type { PciDriver } from "../pci/pci-driver.js";

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
}

/** The default export of a module's entry file. */
export interface VmkModule {
  init(context: ModuleContext): void | Promise<void>;
  exit?(context: ModuleContext): void | Promise<void>;
}

export function isVmkModule(value: unknown): value is VmkModule {
  return typeof value === "object" && value !== null && typeof (value as VmkModule).init === "function";
}
