import { execFileSync } from "node:child_process";
import { EventEmitter } from "node:events";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildSyntheticBzImage } from "../loaders/linux/synthetic-bzimage.js";
import { endsWithShellPrompt, runVm } from "./run-vm.js";
import { assembleTestKernel } from "./test-kernels.js";

class FakeTerminal extends EventEmitter {
  readonly screen: string[] = [];
  write(chunk: Uint8Array | string) {
    this.screen.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("latin1"));
  }
}

function kernelFile(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "vmk-run-"));
  const path = join(dir, "kernel.bin");
  writeFileSync(path, assembleTestKernel(name));
  return path;
}

const SEABIOS = "/usr/share/seabios/bios.bin";
const BIOS_TEST_PROGRAMS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test-programs", "bios");

function biosFile(name: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "vmk-bios-")), "bios.bin");
  execFileSync("nasm", ["-f", "bin", "-o", path, join(BIOS_TEST_PROGRAMS, name)]);
  return path;
}

describe("vmk run", () => {
  it.each(["virtual", "real"] as const)("boots a kernel on %s time with COM1 on the terminal and returns the guest's exit status", async (time) => {
    const terminal = new FakeTerminal();
    const logs: string[] = [];
    const result = await runVm({ kernel: kernelFile("timer.asm"), memoryMb: 16, time, terminal: { input: terminal, output: terminal }, log: (_level, message) => logs.push(message) });
    expect(result).toMatchObject({ reason: "guest-exit", exitCode: 67 });
    expect(terminal.screen.join("")).toMatch(/^vmk timer test\n\.{10}\ntsc [0-9a-f]{8}\n$/);
    expect(logs.join("\n")).toMatch(/vm: booting multiboot \(a\.out kludge\)/);
  });

  it("keeps TSC and PIT in step on real time: a Linux-style PIT calibration sees a steady 1 GHz counter", async () => {
    const terminal = new FakeTerminal();
    const result = await runVm({ kernel: kernelFile("tsc-calibrate.asm"), memoryMb: 16, time: "real", terminal: { input: terminal, output: terminal }, log: () => {} });
    const screen = terminal.screen.join("");
    const report = /tsc\/10ms ([0-9a-f]{8}) min ([0-9a-f]{8}) max ([0-9a-f]{8}) loops ([0-9a-f]{8})/.exec(screen);
    expect(report, screen).not.toBeNull();
    const [delta, min, max] = report!.slice(1, 4).map((hex) => parseInt(hex, 16));
    // 11932 PIT input clocks are 10.0002 ms; the counter ticks once per nanosecond of guest time.
    expect(delta! / 10_000).toBeGreaterThan(999);
    expect(delta! / 10_000).toBeLessThan(1_001);
    expect(max!, screen).toBeLessThanOrEqual(10 * min!);
    expect(result).toMatchObject({ reason: "guest-exit", exitCode: 33 });
  });

  it("paces an idle guest to the host clock on real time: 200 ms of PIT ticks in HLT take 200 ms", async () => {
    const started = performance.now();
    const result = await runVm({ kernel: kernelFile("idle-wait.asm"), memoryMb: 16, time: "real", log: () => {} });
    const wallSeconds = (performance.now() - started) / 1000;
    expect(result).toMatchObject({ reason: "guest-exit", exitCode: 69 });
    const guestSeconds = result.timing!.total.guestSeconds;
    expect(guestSeconds).toBeGreaterThan(0.19);
    expect(guestSeconds).toBeLessThan(0.21);
    // Guest time never runs ahead of the host's; a loaded host may take longer, not shorter.
    expect(result.timing!.total.wallSeconds).toBeGreaterThanOrEqual(guestSeconds - 0.005);
    expect(wallSeconds).toBeGreaterThanOrEqual(0.19);
  });

  it("reads a .vmx with paths relative to its folder, and powers off on Ctrl-] q", async () => {
    const kernel = kernelFile("e1000-echo.asm");
    const vmx = join(kernel, "..", "guest.vmx");
    writeFileSync(vmx, `displayName = "echo"\nmemsize = "32"\nvmk.kernel = "kernel.bin"\nethernet0.present = "TRUE"\n`);
    const terminal = new FakeTerminal();
    const running = runVm({ vmxPath: vmx, time: "virtual", terminal: { input: terminal, output: terminal }, log: () => {} });
    // The guest waits forever for a reply nobody sends (its NIC has no network); the user powers off.
    for (let waited = 0; !terminal.screen.join("").includes("\n") && waited < 10_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    terminal.emit("data", Buffer.from("\x1dq"));
    expect(await running).toMatchObject({ reason: "requested" });
    expect(terminal.screen.join("")).toMatch(/^vmk e1000 guest driver\n/);
  });

  it.each(["virtual", "real"] as const)("starts a BIOS image at the reset vector on %s time, with POST codes, debugcon and COM1 in a file", async (time) => {
    const bios = biosFile("hello-rom.asm");
    const dir = dirname(bios);
    const postCodes: number[] = [];
    const logs: string[] = [];
    const result = await runVm({ biosPath: bios, memoryMb: 4, time, debugconPath: join(dir, "debugcon.txt"), serialPath: join(dir, "com1.txt"), onPostCode: (code) => postCodes.push(code), log: (_level, message) => logs.push(message) });
    expect(result).toMatchObject({ reason: "guest-exit", exitCode: 85 });
    const said = "vmk bios rom: hello from F000:FFF0\nthe ROM below 4 GiB matches its copy below 1 MiB\n";
    expect(readFileSync(join(dir, "com1.txt"), "latin1")).toBe(said);
    expect(readFileSync(join(dir, "debugcon.txt"), "latin1")).toBe(said);
    expect(postCodes).toEqual([0x01, 0x02, 0x03, 0x04]);
    expect(logs.join("\n")).toMatch(/starting the firmware at F000:FFF0 \(64 KiB ROM at 0xffff0000, its last 64 KiB at 0xf0000\)/);
    expect(result.timing!.instructions).toBeGreaterThan(100);
    expect(result.timing!.firstSerialByte!.guestSeconds).toBeGreaterThan(0);
  });

  // Debian's package seabios; how far it gets is what vmk's PC offers firmware today.
  it.skipIf(!existsSync(SEABIOS))("runs Debian's SeaBIOS through its POST to the boot attempt, its log on port 0x402", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmk-seabios-"));
    const result = await runVm({ biosPath: SEABIOS, memoryMb: 64, time: "virtual", timeoutMs: 4_000, debugconPath: join(dir, "seabios.log"), debugconPort: 0x402, log: () => {} });
    expect(result).toMatchObject({ reason: "requested", detail: "timeout of 4000 ms" });
    const log = readFileSync(join(dir, "seabios.log"), "latin1");
    expect(log).toMatch(/^SeaBIOS \(version /);
    expect(log).toMatch(/RamSize: 0x04000000 \[cmos\]/);
    expect(log).toMatch(/PCI: init bdf=00:00\.0 id=8086:1237/);
    expect(log).toMatch(/Found 2 serial ports/);
    // No disk controller and no fw_cfg: nothing to boot, so it says so and waits to retry.
    expect(log).toMatch(/No bootable device\./);
  });

  it("refuses a BIOS image of a size no PC decodes, --bios with --kernel, and a debug port on another device", async () => {
    const odd = join(mkdtempSync(join(tmpdir(), "vmk-bios-")), "odd.bin");
    writeFileSync(odd, new Uint8Array(1000));
    expect(await runVm({ biosPath: odd, time: "virtual", log: () => {} })).toMatchObject({ reason: "error", detail: expect.stringMatching(/multiple of 64 KiB/) });
    expect(await runVm({ biosPath: odd, kernel: kernelFile("timer.asm"), time: "virtual", log: () => {} })).toMatchObject({ reason: "error", detail: expect.stringMatching(/fw_cfg/) });
    expect(await runVm({ kernel: kernelFile("timer.asm"), time: "virtual", debugconPath: join(dirname(odd), "e9.txt"), debugconPort: 0x3f8, log: () => {} })).toMatchObject({ reason: "error", detail: expect.stringMatching(/overlaps COM1/) });
  });

  it("times the first COM1 byte, the kernel banner and the shell prompt, and can stop at the prompt", async () => {
    const result = await runVm({ kernel: kernelFile("fake-shell.asm"), memoryMb: 16, time: "virtual", stopAtPrompt: true, log: () => {} });
    expect(result.reason).toBe("requested");
    const timing = result.timing!;
    expect(timing.time).toBe("virtual");
    expect(timing.firstSerialByte!.guestSeconds).toBeGreaterThan(0);
    // 115200 baud: the 17 characters before the banner take 1.5 ms of guest time at line rate, none
    // when the UART hands them over at once; either way the order holds.
    expect(timing.kernelBanner!.guestSeconds).toBeGreaterThanOrEqual(timing.firstSerialByte!.guestSeconds);
    expect(timing.shellPrompt!.guestSeconds).toBeGreaterThanOrEqual(timing.kernelBanner!.guestSeconds);
    expect(timing.total.guestSeconds).toBeGreaterThanOrEqual(timing.shellPrompt!.guestSeconds);
    expect(timing.instructions).toBeGreaterThan(1000);
  });

  it("detects a bzImage and hands it the command line and the initrd (--kernel, --append, --initrd, --debugcon)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmk-bzimage-"));
    writeFileSync(join(dir, "bzImage"), buildSyntheticBzImage({ payload: assembleTestKernel("bzimage-echo.asm") }));
    writeFileSync(join(dir, "initrd"), "initrd bytes");
    const logs: string[] = [];
    const result = await runVm({ kernel: join(dir, "bzImage"), initrd: join(dir, "initrd"), cmdline: "console=ttyS0 quiet", memoryMb: 32, time: "virtual", debugconPath: join(dir, "e9.txt"), log: (_level, message) => logs.push(message) });
    expect(result).toMatchObject({ reason: "guest-exit", exitCode: 43 });
    expect(readFileSync(join(dir, "e9.txt"), "latin1")).toBe("console=ttyS0 quiet\ninitrd bytes");
    expect(logs.join("\n")).toMatch(/booting Linux boot protocol 2\.\d+.*initrd 12 bytes at/);
  });

  it("takes a last console line ending in '# ' or '$ ' for a shell prompt, not a kernel message", () => {
    expect(endsWithShellPrompt("Enter 'help'\n\nvmk-guest:/# \x1b[6n")).toBe(true);
    expect(endsWithShellPrompt("login ok\n~ $ ")).toBe(true);
    expect(endsWithShellPrompt("[    0.000000] Linux version 6.1.0 (gcc) # ")).toBe(false);
    expect(endsWithShellPrompt("vmk-guest:/# ls\n")).toBe(false);
  });

  it("says what is wrong when there is nothing to boot", async () => {
    expect(await runVm({ kernel: "/nonexistent/vmlinuz", time: "virtual", log: () => {} })).toMatchObject({ reason: "error", detail: expect.stringMatching(/cannot read the kernel \/nonexistent\/vmlinuz/) });
  });
});
