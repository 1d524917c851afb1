import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { vmNetworkBench } from "./vm-network.bench.js";

describe("the vm-network benchmark", () => {
  it("without guest images reports no figures and says why and how to fetch them", async () => {
    const empty = mkdtempSync(join(tmpdir(), "vmk-no-guest-"));
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await vmNetworkBench(empty).run()).toEqual([]);
      const printed = write.mock.calls.map((call) => String(call[0])).join("");
      expect(printed).toContain(`skipped: no Linux guest images in ${empty}`);
      expect(printed).toContain("scripts/fetch-guest-images.mjs");
    } finally {
      write.mockRestore();
    }
  });
});
