import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM script module without type declarations
import { parseCpioNewc } from "./cpio-newc.mjs";
// @ts-expect-error -- plain ESM script module without type declarations
import { buildInitramfs, INIT_SCRIPT, MODULE_LOAD_ORDER } from "./initramfs.mjs";
// @ts-expect-error -- plain ESM script module without type declarations
import { collectModules, moduleDependencies, readModinfo } from "./kernel-modules.mjs";

/** A relocatable ELF32 with a section-name table and a .modinfo section: what modinfo reads of a .ko. */
function fakeModule(modinfo: string[]): Uint8Array {
  const encoder = new TextEncoder();
  const names = encoder.encode("\0.shstrtab\0.modinfo\0");
  const info = encoder.encode(modinfo.map((entry) => `${entry}\0`).join(""));
  const headerSize = 52;
  const namesOffset = headerSize;
  const infoOffset = namesOffset + names.length;
  const sectionTable = (infoOffset + info.length + 3) & ~3;
  const image = new Uint8Array(sectionTable + 3 * 40);
  const view = new DataView(image.buffer);
  image.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  view.setUint16(16, 1, true); // ET_REL
  view.setUint16(18, 3, true); // EM_386
  view.setUint32(0x20, sectionTable, true);
  view.setUint16(0x28, headerSize, true);
  view.setUint16(0x2e, 40, true);
  view.setUint16(0x30, 3, true);
  view.setUint16(0x32, 1, true);
  image.set(names, namesOffset);
  image.set(info, infoOffset);
  const section = (index: number, name: number, offset: number, size: number) => {
    const base = sectionTable + index * 40;
    view.setUint32(base, name, true);
    view.setUint32(base + 4, 3, true);
    view.setUint32(base + 0x10, offset, true);
    view.setUint32(base + 0x14, size, true);
  };
  section(1, 1, namesOffset, names.length);
  section(2, 11, infoOffset, info.length);
  return image;
}

const hasXz = spawnSync("sh", ["-c", "command -v xz"], { stdio: "ignore" }).status === 0;
let scratch: string | undefined;
afterEach(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

function moduleTree(files: Record<string, Uint8Array | string>): string {
  scratch = mkdtempSync(join(tmpdir(), "vmk-modules-"));
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(join(scratch, path, ".."), { recursive: true });
    writeFileSync(join(scratch, path), data);
  }
  return scratch;
}

describe("kernel modules for the initramfs", () => {
  it("reads a module's .modinfo and the dependencies modpost recorded", () => {
    const image = fakeModule(["license=GPL", "depends=mii,libphy", "name=e1000", "alias=pci:v00008086d0000100Fsv*"]);
    expect(readModinfo(image).get("name")).toEqual(["e1000"]);
    expect(moduleDependencies(image)).toEqual(["mii", "libphy"]);
    expect(moduleDependencies(fakeModule(["depends=", "name=e1000"]))).toEqual([]);
  });

  it("orders dependencies first, following .modinfo when the tree has no modules.dep", () => {
    const root = moduleTree({
      "kernel/drivers/net/ethernet/intel/e1000/e1000.ko": fakeModule(["depends=mii", "name=e1000"]),
      "kernel/drivers/net/mii.ko": fakeModule(["depends=crc-itu-t", "name=mii"]),
      "kernel/lib/crc-itu-t.ko": fakeModule(["depends=", "name=crc_itu_t"]),
      "kernel/drivers/net/unrelated.ko": fakeModule(["depends=", "name=unrelated"]),
    });
    const modules = collectModules(root, ["e1000"]);
    expect(modules.map((m: { name: string }) => m.name)).toEqual(["crc_itu_t", "mii", "e1000"]);
    expect(modules.map((m: { path: string }) => m.path)).toEqual(["kernel/lib/crc-itu-t.ko", "kernel/drivers/net/mii.ko", "kernel/drivers/net/ethernet/intel/e1000/e1000.ko"]);
    expect(() => collectModules(root, ["e1000e"])).toThrow(/e1000e is not in/);
  });

  it.runIf(hasXz || process.env.CI === "true")("prefers modules.dep, and unpacks .ko.xz modules with xz", () => {
    expect(hasXz, "xz is not installed (apt-get install xz-utils)").toBe(true);
    const plain = fakeModule(["depends=", "name=mii"]);
    const root = moduleTree({
      "kernel/drivers/net/e1000.ko.xz": execFileSync("xz", ["-c"], { input: fakeModule(["depends=", "name=e1000"]) }),
      "kernel/drivers/net/mii.ko.xz": execFileSync("xz", ["-c"], { input: plain }),
      "modules.dep": "kernel/drivers/net/e1000.ko.xz: kernel/drivers/net/mii.ko.xz\nkernel/drivers/net/mii.ko.xz:\n",
    });
    const modules = collectModules(root, ["e1000"]);
    expect(modules.map((m: { path: string }) => m.path)).toEqual(["kernel/drivers/net/mii.ko", "kernel/drivers/net/e1000.ko"]);
    expect([...modules[0].image]).toEqual([...plain]);
  });

  it("puts the modules and their load order under /lib/modules/<release>, and /init loads them and sets up eth0", () => {
    const image = fakeModule(["depends=", "name=e1000"]);
    const archive = buildInitramfs({
      busybox: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]),
      applets: ["bin/sh"],
      kernelRelease: "6.1.0-50-686",
      modules: [{ path: "kernel/drivers/net/ethernet/intel/e1000/e1000.ko", image }],
    });
    const entries = parseCpioNewc(gunzipSync(gzipSync(archive)));
    const byName = new Map(entries.map((e: { name: string; data: Uint8Array }) => [e.name, e]));
    const root = "lib/modules/6.1.0-50-686";
    expect([...(byName.get(`${root}/kernel/drivers/net/ethernet/intel/e1000/e1000.ko`) as { data: Uint8Array }).data]).toEqual([...image]);
    expect(new TextDecoder().decode((byName.get(`${root}/${MODULE_LOAD_ORDER}`) as { data: Uint8Array }).data)).toBe("kernel/drivers/net/ethernet/intel/e1000/e1000.ko\n");
    expect(INIT_SCRIPT).toContain(`insmod "$modules/$module"`);
    expect(INIT_SCRIPT).toMatch(/vmk\.ip=\*\) address=/);
    expect(INIT_SCRIPT).toContain(`ip addr add "$address" dev "$device"`);
    expect(() => buildInitramfs({ busybox: new Uint8Array(4), applets: [], modules: [{ path: "a.ko", image }] })).toThrow(/kernel release/);
  });
});
