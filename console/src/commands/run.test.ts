import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../cli.js";
import { parseSerialTarget, runCommand, type RunReport } from "./run.js";

const TEST_PROGRAMS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "guests", "test-programs");
const VM_TEST_PROGRAMS = join(TEST_PROGRAMS, "vm");

function assemble(source: string, includeDir?: string): string {
  const output = join(mkdtempSync(join(tmpdir(), "vmk-run-")), "image.bin");
  execFileSync("nasm", ["-f", "bin", ...(includeDir ? ["-I", `${includeDir}/`] : []), "-o", output, source]);
  return output;
}

async function cli(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await main(args, (text) => lines.push(text));
  return { code, lines };
}

describe("vmk run", () => {
  it("boots the host, runs a multiboot guest on its serial console and returns the guest's exit code", async () => {
    const kernel = join(mkdtempSync(join(tmpdir(), "vmk-run-")), "timer.bin");
    execFileSync("nasm", ["-f", "bin", "-I", `${VM_TEST_PROGRAMS}/`, "-o", kernel, join(VM_TEST_PROGRAMS, "timer.asm")]);
    const lines: string[] = [];
    const console = new PassThrough();
    let screen = "";
    console.on("data", (chunk: Buffer) => (screen += chunk.toString("latin1")));
    const code = await runCommand({
      profile: "default",
      name: "esx-run",
      json: false,
      virtual: true,
      settleMs: 50,
      out: (text) => lines.push(text),
      kernel,
      memoryMb: 16,
      terminal: { input: new PassThrough(), output: console },
    });
    expect(lines.join("\n")).toMatch(/vmkernel: host esx-run is up/);
    expect(screen, lines.join("\n")).toMatch(/vmk timer test/);
    expect(code).toBe(67);
    expect(lines.join("\n")).toMatch(/VM stopped: .*\(exit code 67\)/);
  });

  it("writes port 0xE9 to the --debugcon file and powers off at --timeout (interpreter only, --no-jit)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmk-run-"));
    const kernel = join(dir, "debugcon.bin");
    execFileSync("nasm", ["-f", "bin", "-I", `${VM_TEST_PROGRAMS}/`, "-o", kernel, join(VM_TEST_PROGRAMS, "debugcon.asm")]);
    const debugcon = join(dir, "debugcon.txt");
    const lines: string[] = [];
    const code = await runCommand({
      profile: "minimal",
      name: "esx-run",
      json: false,
      virtual: true,
      settleMs: 0,
      out: (text) => lines.push(text),
      kernel,
      memoryMb: 16,
      debugcon,
      timeoutMs: 20,
      jit: false,
      terminal: { input: new PassThrough(), output: new PassThrough() },
    });
    expect(code).toBe(0);
    expect(readFileSync(debugcon, "latin1")).toBe("hello from port 0xe9\n");
    expect(lines.join("\n")).toMatch(/VM stopped: requested: timeout of 20 ms/);
  });

  it("vmk run --bios starts a ROM at the reset vector; its exit-port write is the process status; --json reports it", async () => {
    const rom = assemble(join(TEST_PROGRAMS, "bios", "hello-rom.asm"));
    const com1 = join(dirname(rom), "com1.txt");
    const { code, lines } = await cli(["run", "--bios", rom, "--memory", "4", "--virtual-time", "--profile", "minimal", "--settle", "0", "--serial", `file:${com1}`, "--post-codes", "--json"]);
    expect(code).toBe((0x2a << 1) | 1);
    expect(readFileSync(com1, "latin1")).toMatch(/^vmk bios rom: hello from F000:FFF0\nthe ROM below 4 GiB matches its copy below 1 MiB\n$/);
    const report = JSON.parse(lines.at(-1)!) as RunReport;
    expect(report.exit).toEqual({ reason: "guest-exit", exitCode: 85 });
    expect(report.postCodes).toEqual([1, 2, 3, 4]);
    expect(report.time).toBe("virtual");
    expect(report.firstSerialByte!.guestSeconds).toBeGreaterThan(0);
    expect(report.kernelBanner).toBeUndefined();
    expect(report.instructions).toBeGreaterThan(100);
    // The JIT's account of the run: every instruction was either translated or interpreted.
    const jit = report.jitStatistics!;
    expect(jit.translatedShare).toBeGreaterThanOrEqual(0);
    expect(jit.translatedShare).toBeLessThanOrEqual(1);
    expect(jit.translationsLive).toBeLessThanOrEqual(jit.translationsMade);
    const interpreted = await cli(["run", "--bios", rom, "--memory", "4", "--virtual-time", "--profile", "minimal", "--settle", "0", "--serial", "none", "--no-jit", "--json"]);
    const plain = JSON.parse(interpreted.lines.at(-1)!) as RunReport;
    expect([plain.jit, plain.jitStatistics, plain.instructions]).toEqual([false, undefined, report.instructions]);
  });

  it("vmk run --until-prompt --json times a boot to its shell prompt and powers off there", async () => {
    const kernel = assemble(join(VM_TEST_PROGRAMS, "fake-shell.asm"), VM_TEST_PROGRAMS);
    const { code, lines } = await cli(["run", "--kernel", kernel, "--memory", "16", "--virtual-time", "--profile", "minimal", "--settle", "0", "--serial", "none", "--until-prompt", "--json"]);
    expect(code).toBe(0);
    const report = JSON.parse(lines.at(-1)!) as RunReport;
    expect(report.exit.reason).toBe("requested");
    expect(report.kernelBanner!.guestSeconds).toBeGreaterThanOrEqual(report.firstSerialByte!.guestSeconds);
    expect(report.shellPrompt!.guestSeconds).toBeGreaterThanOrEqual(report.kernelBanner!.guestSeconds);
    expect(report.total!.wallSeconds).toBeGreaterThanOrEqual(report.shellPrompt!.wallSeconds);
  });

  it("vmk run --kernel takes a multiboot ELF too; its exit-port write is the CLI's status", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmk-run-"));
    const object = join(dir, "kernel.o");
    const kernel = join(dir, "kernel.elf");
    execFileSync("nasm", ["-f", "elf32", "-o", object, join(VM_TEST_PROGRAMS, "elf-multiboot.asm")]);
    execFileSync("ld", ["-m", "elf_i386", "-N", "-Ttext=0x100000", "-e", "start", "-o", kernel, object]);
    const { code, lines } = await cli(["run", "--kernel", kernel, "--memory", "8", "--virtual-time", "--profile", "minimal", "--settle", "0", "--serial", "none", "--debugcon", join(dir, "e9.txt")]);
    expect(code, lines.join("\n")).toBe((0x12 << 1) | 1);
    expect(readFileSync(join(dir, "e9.txt"), "latin1")).toBe("hello from an ELF multiboot kernel\n");
    expect(lines.join("\n")).toMatch(/booting multiboot \(elf\)/);
    expect(lines.join("\n")).toMatch(/VM stopped: guest-exit \(exit code 37\)/);
  });

  it("rejects --bios with --kernel and ports beyond 0xFFFF, and takes QEMU's spellings of --serial", async () => {
    expect((await cli(["run", "--bios", "/x.rom", "--kernel", "/y", "--virtual-time"])).code).toBe(1);
    expect((await cli(["run", "--debugcon-port", "0x10000", "--virtual-time"])).code).toBe(2);
    expect(parseSerialTarget(undefined)).toEqual({ kind: "stdio" });
    expect(parseSerialTarget("null")).toEqual({ kind: "none" });
    expect(parseSerialTarget("file:/tmp/com1")).toEqual({ kind: "file", path: "/tmp/com1" });
    expect(parseSerialTarget("com1.log")).toEqual({ kind: "file", path: "com1.log" });
    expect(() => parseSerialTarget("file:")).toThrow(/--serial/);
  });

  it("explains where the default guest comes from when it is missing", async () => {
    const previous = process.env.VMK_CACHE;
    process.env.VMK_CACHE = mkdtempSync(join(tmpdir(), "vmk-empty-cache-"));
    try {
      await expect(runCommand({ profile: "default", name: "x", json: false, virtual: true, settleMs: 0, out: () => {} })).rejects.toThrow(/fetch-guest-images\.mjs/);
    } finally {
      if (previous === undefined) delete process.env.VMK_CACHE;
      else process.env.VMK_CACHE = previous;
    }
  });
});
