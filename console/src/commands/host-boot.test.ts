import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
// @ts-expect-error the initramfs writer is a plain .mjs of the fetch script, without declarations
import { CpioNewcWriter } from "../../../scripts/src/cpio-newc.mjs";
import { main } from "../cli.js";
import { initramfsUsesDhcp, lastCpioFile } from "./guest-images.js";

const VM_TEST_PROGRAMS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "guests", "test-programs", "vm");

async function run(args: string[]) {
  const lines: string[] = [];
  const code = await main(args, (text) => lines.push(text));
  return { code, text: lines.join("\n") };
}

function withEnv<T>(name: string, value: string, body: () => Promise<T>): Promise<T> {
  const previous = process.env[name];
  process.env[name] = value;
  return body().finally(() => {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  });
}

/** A newc archive of the given files (gzip-compressed when asked). */
function archive(files: Record<string, string>): Uint8Array {
  const cpio = new CpioNewcWriter();
  for (const [path, text] of Object.entries(files)) cpio.file(path, new TextEncoder().encode(text), 0o755);
  return cpio.finish() as Uint8Array;
}

describe("vmk host boot's default guest", () => {
  it("boots a guest on the host's VM Network, follows its console to the prompt, shows it in the inventory and powers it off", async () => {
    // fake-shell prints a kernel banner and a busybox-style prompt, then halts with interrupts off:
    // it never answers the ping, so the run shows how a guest that stops answering is handled.
    const kernel = join(mkdtempSync(join(tmpdir(), "vmk-host-boot-")), "fake-shell.bin");
    execFileSync("nasm", ["-f", "bin", "-I", `${VM_TEST_PROGRAMS}/`, "-o", kernel, join(VM_TEST_PROGRAMS, "fake-shell.asm")]);
    const { code, text } = await run(["host", "boot", "--virtual-time", "--settle", "50", "--kernel", kernel, "--memory", "16"]);
    expect(code, text).toBe(0);
    expect(text).toMatch(/vmkernel: host esx01 is up/);
    expect(text).toContain(`default guest "debian": ${kernel}, eth0 static 192.0.2.199/24 (no initramfs)`);
    expect(text).toMatch(/vmm: debian: ethernet0: e1000 at 00:03\.0 on "VM Network", port \d+, MAC 00:50:56:00:01:01/);
    expect(text).toMatch(/^\[ +\d+\.\d{6}\] debian: com1\| \[ +0\.000000\] Linux version 6\.1\.0-vmk-test \(fake\)$/m);
    expect(text).toMatch(/^default guest: shell prompt after \d+\.\d\d s of guest time/m);
    // The prompt line is shown once the command's wait ends (a shell's echo would complete it).
    expect(text).toMatch(/^\[ +\d+\.\d{6}\] debian: com1\| vmk-guest:\/# \ndefault guest: no prompt after "ping -c 3 192\.0\.2\.10" within 30 s of guest time$/m);
    // The inventory is taken while the VM runs: its record, its NIC on the vSwitch and the port table.
    const inventory = text.slice(text.indexOf("\nPCI devices\n"));
    expect(inventory).toMatch(/^Virtual machines\n/m);
    expect(inventory).toMatch(/^1 +debian +poweredOn /m);
    expect(inventory).toMatch(/^debian +ethernet0 +00:50:56:00:01:01 +VM Network /m);
    expect(inventory).toMatch(/^\d+ +vSwitch0 +VM Network +debian\.ethernet0 /m);
    // It did not answer at its prompt, so the registry powers it off.
    expect(text).toMatch(/vmm: debian: powered off \(requested\)/);
    expect(text).toMatch(/^default guest: powered off \(requested\); no power-off from inside within 10 s of guest time$/m);

    // --json: the console stays out of stdout; the guest's report joins the inventory.
    const json = await run(["host", "boot", "--virtual-time", "--settle", "10", "--kernel", kernel, "--memory", "16", "--json"]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.text);
    expect(parsed.vms).toEqual([expect.objectContaining({ name: "debian", powerState: "poweredOn" })]);
    expect(parsed.defaultGuest).toMatchObject({
      name: "debian",
      kernel,
      addressing: "static",
      address: "192.0.2.199",
      command: "ping -c 3 192.0.2.10",
      stop: { reason: "requested" },
      problems: ['no prompt after "ping -c 3 192.0.2.10" within 30 s of guest time', "no power-off from inside within 10 s of guest time"],
    });
    expect(parsed.defaultGuest.prompt.guestSeconds).toBeGreaterThan(0);
  });

  it("says in one line why it skips the guest when the images are not cached and --no-fetch is given", async () => {
    const cache = mkdtempSync(join(tmpdir(), "vmk-empty-cache-"));
    const { code, text } = await withEnv("VMK_CACHE", cache, () => run(["host", "boot", "--profile", "minimal", "--virtual-time", "--settle", "10", "--no-fetch"]));
    expect(code, text).toBe(0);
    expect(text).toContain(
      `default guest skipped: no Debian guest images in ${cache} (--no-fetch); fetch with node scripts/fetch-guest-images.mjs --setup-apt or pass --kernel/--initrd`,
    );
    expect(text.match(/default guest/g)).toHaveLength(1);
    expect(text).toMatch(/^PCI devices\n/m);
    expect(text).not.toMatch(/^Virtual machines$/m);
  });

  it("--no-guest and host inventory boot the host alone", async () => {
    const cache = mkdtempSync(join(tmpdir(), "vmk-empty-cache-"));
    for (const args of [["host", "boot", "--no-guest"], ["host", "inventory"]]) {
      const { code, text } = await withEnv("VMK_CACHE", cache, () => run([...args, "--profile", "minimal", "--virtual-time", "--settle", "10"]));
      expect(code, text).toBe(0);
      expect(text).not.toMatch(/default guest/);
    }
  });

  it("reads /init from concatenated newc archives to tell whether the guest asks for DHCP", () => {
    const dir = mkdtempSync(join(tmpdir(), "vmk-initrd-"));
    const staticOnly = archive({ "etc/profile": "PS1='# '\n", init: "#!/bin/sh\nip addr add $address dev eth0\n" });
    const overlay = archive({ init: "#!/bin/sh\nudhcpc -i eth0 -b\n" });
    const combined = new Uint8Array(Math.ceil(staticOnly.length / 4) * 4 + 512 + overlay.length);
    combined.set(staticOnly, 0);
    combined.set(overlay, combined.length - overlay.length);
    expect(new TextDecoder().decode(lastCpioFile(combined, "init"))).toContain("udhcpc");
    expect(lastCpioFile(combined, "bin/sh")).toBeUndefined();

    writeFileSync(join(dir, "old.cpio.gz"), gzipSync(staticOnly));
    writeFileSync(join(dir, "new.cpio.gz"), gzipSync(combined));
    writeFileSync(join(dir, "plain.cpio"), overlay);
    // As scripts/src/initramfs.mjs's withCurrentScripts updates an old cache: a gzip member, then a plain archive.
    const compressed = gzipSync(staticOnly);
    const appended = new Uint8Array(Math.ceil(compressed.length / 4) * 4 + overlay.length);
    appended.set(compressed, 0);
    appended.set(overlay, appended.length - overlay.length);
    writeFileSync(join(dir, "appended.cpio.gz"), appended);
    expect(initramfsUsesDhcp(join(dir, "appended.cpio.gz"))).toBe(true);
    writeFileSync(join(dir, "garbage"), "not an archive");
    expect(initramfsUsesDhcp(join(dir, "old.cpio.gz"))).toBe(false);
    expect(initramfsUsesDhcp(join(dir, "new.cpio.gz"))).toBe(true);
    expect(initramfsUsesDhcp(join(dir, "plain.cpio"))).toBe(true);
    expect(initramfsUsesDhcp(join(dir, "garbage"))).toBe(false);
    expect(initramfsUsesDhcp(join(dir, "missing"))).toBe(false);
  });
});
