import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Host } from "../host.js";
import { VirtualClock } from "../clock/virtual-clock.js";
import { KernelTokens, Tokens } from "../tokens.js";
import { ScratchDevice, SCRATCH_REGS } from "../test-support/scratch-device.js";

/** A scratch driver as a plain ESM module; `behaviour` injects the failure under test. */
function driverSource(tag: string, behaviour: "good" | "throw-init" | "throw-probe" | "throw-irq" | "throw-timer" | "decline" | "no-export" = "good"): string {
  if (behaviour === "no-export") return "export const nothing = 1;\n";
  return `
const events = (globalThis.__vmkTestEvents ??= {})[${JSON.stringify(tag)}] ??= [];
export const instance = Math.random();
export default {
  init(ctx) {
    events.push("init " + ctx.name + " api " + ctx.kernelApiVersion);
    ${behaviour === "throw-init" ? 'throw new Error("init exploded");' : ""}
    ctx.pciDrivers.register({
      name: "scratch",
      idTable: [{ vendor: 0x1af4, device: 0x10f0 }],
      probe(dev) {
        events.push("probe " + dev.address);
        ${behaviour === "throw-probe" ? 'throw new TypeError("cannot read properties of undefined");' : ""}
        ${behaviour === "decline" ? "return -19;" : ""}
        dev.enable();
        dev.setMaster(true);
        const regs = dev.mapBar(0);
        ctx.interrupts.requestIrq(dev.intxVector(), () => {
          events.push("irq " + dev.address);
          ${behaviour === "throw-irq" ? 'throw new Error("bad isr");' : ""}
          regs.write32(${SCRATCH_REGS.IRQ}, 0);
          return 1;
        }, { name: "scratch", shared: true });
        ${behaviour === "throw-timer" ? 'ctx.clock.setTimer(1000, () => { throw new Error("watchdog bug"); });' : ""}
        dev.dma.allocCoherent(4096);
        ctx.log.info("bound " + dev.address);
      },
      remove(dev) { events.push("remove " + dev.address); },
    });
  },
  exit(ctx) { events.push("exit " + ctx.name); },
};
`;
}

interface PackageSpec {
  name: string;
  behaviour?: Parameters<typeof driverSource>[1];
  vmk?: Record<string, unknown>;
  version?: string;
}

function writePackage(root: string, spec: PackageSpec, tag: string): string {
  const dir = join(root, spec.name);
  mkdirSync(join(dir, "dist"), { recursive: true });
  const vmk = spec.vmk ?? { kind: "driver", kernelApi: "^1.0.0", entry: "./dist/index.js", claims: { pci: [{ vendor: "0x1af4", device: "0x10f0" }] } };
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: spec.name, version: spec.version ?? "1.0.0", type: "module", vmk }));
  writeFileSync(join(dir, "dist/index.js"), driverSource(tag, spec.behaviour));
  return dir;
}

function nodeModules(specs: PackageSpec[], tag: string): string {
  const root = join(mkdtempSync(join(tmpdir(), "vmk-loader-")), "node_modules");
  for (const spec of specs) writePackage(root, spec, tag);
  return root;
}

function events(tag: string): string[] {
  return ((globalThis as Record<string, unknown>).__vmkTestEvents as Record<string, string[]> | undefined)?.[tag] ?? [];
}

async function bootWith(specs: PackageSpec[], tag: string, devices = 1) {
  const host = new Host({ name: tag, memoryBytes: 8 << 20, modules: { searchPaths: [nodeModules(specs, tag)] } });
  const models: ScratchDevice[] = [];
  for (let i = 0; i < devices; i++) {
    const model = new ScratchDevice();
    models.push(model);
    host.attachPci({ device: 3 + i }, model);
  }
  await host.boot();
  return { host, models, clock: host.clock as VirtualClock };
}

describe("module loader", () => {
  it("discovers a third-party package in node_modules, loads it for its device and binds the device", async () => {
    const { host } = await bootWith([{ name: "vmk-driver-scratch" }], "third-party", 2);
    expect(events("third-party")).toEqual(["init vmk-driver-scratch api 1.0.0", "probe 0000:00:03.0", "probe 0000:00:04.0"]);
    const info = host.management.modules()[0]!;
    expect(info).toMatchObject({ name: "vmk-driver-scratch", state: "loaded", devices: ["0000:00:03.0", "0000:00:04.0"], claims: ["1af4:10f0"] });
    expect(host.management.pciDevices().map((d) => d.module)).toEqual(["vmk-driver-scratch", "vmk-driver-scratch"]);
    expect(host.log.entries({ source: "vmk-driver-scratch" }).map((e) => e.message)).toContain("bound 0000:00:03.0");
  });

  it("discovers scoped packages and loads nothing when no claimed device is present", async () => {
    const root = nodeModules([], "lazy");
    writePackage(join(root, "@acme"), { name: "vmk-nic" }, "lazy");
    const host = new Host({ memoryBytes: 8 << 20, modules: { searchPaths: [root] } });
    await host.boot();
    expect(host.management.modules()).toMatchObject([{ name: "vmk-nic", state: "available", loads: 0 }]);
    expect(events("lazy")).toEqual([]);
    // a device plugged later triggers the load
    host.attachPci({ device: 9 }, new ScratchDevice());
    await host.rescan();
    expect(host.management.modules()[0]).toMatchObject({ state: "loaded", devices: ["0000:00:09.0"] });
  });

  it("refuses bad manifests, incompatible API majors, missing entries and duplicate claims, with reasons", async () => {
    const specs: PackageSpec[] = [
      { name: "a-good" },
      { name: "b-duplicate" },
      { name: "c-future", vmk: { kind: "driver", kernelApi: "^2.0.0", entry: "./dist/index.js", claims: { pci: [{ vendor: "0x10de", device: "0x0001" }] } } },
      { name: "d-no-entry", vmk: { kind: "driver", kernelApi: "^1.0.0", entry: "./dist/missing.js", claims: { pci: [{ vendor: "0x10de", device: "0x0002" }] } } },
      { name: "e-open-range", vmk: { kind: "driver", kernelApi: ">=1.0.0", entry: "./dist/index.js", claims: { pci: [{ vendor: "0x10de", device: "0x0003" }] } } },
      { name: "f-no-kind", vmk: { kernelApi: "^1.0.0", entry: "./dist/index.js" } },
    ];
    const { host } = await bootWith(specs, "refusals");
    const byName = Object.fromEntries(host.management.modules().map((m) => [m.name, m]));
    expect(byName["a-good"]!.state).toBe("loaded");
    expect(byName["b-duplicate"]).toMatchObject({ state: "refused", reason: "duplicate claim: PCI 1af4:10f0 is already claimed by a-good" });
    expect(byName["c-future"]!.reason).toMatch(/needs kernel API major 2 .* provides 1.0.0/);
    expect(byName["d-no-entry"]!.reason).toMatch(/dist\/missing.js does not exist/);
    expect(byName["e-open-range"]!.reason).toMatch(/one major version explicitly/);
    expect(byName["f-no-kind"]!.reason).toMatch(/vmk.kind" is missing/);
    expect(host.log.entries({ source: "loader", level: "warn" }).filter((e) => e.message.includes("refused"))).toHaveLength(5);
  });

  it("refuses an entry that does not export a module", async () => {
    const { host } = await bootWith([{ name: "no-export", behaviour: "no-export" }], "no-export");
    expect(host.management.modules()[0]).toMatchObject({ state: "refused", reason: expect.stringMatching(/does not export a module/) });
  });

  it.each([
    ["throw-init", /module init threw: init exploded/],
    ["throw-probe", /probe 0000:00:03.0 threw: cannot read properties of undefined/],
  ] as const)("quarantines a module that throws in %s, releasing its devices, and keeps the host up", async (behaviour, reason) => {
    const tag = `quarantine-${behaviour}`;
    const { host, models } = await bootWith([{ name: "buggy", behaviour }], tag);
    expect(host.management.modules()[0]).toMatchObject({ state: "quarantined", reason: expect.stringMatching(reason), devices: [] });
    expect(host.management.hostInfo().state).toBe("running");
    expect(host.management.pciDevices()[0]!.module).toBeUndefined();
    expect(host.log.entries({ level: "error" }).map((e) => e.message).join("\n")).toMatch(/module buggy quarantined/);
    if (behaviour === "throw-probe") {
      expect(models[0]!.resets).toBe(1);
      expect(host.memory.usageByOwner().size).toBe(0);
    }
  });

  it("quarantines a module whose interrupt handler throws: handler freed, DMA revoked, device reset", async () => {
    const { host, models, clock } = await bootWith([{ name: "bad-isr", behaviour: "throw-irq" }], "bad-isr");
    expect(host.management.modules()[0]!.state).toBe("loaded");
    const fn = host.pci.get("0000:00:03.0")!;
    expect(host.memory.usageByOwner().get("bad-isr@0000:00:03.0")).toBe(4096);
    models[0]!.barWrite(0, SCRATCH_REGS.IRQ, 4, 1);
    clock.runUntilIdle();
    expect(events("bad-isr")).toContain("irq 0000:00:03.0");
    expect(host.management.modules()[0]).toMatchObject({ state: "quarantined", reason: expect.stringMatching(/interrupt handler scratch .* threw: bad isr/) });
    expect(host.interrupts.info().flatMap((v) => v.handlers)).toEqual([]);
    expect(fn.config.busMasterEnabled).toBe(false);
    expect(fn.dma.mappedPages()).toBe(0);
    expect(host.memory.usageByOwner().size).toBe(0);
    expect(models[0]!.resets).toBe(1);
  });

  it("quarantines a module whose timer throws and cancels its other timers", async () => {
    const { host, clock } = await bootWith([{ name: "bad-timer", behaviour: "throw-timer" }], "bad-timer", 2);
    expect(clock.pendingTimers()).toBe(2);
    clock.runUntilIdle();
    expect(host.management.modules()[0]).toMatchObject({ state: "quarantined", reason: expect.stringMatching(/watchdog bug/) });
    expect(clock.pendingTimers()).toBe(0);
  });

  it("leaves a device unbound when probe declines with an errno, without quarantine", async () => {
    const { host } = await bootWith([{ name: "picky", behaviour: "decline" }], "decline");
    expect(host.management.modules()[0]).toMatchObject({ state: "loaded", devices: [] });
    expect(host.management.pciDevices()[0]!.probeFailure).toBe("picky: probe failed with error -19");
  });

  it("unloads (remove, exit, resources freed) and reloads with fresh module state", async () => {
    const { host } = await bootWith([{ name: "cycler" }], "cycle");
    const first = events("cycle").length;
    await host.management.unloadModule("cycler");
    expect(events("cycle").slice(first)).toEqual(["remove 0000:00:03.0", "exit cycler"]);
    expect(host.management.modules()[0]).toMatchObject({ state: "unloaded", devices: [] });
    expect(host.memory.usageByOwner().size).toBe(0);
    expect(host.interrupts.info().flatMap((v) => v.handlers)).toEqual([]);
    await expect(host.management.unloadModule("cycler")).rejects.toThrow(/not loaded/);
    const reloaded = await host.management.loadModule("cycler");
    expect(reloaded).toMatchObject({ state: "loaded", loads: 2, devices: ["0000:00:03.0"] });
    expect(events("cycle").filter((e) => e.startsWith("init"))).toHaveLength(2);
    await host.management.reloadModule("cycler");
    expect(host.management.modules()[0]).toMatchObject({ state: "loaded", loads: 3 });
    await expect(host.management.loadModule("nope")).rejects.toThrow(/no module named nope/);
  });

  it("gives each module a child container that resolves exported tokens only, scoped to the module", async () => {
    const root = nodeModules([], "container");
    const dir = writePackage(root, { name: "peek" }, "container");
    writeFileSync(
      join(dir, "dist/index.js"),
      `export default { init(ctx) {
        const tokens = globalThis.__vmkTokens;
        const seen = globalThis.__vmkSeen = {};
        seen.clock = ctx.container.resolve(tokens.Clock) === ctx.clock;
        seen.logger = ctx.container.resolve(tokens.Logger) === ctx.log;
        seen.context = ctx.container.resolve(tokens.ModuleContext) === ctx;
        try { ctx.container.resolve(globalThis.__vmkInternal); seen.internal = true; } catch { seen.internal = false; }
      } };`,
    );
    Object.assign(globalThis, { __vmkTokens: Tokens, __vmkInternal: KernelTokens.PciBus });
    const host = new Host({ memoryBytes: 8 << 20, modules: { searchPaths: [root] } });
    host.attachPci({ device: 3 }, new ScratchDevice());
    await host.boot();
    expect((globalThis as Record<string, unknown>).__vmkSeen).toEqual({ clock: true, logger: true, context: true, internal: false });
  });
});
