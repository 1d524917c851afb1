import { describe, expect, it } from "vitest";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simulatedHost } from "./simulated-host.js";

describe("simulated host harness", () => {
  it("boots a profile on virtual time and exposes the PCI tree, log and modules", async () => {
    const sim = await simulatedHost().named("esx-harness").withProfile("minimal").withModuleSearchPaths([]).boot();
    expect(sim.pciTree().map((d) => [d.address, d.className, d.vendorId.toString(16), d.deviceId.toString(16)])).toEqual([
      ["0000:00:00.0", "Host bridge", "8086", "7190"],
      ["0000:00:07.0", "ISA bridge", "8086", "7110"],
    ]);
    expect(sim.logText()).toMatch(/booting host esx-harness/);
    expect(sim.logText()).toMatch(/0000:00:07.0 8086:7110 15ad:1976 ISA bridge: Intel 82371AB\/EB\/MB PIIX4 ISA/);
    expect(sim.host.management.hostInfo()).toMatchObject({ name: "esx-harness", clock: "virtual", state: "running" });
    expect(sim.now).toBe(0);
    sim.runFor(5e6);
    expect(sim.now).toBe(5e6);
  });

  it("loads a driver package handed to it and reports its state", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "vmk-harness-")), "isa-watch");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({
        name: "isa-watch",
        version: "0.1.0",
        type: "module",
        vmk: { kind: "driver", kernelApi: "^1.0.0", entry: "./index.js", claims: { pci: [{ vendor: "0x8086", device: "0x7110" }] } },
      }),
    );
    writeFileSync(
      join(dir, "index.js"),
      `export default { init(ctx) { ctx.pciDrivers.register({ name: "isa-watch", idTable: [{ vendor: 0x8086, device: 0x7110 }],
         probe(dev) { ctx.log.info("found " + dev.modelName); ctx.clock.setTimer(1e6, () => ctx.log.info("tick at " + ctx.clock.now())); },
         remove() {} }); } };`,
    );
    const sim = await simulatedHost().withProfile("minimal").withModuleSearchPaths([]).withModules(dir).boot();
    expect(sim.module("isa-watch")).toMatchObject({ state: "loaded", devices: ["0000:00:07.0"] });
    expect(sim.runUntilIdle().idle).toBe(true);
    expect(sim.log({ source: "isa-watch" }).map((e) => e.message)).toEqual(["probing 0000:00:07.0 [8086:7110] Intel 82371AB/EB/MB PIIX4 ISA", "found Intel 82371AB/EB/MB PIIX4 ISA", "tick at 1000000"]);
    expect(sim.pciTree().find((d) => d.address === "0000:00:07.0")!.driver).toBe("isa-watch");
  });

  it("refuses unknown hardware with the list of known models", () => {
    expect(() => simulatedHost().withCard("tulip-21140", { slot: 3 }).build()).toThrow(/unknown hardware model "tulip-21140" \(known: .*i440bx-host-bridge/);
  });
});
