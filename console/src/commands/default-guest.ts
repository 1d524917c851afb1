import { parseVmConfig, VirtualClock, type Host, type VirtualMachine, type VmConsoleLine } from "@vmk/kernel";
import { endsWithShellPrompt, LINUX_GUEST_COMMAND_LINE } from "@vmk/guests";
import { initramfsUsesDhcp } from "./guest-images.js";

/** What `vmk host boot` runs on the host it booted unless --no-guest. */
export interface DefaultGuestOptions {
  kernel?: string;
  initrd?: string;
  /** Fetch Debian's images when they are not cached (false: --no-fetch). */
  fetch: boolean;
  /** Print every console line; by default the kernel's own messages are cut to a few landmarks. */
  fullConsole: boolean;
  memoryMb?: number;
  /**
   * How long each step may take: guest time on the virtual clock, wall time on the real one (where a
   * slower processor falls behind the guest's nominal 1000 MIPS).
   */
  limits?: Partial<GuestLimits>;
}

export interface GuestLimits {
  promptMs: number;
  commandMs: number;
  powerOffMs: number;
}

const DEFAULT_LIMITS: Record<"virtual" | "real", GuestLimits> = {
  // A Debian boot to the prompt is ~3.5 s of guest time; DHCP and the carrier wait add up to ~12 s.
  virtual: { promptMs: 60_000, commandMs: 30_000, powerOffMs: 10_000 },
  // On real time the guest runs as fast as this processor translates it: minutes on a slow one.
  real: { promptMs: 600_000, commandMs: 60_000, powerOffMs: 20_000 },
};

export const DEFAULT_GUEST_NAME = "debian";
/** In the range ESX leaves to manually assigned VM addresses (00:50:56:00-3f), clear of the vmknics'. */
export const DEFAULT_GUEST_MAC = "00:50:56:00:01:01";
const DEFAULT_GUEST_MEMORY_MB = 128;
const PORT_GROUP = "VM Network";

/** What happened to the default guest, for the text summary and the --json report. */
export interface DefaultGuestReport {
  name: string;
  kernel: string;
  initrd?: string;
  /** How eth0 got its address: DHCP from the port group's server, or a static one on the command line. */
  addressing: "dhcp" | "static" | "none";
  address?: string;
  commandLine: string;
  /** Seconds from power-on to the shell prompt (guest time, and wall time). */
  prompt?: { guestSeconds: number; wallSeconds: number };
  command?: string;
  answer?: string;
  /** How the VM stopped (set by powerOff). */
  stop?: { reason: string; detail?: string };
  problems: string[];
}

/**
 * The default guest on a host: a VM in the host's registry (so the inventory and `vm` views show it)
 * whose COM1 is followed line by line, driven to its shell prompt, asked one question that needs the
 * network, and powered off from inside.
 */
export class DefaultGuest {
  readonly report: DefaultGuestReport;
  private vm: VirtualMachine | undefined;
  private com1: VmConsoleLine | undefined;
  private output = "";
  private partialLine = "";
  private hiddenKernelLines = 0;
  private readonly limits: GuestLimits;
  private readonly started = { wall: 0, guest: 0 };

  constructor(
    private readonly host: Host,
    images: { kernel: string; initrd?: string },
    private readonly options: DefaultGuestOptions,
    /** One console line at a time (undefined: quiet, as with --json). */
    private readonly print: ((line: string) => void) | undefined,
  ) {
    this.limits = { ...DEFAULT_LIMITS[host.clock.kind], ...options.limits };
    const dhcp = host.management.dhcpServers().find((server) => server.portGroup === PORT_GROUP);
    let addressing: DefaultGuestReport["addressing"] = "none";
    let commandLine = LINUX_GUEST_COMMAND_LINE;
    if (images.initrd && initramfsUsesDhcp(images.initrd)) addressing = dhcp ? "dhcp" : "none";
    else if (dhcp) {
      // An /init from before DHCP: the top of the server's range, which it hands out last.
      addressing = "static";
      commandLine += ` vmk.ip=${dhcp.rangeEnd}/${prefixLength(dhcp.netmask)}`;
    }
    this.report = { name: DEFAULT_GUEST_NAME, kernel: images.kernel, ...(images.initrd ? { initrd: images.initrd } : {}), addressing, commandLine, problems: [] };
  }

  get virtual(): boolean {
    return this.host.clock instanceof VirtualClock;
  }

  /** Registers and powers on the VM; false (with the problem recorded) when it does not start. */
  powerOn(): boolean {
    const { kernel, initrd, commandLine } = this.report;
    const vmx =
      `displayName = "${DEFAULT_GUEST_NAME}"\nguestOS = "debian12"\nmemsize = "${this.options.memoryMb ?? DEFAULT_GUEST_MEMORY_MB}"\n` +
      `ethernet0.present = "TRUE"\nethernet0.virtualDev = "e1000"\nethernet0.networkName = "${PORT_GROUP}"\n` +
      `ethernet0.addressType = "static"\nethernet0.address = "${DEFAULT_GUEST_MAC}"\n` +
      `vmk.kernel = "${kernel}"\n${initrd ? `vmk.initrd = "${initrd}"\n` : ""}vmk.cmdline = "${commandLine}"\n`;
    try {
      this.vm = this.host.vms.create(parseVmConfig(vmx));
      this.started.wall = Date.now();
      this.started.guest = this.host.clock.now();
      this.host.vms.powerOn(this.vm.id);
    } catch (error) {
      this.report.problems.push(`power-on failed: ${(error as Error).message}`);
      return false;
    }
    this.com1 = this.vm.serial(0);
    if (!this.com1) {
      this.report.problems.push("the VM has no COM1");
      return false;
    }
    // What the first burst printed (real time runs one inside powerOn) is only in the scrollback.
    this.receive(this.com1.scrollback());
    this.com1.onOutput((bytes) => this.receive(bytes));
    return true;
  }

  /** Runs until the shell prompt; false when it does not come. */
  async waitForPrompt(): Promise<boolean> {
    const reached = await this.runUntil(() => endsWithShellPrompt(this.output), this.limits.promptMs, "a shell prompt");
    if (!reached) return false;
    this.report.prompt = { guestSeconds: (this.host.clock.now() - this.started.guest) / 1e9, wallSeconds: (Date.now() - this.started.wall) / 1000 };
    if (this.hiddenKernelLines > 0 && this.print) this.print(`${this.prefix()}(${this.hiddenKernelLines} more kernel messages; --guest-console shows every line)`);
    this.report.address = this.leasedAddress() ?? /vmk\.ip=([\d.]+)/.exec(this.report.commandLine)?.[1];
    return true;
  }

  /** Types `command` at the prompt and runs until the next prompt; its answer, or undefined. */
  async type(command: string): Promise<string | undefined> {
    const from = this.output.length;
    this.report.command = command;
    this.com1!.send(`${command}\n`);
    const answer = () => {
      const text = this.output.slice(from);
      const echoed = text.indexOf("\n");
      return echoed < 0 ? undefined : text.slice(echoed + 1);
    };
    const reached = await this.runUntil(() => endsWithShellPrompt(answer() ?? ""), this.limits.commandMs, `a prompt after "${command}"`);
    if (!reached) {
      this.flushPartialLine();
      return undefined;
    }
    const text = answer()!.replace(/\r/g, "");
    this.report.answer = text.slice(0, text.lastIndexOf("\n") + 1);
    return this.report.answer;
  }

  /** The address to ping from the guest: vmk0's, else the DHCP server's. */
  pingTarget(): string | undefined {
    const vmk0 = this.host.management.network().vmknics.find((nic) => nic.ipAddress && nic.ipAddress !== "0.0.0.0");
    return vmk0?.ipAddress ?? this.host.management.dhcpServers().find((server) => server.portGroup === PORT_GROUP)?.serverAddress;
  }

  /**
   * `poweroff -f` inside the guest (ACPI soft off, as its kernel does it) when it sits at a prompt;
   * the registry's hard power-off when it does not answer.
   */
  async powerOff(): Promise<void> {
    const vm = this.vm;
    if (!vm) return;
    if (vm.powerState === "poweredOn" && endsWithShellPrompt(this.output)) {
      this.com1!.send("poweroff -f\n");
      await this.runUntil(() => vm.powerState === "poweredOff", this.limits.powerOffMs, "a power-off from inside", true);
    }
    if (vm.powerState === "poweredOn") this.host.vms.powerOff(vm.id);
    this.flushPartialLine();
    const stop = vm.lastStop;
    if (stop) this.report.stop = { reason: stop.reason, ...(stop.detail ? { detail: stop.detail } : {}) };
  }

  /**
   * Runs the host until `done` holds: on virtual time by stepping its clock (every VM and timer on it
   * moves), on real time by waiting while the vCPU loop and the host run by themselves.
   */
  private async runUntil(done: () => boolean, limitMs: number, what: string, powerOffExpected = false): Promise<boolean> {
    const clock = this.host.clock;
    const vm = this.vm!;
    const virtual = clock instanceof VirtualClock ? clock : undefined;
    const deadline = virtual ? virtual.now() + limitMs * 1e6 : Date.now() + limitMs;
    for (;;) {
      if (done()) return true;
      if (vm.powerState !== "poweredOn" && !powerOffExpected) {
        const stop = vm.lastStop;
        this.report.problems.push(`the VM powered off while waiting for ${what}${stop ? ` (${stop.reason}${stop.detail ? `: ${stop.detail}` : ""})` : ""}`);
        return false;
      }
      if ((virtual ? virtual.now() : Date.now()) >= deadline) {
        this.report.problems.push(`${what.replace(/^an? /, "no ")} within ${limitMs / 1000} s of ${virtual ? "guest" : "wall"} time`);
        return false;
      }
      if (virtual) {
        virtual.runUntil(Math.min(deadline, virtual.now() + VIRTUAL_STEP_NS));
        await new Promise((resolve) => setImmediate(resolve));
      } else {
        await new Promise((resolve) => setTimeout(resolve, REAL_POLL_MS));
      }
    }
  }

  private receive(bytes: Uint8Array): void {
    const text = Buffer.from(bytes).toString("latin1");
    this.output += text;
    if (!this.print) return;
    const lines = (this.partialLine + text).split("\n");
    this.partialLine = lines.pop()!;
    for (const line of lines) this.printLine(line);
  }

  private flushPartialLine(): void {
    if (this.partialLine !== "") this.printLine(this.partialLine);
    this.partialLine = "";
  }

  private printLine(raw: string): void {
    // Terminal escapes (busybox's shell queries the cursor position after each prompt) and CRs.
    const line = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
    if (!this.options.fullConsole) {
      if (line.trim() === "") return;
      if (KERNEL_MESSAGE.test(line) && !KERNEL_LANDMARKS.test(line)) {
        this.hiddenKernelLines++;
        return;
      }
    }
    this.print!(this.prefix() + line);
  }

  /** As the host's log lines are stamped, with the VM and its port where the host names its module. */
  private prefix(): string {
    return `[${(this.host.clock.now() / 1e9).toFixed(6).padStart(12, " ")}] ${DEFAULT_GUEST_NAME}: com1| `;
  }

  private leasedAddress(): string | undefined {
    for (const server of this.host.management.dhcpServers()) {
      const lease = server.leases.find((entry) => entry.mac.toLowerCase() === DEFAULT_GUEST_MAC && entry.state === "bound");
      if (lease) return lease.ipAddress;
    }
    return undefined;
  }
}

/** How far the virtual clock moves between looks at the console (10 ms of guest time). */
const VIRTUAL_STEP_NS = 10_000_000;
const REAL_POLL_MS = 20;

/** A printk line ("[    1.234567] ..."); the guest's userland (init, udhcpc, the shell) prints none. */
const KERNEL_MESSAGE = /^\[ *\d+\.\d+\]/;
/** The kernel messages worth a line in the summary: what booted, with what, and the NIC coming up. */
const KERNEL_LANDMARKS = /Linux version|Command line:|Memory: \d|e1000|eth0|Run \/init|Kernel panic|BUG:|Oops/;

function prefixLength(netmask: string): number {
  return netmask.split(".").reduce((bits, octet) => bits + (Number(octet) >>> 0).toString(2).replace(/0/g, "").length, 0);
}
