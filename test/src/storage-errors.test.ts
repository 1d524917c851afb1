import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { StorageIoError } from "@vmk/kernel";
import { MegaRaidSasModel, MemoryLunStore, LogicalUnit } from "@vmk/hardware";
import { bootStorageLab, type StorageLab } from "./storage-lab.js";
import { simulatedHost } from "./simulated-host.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

let lab: StorageLab | undefined;
afterEach(async () => {
  await lab?.dispose();
  lab = undefined;
});

/** The first device, pinned (Fixed) to the path through the card in slot 5. */
async function pinnedToFirstCard() {
  lab = await bootStorageLab();
  const { sim } = lab;
  const storage = sim.host.storage;
  const device = storage.listDevices()[0]!;
  const adapter = storage.listAdapters().find((a) => a.busAddress === "0000:00:05.0")!;
  const path = device.paths.find((p) => p.startsWith(`${adapter.name}:`))!;
  storage.setPolicy(device.name, "VMW_PSP_FIXED", { preferredPath: path });
  const lun = lab.luns.find((l) => `naa.${Buffer.from(l.unit.identity.naa).toString("hex")}` === device.name)!;
  return { lab, sim, storage, device, disk: storage.device(device.name), adapter, path, lun };
}

describe("storage error paths through megaraid_sas", () => {
  it("turns a backend read error into MEDIUM ERROR sense, retries it, then reports it", async () => {
    const { sim, disk, lun } = await pinnedToFirstCard();
    lun.unit.faults.inject({ kind: "medium-error", firstLba: 100, blockCount: 1, access: "read" });
    const error = await sim.complete(disk.read(96, 8, new Uint8Array(4096)).catch((e: unknown) => e));
    expect(error).toBeInstanceOf(StorageIoError);
    expect(error).toMatchObject({ failure: "command-failed", hostStatus: 0, scsiStatus: 0x02, sense: { key: 0x3, asc: 0x11 } });
    expect(disk.stats()).toMatchObject({ failed: 1, retries: sim.host.storage.settings.commandRetries, reads: 0 });
    // The rest of the drive reads fine, through the same path.
    await sim.complete(disk.read(0, 8, new Uint8Array(4096)));
    expect(disk.stats().reads).toBe(1);
  });

  it("escalates a hung command: the abort is refused, the device reset aborts it in the firmware, the retry completes", async () => {
    const { sim, storage, disk, lun, lab, adapter, path } = await pinnedToFirstCard();
    storage.settings.commandTimeoutNs = 2e9;
    const fault = lun.unit.faults.inject({ kind: "hang", initiator: lab.cards[0]!.initiator });
    const data = new Uint8Array(4096).fill(0x5a);
    let finished = false;
    const write = disk.write(64, 8, data).then(() => (finished = true));
    await sim.runUntil(() => storage.listAdapters().find((a) => a.name === adapter.name)!.stats.lunResets === 1, 30e9);
    expect(finished).toBe(false);
    lun.unit.faults.clear(fault);
    await sim.complete(write);
    const stats = storage.listAdapters().find((a) => a.name === adapter.name)!;
    expect(stats).toMatchObject({ state: "online", stats: { timeouts: 1, aborts: 1, lunResets: 1, hostResets: 0 } });
    const log = sim.logText();
    expect(log).toMatch(new RegExp(`${path}: WRITE\\(10\\) timed out after 2000 ms; aborting the command`));
    expect(log).toContain(`${path}: TASK ABORT not supported`);
    expect(log).toMatch(new RegExp(`${path}: abort failed; resetting the logical unit`));
    expect(log).toMatch(/megasas: reset successful \(1 commands aborted\)/);
    expect(log).toMatch(new RegExp(`${path}: LUN reset succeeded; retrying 1 command`));
    expect(disk.stats()).toMatchObject({ writes: 1, failed: 0, retries: 1 });
    const back = new Uint8Array(4096);
    await sim.complete(disk.read(64, 8, back));
    expect(back).toEqual(data);
  });

  it("quarantines a driver that throws in queuecommand, and the host stays up", async () => {
    const lu = new LogicalUnit({ store: new MemoryLunStore(1 << 20), identity: { name: "crashy/lun0" } });
    const sim = await simulatedHost()
      .withDevice(new MegaRaidSasModel({ logicalDrives: [lu] }), { slot: 5 })
      .withModuleSearchPaths([])
      .withModules(join(FIXTURES, "scsi-queuecommand-throws"))
      .boot();
    await sim.complete(sim.host.storage.scansComplete());
    const info = sim.module("vmk-driver-scsi-queuecommand-throws");
    expect(info.state).toBe("quarantined");
    expect(info.reason).toMatch(/vmhba0 queuecommand threw: .*'slots'/);
    expect(sim.logText()).toMatch(/vmklinux: queuecommand of crashy threw: .*'slots'.*; cutting the module's devices off/);
    expect(sim.pciTree().find((d) => d.address === "0000:00:05.0")?.driver).toBeUndefined();
    expect(sim.host.storage.listAdapters().filter((a) => a.state === "online")).toEqual([]);
    expect(sim.host.hostState).toBe("running");
    expect(() => sim.runFor(5e9)).not.toThrow();
    expect(sim.host.management.hostInfo()).toMatchObject({ state: "running" });
  });
});

// A malformed frame from a buggy driver (bad command, impossible direction, SGL beyond the firmware's
// limit, IEEE SGEs) is rejected by the model with the proper MFI status and counted, without a crash:
// hardware/src/megaraid-sas/io.test.ts, "rejects malformed frames with the proper status".
