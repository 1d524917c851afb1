import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { bootStorageLab, type StorageLab } from "./storage-lab.js";

function pattern(seed: number, bytes: number): Uint8Array {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (seed * 31 + i * 7 + (i >> 9)) & 0xff;
  return data;
}

let lab: StorageLab | undefined;
afterEach(async () => {
  await lab?.dispose();
  lab = undefined;
});

describe("two megaraid_sas HBAs, one dual-pathed array", () => {
  it("binds both cards, finds two devices with four paths, and data written on one path reads back on the other", async () => {
    lab = await bootStorageLab();
    const { sim } = lab;
    const storage = sim.host.storage;
    expect(sim.module("@vmk/driver-megaraid-sas").state).toBe("loaded");
    const tree = sim.pciTree();
    expect(tree.find((d) => d.address === "0000:00:05.0")).toMatchObject({ driver: "megaraid_sas" });
    expect(tree.find((d) => d.address === "0000:00:06.0")).toMatchObject({ driver: "megaraid_sas" });

    const adapters = storage.listAdapters();
    expect(adapters).toHaveLength(2);
    const names = adapters.map((a) => a.name);
    expect(new Set(names).size).toBe(2);
    for (const adapter of adapters) {
      expect(adapter.name).toMatch(/^vmhba\d+$/);
      expect(adapter).toMatchObject({ driver: "megaraid_sas", model: "MegaRAID SAS 8708EM2", state: "online" });
    }
    expect(adapters.map((a) => a.busAddress).sort()).toEqual(["0000:00:05.0", "0000:00:06.0"]);

    const devices = storage.listDevices();
    expect(devices).toHaveLength(2);
    for (const device of devices) {
      expect(device.name).toMatch(/^naa\.6000c29[0-9a-f]{25}$/);
      expect(device.paths).toHaveLength(2);
      expect(new Set(device.paths.map((p) => p.split(":")[0]))).toEqual(new Set(names));
    }
    expect(storage.listPaths()).toHaveLength(4);
    expect(storage.listPaths().every((p) => p.state === "active")).toBe(true);

    // Write through one adapter's path, read through the other's.
    const [first] = devices;
    const disk = storage.device(first!.name);
    const [pathA, pathB] = first!.paths;
    const lba = 2048;
    const data = pattern(1, 64 * 1024);
    storage.setPolicy(first!.name, "VMW_PSP_FIXED", { preferredPath: pathA });
    await sim.complete(disk.write(lba, data.length / 512, data));
    storage.setPolicy(first!.name, "VMW_PSP_FIXED", { preferredPath: pathB });
    const back = new Uint8Array(data.length);
    await sim.complete(disk.read(lba, back.length / 512, back));
    expect(back).toEqual(data);
    const paths = storage.listPaths().filter((p) => p.device === first!.name);
    expect(paths.find((p) => p.runtimeName === pathA)!.stats.writes).toBeGreaterThanOrEqual(1);
    expect(paths.find((p) => p.runtimeName === pathB)!.stats.reads).toBeGreaterThanOrEqual(1);

    // The backing file holds exactly those bytes, at exactly that place.
    const lunIndex = lab.luns.findIndex((lun) => `naa.${Buffer.from(lun.unit.identity.naa).toString("hex")}` === first!.name);
    expect(lunIndex).toBeGreaterThanOrEqual(0);
    const file = readFileSync(lab.luns[lunIndex]!.file);
    expect(new Uint8Array(file.subarray(lba * 512, lba * 512 + data.length))).toEqual(data);
    expect(file.subarray(0, lba * 512).every((b) => b === 0)).toBe(true);
  });
});

describe("Round Robin over the two HBAs", () => {
  it("alternates paths with iops 1, and when one card's path is cut mid-workload every I/O completes once, on the other path", async () => {
    lab = await bootStorageLab();
    const { sim, target, cards } = lab;
    const storage = sim.host.storage;
    const device = storage.listDevices()[0]!;
    const disk = storage.device(device.name);
    storage.setPolicy(device.name, "VMW_PSP_RR", { iops: 1 });
    const pathStats = () => new Map(storage.listPaths().filter((p) => p.device === device.name).map((p) => [p.runtimeName, p.stats.commands]));

    // Queue depth 1: each I/O goes down the other path from the one before.
    const used: string[] = [];
    for (let i = 0; i < 8; i++) {
      const before = pathStats();
      await sim.complete(disk.write(i * 8, 8, pattern(100 + i, 4096)));
      const after = pathStats();
      used.push([...after].find(([name, count]) => count > before.get(name)!)![0]);
    }
    expect(new Set(used).size).toBe(2);
    for (let i = 1; i < used.length; i++) expect(used[i]).not.toBe(used[i - 1]);

    // 400 writes of 4 KiB, 16 in flight; vmhba0's card loses its path to the array after 120 completions.
    const total = 400;
    const blocks = 8;
    const lbaOf = (i: number) => ((i * 37) % total) * blocks + 1024;
    const completions = new Array<number>(total).fill(0);
    let started = 0;
    let done = 0;
    const cutAdapter = storage.listAdapters().find((a) => a.busAddress === "0000:00:05.0")!.name;
    const workload = new Promise<void>((resolve, reject) => {
      const next = (): void => {
        if (started >= total) return;
        const i = started++;
        disk.write(lbaOf(i), blocks, pattern(i, blocks * 512)).then(() => {
          completions[i]!++;
          done++;
          if (done === 120) target.setPathLost(cards[0]!.initiator, true);
          if (done === total) resolve();
          else next();
        }, reject);
      };
      for (let q = 0; q < 16; q++) next();
    });
    await sim.complete(workload);
    expect(completions.every((c) => c === 1)).toBe(true);
    expect(disk.stats()).toMatchObject({ failed: 0 });
    expect(disk.stats().failovers).toBeGreaterThanOrEqual(1);

    const paths = storage.listPaths().filter((p) => p.device === device.name);
    const cut = paths.find((p) => p.adapter === cutAdapter)!;
    const survivor = paths.find((p) => p.adapter !== cutAdapter)!;
    expect(cut.state).toBe("dead");
    expect(survivor.state).toBe("active");
    expect(sim.logText()).toMatch(new RegExp(`${cut.runtimeName} \\(${device.name}\\): path active → dead: DID_BAD_TARGET`));

    // Every block holds what its one write put there, read back through the surviving path.
    const backs = Array.from({ length: total }, () => new Uint8Array(blocks * 512));
    await sim.complete(Promise.all(backs.map((back, i) => disk.read(lbaOf(i), blocks, back))));
    backs.forEach((back, i) => expect(back).toEqual(pattern(i, blocks * 512)));
  });
});

describe("megaraid_sas on the xscale register set, and unloading", () => {
  it("drives PERC 5 cards (xscale) the same way, and unloads cleanly: firmware flushed and shut down, memory returned", async () => {
    lab = await bootStorageLab({ variant: "perc5" });
    const { sim } = lab;
    const storage = sim.host.storage;
    expect(storage.listAdapters().map((a) => a.model)).toEqual(["PERC 5/i Integrated", "PERC 5/i Integrated"]);
    expect(storage.listPaths()).toHaveLength(4);
    const device = storage.listDevices()[1]!;
    const disk = storage.device(device.name);
    storage.setPolicy(device.name, "VMW_PSP_RR", { iops: 1 });
    const data = pattern(9, 8192);
    await sim.complete(Promise.all([disk.write(0, 8, data.subarray(0, 4096)), disk.write(8, 8, data.subarray(4096))]));
    const back = new Uint8Array(8192);
    await sim.complete(disk.read(0, 16, back));
    expect(back).toEqual(data);

    await sim.complete(sim.host.loader.unload("@vmk/driver-megaraid-sas"));
    expect(sim.module("@vmk/driver-megaraid-sas").state).toBe("unloaded");
    expect(storage.listAdapters()).toEqual([]);
    expect(storage.listPaths().every((p) => p.state === "dead")).toBe(true);
    expect(sim.host.memory.usageByOwner().get("@vmk/driver-megaraid-sas") ?? 0).toBe(0);
    expect(lab.cards.every((card) => card.diagnostics.framesRejected === 0)).toBe(true);
    expect(sim.logText()).not.toMatch(/still (registered|requested|allocated)|cache flush failed|shutdown failed/);
  });
});
