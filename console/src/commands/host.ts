import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultModuleSearchPaths, formatLogEntry, parseVmConfig, VirtualClock, type Host } from "@vmk/kernel";
import { assembleHost, hostProfiles } from "@vmk/hardware";
import { PcVmm } from "@vmk/guests";
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
  /** .vmx files of VMs to register and power on once the host is up (they run for another settle period). */
  vmxFiles?: string[];
}

export async function bootHost(options: HostCommandOptions, echoLog: boolean): Promise<Host> {
  if (!hostProfiles[options.profile]) throw new Error(`unknown profile "${options.profile}" (known: ${Object.keys(hostProfiles).join(", ")})`);
  const { host } = assembleHost(options.profile, {
    name: options.name,
    clock: options.virtual ? "virtual" : "real",
    modules: { searchPaths: defaultModuleSearchPaths(dirname(fileURLToPath(import.meta.url))) },
    vmm: new PcVmm(),
  });
  const unsubscribe = echoLog ? host.management.subscribeLog((entry) => entry.level !== "debug" && options.out(formatLogEntry(entry))) : undefined;
  const booting = host.boot();
  // On virtual time nothing else moves the clock while a driver's probe sleeps (a RAID firmware booting).
  if (host.clock instanceof VirtualClock) await host.clock.driveUntilSettled(booting, () => !host.loadingModules);
  else await booting;
  await runFor(host, options.settleMs);
  if (options.vmxFiles && options.vmxFiles.length > 0) {
    for (const file of options.vmxFiles) {
      const path = resolve(file);
      const vm = host.vms.create(parseVmConfig(readFileSync(path, "utf8"), { baseDir: dirname(path) }));
      host.vms.powerOn(vm.id);
    }
    await runFor(host, options.settleMs);
  }
  unsubscribe?.();
  return host;
}

/** Shuts the host down; on virtual time the clock is driven while drivers' remove paths wait on it. */
export function shutdownHost(host: Host): Promise<void> {
  // VMs the command powered on stop first, as ESX powers VMs off before the host goes down.
  for (const vm of host.management.vms()) if (vm.powerState === "poweredOn") host.vms.powerOff(vm.id);
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
