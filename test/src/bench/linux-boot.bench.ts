/**
 * Linux boot: wall-clock seconds from power-on to the busybox shell prompt on the serial console, for
 * vmk as `vmk run` runs a guest (real time, JIT on), v86 and QEMU TCG, in one run, on the same images:
 * Debian's i386 kernel and the busybox initramfs that scripts/fetch-guest-images.mjs caches, the same
 * command line (console on ttyS0) and 256 MiB of RAM.
 *
 * vmk and QEMU load the bzImage themselves (QEMU through its linuxboot option ROM under SeaBIOS);
 * v86 needs a BIOS for its bzImage option ROM and gets Debian's SeaBIOS and VGA BIOS (package
 * seabios). Power-on is the moment the engine starts: runVm's power-on for vmk, "emulator-started" for
 * v86, the spawn of the process for QEMU (so its start-up and SeaBIOS POST count, a fraction of a
 * second). The prompt is recognised the same way for all three (runVm's `endsWithShellPrompt`).
 *
 * Each engine boots once: a boot lasts from seconds (QEMU) to minutes (vmk), and the machine's load
 * moves it; the load average is printed with the figures. The suite skips, with the reason, when the
 * images are missing; an engine that cannot run here is skipped the same way.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, homedir, loadavg } from "node:os";
import { join } from "node:path";
import { endsWithShellPrompt, runVm } from "@vmk/guests";
import { cpuSeconds, type BenchFigure, type BenchSuite } from "./bench-suite.js";

const COMMAND_LINE = "console=ttyS0,115200 earlyprintk=serial,ttyS0,115200";
const MEMORY_MB = 256;
/** A boot that has not reached its prompt by then has failed (VMK_BENCH_BOOT_LIMIT seconds). */
const BOOT_LIMIT_SECONDS = Number(process.env.VMK_BENCH_BOOT_LIMIT ?? 900);
const SEABIOS = "/usr/share/seabios/bios.bin";
const VGA_BIOS = "/usr/share/seabios/vgabios-stdvga.bin";
const QEMU = "qemu-system-i386";

interface GuestImages {
  kernel: string;
  initrd: string;
}

interface BootRun {
  /** Power-on to the prompt, wall clock. */
  seconds: number;
  /** Power-on to the "Linux version" banner, wall clock. */
  bannerSeconds?: number;
  /** CPU time the engine used to get there (all its threads): what the boot costs on a loaded machine. */
  cpuSeconds?: number;
  /** What the engine tells beyond the time (vmk: guest time, instructions). */
  detail?: string;
}

interface BootEngine {
  label: string;
  /** Why the engine cannot run here and how to install it; undefined when it can. */
  unavailable(): Promise<string | undefined>;
  bootToPrompt(images: GuestImages): Promise<BootRun>;
}

/** The cache scripts/fetch-guest-images.mjs fills (VMK_CACHE overrides it, as for `vmk run`). */
function guestImages(): GuestImages | string {
  const dir = process.env.VMK_CACHE ?? join(homedir(), ".cache", "vmk", "guest");
  const images = { kernel: join(dir, "vmlinuz"), initrd: join(dir, "initramfs.cpio.gz") };
  if (!existsSync(images.kernel) || !existsSync(images.initrd)) return `no guest images in ${dir}: run \`node scripts/fetch-guest-images.mjs --setup-apt\``;
  return images;
}

/** Serial output as it arrives, timed from `start`: the banner and the prompt. */
class ConsoleWatch {
  private tail = "";
  bannerSeconds: number | undefined;

  constructor(private readonly start: number) {}

  /** Feeds output; true once it ends in a shell prompt. */
  feed(text: string): boolean {
    this.tail = (this.tail + text).slice(-512);
    if (this.bannerSeconds === undefined && this.tail.includes("Linux version ")) this.bannerSeconds = this.elapsed();
    return endsWithShellPrompt(this.tail);
  }

  elapsed(): number {
    return (performance.now() - this.start) / 1000;
  }
}

const vmkEngine: BootEngine = {
  label: "vmk",
  unavailable: async () => undefined,
  async bootToPrompt(images) {
    const startCpu = cpuSeconds();
    const result = await runVm({ kernel: images.kernel, initrd: images.initrd, cmdline: COMMAND_LINE, memoryMb: MEMORY_MB, time: "real", jit: true, stopAtPrompt: true, timeoutMs: BOOT_LIMIT_SECONDS * 1000, log: () => {} });
    const timing = result.timing;
    if (!timing?.shellPrompt) throw new Error(`vmk did not reach the shell prompt: ${result.reason}${result.detail ? ` (${result.detail})` : ""}`);
    return {
      seconds: timing.shellPrompt.wallSeconds,
      bannerSeconds: timing.kernelBanner?.wallSeconds,
      cpuSeconds: cpuSeconds() - startCpu,
      detail: `${timing.shellPrompt.guestSeconds.toFixed(2)} s of guest time, ${(timing.instructions / 1e9).toFixed(2)} G instructions, ${(timing.instructions / 1e6 / timing.shellPrompt.wallSeconds).toFixed(0)} MIPS`,
    };
  },
};

const qemuEngine: BootEngine = {
  label: "QEMU TCG",
  async unavailable() {
    const probe = spawnSync(QEMU, ["--version"], { encoding: "utf8" });
    if (probe.error || probe.status !== 0) return `${QEMU} not found: install it with \`apt-get install qemu-system-x86\``;
    return undefined;
  },
  bootToPrompt(images) {
    const args = ["-accel", "tcg", "-m", String(MEMORY_MB), "-kernel", images.kernel, "-initrd", images.initrd, "-append", COMMAND_LINE, "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot"];
    return new Promise((resolve, reject) => {
      const watch = new ConsoleWatch(performance.now());
      const child = spawn(QEMU, args, { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      let run: BootRun | undefined;
      const limit = setTimeout(() => child.kill(), BOOT_LIMIT_SECONDS * 1000);
      child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
      child.stdout.on("data", (chunk: Buffer) => {
        if (run || !watch.feed(chunk.toString("latin1"))) return;
        run = { seconds: watch.elapsed(), bannerSeconds: watch.bannerSeconds, cpuSeconds: processCpuSeconds(child.pid) };
        child.kill();
      });
      child.on("error", reject);
      child.on("close", (code, signal) => {
        clearTimeout(limit);
        if (run) resolve(run);
        else reject(new Error(`${QEMU} ended (${signal ?? code}) before the shell prompt: ${stderr.trim()}`));
      });
    });
  },
};

const v86Engine: BootEngine = {
  label: "v86",
  async unavailable() {
    try {
      await import("v86");
    } catch {
      return "the v86 npm package is not installed: `npm install` in the checkout installs it (a devDependency of @vmk/test)";
    }
    if (!existsSync(SEABIOS) || !existsSync(VGA_BIOS)) return `v86 boots a bzImage through a BIOS, and ${SEABIOS} or ${VGA_BIOS} is missing: \`apt-get install seabios\``;
    return undefined;
  },
  async bootToPrompt(images) {
    const { V86 } = await import("v86");
    const image = (path: string) => {
      const bytes = readFileSync(path);
      return { buffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
    };
    return new Promise((resolve, reject) => {
      let watch: ConsoleWatch | undefined;
      let run: BootRun | undefined;
      const emulator = new V86({
        wasm_path: createRequire(import.meta.url).resolve("v86/build/v86.wasm"),
        memory_size: MEMORY_MB << 20,
        bios: image(SEABIOS),
        vga_bios: image(VGA_BIOS),
        bzimage: image(images.kernel),
        initrd: image(images.initrd),
        cmdline: COMMAND_LINE,
        autostart: true,
        disable_keyboard: true,
        disable_mouse: true,
        disable_speaker: true,
      });
      const finish = (outcome: BootRun | Error) => {
        clearTimeout(limit);
        void emulator
          .stop()
          .then(() => emulator.destroy())
          .then(() => (outcome instanceof Error ? reject(outcome) : resolve(outcome)), reject);
      };
      const limit = setTimeout(() => finish(new Error(`v86 did not reach the shell prompt within ${BOOT_LIMIT_SECONDS} s`)), BOOT_LIMIT_SECONDS * 1000);
      let startCpu = 0;
      emulator.add_listener("emulator-started", () => {
        watch = new ConsoleWatch(performance.now());
        startCpu = cpuSeconds();
      });
      emulator.add_listener("serial0-output-byte", (byte: number) => {
        if (run || !watch || !watch.feed(String.fromCharCode(byte))) return;
        run = { seconds: watch.elapsed(), bannerSeconds: watch.bannerSeconds, cpuSeconds: cpuSeconds() - startCpu };
        finish(run);
      });
    });
  },
};

/** CPU seconds (user + system, every thread) a live process has used so far, from /proc; undefined off Linux. */
function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // from field 3 (state) on
    const ticks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return undefined;
  }
}

/** VMK_BENCH_BOOT_ENGINES (comma-separated labels, e.g. "vmk,QEMU TCG") narrows the engines. */
function engines(): BootEngine[] {
  const all = [vmkEngine, v86Engine, qemuEngine];
  const filter = process.env.VMK_BENCH_BOOT_ENGINES;
  if (!filter?.trim()) return all;
  const names = filter.split(",").map((name) => name.trim());
  return all.filter((engine) => names.includes(engine.label));
}

function note(line: string): void {
  process.stdout.write(`   ${line}\n`);
}

export const linuxBootSuite: BenchSuite = {
  name: "linux boot: vmk vs v86 vs QEMU TCG",
  async run() {
    const images = guestImages();
    if (typeof images === "string") {
      note(`skipped: ${images}`);
      return [];
    }
    const runs = new Map<string, BootRun>();
    for (const engine of engines()) {
      const reason = await engine.unavailable();
      if (reason !== undefined) {
        note(`${engine.label} cannot run here, no figure for it: ${reason}`);
        continue;
      }
      const run = await engine.bootToPrompt(images);
      runs.set(engine.label, run);
      const banner = run.bannerSeconds === undefined ? "" : `, kernel banner after ${run.bannerSeconds.toFixed(2)} s`;
      const cpu = run.cpuSeconds === undefined ? "" : `, ${run.cpuSeconds.toFixed(2)} CPU s`;
      note(`${engine.label}: prompt after ${run.seconds.toFixed(2)} s${banner}${cpu}${run.detail ? `; ${run.detail}` : ""}`);
    }
    note(`figures: wall-clock seconds from power-on to the shell prompt, one boot each; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`);
    const vmkCpu = runs.get(vmkEngine.label)?.cpuSeconds;
    const cpuRatios = [v86Engine, qemuEngine]
      .map((peer) => ({ label: peer.label, cpu: runs.get(peer.label)?.cpuSeconds }))
      .filter((peer): peer is { label: string; cpu: number } => peer.cpu !== undefined && peer.cpu > 0 && vmkCpu !== undefined)
      .map((peer) => `${(vmkCpu! / peer.cpu).toFixed(2)}x of ${peer.label}`);
    if (cpuRatios.length > 0) note(`by CPU time (what the boot costs, less moved by the load): vmk ${cpuRatios.join(", ")}`);
    const figures: BenchFigure[] = [];
    const name = (label: string) => `Linux boot to shell prompt: ${label}${label === "vmk" ? " (real time, JIT)" : ""}`;
    const vmk = runs.get(vmkEngine.label);
    const peers = [v86Engine, qemuEngine].filter((peer) => runs.has(peer.label));
    if (vmk) {
      if (peers.length === 0) figures.push({ name: name("vmk"), value: vmk.seconds, unit: "s" });
      for (const peer of peers) figures.push({ name: name("vmk"), value: vmk.seconds, unit: "s", reference: { label: `of ${peer.label}`, value: runs.get(peer.label)!.seconds } });
    }
    for (const peer of peers) figures.push({ name: name(peer.label), value: runs.get(peer.label)!.seconds, unit: "s" });
    return figures;
  },
};
