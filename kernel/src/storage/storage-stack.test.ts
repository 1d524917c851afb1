import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual-clock.js";
import { KernelLog } from "../log/kernel-log.js";
import { KernelTokens, Tokens } from "../tokens.js";
import { ScsiStatus } from "./scsi-constants.js";
import { StorageIoError } from "./storage-error.js";
import { StorageStack } from "./storage-stack.js";
import { FakeScsiAdapter } from "./testing/fake-scsi-adapter.js";
import { drive, makeLun, pattern, twoAdaptersTwoLuns } from "./testing/storage-fixture.js";

const STORAGE_TOKEN = Symbol("test.Storage");

describe("StorageStack", () => {
  it("resolves from a container through its explicit tokens", async () => {
    const c = container.createChildContainer();
    const clock = new VirtualClock();
    c.registerInstance(Tokens.Clock, clock);
    c.registerSingleton(KernelTokens.KernelLog, KernelLog);
    c.registerSingleton(STORAGE_TOKEN, StorageStack);
    const stack = c.resolve<StorageStack>(STORAGE_TOKEN);
    expect(stack).toBeInstanceOf(StorageStack);
    expect(stack.settings.roundRobinIops).toBe(1000);
    const adapter = new FakeScsiAdapter("0000:03:00.0", clock);
    adapter.attach(0, 0, makeLun(1));
    expect(stack.adapters.forModules().register(adapter).name).toBe("vmhba0");
    await drive(clock, stack.scansComplete());
    expect(c.resolve<KernelLog>(KernelTokens.KernelLog).entries().map((e) => e.message)).toContain("vmhba0: scan found 1 disk LUN");
  });

  it("describes adapters, devices and paths as plain data", async () => {
    const { stack, clock, devices } = await twoAdaptersTwoLuns();
    await drive(clock, devices[0]!.write(0, 1, pattern(0, 1)));
    const view = stack.describe();
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
    expect(view.adapters[0]).toMatchObject({
      name: "vmhba0",
      driver: "fake_hba",
      model: "Fake SCSI HBA",
      limits: { canQueue: 64, cmdPerLun: 16, sgTablesize: 128, maxSectors: 1024 },
      scan: { maxTargetId: 3, maxLun: 7, initiatorId: 7 },
      outstanding: 0,
    });
    expect(view.devices[0]).toMatchObject({ displayName: `VMK Disk (${devices[0]!.name})`, workingPaths: ["vmhba0:C0:T0:L0"], stats: { writes: 1, blocksWritten: 1 } });
    expect(view.paths[0]).toMatchObject({ runtimeName: "vmhba0:C0:T0:L0", adapter: "vmhba0", channel: 0, target: 0, lun: 0, preferred: true, working: true, stats: { writes: 1 } });
  });

  it("passes CDBs through, returning CHECK CONDITION as an answer rather than an error", async () => {
    const { clock, devices } = await twoAdaptersTwoLuns();
    const disk = devices[0]!;
    const unsupported = await drive(clock, disk.scsi({ cdb: Uint8Array.of(0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0), direction: "toDevice", data: new Uint8Array(1024) }));
    expect(unsupported).toMatchObject({ scsiStatus: ScsiStatus.CHECK_CONDITION, path: "vmhba0:C0:T0:L0" });
    expect(unsupported.sense?.[2]).toBe(0x05);
    const capacity = new Uint8Array(8);
    const answer = await drive(clock, disk.scsi({ cdb: Uint8Array.of(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), direction: "fromDevice", data: [capacity.subarray(0, 4), capacity.subarray(4)] }));
    expect(answer).toMatchObject({ scsiStatus: ScsiStatus.GOOD, residual: 0 });
    expect([...capacity]).toEqual([0, 0, 0x07, 0xff, 0, 0, 2, 0]);
    await drive(clock, disk.flush());
  });

  it("splits transfers larger than max_sectors and rejects requests beyond the device", async () => {
    const { clock, adapters, devices } = await twoAdaptersTwoLuns({}, { limits: { maxSectors: 64 } });
    const disk = devices[0]!;
    const data = pattern(0, 200);
    await drive(clock, disk.write(0, 200, data));
    expect(adapters[0]!.mediaCommands()).toBe(4);
    const back = new Uint8Array(200 * 512);
    await drive(clock, disk.read(0, 200, back));
    expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
    await expect(disk.read(2047, 2, new Uint8Array(1024))).rejects.toMatchObject({ failure: "invalid-request" });
    await expect(disk.read(0, 2, new Uint8Array(512))).rejects.toBeInstanceOf(StorageIoError);
    await expect(disk.write(-1, 1, new Uint8Array(512))).rejects.toBeInstanceOf(StorageIoError);
  });

  it("lets the administrator disable and enable a path", async () => {
    const { stack, clock, adapters, devices } = await twoAdaptersTwoLuns();
    const disk = devices[0]!;
    stack.setPathEnabled("vmhba0:C0:T0:L0", false);
    await drive(clock, disk.read(0, 1, new Uint8Array(512)));
    expect([adapters[0]!.mediaCommands(), adapters[1]!.mediaCommands()]).toEqual([0, 1]);
    expect(stack.listPaths()[0]).toMatchObject({ state: "disabled", reason: "disabled by the administrator" });
    stack.setPathEnabled("vmhba0:C0:T0:L0", true);
    await drive(clock, disk.read(0, 1, new Uint8Array(512)));
    expect([adapters[0]!.mediaCommands(), adapters[1]!.mediaCommands()]).toEqual([1, 1]);
    stack.setPathEnabled("vmhba1:C0:T0:L1", false);
    stack.adapters.unregister(stack.adapters.get("vmhba1")!);
    // Failures do not override the administrator: the disabled path stays disabled, its sibling dies.
    expect(stack.listPaths().filter((p) => p.adapter === "vmhba1").map((p) => p.state)).toEqual(["dead", "disabled"]);
    stack.setQueueDepth(disk.name, 2);
    expect(stack.listDevices()[0]!.queueDepth).toBe(2);
    expect(() => stack.setPreferredPath(disk.name, "vmhba9:C0:T0:L0")).toThrow(/no path/);
    expect(() => stack.device("naa.nothing")).toThrow(/no storage device/);
  });
});
