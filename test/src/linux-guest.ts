/**
 * Debian's i386 kernel with the busybox initramfs from scripts/fetch-guest-images.mjs as network
 * guests on virtual time: several VMs share one clock (and one or more hosts' vSwitches), the test
 * types shell commands on their serial consoles and runs the clock until the answers are in.
 */
import { appendFileSync } from "node:fs";
import { KernelLog, parseVmConfig, type NetworkStack, type VirtualClock } from "@vmk/kernel";
import { LINUX_GUEST_CACHE, LINUX_SHELL_PROMPT, linuxGuestAvailability, loadLinuxGuestImages, missingLinuxGuestImages, PcVmRuntime, type SerialConsoleLine } from "@vmk/guests";

/** VMK_LINUX_PROGRESS=path: a line per second of guest time while the runner waits, and each guest's console in path.<name>. */
const PROGRESS_FILE = process.env.VMK_LINUX_PROGRESS;

/** Whether the images are cached (the bench's check; the tests also honour VMK_LINUX=0, below). */
export function linuxGuestImagesPresent(cache = LINUX_GUEST_CACHE): boolean {
  return missingLinuxGuestImages(cache).length === 0;
}
/** The same rule as linux-boot.test.ts (the images are cached, and VMK_LINUX=0 turns them off). */
export const linuxGuestsEnabled = linuxGuestAvailability().enabled;
const BUSYBOX_BANNER = /vmk guest: Linux /;

/**
 * What the guests boot with. The crypto self-tests are most of a plain boot's instructions and test
 * nothing of ours; a quiet console keeps printk from busy-waiting on 115200 baud (and from holding
 * interrupts off while commands are typed).
 */
export const LINUX_NETWORK_COMMAND_LINE = "console=ttyS0,115200 loglevel=4 panic=-1 cryptomgr.notests";

export interface LinuxGuestSpec {
  clock: VirtualClock;
  network: NetworkStack;
  name: string;
  mac: string;
  portGroup: string;
  /** eth0's address as ADDR/PREFIX; without it /init leaves eth0 to DHCP. */
  address?: string;
  gateway?: string;
  memoryMb?: number;
  commandLine?: string;
  /** Where the images are (default LINUX_GUEST_CACHE). */
  cache?: string;
  /** Rewrites the cached initramfs before boot (e.g. appends the current /init, see scripts/src/initramfs.mjs). */
  initrd?: (cached: Uint8Array) => Uint8Array;
}

export class LinuxGuest {
  readonly runtime: PcVmRuntime;
  readonly com1: SerialConsoleLine;
  readonly log: KernelLog;
  /** Everything the guest printed on COM1 since power-on (Latin-1). */
  output = "";

  constructor(readonly spec: LinuxGuestSpec) {
    this.log = new KernelLog(spec.clock);
    const config = parseVmConfig(
      `displayName = "${spec.name}"\nmemsize = "${spec.memoryMb ?? 128}"\n` +
        `ethernet0.present = "TRUE"\nethernet0.networkName = "${spec.portGroup}"\n` +
        `ethernet0.addressType = "static"\nethernet0.address = "${spec.mac}"\n`,
    );
    const commandLine = [spec.commandLine ?? LINUX_NETWORK_COMMAND_LINE, spec.address ? `vmk.ip=${spec.address}` : "", spec.gateway ? `vmk.gw=${spec.gateway}` : ""]
      .filter(Boolean)
      .join(" ");
    const cached = loadLinuxGuestImages(spec.cache ?? LINUX_GUEST_CACHE);
    this.runtime = new PcVmRuntime({
      config,
      services: { clock: spec.clock, network: spec.network, log: (level, message) => this.log.log(level, "vmm", message) },
      images: { kernel: cached.kernel, initrd: spec.initrd ? spec.initrd(cached.initrd) : cached.initrd, commandLine },
      guestReset: "powerOff",
    });
    this.com1 = this.runtime.serial(0)!;
    this.com1.onOutput((bytes) => (this.output += Buffer.from(bytes).toString("latin1")));
    if (PROGRESS_FILE) this.com1.onOutput((bytes) => appendFileSync(`${PROGRESS_FILE}.${spec.name}`, bytes));
  }

  get name(): string {
    return this.spec.name;
  }

  powerOn(): void {
    this.runtime.powerOn();
  }

  /** At the shell prompt with nothing typed since. */
  get atPrompt(): boolean {
    return BUSYBOX_BANNER.test(this.output) && LINUX_SHELL_PROMPT.test(this.output);
  }

  /** Types a command line; the returned command is done when the shell prompts again. */
  type(command: string): TypedCommand {
    const from = this.output.length;
    this.com1.send(`${command}\n`);
    const guest = this;
    return {
      command,
      guest,
      get done() {
        const text = guest.output.slice(from);
        // The echo of the command itself ends with the line feed; the prompt after the answer counts.
        const echoed = text.indexOf("\n");
        return echoed >= 0 && LINUX_SHELL_PROMPT.test(text.slice(echoed + 1));
      },
      get output() {
        const text = guest.output.slice(from);
        const echoed = text.indexOf("\n");
        return (echoed >= 0 ? text.slice(echoed + 1) : "").replace(LINUX_SHELL_PROMPT, "").replace(/\r/g, "");
      },
    };
  }

  /** The last `bytes` characters of the console and the VMM's log, for a failure message. */
  diagnostics(bytes = 3000): string {
    const stats = this.runtime.stats();
    return (
      `--- ${this.name}: ${this.runtime.powerState}, ${(stats.guestTimeNs / 1e9).toFixed(3)} s guest time, ${stats.instructions} instructions\n` +
      `${this.output.slice(-bytes)}\n--- ${this.name} VMM log:\n${this.log.entries().map((e) => `${e.level} ${e.message}`).join("\n")}`
    );
  }
}

export interface TypedCommand {
  readonly command: string;
  readonly guest: LinuxGuest;
  readonly done: boolean;
  /** What the command printed (carriage returns removed, without the echo and the next prompt). */
  readonly output: string;
}

/** Runs guests that share one virtual clock; every wait is bounded in guest time and reports what the guests printed. */
export class LinuxGuestRunner {
  readonly startedAt = Date.now();
  private nextProgressAt = 0;

  constructor(
    readonly clock: VirtualClock,
    readonly guests: LinuxGuest[],
  ) {}

  /**
   * Runs the clock in 10 ms steps until `done` holds; throws with the guests' consoles after `limitNs`.
   * Between steps it lets promises settle, for drivers on a simulated host that wait on them.
   */
  async runUntil(done: () => boolean, limitNs: number, what: string): Promise<void> {
    const deadline = this.clock.now() + limitNs;
    for (;;) {
      for (const guest of this.guests) guest.com1.flush();
      if (done()) return;
      const stopped = this.guests.find((guest) => guest.runtime.powerState !== "poweredOn");
      if (stopped || this.clock.now() >= deadline) {
        const why = stopped ? `${stopped.name} powered off` : `no ${what} after ${(limitNs / 1e9).toFixed(1)} s of guest time`;
        throw new Error(`${why}\n${this.guests.map((guest) => guest.diagnostics()).join("\n")}`);
      }
      this.clock.runUntil(Math.min(deadline, this.clock.now() + 10_000_000));
      if (PROGRESS_FILE && this.clock.now() >= this.nextProgressAt) {
        this.nextProgressAt = this.clock.now() + 1e9;
        appendFileSync(PROGRESS_FILE, `${(this.clock.now() / 1e9).toFixed(2)} s guest, ${this.wallSeconds().toFixed(1)} s wall: waiting for ${what}; ${this.guests.map((g) => `${g.name} ${g.runtime.stats().instructions} instructions`).join(", ")}\n`);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Powers every guest on and runs until each has its shell prompt. */
  async boot(limitNs = 60e9): Promise<void> {
    for (const guest of this.guests) guest.powerOn();
    await this.runUntil(() => this.guests.every((guest) => guest.atPrompt), limitNs, "shell prompt on every guest");
  }

  /** Types `command` on `guest` and runs until its prompt returns; returns what it printed. */
  async run(guest: LinuxGuest, command: string, limitNs = 60e9): Promise<string> {
    const typed = guest.type(command);
    await this.runUntil(() => typed.done, limitNs, `prompt after "${command}" on ${guest.name}`);
    return typed.output;
  }

  /** Types one command on each guest at once and runs until every prompt has returned; the outputs in order. */
  async runTogether(commands: Array<[LinuxGuest, string]>, limitNs = 60e9): Promise<string[]> {
    const typed = commands.map(([guest, command]) => guest.type(command));
    await this.runUntil(() => typed.every((t) => t.done), limitNs, `prompts after ${commands.map(([g, c]) => `"${c}" on ${g.name}`).join(", ")}`);
    return typed.map((t) => t.output);
  }

  /** Wall-clock seconds since the runner was made. */
  wallSeconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }
}

/** busybox ping's summary: transmitted, received, loss in percent. */
export function pingSummary(output: string): { transmitted: number; received: number; lossPercent: number } | undefined {
  const match = /(\d+) packets transmitted, (\d+) packets received, (\d+)% packet loss/.exec(output);
  if (!match) return undefined;
  return { transmitted: Number(match[1]), received: Number(match[2]), lossPercent: Number(match[3]) };
}
