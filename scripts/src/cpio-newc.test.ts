import { execFileSync } from "node:child_process";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM script module without type declarations
import { CpioNewcWriter, NEWC_HEADER_SIZE, parseCpioNewc, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG } from "./cpio-newc.mjs";
// @ts-expect-error -- plain ESM script module without type declarations
import { buildInitramfs, INIT_SCRIPT } from "./initramfs.mjs";

const hasCpio = (() => {
  try {
    execFileSync("sh", ["-c", "command -v cpio"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

function sampleArchive(): Uint8Array {
  return new CpioNewcWriter()
    .directory("bin")
    .file("bin/hello", "hello, world\n", 0o755)
    .symlink("bin/sh", "/bin/busybox")
    .characterDevice("dev/console", 5, 1)
    .file("empty", new Uint8Array(0))
    .finish();
}

describe("cpio newc writer", () => {
  it("writes 110-byte ASCII headers and 4-byte aligned names and data", () => {
    const archive = sampleArchive();
    const text = new TextDecoder("latin1").decode(archive);
    expect(text.slice(0, 6)).toBe("070701");
    // "bin\0" ends at 110 + 4 = 114, padded to 116 where the next header starts (a directory has no data).
    expect(text.slice(NEWC_HEADER_SIZE, NEWC_HEADER_SIZE + 4)).toBe("bin\0");
    expect(text.slice(116, 122)).toBe("070701");
    expect(archive.length % 4).toBe(0);
    expect(text).toContain("TRAILER!!!\0");
  });

  it("parses back every entry with its type, mode, device numbers and data", () => {
    const entries = parseCpioNewc(sampleArchive());
    expect(entries.map((e: { name: string }) => e.name)).toEqual(["bin", "bin/hello", "bin/sh", "dev/console", "empty"]);
    const [dir, hello, sh, console, empty] = entries;
    expect(dir.mode).toBe(S_IFDIR | 0o755);
    expect(dir.nlink).toBe(2);
    expect(hello.mode).toBe(S_IFREG | 0o755);
    expect(new TextDecoder().decode(hello.data)).toBe("hello, world\n");
    expect(sh.mode).toBe(S_IFLNK | 0o777);
    expect(new TextDecoder().decode(sh.data)).toBe("/bin/busybox");
    expect(console).toMatchObject({ mode: S_IFCHR | 0o600, rdevmajor: 5, rdevminor: 1, filesize: 0 });
    expect(empty.filesize).toBe(0);
    expect(new Set(entries.map((e: { ino: number }) => e.ino)).size).toBe(5);
  });

  it("refuses names that escape the archive root", () => {
    expect(() => new CpioNewcWriter().file("../etc/passwd", "x")).toThrow(/not a relative path/);
  });

  // CI installs cpio (.ci/apt-packages): there a missing cpio fails instead of skipping.
  it.runIf(hasCpio || process.env.CI === "true")("is read by GNU cpio", () => {
    expect(hasCpio, "cpio is not installed (apt-get install cpio)").toBe(true);
    const listing = execFileSync("cpio", ["-t", "--quiet"], { input: sampleArchive() }).toString();
    expect(listing.trim().split("\n")).toEqual(["bin", "bin/hello", "bin/sh", "dev/console", "empty"]);
    const verbose = execFileSync("cpio", ["-tv", "--quiet"], { input: sampleArchive() }).toString();
    expect(verbose).toMatch(/^crw-------.*5,\s+1.*dev\/console$/m);
    expect(verbose).toMatch(/^lrwxrwxrwx.*bin\/sh -> \/bin\/busybox$/m);
  });
});

describe("busybox initramfs", () => {
  const busybox = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]);
  const archive = buildInitramfs({ busybox, applets: ["bin/sh", "bin/ls", "sbin/ifconfig", "usr/bin/[", "usr/sbin/chroot", "bin/busybox"] });

  it("holds /init, busybox, its applet links and /dev/console, parents before children", () => {
    const entries = parseCpioNewc(gunzipSync(gzipSync(archive)));
    const byName = new Map(entries.map((e: { name: string }) => [e.name, e]));
    expect(new TextDecoder().decode((byName.get("init") as { data: Uint8Array }).data)).toBe(INIT_SCRIPT);
    expect((byName.get("init") as { mode: number }).mode).toBe(S_IFREG | 0o755);
    expect([...(byName.get("bin/busybox") as { data: Uint8Array }).data]).toEqual([...busybox]);
    expect(byName.get("dev/console")).toMatchObject({ rdevmajor: 5, rdevminor: 1 });
    for (const applet of ["bin/sh", "bin/ls", "sbin/ifconfig", "usr/bin/[", "usr/sbin/chroot"]) {
      expect(new TextDecoder().decode((byName.get(applet) as { data: Uint8Array }).data)).toBe("/bin/busybox");
    }
    const names = entries.map((e: { name: string }) => e.name);
    for (const [index, name] of names.entries()) {
      const parent = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : undefined;
      if (parent) expect(names.indexOf(parent)).toBeLessThan(index);
    }
    expect(names.filter((n: string) => n === "bin/busybox")).toHaveLength(1);
  });

  it("starts a job-control shell on the console from /init and survives its exit", () => {
    expect(INIT_SCRIPT.startsWith("#!/bin/busybox sh\n")).toBe(true);
    expect(INIT_SCRIPT).toContain("mount -t devtmpfs devtmpfs /dev");
    expect(INIT_SCRIPT).toMatch(/while true; do\n\s+setsid cttyhack sh/);
  });
});
