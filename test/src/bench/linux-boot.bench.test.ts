import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { linuxBootSuite } from "./linux-boot.bench.js";

describe("the Linux boot benchmark", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it("skips with the way to get the images when the guest cache is empty, booting nothing", async () => {
    vi.stubEnv("VMK_CACHE", mkdtempSync(join(tmpdir(), "vmk-empty-cache-")));
    const printed: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (printed.push(String(chunk)), true));
    expect(await linuxBootSuite.run()).toEqual([]);
    expect(printed.join("")).toMatch(/skipped: no guest images in .*fetch-guest-images\.mjs/);
  });
});
