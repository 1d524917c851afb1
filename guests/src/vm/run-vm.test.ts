import { EventEmitter } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runVm } from "./run-vm.js";
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

describe("vmk run", () => {
  it.each(["virtual", "real"] as const)("boots a kernel on %s time with COM1 on the terminal and returns the guest's exit status", async (time) => {
    const terminal = new FakeTerminal();
    const logs: string[] = [];
    const result = await runVm({ kernel: kernelFile("timer.asm"), memoryMb: 16, time, terminal: { input: terminal, output: terminal }, log: (_level, message) => logs.push(message) });
    expect(result).toEqual({ reason: "guest-exit", exitCode: 67 });
    expect(terminal.screen.join("")).toMatch(/^vmk timer test\n\.{10}\ntsc [0-9a-f]{8}\n$/);
    expect(logs.join("\n")).toMatch(/vm: booting multiboot \(a\.out kludge\)/);
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
    expect(await running).toEqual({ reason: "requested" });
    expect(terminal.screen.join("")).toMatch(/^vmk e1000 guest driver\n/);
  });

  it("says what is wrong when there is nothing to boot", async () => {
    expect(await runVm({ kernel: "/nonexistent/vmlinuz", time: "virtual", log: () => {} })).toMatchObject({ reason: "error", detail: expect.stringMatching(/cannot read the kernel \/nonexistent\/vmlinuz/) });
  });
});
