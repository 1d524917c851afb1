import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { runVm, type TerminalInput, type TerminalOutput } from "@vmk/guests";
import { bootHost, shutdownHost, type HostCommandOptions } from "./host.js";

export interface RunCommandOptions extends HostCommandOptions {
  vmx?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  memoryMb?: number;
  debugcon?: string;
  timeoutMs?: number;
  jit?: boolean;
  /** Where COM1 is attached (default: this process's stdin/stdout). */
  terminal?: { input: TerminalInput; output: TerminalOutput };
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
  if (!options.vmx && !kernel) {
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
  const result = await runVm({
    vmxPath: options.vmx,
    kernel,
    initrd,
    cmdline: options.append ?? (options.vmx ? undefined : "console=ttyS0,115200 earlyprintk=serial,ttyS0,115200"),
    memoryMb: options.memoryMb,
    debugconPath: options.debugcon,
    timeoutMs: options.timeoutMs,
    jit: options.jit,
    time: options.virtual ? "virtual" : "real",
    network: host.network,
    terminal: options.terminal ?? { input: process.stdin, output: process.stdout },
    log: (level, message) => options.out(`[${level}] ${message}`),
  });
  options.out(`\nVM stopped: ${result.reason}${result.exitCode !== undefined ? ` (exit code ${result.exitCode})` : ""}${result.detail ? `: ${result.detail}` : ""}`);
  if (result.reason !== "detached") await shutdownHost(host);
  return result.exitCode ?? 0;
}
