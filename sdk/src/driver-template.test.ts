import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulatedHost } from "@vmk/test";
import { createDriverPackage } from "./driver-template.js";

describe("driver template", () => {
  it("generates a package the loader accepts, loads and binds to its device", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "vmk-sdk-")), "vmk-driver-isabridge");
    const files = createDriverPackage(dir, { packageName: "vmk-driver-isabridge", driverName: "isabridge", pciIds: [{ vendor: 0x8086, device: 0x7110 }] });
    expect(files).toContain("package.json");
    const sim = await simulatedHost().withProfile("minimal").withModuleSearchPaths([]).withModules(dir).boot();
    expect(sim.module("vmk-driver-isabridge")).toMatchObject({ state: "loaded", devices: ["0000:00:07.0"] });
    expect(sim.log({ source: "vmk-driver-isabridge" }).map((e) => e.message)).toContain("0000:00:07.0: Intel 82371AB/EB/MB PIIX4 ISA bound");
    await sim.host.management.unloadModule("vmk-driver-isabridge");
    expect(sim.module("vmk-driver-isabridge").state).toBe("unloaded");
  });

  it("refuses bad names and empty claim lists", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "vmk-sdk-")), "x");
    expect(() => createDriverPackage(dir, { packageName: "Bad Name", driverName: "x", pciIds: [{ vendor: 1, device: 2 }] })).toThrow(/valid npm package name/);
    expect(() => createDriverPackage(dir, { packageName: "ok", driverName: "x", pciIds: [] })).toThrow(/at least one PCI ID/);
  });
});
