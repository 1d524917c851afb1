import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
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
  /** A file that receives the bytes the guest writes to the debug port 0xE9 (QEMU's -debugcon). */
  debugconPath?: string;
  /** false: no JIT, everything interpreted (QEMU users know this as a debugging aid). */
  jit?: boolean;
  /** Power the VM off after this many milliseconds of guest time. */
  timeoutMs?: number;
}

export interface RunVmResult {
  reason: VmStopReason | "detached";
  exitCode?: number;
  detail?: string;
}

/**
 * `vmk run`: powers on one VM and attaches the terminal to its COM1 until the VM powers off (the
 * guest's exit port, Ctrl-] q) or the user detaches (Ctrl-] d). The VM keeps running after a detach
 * and the promise settles at once.
 */
export async function runVm(options: RunVmOptions): Promise<RunVmResult> {
  const config = vmConfigFor(options);
  const clock = options.time === "virtual" ? new VirtualClock() : new RealTimeClock();
  const log = options.log ?? ((level: LogLevel, message: string) => process.stderr.write(`[vmk ${level}] ${message}\n`));
  const debugconFile = options.debugconPath ? openSync(options.debugconPath, "w") : undefined;
  const runtime = new PcVmRuntime({
    config,
    services: { clock, network: options.network, log: (level, message) => log(level, `${config.displayName}: ${message}`) },
    guestReset: options.guestReset ?? "reboot",
    jit: options.jit,
    debugConsole: debugconFile === undefined ? undefined : { writeByte: (byte) => void writeSync(debugconFile, Uint8Array.of(byte)) },
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

  try {
    runtime.powerOn();
  } catch (error) {
    terminal?.detach();
    return { reason: "error", detail: (error as Error).message };
  }
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
  if (debugconFile !== undefined) closeSync(debugconFile);
  if (timedOut) result.detail = `timeout of ${options.timeoutMs} ms`;
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
  if (!options.kernel) throw new Error("vmk run needs a .vmx file or a kernel to boot");
  const entries: Array<[string, string]> = [
    ["displayName", options.displayName ?? "vm"],
    ["memsize", String(options.memoryMb ?? 256)],
    ["vmk.kernel", options.kernel],
    ...(options.initrd ? [["vmk.initrd", options.initrd] as [string, string]] : []),
    ...(options.cmdline !== undefined ? [["vmk.cmdline", options.cmdline] as [string, string]] : []),
  ];
  return parseVmConfig(formatVmx(entries));
}
