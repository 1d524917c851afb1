import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { runVm, type BootMilestone, type JitRunStatistics, type TerminalInput, type TerminalOutput } from "@vmk/guests";
import { bootHost, shutdownHost, type HostCommandOptions } from "./host.js";

export interface RunCommandOptions extends HostCommandOptions {
  vmx?: string;
  /** A firmware ROM image started at the reset vector instead of a kernel. */
  bios?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  memoryMb?: number;
  debugcon?: string;
  /** The debug console's port instead of 0xE9. */
  debugconPort?: number;
  timeoutMs?: number;
  jit?: boolean;
  /** Where COM1 goes: "stdio" (default, the terminal in raw mode), "none", or a file ("file:PATH" or PATH). */
  serial?: string;
  /** Print every byte the guest writes to the POST code port 0x80 (repeats of one code once). */
  postCodes?: boolean;
  /** Power off once COM1 shows a shell prompt (with --json: a boot benchmark). */
  untilPrompt?: boolean;
  /** Where COM1 is attached when serial is "stdio" (default: this process's stdin/stdout). */
  terminal?: { input: TerminalInput; output: TerminalOutput };
}

/** What `vmk run --json` prints: the boot's milestones in seconds from power-on, and how it ended. */
export interface RunReport {
  exit: { reason: string; exitCode?: number; detail?: string };
  time: "real" | "virtual";
  jit: boolean;
  firstSerialByte?: BootMilestone;
  kernelBanner?: BootMilestone;
  shellPrompt?: BootMilestone;
  total?: BootMilestone;
  instructions?: number;
  /** The JIT's statistics over the run (with the JIT on). */
  jitStatistics?: JitRunStatistics;
  postCodes?: number[];
}

/** "stdio", "none"/"null", "file:PATH" or a bare PATH, as QEMU's -serial takes them. */
export function parseSerialTarget(value: string | undefined): { kind: "stdio" } | { kind: "none" } | { kind: "file"; path: string } {
  if (value === undefined || value === "stdio") return { kind: "stdio" };
  if (value === "none" || value === "null") return { kind: "none" };
  const path = value.startsWith("file:") ? value.slice("file:".length) : value;
  if (path === "") throw new Error(`--serial wants stdio, none or a file, not "${value}"`);
  return { kind: "file", path };
}

/** Where scripts/fetch-guest-images.mjs keeps Debian's kernel and the busybox initramfs. */
export function guestImageCache(): string {
  return process.env.VMK_CACHE ?? join(homedir(), ".cache", "vmk", "guest");
}

/**
 * `vmk run`: boots the host (its drivers, vSwitch0) and a VM on it, with the VM's COM1 on this terminal.
 * Without --vmx or --kernel the default guest is Debian's i386 kernel with the busybox initramfs.
 */
export async function runCommand(options: RunCommandOptions): Promise<number> {
  let { kernel, initrd } = options;
  const serial = parseSerialTarget(options.serial);
  if (options.bios && (kernel || initrd)) throw new Error("--bios and --kernel/--initrd exclude each other: vmk has no fw_cfg through which firmware could load a kernel");
  if (!options.vmx && !kernel && !options.bios) {
    const cache = guestImageCache();
    kernel = join(cache, "vmlinuz");
    initrd = join(cache, "initramfs.cpio.gz");
    if (!existsSync(kernel) || !existsSync(initrd)) {
      throw new Error(
        `no default guest in ${cache}: run "node scripts/fetch-guest-images.mjs" to fetch Debian's i386 kernel and build the busybox initramfs, or pass --vmx FILE or --kernel FILE [--initrd FILE]`,
      );
    }
  }
  const host = await bootHost(options, !options.json);
  // With --json, stdout carries the report (and COM1 if it is on stdio); the VM's log goes to stderr.
  const say = options.json ? (text: string) => process.stderr.write(text + "\n") : options.out;
  const postCodes: number[] = [];
  let lastPostCode: number | undefined;
  const onPostCode = options.postCodes
    ? (code: number) => {
        if (code === lastPostCode) return;
        lastPostCode = code;
        if (postCodes.length < MAX_REPORTED_POST_CODES) postCodes.push(code);
        say(`[post] 0x${code.toString(16).padStart(2, "0")}`);
      }
    : undefined;
  // Without the terminal in raw mode, Ctrl-C reaches this process: power the VM off cleanly.
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  if (serial.kind !== "stdio") process.once("SIGINT", onSigint);
  const jit = options.jit ?? true;
  const result = await runVm({
    vmxPath: options.vmx,
    biosPath: options.bios,
    kernel,
    initrd,
    cmdline: options.append ?? (options.vmx ? undefined : "console=ttyS0,115200 earlyprintk=serial,ttyS0,115200"),
    memoryMb: options.memoryMb,
    debugconPath: options.debugcon,
    debugconPort: options.debugconPort,
    timeoutMs: options.timeoutMs,
    jit,
    time: options.virtual ? "virtual" : "real",
    network: host.network,
    terminal: serial.kind === "stdio" ? (options.terminal ?? { input: process.stdin, output: process.stdout }) : undefined,
    serialPath: serial.kind === "file" ? serial.path : undefined,
    onPostCode,
    stopAtPrompt: options.untilPrompt,
    signal: interrupt.signal,
    log: (level, message) => say(`[${level}] ${message}`),
  });
  process.off("SIGINT", onSigint);
  if (options.json) {
    const timing = result.timing;
    const report: RunReport = {
      exit: { reason: result.reason, ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}), ...(result.detail ? { detail: result.detail } : {}) },
      time: options.virtual ? "virtual" : "real",
      jit,
      ...(timing ? { firstSerialByte: timing.firstSerialByte, kernelBanner: timing.kernelBanner, shellPrompt: timing.shellPrompt, total: timing.total, instructions: timing.instructions, ...(timing.jit ? { jitStatistics: timing.jit } : {}) } : {}),
      ...(options.postCodes ? { postCodes } : {}),
    };
    options.out(`${serial.kind === "stdio" ? "\n" : ""}${JSON.stringify(report)}`);
  } else {
    const ran = result.timing ? ` after ${result.timing.total.wallSeconds.toFixed(1)} s (${result.timing.total.guestSeconds.toFixed(1)} s of guest time, ${formatCount(result.timing.instructions)} instructions)` : "";
    options.out(`\nVM stopped: ${result.reason}${result.exitCode !== undefined ? ` (exit code ${result.exitCode})` : ""}${result.detail ? `: ${result.detail}` : ""}${ran}`);
  }
  if (result.reason !== "detached") await shutdownHost(host);
  if (result.reason === "error") return 1;
  return result.exitCode ?? 0;
}

function formatCount(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(2)} G`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)} M`;
  return String(count);
}

/** POST codes kept for the --json report (Linux writes port 0x80 as an I/O delay all through its life). */
const MAX_REPORTED_POST_CODES = 256;
