import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultModuleSearchPaths, formatLogEntry, VirtualClock, type Host } from "@vmk/kernel";
import { assembleHost, hostProfiles } from "@vmk/hardware";
import { collectInventory, renderInventory } from "../inventory.js";

export interface HostCommandOptions {
  profile: string;
  json: boolean;
  /** Virtual time: reproducible output (tests, CI). Real time otherwise. */
  virtual: boolean;
  /** How long the host runs after boot before the report (link negotiation, watchdogs), in ms. */
  settleMs: number;
  name: string;
  out: (text: string) => void;
}

export async function bootHost(options: HostCommandOptions, echoLog: boolean): Promise<Host> {
  if (!hostProfiles[options.profile]) throw new Error(`unknown profile "${options.profile}" (known: ${Object.keys(hostProfiles).join(", ")})`);
  const { host } = assembleHost(options.profile, {
    name: options.name,
    clock: options.virtual ? "virtual" : "real",
    modules: { searchPaths: defaultModuleSearchPaths(dirname(fileURLToPath(import.meta.url))) },
  });
  const unsubscribe = echoLog ? host.management.subscribeLog((entry) => entry.level !== "debug" && options.out(formatLogEntry(entry))) : undefined;
  const booting = host.boot();
  // On virtual time nothing else moves the clock while a driver's probe sleeps (a RAID firmware booting).
  if (host.clock instanceof VirtualClock) await host.clock.driveUntilSettled(booting, () => !host.loadingModules);
  else await booting;
  await runFor(host, options.settleMs);
  unsubscribe?.();
  return host;
}

/** Shuts the host down; on virtual time the clock is driven while drivers' remove paths wait on it. */
export function shutdownHost(host: Host): Promise<void> {
  const stopping = host.shutdown();
  return host.clock instanceof VirtualClock ? host.clock.driveUntilSettled(stopping) : stopping;
}

async function runFor(host: Host, ms: number): Promise<void> {
  const clock = host.clock as Host["clock"] & { advance?: (ns: number) => unknown };
  if (clock.kind === "virtual" && clock.advance) {
    // Step through virtual time, letting promise-based kernel work (module loads, device opens) run between steps.
    for (let elapsed = 0; elapsed < ms; elapsed++) {
      clock.advance(1e6);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** `vmk host boot`: the boot log as it happens, then the inventory. */
export async function hostBoot(options: HostCommandOptions): Promise<void> {
  const host = await bootHost(options, !options.json);
  const inventory = collectInventory(host.management);
  if (options.json) options.out(JSON.stringify({ ...inventory, log: host.management.log({ level: "info" }) }, null, 2));
  else options.out("\n" + renderInventory(inventory));
  await shutdownHost(host);
}

/** `vmk host inventory`: boots quietly and prints only the inventory. */
export async function hostInventory(options: HostCommandOptions): Promise<void> {
  const host = await bootHost(options, false);
  const inventory = collectInventory(host.management);
  options.out(options.json ? JSON.stringify(inventory, null, 2) : renderInventory(inventory));
  await shutdownHost(host);
}
