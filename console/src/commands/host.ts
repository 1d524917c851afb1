import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultModuleSearchPaths, formatLogEntry, parseVmConfig, VirtualClock, type Host } from "@vmk/kernel";
import { assembleHost, hostProfiles } from "@vmk/hardware";
import { PcVmm } from "@vmk/guests";
import { collectInventory, renderInventory } from "../inventory.js";
import { DefaultGuest, type DefaultGuestOptions, type DefaultGuestReport } from "./default-guest.js";
import { chooseGuestImages, FETCH_HINT } from "./guest-images.js";

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
  /** `vmk host boot`'s default guest (Debian with busybox); absent for the other commands and with --no-guest. */
  guest?: DefaultGuestOptions;
}

function checkProfile(options: HostCommandOptions): void {
  if (!hostProfiles[options.profile]) throw new Error(`unknown profile "${options.profile}" (known: ${Object.keys(hostProfiles).join(", ")})`);
}

export async function bootHost(options: HostCommandOptions, echoLog: boolean): Promise<Host> {
  checkProfile(options);
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

/**
 * `vmk host boot`: the boot log as it happens; then the default guest booted on the host to its shell
 * prompt, pinging vmk0; the inventory with it running; the guest powered off from inside.
 */
export async function hostBoot(options: HostCommandOptions): Promise<void> {
  const say = options.json ? (line: string) => process.stderr.write(line + "\n") : options.out;
  checkProfile(options);
  // Before the host boots: a fetch takes minutes, and a real-time host would run on meanwhile.
  const images = options.guest ? chooseGuestImages({ ...options.guest, say }) : undefined;
  const host = await bootHost(options, !options.json);
  let guest: DefaultGuest | undefined;
  if (images?.kind === "skipped") say(`default guest skipped: ${images.reason}; ${FETCH_HINT}`);
  else if (images && options.guest) {
    const echo = options.json ? undefined : host.management.subscribeLog((entry) => entry.level !== "debug" && options.out(formatLogEntry(entry)));
    guest = new DefaultGuest(host, images, options.guest, options.json ? undefined : options.out);
    await runDefaultGuest(guest, options.json ? undefined : options.out);
    echo?.();
  }
  const inventory = collectInventory(host.management);
  if (!options.json) options.out("\n" + renderInventory(inventory));
  if (guest) {
    const echo = options.json ? undefined : host.management.subscribeLog((entry) => entry.level !== "debug" && options.out(formatLogEntry(entry)));
    if (!options.json) options.out("");
    await guest.powerOff();
    echo?.();
    if (!options.json) options.out(describeStop(guest.report));
  }
  // The inventory as it was with the guest running; the report and the log include its power-off.
  if (options.json) options.out(JSON.stringify({ ...inventory, ...(guest ? { defaultGuest: guest.report } : {}), log: host.management.log({ level: "info" }) }, null, 2));
  await shutdownHost(host);
}

/** Power-on, the prompt, one command that needs the network; each failure is reported and ends the run. */
async function runDefaultGuest(guest: DefaultGuest, out: ((line: string) => void) | undefined): Promise<void> {
  const report = guest.report;
  const fail = () => out?.(`default guest: ${report.problems.at(-1)}`);
  const addressing = report.addressing === "dhcp" ? "eth0 by DHCP" : report.addressing === "static" ? `eth0 static ${/vmk\.ip=(\S+)/.exec(report.commandLine)?.[1]} (${report.initrd ? "this initramfs's /init has no DHCP client; the fetch script rebuilds it" : "no initramfs"})` : "eth0 unconfigured";
  out?.(`\ndefault guest "${report.name}": ${report.kernel}${report.initrd ? ` + ${report.initrd}` : ""}, ${addressing}`);
  if (!guest.powerOn()) return fail();
  if (!(await guest.waitForPrompt())) return fail();
  const prompt = report.prompt!;
  // On real time the host clock is the wall clock; the guest's own time line (its printk stamps) lags it.
  const took = guest.virtual ? `${prompt.guestSeconds.toFixed(2)} s of guest time (${prompt.wallSeconds.toFixed(1)} s wall)` : `${prompt.wallSeconds.toFixed(1)} s`;
  out?.(`default guest: shell prompt after ${took}${report.address ? `, eth0 ${report.address}` : ""}`);
  const target = guest.pingTarget();
  if (!target) {
    out?.("default guest: no vmknic or DHCP server to ping on this host");
    return;
  }
  const answer = await guest.type(`ping -c 3 ${target}`);
  if (answer === undefined) return fail();
  const summary = /(\d+) packets transmitted, (\d+) packets received/.exec(answer);
  out?.(`default guest: ${summary ? `${summary[2]} of ${summary[1]} echo requests to ${target} answered` : `ping ${target} printed no summary`}`);
}

function describeStop(report: DefaultGuestReport): string {
  const stop = report.stop;
  if (!stop) return `default guest: ${report.problems.at(-1) ?? "not started"}`;
  const unanswered = report.problems.find((problem) => problem.startsWith("no power-off"));
  return `default guest: powered off (${stop.reason}${stop.detail ? `: ${stop.detail}` : ""})${unanswered ? `; ${unanswered}` : ""}`;
}

/** `vmk host inventory`: boots quietly and prints only the inventory. */
export async function hostInventory(options: HostCommandOptions): Promise<void> {
  const host = await bootHost(options, false);
  const inventory = collectInventory(host.management);
  options.out(options.json ? JSON.stringify(inventory, null, 2) : renderInventory(inventory));
  await shutdownHost(host);
}
