import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkApiCompatibility, checkApiRange, validateManifest } from "./manifest.js";

function packageDir(files: string[] = ["dist/index.js"]): string {
  const dir = mkdtempSync(join(tmpdir(), "vmk-manifest-"));
  for (const file of files) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    writeFileSync(join(dir, file), "export default {}");
  }
  return dir;
}

const good = {
  name: "vmk-driver-acme",
  version: "1.2.3",
  vmk: { kind: "driver", kernelApi: "^1.0.0", entry: "./dist/index.js", claims: { pci: [{ vendor: "0x8086", device: "0x100e" }] } },
};

describe("module manifest validation", () => {
  it("accepts a complete driver manifest and parses hex claims", () => {
    const result = validateManifest(good, packageDir());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.manifest.pciClaims).toEqual([{ vendor: 0x8086, device: 0x100e, subvendor: undefined, subdevice: undefined, class: undefined, classMask: undefined }]);
  });

  it("reports every missing field with a message an author can act on", () => {
    const result = validateManifest({ name: "x", version: "1.0.0", vmk: {} }, packageDir());
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.join("\n")).toMatch(/vmk.kind" is missing/);
      expect(result.problems.join("\n")).toMatch(/vmk.kernelApi" is missing/);
      expect(result.problems.join("\n")).toMatch(/vmk.entry" is missing/);
    }
    expect(validateManifest({ name: "x", version: "1.0.0" }, packageDir())).toEqual({ ok: false, problems: ['the "vmk" section must be an object'] });
    const noVersion = validateManifest({ ...good, version: "one" }, packageDir());
    expect(noVersion.ok || noVersion.problems[0]).toMatch(/not a semver version/);
  });

  it("rejects bad and open-ended kernel API ranges", () => {
    expect(checkApiRange("banana")[0]).toMatch(/not a valid semver range/);
    expect(checkApiRange("*")[0]).toMatch(/one major version explicitly/);
    expect(checkApiRange(">=1.0.0")[0]).toMatch(/also admits 2.x/);
    expect(checkApiRange("^1.0.0 || ^2.0.0")[0]).toMatch(/one major/);
    expect(checkApiRange("^1.2.0")).toEqual([]);
    expect(checkApiRange("~1.0.3")).toEqual([]);
    expect(checkApiRange(">=1.1.0 <2.0.0")).toEqual([]);
  });

  it("explains incompatibility with the kernel's API version", () => {
    expect(checkApiCompatibility("^2.0.0", "1.0.0")).toMatch(/needs kernel API major 2/);
    expect(checkApiCompatibility("^1.4.0", "1.0.0")).toMatch(/needs kernel API "\^1.4.0" but this kernel provides 1.0.0/);
    expect(checkApiCompatibility("^1.0.0", "1.0.0")).toBeUndefined();
  });

  it("requires the entry file to exist inside the package", () => {
    const dir = packageDir([]);
    const missing = validateManifest(good, dir);
    expect(missing.ok || missing.problems.join()).toMatch(/does not exist \(was the package built\?\)/);
    const escape = validateManifest({ ...good, vmk: { ...good.vmk, entry: "../../etc/passwd" } }, dir);
    expect(escape.ok || escape.problems.join()).toMatch(/outside the package/);
  });

  it("checks claims: drivers need one, IDs are 16-bit hex", () => {
    const none = validateManifest({ ...good, vmk: { ...good.vmk, claims: { pci: [] } } }, packageDir());
    expect(none.ok || none.problems.join()).toMatch(/must claim at least one PCI/);
    const bad = validateManifest({ ...good, vmk: { ...good.vmk, claims: { pci: [{ vendor: "0x18086", device: "zz" }] } } }, packageDir());
    expect(bad.ok || bad.problems.join()).toMatch(/vendor "0x18086" is not a hex ID/);
    expect(bad.ok || bad.problems.join()).toMatch(/device "zz"/);
    const byClass = validateManifest({ ...good, vmk: { ...good.vmk, claims: { pci: [{ class: "0x010400", classMask: "0xffff00" }] } } }, packageDir());
    expect(byClass.ok).toBe(true);
  });
});
