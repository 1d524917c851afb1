/**
 * Debian's i386 kernel with the busybox initramfs from scripts/fetch-guest-images.mjs as a test guest
 * on virtual time: boot it to the shell prompt, type commands on its serial console and read their
 * answers, power it off from inside. Several sessions may share one VirtualClock (and a NetworkStack):
 * whichever session waits runs the clock, so every guest on it moves.
 *
 *   const guest = await bootLinuxGuest({ nics: [{ mac, portGroup: "VM Network" }], appendCommandLine: "vmk.ip=192.168.50.2/24", clock, network });
 *   const answer = await guest.typeCommand("uname -r");
 *   const off = await guest.poweroff();
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KernelLog, parseVmConfig, VirtualClock, type NetworkStack, type VmRuntimeEvent } from "@vmk/kernel";
import type { UartTransmitPacing } from "../platform/uart/uart-16550.js";
import { PcVmRuntime } from "./pc-vm-runtime.js";
import type { SerialConsoleLine } from "./serial-console-line.js";

/** Where scripts/fetch-guest-images.mjs leaves the images: $VMK_CACHE, else ~/.cache/vmk/guest. */
export const LINUX_GUEST_CACHE = process.env.VMK_CACHE || join(homedir(), ".cache", "vmk", "guest");

export interface LinuxGuestImages {
  kernel: Uint8Array;
  initrd: Uint8Array;
  /** The fetch script's manifest.json (package versions, kernel release). */
  manifest: LinuxGuestManifest;
}

export interface LinuxGuestManifest {
  kernel: { package: string; version: string; release: string };
  busybox: { package: string; version: string };
  [key: string]: unknown;
}

/** The files of the Linux guest images (loadLinuxGuestImages reads them all) not in `cache`. */
export function missingLinuxGuestImages(cache = LINUX_GUEST_CACHE): string[] {
  return ["vmlinuz", "initramfs.cpio.gz", "manifest.json"].filter((file) => !existsSync(join(cache, file)));
}

/**
 * Whether the Linux guest tests run, and if not why: they run when the images are in the cache (CI
 * fetches them first) unless VMK_LINUX=0; .ci/run writes the reason a fetch failed to
 * <cache>/unavailable.txt, which becomes the skip reason.
 */
export function linuxGuestAvailability(cache = LINUX_GUEST_CACHE): { enabled: true } | { enabled: false; reason: string } {
  if (process.env.VMK_LINUX === "0") return { enabled: false, reason: "VMK_LINUX=0" };
  const missing = missingLinuxGuestImages(cache);
  if (missing.length === 0) return { enabled: true };
  const recorded = join(cache, "unavailable.txt");
  const why = existsSync(recorded) ? readFileSync(recorded, "utf8").trim() : "";
  return {
    enabled: false,
    reason: `no Linux guest images in ${cache} (missing ${missing.join(", ")})${why ? `: ${why}` : "; run node scripts/fetch-guest-images.mjs --setup-apt"}`,
  };
}

let cached: { cache: string; images: LinuxGuestImages } | undefined;

/** The cached kernel, initramfs and manifest (read once per process). */
export function loadLinuxGuestImages(cache = LINUX_GUEST_CACHE): LinuxGuestImages {
  if (cached?.cache !== cache) {
    const read = (file: string) => new Uint8Array(readFileSync(join(cache, file)));
    const manifest = JSON.parse(readFileSync(join(cache, "manifest.json"), "utf8")) as LinuxGuestManifest;
    cached = { cache, images: { kernel: read("vmlinuz"), initrd: read("initramfs.cpio.gz"), manifest } };
  }
  return cached.images;
}

/**
 * The kernel command line the sessions boot with. The whole kernel log goes to the console (the
 * UART transmits without line-rate pacing, so that costs little). Two probes that only spin are
 * skipped: the crypto manager's self-tests (RSA and DH private-key operations, about 3.5 G of a plain
 * boot's 8.5 G instructions; they test integer arithmetic, which the CPU's own tests cover) and the
 * ISA Plug and Play isolation (0.35 s of udelay() on a board that has no ISA slots).
 */
export const LINUX_GUEST_COMMAND_LINE = "console=ttyS0,115200 loglevel=8 panic=-1 cryptomgr.notests noisapnp";

/** ash's prompt (PS1 from the initramfs' /etc/profile), possibly followed by its cursor-position query. */
export const LINUX_SHELL_PROMPT = /vmk-guest:[^\n]*# (?:\x1b\[6n)?$/;
/** The banner /init prints before it starts the shell. */
const INIT_BANNER = /vmk guest: Linux \S+/;
/** How far the clock runs between checks of what the guests printed. */
const STEP_NS = 10_000_000;

export interface LinuxGuestNic {
  mac: string;
  /** The port group of `network` its ethernetN is cabled to. */
  portGroup: string;
}

export interface LinuxGuestOptions {
  /** Shared with other sessions and the network's stations; a new one by default. */
  clock?: VirtualClock;
  network?: NetworkStack;
  name?: string;
  /** Guest RAM (default 128 MB). */
  memoryMb?: number;
  /** ethernet0, ethernet1, ...: e1000s (Debian's module, loaded by /init). */
  nics?: LinuxGuestNic[];
  /** Replaces LINUX_GUEST_COMMAND_LINE. */
  commandLine?: string;
  /** Appended to the command line: vmk.ip=ADDR/PREFIX, vmk.gw=ADDR (read by /init). */
  appendCommandLine?: string;
  /** The images (default: loadLinuxGuestImages()); `initrd` may be replaced, e.g. with extra files. */
  images?: LinuxGuestImages;
  /** COM1's transmitter (default: the runtime's "immediate"). */
  serialTransmit?: UartTransmitPacing;
  /** Streams the console output to this file as it comes. */
  consoleLogPath?: string;
}

export interface LinuxBootReport {
  /** Guest time from power-on to the prompt. */
  guestSeconds: number;
  instructions: number;
  wallSeconds: number;
  haltedSeconds: number;
}

/** One Linux VM and its serial console. */
export class LinuxGuestSession {
  readonly runtime: PcVmRuntime;
  readonly clock: VirtualClock;
  readonly com1: SerialConsoleLine;
  /** The VMM's messages (power, NICs, failures). */
  readonly vmmLog: KernelLog;
  readonly images: LinuxGuestImages;
  readonly commandLine: string;
  /** Everything the guest printed on COM1 since power-on (Latin-1). */
  output = "";
  /** The console up to the first prompt, once booted. */
  bootLog = "";
  bootReport: LinuxBootReport | undefined;
  private readonly poweredOff: Promise<Extract<VmRuntimeEvent, { kind: "poweredOff" }>>;

  constructor(readonly options: LinuxGuestOptions = {}) {
    this.clock = options.clock ?? new VirtualClock();
    this.vmmLog = new KernelLog(this.clock);
    this.images = options.images ?? loadLinuxGuestImages();
    const nics = (options.nics ?? [])
      .map(
        (nic, index) =>
          `ethernet${index}.present = "TRUE"\nethernet${index}.networkName = "${nic.portGroup}"\n` +
          `ethernet${index}.addressType = "static"\nethernet${index}.address = "${nic.mac}"\n`,
      )
      .join("");
    const config = parseVmConfig(`displayName = "${this.name}"\nmemsize = "${options.memoryMb ?? 128}"\n${nics}`);
    this.commandLine = [options.commandLine ?? LINUX_GUEST_COMMAND_LINE, options.appendCommandLine ?? ""].filter(Boolean).join(" ");
    this.runtime = new PcVmRuntime({
      config,
      services: { clock: this.clock, network: options.network, log: (level, message) => this.vmmLog.log(level, "vmm", message) },
      images: { kernel: this.images.kernel, initrd: this.images.initrd, commandLine: this.commandLine },
      guestReset: "powerOff",
      serialTransmit: options.serialTransmit,
    });
    this.com1 = this.runtime.serial(0)!;
    this.com1.onOutput((bytes) => (this.output += Buffer.from(bytes).toString("latin1")));
    const logPath = options.consoleLogPath;
    if (logPath) {
      writeFileSync(logPath, "");
      this.com1.onOutput((bytes) => appendFileSync(logPath, bytes));
    }
    this.poweredOff = this.runtime.whenPoweredOff();
  }

  get name(): string {
    return this.options.name ?? "linux-guest";
  }

  /** The console so far: the kernel's log as printed, /init's lines and the shell's dialogue. */
  get log(): string {
    return this.output;
  }

  /** At the shell prompt with nothing printed since. */
  get atPrompt(): boolean {
    return INIT_BANNER.test(this.output) && LINUX_SHELL_PROMPT.test(this.output);
  }

  /** Powers on without waiting (to boot several guests on one clock at once); see waitForPrompt. */
  powerOn(): void {
    this.runtime.powerOn();
  }

  /** Runs until the first shell prompt; records the boot log and figures. */
  async waitForPrompt(limitNs = 60e9): Promise<string> {
    const started = Date.now();
    await this.runUntil(() => this.atPrompt, limitNs, "shell prompt");
    const stats = this.runtime.stats();
    this.bootLog = this.output;
    this.bootReport = {
      guestSeconds: stats.guestTimeNs / 1e9,
      instructions: stats.instructions,
      wallSeconds: (Date.now() - started) / 1000,
      haltedSeconds: stats.haltedNs / 1e9,
    };
    return this.bootLog;
  }

  /**
   * Types `command` and a newline on the console and runs until the prompt is back. Returns what the
   * command printed: the echoed command line and the next prompt removed, CR LF turned into LF.
   */
  async typeCommand(command: string, limitNs = 30e9): Promise<string> {
    const from = this.output.length;
    this.com1.send(`${command}\n`);
    const answer = () => {
      const text = this.output.slice(from);
      const echoed = text.indexOf("\n");
      return echoed < 0 ? undefined : text.slice(echoed + 1);
    };
    await this.runUntil(() => LINUX_SHELL_PROMPT.test(answer() ?? ""), limitNs, `prompt after "${command}"`);
    return answer()!.replace(LINUX_SHELL_PROMPT, "").replace(/\r\n/g, "\n");
  }

  /**
   * Runs the clock in steps until `done` holds; throws with the console's tail and the VMM log when
   * `limitNs` of guest time passes or the VM stops first. Lets promises settle between steps.
   */
  async runUntil(done: () => boolean, limitNs: number, what = "condition", options: { allowPowerOff?: boolean } = {}): Promise<void> {
    const deadline = this.clock.now() + limitNs;
    for (;;) {
      this.com1.flush();
      if (done()) return;
      if (this.runtime.powerState !== "poweredOn" && !options.allowPowerOff) throw new Error(`${this.name} powered off while waiting for ${what}\n${this.diagnostics()}`);
      if (this.clock.now() >= deadline) throw new Error(`no ${what} after ${(limitNs / 1e9).toFixed(1)} s of guest time\n${this.diagnostics()}`);
      this.clock.runUntil(Math.min(deadline, this.clock.now() + STEP_NS));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Runs `ns` of guest time (every VM on the clock moves). */
  async runFor(ns: number): Promise<void> {
    const until = this.clock.now() + ns;
    await this.runUntil(() => this.clock.now() >= until, ns + STEP_NS, "time", { allowPowerOff: true });
  }

  /**
   * Types `poweroff -f` (no init scripts: straight to the kernel's power-off) and runs until the VM
   * has powered off; returns the runtime's event, which says why.
   */
  async poweroff(limitNs = 10e9): Promise<Extract<VmRuntimeEvent, { kind: "poweredOff" }>> {
    this.com1.send("poweroff -f\n");
    await this.runUntil(() => this.runtime.powerState === "poweredOff", limitNs, "power-off", { allowPowerOff: true });
    this.com1.flush();
    return this.poweredOff;
  }

  /** The console's last `characters` and the VMM log, for failure messages. */
  diagnostics(characters = 4000): string {
    const stats = this.runtime.stats();
    return (
      `--- ${this.name}: ${this.runtime.powerState}, ${(stats.guestTimeNs / 1e9).toFixed(3)} s of guest time, ${stats.instructions} instructions, ` +
      `EIP 0x${(this.runtime.machine.cpu.eip >>> 0).toString(16)}\n${this.output.slice(-characters)}\n` +
      `--- ${this.name} VMM log:\n${this.vmmLog.entries().map((entry) => `${entry.level} ${entry.message}`).join("\n")}`
    );
  }
}

/** A new session, powered on and run to its shell prompt. */
export async function bootLinuxGuest(options: LinuxGuestOptions = {}, limitNs = 60e9): Promise<LinuxGuestSession> {
  const session = new LinuxGuestSession(options);
  session.powerOn();
  await session.waitForPrompt(limitNs);
  return session;
}
