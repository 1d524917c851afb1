import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { formatVmx, parseVmConfig, RealTimeClock, VirtualClock, type LogLevel, type NetworkStack, type VmConfig, type VmStopReason } from "@vmk/kernel";
import { PcVmRuntime } from "./pc-vm-runtime.js";
import { TERMINAL_HELP, TerminalAttachment, type TerminalCommand, type TerminalInput, type TerminalOutput } from "./terminal-attachment.js";

export interface RunVmOptions {
  /** A .vmx file; relative vmk.kernel / vmk.initrd paths in it are taken from its folder. */
  vmxPath?: string;
  /** Without a .vmx: the kernel to boot (bzImage or multiboot), its initrd and command line. */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** Guest RAM in MiB (default 256, or the .vmx's memsize). */
  memoryMb?: number;
  displayName?: string;
  /** COM1 on a terminal (raw mode); without one the guest's COM1 output is discarded. */
  terminal?: { input: TerminalInput; output: TerminalOutput };
  /**
   * "real" (default): guest time is host time. "virtual": the VM runs on its own virtual clock as fast
   * as it can, deterministic from run to run (handy for reproducing a boot).
   */
  time?: "real" | "virtual";
  /** Where the VM's NICs get vSwitch ports; without it they stay unplugged. */
  network?: NetworkStack;
  /** The VM's log lines (boot image, NICs, resets); stderr by default. */
  log?: (level: LogLevel, message: string) => void;
  /** What a reset from inside the guest does (default: boot the kernel again). */
  guestReset?: "reboot" | "powerOff";
  /** A file that receives the bytes the guest writes to the debug port 0xE9 (QEMU's -debugcon); "stdio": stdout. */
  debugconPath?: string;
  /** The debug port instead of 0xE9: 0x402 shows SeaBIOS's log (QEMU: -global isa-debugcon.iobase=0x402). */
  debugconPort?: number;
  /** false: no JIT, everything interpreted (QEMU users know this as a debugging aid). */
  jit?: boolean;
  /** Power the VM off after this many milliseconds (of the run's clock: wall time on real time). */
  timeoutMs?: number;
  /**
   * A firmware ROM image to start at the reset vector instead of loading a kernel (QEMU's -bios).
   * A PC's firmware would hand a kernel over through fw_cfg, which vmk does not model, so it excludes
   * `kernel`.
   */
  biosPath?: string;
  /** A file that receives COM1's output (QEMU's -serial file:...), with or without a terminal. */
  serialPath?: string;
  /** Sees every byte the guest writes to the POST code port 0x80. */
  onPostCode?: (code: number) => void;
  /** Power off as soon as COM1 shows a shell prompt (boot benchmarks). */
  stopAtPrompt?: boolean;
  /** Aborting powers the VM off (Ctrl-C when the terminal is not in raw mode). */
  signal?: AbortSignal;
}

const STDOUT_FD = 1;

/** When something happened, counted from power-on. */
export interface BootMilestone {
  /** Host wall-clock seconds. */
  wallSeconds: number;
  /** Seconds of the guest's own clock (its TSC, PIT and RTC; one instruction is 1 ns while it runs). */
  guestSeconds: number;
}

/** How a run went, for `vmk run --json` and the boot benchmark. */
export interface RunVmTiming {
  time: "real" | "virtual";
  /** The first byte on COM1. */
  firstSerialByte?: BootMilestone;
  /** Linux's "Linux version ..." banner on COM1. */
  kernelBanner?: BootMilestone;
  /** A line on COM1 that ends in "# " or "$ " and waits: a shell prompt. */
  shellPrompt?: BootMilestone;
  /** Power-on to power-off (or detach). */
  total: BootMilestone;
  instructions: number;
  /** The JIT's work over the run (absent with the JIT off). */
  jit?: JitRunStatistics;
}

/** What the JIT block cache did over a run. */
export interface JitRunStatistics {
  /** Share of the instructions that ran translated (the rest were interpreted). */
  translatedShare: number;
  translationsMade: number;
  translationsLive: number;
  evicted: number;
  /** Seconds spent generating and compiling translations (V8's optimising compiler not included). */
  compileSeconds: number;
  /** Entries of a region at one of its blocks other than its head. */
  regionReentries: number;
}

export interface RunVmResult {
  reason: VmStopReason | "detached";
  exitCode?: number;
  detail?: string;
  timing?: RunVmTiming;
}

/**
 * `vmk run`: powers on one VM and attaches the terminal to its COM1 until the VM powers off (the
 * guest's exit port, Ctrl-] q) or the user detaches (Ctrl-] d). The VM keeps running after a detach
 * and the promise settles at once.
 */
export async function runVm(options: RunVmOptions): Promise<RunVmResult> {
  if (options.biosPath && options.kernel) return { reason: "error", detail: "--bios and --kernel exclude each other: vmk has no fw_cfg through which firmware could load a kernel" };
  let firmware: Uint8Array | undefined;
  if (options.biosPath) {
    try {
      firmware = new Uint8Array(readFileSync(options.biosPath));
    } catch (error) {
      return { reason: "error", detail: `cannot read the BIOS image ${options.biosPath}: ${(error as Error).message}` };
    }
  }
  const config = vmConfigFor(options);
  const clock = options.time === "virtual" ? new VirtualClock() : new RealTimeClock();
  const log = options.log ?? ((level: LogLevel, message: string) => process.stderr.write(`[vmk ${level}] ${message}\n`));
  let debugconFile: number | undefined;
  let runtime: PcVmRuntime;
  try {
    runtime = new PcVmRuntime({
      config,
      services: { clock, network: options.network, log: (level, message) => log(level, `${config.displayName}: ${message}`) },
      guestReset: options.guestReset ?? "reboot",
      jit: options.jit,
      debugConsole: options.debugconPath ? { writeByte: (byte) => void (debugconFile !== undefined && writeSync(debugconFile, Uint8Array.of(byte))) } : undefined,
      firmware,
      postCodes: options.onPostCode,
      debugConsolePort: options.debugconPort,
    });
  } catch (error) {
    // A debug port that another device decodes, say.
    return { reason: "error", detail: (error as Error).message };
  }
  // "stdio" is this process's stdout, as QEMU's -debugcon stdio (opening /dev/stdout would truncate a file it goes to).
  const debugconToStdout = options.debugconPath === "stdio";
  if (options.debugconPath) debugconFile = debugconToStdout ? STDOUT_FD : openSync(options.debugconPath, "w");
  let serialFile = options.serialPath ? openSync(options.serialPath, "w") : undefined;
  const com1 = runtime.serial(0)!;
  if (serialFile !== undefined) com1.onOutput((bytes) => void (serialFile !== undefined && writeSync(serialFile, bytes)));
  const milestones = new BootMilestones(runtime, options.time ?? "real");
  com1.onOutput((bytes) => {
    milestones.observe(bytes);
    // Not from inside the UART (a newline flushes mid-instruction): once the slice is over.
    if (options.stopAtPrompt && milestones.sawPrompt) queueMicrotask(() => runtime.powerState === "poweredOn" && runtime.powerOff());
  });
  // Power-on is stamped by the runtime's event, before the vCPU's first burst runs inside powerOn().
  runtime.onEvent((event) => {
    if (event.kind === "poweredOn") milestones.poweredOn();
    else if (event.kind === "poweredOff") milestones.stopped();
  });
  const poweredOff = runtime.whenPoweredOff();
  let detached: (() => void) | undefined;
  const detachedPromise = new Promise<RunVmResult>((resolve) => (detached = () => resolve({ reason: "detached" })));

  let terminal: TerminalAttachment | undefined;
  if (options.terminal) {
    const onCommand = (command: TerminalCommand) => {
      if (command === "powerOff" && runtime.powerState === "poweredOn") runtime.powerOff();
      else if (command === "reset" && runtime.powerState === "poweredOn") runtime.reset();
      else if (command === "detach") {
        terminal?.detach();
        detached?.();
      }
    };
    terminal = new TerminalAttachment(runtime.serial(0)!, options.terminal.input, options.terminal.output, onCommand);
    log("info", TERMINAL_HELP);
    terminal.attach();
  }

  // After a detach the VM runs on: what it writes to these ports from then on is dropped.
  const closeFiles = () => {
    if (debugconFile !== undefined && !debugconToStdout) closeSync(debugconFile);
    if (serialFile !== undefined) closeSync(serialFile);
    debugconFile = serialFile = undefined;
  };
  try {
    runtime.powerOn();
  } catch (error) {
    terminal?.detach();
    closeFiles();
    return { reason: "error", detail: (error as Error).message };
  }
  const abort = () => {
    if (runtime.powerState === "poweredOn") runtime.powerOff();
  };
  options.signal?.addEventListener("abort", abort, { once: true });
  let timedOut = false;
  const timeout =
    options.timeoutMs === undefined
      ? undefined
      : clock.setTimer(options.timeoutMs * 1e6, () => {
          if (runtime.powerState !== "poweredOn") return;
          timedOut = true;
          log("info", `${config.displayName}: timeout of ${options.timeoutMs} ms reached, powering off`);
          runtime.powerOff();
        });
  const driving = clock instanceof VirtualClock ? driveVirtualClock(clock, runtime) : undefined;
  const result = await Promise.race([
    poweredOff.then((event): RunVmResult => ({ reason: event.reason, ...(event.exitCode !== undefined ? { exitCode: event.exitCode } : {}), ...(event.detail !== undefined ? { detail: event.detail } : {}) })),
    detachedPromise,
  ]);
  timeout?.cancel();
  options.signal?.removeEventListener("abort", abort);
  closeFiles();
  if (timedOut) result.detail = `timeout of ${options.timeoutMs} ms`;
  result.timing = milestones.timing();
  if (result.reason !== "detached") {
    terminal?.detach();
    await driving;
    if (clock instanceof RealTimeClock) clock.stop();
  }
  return result;
}

/** Runs a virtual clock in steps of 1 ms of guest time, yielding to the event loop between them. */
async function driveVirtualClock(clock: VirtualClock, runtime: PcVmRuntime): Promise<void> {
  while (runtime.powerState === "poweredOn") {
    clock.runUntil(clock.now() + 1_000_000);
    await yieldToEventLoop();
  }
}

/**
 * Whether console output ends in a shell prompt: a last line ending in "# " or "$ " once terminal
 * escapes are stripped (busybox's shell asks for the cursor position right after its prompt), and
 * not a kernel message ("[    1.234] ... #1 SMP ..." could end a chunk the same way).
 */
export function endsWithShellPrompt(output: string): boolean {
  const text = output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  const lastLine = text.slice(text.lastIndexOf("\n") + 1);
  return /[#$] $/.test(lastLine) && !lastLine.startsWith("[");
}

/** Watches COM1 for the moments a boot is measured by, on both the host's and the guest's clock. */
class BootMilestones {
  private wallStart = 0;
  private guestStart = 0;
  private readonly seen: Partial<Record<"firstSerialByte" | "kernelBanner" | "shellPrompt", BootMilestone>> = {};
  /** The end of the output so far, enough to match the banner and a prompt across chunk boundaries. */
  private tail = "";
  private end: BootMilestone | undefined;

  constructor(
    private readonly runtime: PcVmRuntime,
    private readonly time: "real" | "virtual",
  ) {}

  poweredOn(): void {
    this.wallStart = performance.now();
    this.guestStart = this.runtime.machine.deviceClock.now();
  }

  observe(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.seen.firstSerialByte ??= this.now();
    this.tail = (this.tail + Buffer.from(bytes).toString("latin1")).slice(-512);
    if (!this.seen.kernelBanner && this.tail.includes("Linux version ")) this.seen.kernelBanner = this.now();
    if (!this.seen.shellPrompt && endsWithShellPrompt(this.tail)) this.seen.shellPrompt = this.now();
  }

  get sawPrompt(): boolean {
    return this.seen.shellPrompt !== undefined;
  }

  stopped(): void {
    this.end ??= this.now();
  }

  timing(): RunVmTiming {
    // The vCPU loops move guest time on after a slice; a stop inside one is stamped at its start, so
    // the total is held to at least the last milestone seen in it.
    const total = { ...(this.end ?? this.now()) };
    for (const milestone of Object.values(this.seen)) total.guestSeconds = Math.max(total.guestSeconds, milestone.guestSeconds);
    const instructions = this.runtime.machine.instructions;
    const cpu = this.runtime.machine.cpu;
    const t = cpu.translations;
    const jit = cpu.jit.enabled ? {
      translatedShare: instructions > 0 ? t.translatedInstructions / instructions : 0,
      translationsMade: t.translated,
      translationsLive: t.live,
      evicted: t.evicted,
      compileSeconds: t.compileSeconds,
      regionReentries: t.regionReentries,
    } : undefined;
    return { time: this.time, ...this.seen, total, instructions, ...(jit ? { jit } : {}) };
  }

  private now(): BootMilestone {
    return { wallSeconds: (performance.now() - this.wallStart) / 1e3, guestSeconds: (this.runtime.machine.deviceClock.now() - this.guestStart) / 1e9 };
  }
}

function vmConfigFor(options: RunVmOptions): VmConfig {
  if (options.vmxPath) {
    const config = parseVmConfig(readFileSync(options.vmxPath, "utf8"), { baseDir: dirname(options.vmxPath) });
    return {
      ...config,
      ...(options.memoryMb !== undefined ? { memoryBytes: options.memoryMb * 1024 * 1024 } : {}),
      boot: {
        kernel: options.kernel ?? config.boot.kernel,
        initrd: options.initrd ?? config.boot.initrd,
        cmdline: options.cmdline ?? config.boot.cmdline,
      },
    };
  }
  if (!options.kernel && !options.biosPath) throw new Error("vmk run needs a .vmx file, a kernel or a BIOS image to boot");
  const entries: Array<[string, string]> = [
    ["displayName", options.displayName ?? "vm"],
    ["memsize", String(options.memoryMb ?? 256)],
    ...(options.kernel ? [["vmk.kernel", options.kernel] as [string, string]] : []),
    ...(options.initrd ? [["vmk.initrd", options.initrd] as [string, string]] : []),
    ...(options.cmdline !== undefined ? [["vmk.cmdline", options.cmdline] as [string, string]] : []),
  ];
  return parseVmConfig(formatVmx(entries));
}
