import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCommand } from "./run.js";

const VM_TEST_PROGRAMS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "guests", "test-programs", "vm");

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
