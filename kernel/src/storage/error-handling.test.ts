import { describe, expect, it } from "vitest";
import { FakeScsiAdapter } from "./testing/fake-scsi-adapter.js";
import { RecordingDomain, advance, drive, makeLun, makeStorage, pattern, twoAdaptersTwoLuns } from "./testing/storage-fixture.js";
import type { ScsiDone } from "./scsi-adapter.js";
import { HostStatus, ScsiStatus } from "./scsi-constants.js";
import type { ScsiDevice } from "./scsi-device.js";
import { StorageIoError } from "./storage-error.js";

const TIMEOUT_NS = 1e9;

/** One adapter, one LUN: retries and recovery cannot hide behind a second path. */
async function singlePath(settings = {}) {
  const fixture = makeStorage({ commandTimeoutNs: TIMEOUT_NS, taskManagementTimeoutNs: 0.5e9, ...settings });
  const lun = makeLun(1);
  const adapter = new FakeScsiAdapter("0000:03:00.0", fixture.clock);
  adapter.attach(0, 0, lun);
  const registered = fixture.stack.adapters.register(adapter);
  await drive(fixture.clock, fixture.stack.scansComplete());
  const disk = fixture.stack.device(`naa.${lun.options.naa}`) as ScsiDevice;
  const messages = () => fixture.log.entries().map((e) => e.message);
  return { ...fixture, lun, adapter, registered, disk, messages };
}

describe("SCSI error handling", () => {
  it("retries a command that meets a UNIT ATTENTION", async () => {
    const { clock, lun, disk, adapter } = await singlePath();
    lun.raiseUnitAttention(0x2a, 0x09);
    const before = adapter.mediaCommands();
    await drive(clock, disk.read(0, 1, new Uint8Array(512)));
    expect(adapter.mediaCommands() - before).toBe(2);
    expect(disk.stats()).toMatchObject({ reads: 1, retries: 1, failed: 0 });
  });

  it("retries a MEDIUM ERROR up to the retry budget, then reports it", async () => {
    const { clock, lun, disk } = await singlePath({ commandRetries: 3 });
    lun.mediumErrorLbas.add(42);
    const error = await drive(clock, disk.read(40, 4, new Uint8Array(2048)).catch((e: unknown) => e));
    expect(error).toBeInstanceOf(StorageIoError);
    expect(error).toMatchObject({ failure: "command-failed", scsiStatus: 0x02, sense: { key: 0x3, asc: 0x11, ascq: 0x00 } });
    expect((error as Error).message).toBe(`${disk.name}: command-failed: CHECK_CONDITION, MEDIUM_ERROR 11/00`);
    expect(lun.mediumErrorsReported).toBe(4);
    expect(disk.stats()).toMatchObject({ failed: 1, retries: 3, reads: 0 });
    // The device is fine elsewhere.
    await drive(clock, disk.read(0, 4, new Uint8Array(2048)));
  });

  it("retries BUSY and a host-busy refusal without losing the command", async () => {
    const { clock, disk, adapter } = await singlePath();
    adapter.busyNext = 2;
    await drive(clock, disk.write(0, 1, pattern(0, 1)));
    expect(adapter.mediaCommands()).toBe(1);
    expect(disk.stats()).toMatchObject({ writes: 1, failed: 0 });
  });

  it("escalates a hung command: abort, LUN reset, host reset, each logged, then retries it", async () => {
    const { clock, disk, adapter, messages, stack } = await singlePath();
    adapter.hangNext = 1;
    adapter.abortWorks = false;
    adapter.lunResetWorks = false;
    const data = pattern(8, 2);
    const write = disk.write(8, 2, data);
    await drive(clock, write);
    expect(adapter.taskManagement).toEqual(["abort T0:L0", "LUN reset T0:L0", "host reset"]);
    const eh = messages().filter((m) => m.startsWith("vmhba0"));
    expect(eh).toEqual(
      expect.arrayContaining([
        "vmhba0:C0:T0:L0: WRITE(10) timed out after 1000 ms; aborting the command",
        "vmhba0:C0:T0:L0: abort failed; resetting the logical unit",
        "vmhba0:C0:T0:L0: LUN reset failed; resetting adapter vmhba0",
        "vmhba0: host reset succeeded; retrying 1 command",
      ]),
    );
    const order = ["aborting the command", "abort failed", "LUN reset failed", "host reset succeeded"].map((s) => eh.findIndex((m) => m.includes(s)));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(disk.stats()).toMatchObject({ writes: 1, retries: 1, failed: 0 });
    expect(stack.listAdapters()[0]).toMatchObject({ state: "online", stats: { timeouts: 1, aborts: 1, lunResets: 1, hostResets: 1 } });
    const back = new Uint8Array(1024);
    await drive(clock, disk.read(8, 2, back));
    expect(back).toEqual(data);
  });

  it("stops at the abort when the abort works", async () => {
    const { clock, disk, adapter, messages } = await singlePath();
    adapter.hangNext = 1;
    await drive(clock, disk.read(0, 1, new Uint8Array(512)));
    expect(adapter.taskManagement).toEqual(["abort T0:L0"]);
    expect(messages()).toContain("vmhba0:C0:T0:L0: abort succeeded; the command will be retried");
  });

  it("takes the adapter offline when the host reset fails, and fails its I/O over", async () => {
    const { clock, log, adapters, devices, stack } = await twoAdaptersTwoLuns({ commandTimeoutNs: TIMEOUT_NS, taskManagementTimeoutNs: 0.5e9 });
    const disk = devices[0]!;
    const bad = adapters[0]!;
    bad.hangNext = 1;
    bad.abortWorks = false;
    bad.lunResetWorks = false;
    bad.hostResetWorks = false;
    await drive(clock, disk.write(0, 1, pattern(0, 1)));
    expect(bad.taskManagement).toEqual(["abort T0:L0", "LUN reset T0:L0", "host reset"]);
    expect(stack.listAdapters()[0]).toMatchObject({ name: "vmhba0", state: "offline", reason: "host reset failed" });
    expect(stack.listPaths().filter((p) => p.adapter === "vmhba0").map((p) => p.state)).toEqual(["dead", "dead"]);
    expect(adapters[1]!.mediaCommands()).toBe(1);
    expect(log.entries({ level: "error" }).map((e) => e.message)).toContain("vmhba0: adapter offline: host reset failed");
  });

  it("fails I/O as all-paths-down when the only adapter goes offline during recovery, even I/O that only waited", async () => {
    const fixture = makeStorage({ commandTimeoutNs: TIMEOUT_NS, taskManagementTimeoutNs: 0.5e9, allPathsDownTimeoutNs: 20e9 });
    const { clock, stack } = fixture;
    const luns = [makeLun(1), makeLun(2)];
    const adapter = new FakeScsiAdapter("0000:03:00.0", clock);
    luns.forEach((lun, i) => adapter.attach(0, i, lun));
    stack.adapters.register(adapter);
    await drive(clock, stack.scansComplete());
    const [first, second] = luns.map((lun) => stack.device(`naa.${lun.options.naa}`));
    adapter.hangNext = 1;
    adapter.abortWorks = false;
    adapter.lunResetWorks = false;
    adapter.resetHost = () => new Promise<boolean>((resolve) => clock.setTimer(0.2e9, () => resolve(false)));
    const hung = first!.read(0, 1, new Uint8Array(512)).catch((e: StorageIoError) => e.failure);
    // Recovery has begun when the second device's I/O arrives: it waits for the adapter, nothing in flight.
    await advance(clock, TIMEOUT_NS + 1);
    expect(stack.listAdapters()[0]!.state).toBe("recovering");
    const waiting = second!.read(0, 1, new Uint8Array(512)).catch((e: StorageIoError) => e.failure);
    expect(await drive(clock, Promise.all([hung, waiting]))).toEqual(["all-paths-down", "all-paths-down"]);
    expect(stack.listAdapters()[0]!.state).toBe("offline");
    expect(fixture.log.entries().map((e) => e.message)).toContain(`${second!.name}: all paths down; I/O waits up to 20 s for a path`);
  });

  it("charges a throwing adapter to its fault domain and fails its I/O over to the other adapter", async () => {
    const fixture = makeStorage();
    const lun = makeLun(1);
    const domains = [new RecordingDomain("bad_hba"), new RecordingDomain("good_hba")];
    const adapters = [new FakeScsiAdapter("0000:03:00.0", fixture.clock), new FakeScsiAdapter("0000:04:00.0", fixture.clock)];
    adapters.forEach((adapter, i) => {
      adapter.attach(0, 0, lun);
      fixture.stack.adapters.forModules(domains[i]).register(adapter);
    });
    await drive(fixture.clock, fixture.stack.scansComplete());
    const disk = fixture.stack.device(`naa.${lun.options.naa}`);
    adapters[0]!.throwOnQueue = true;
    await drive(fixture.clock, disk.write(0, 1, pattern(0, 1)));
    expect(domains[0]!.faults).toEqual(["vmhba0 queuecommand: fake_hba: queuecommand dereferenced a stale request"]);
    expect(domains[1]!.faults).toEqual([]);
    expect(fixture.stack.listAdapters().map((a) => [a.name, a.state, a.reason])).toEqual([
      ["vmhba0", "offline", "driver fake_hba quarantined"],
      ["vmhba1", "online", undefined],
    ]);
    expect(lun.writesExecuted).toEqual([0]);
    // Without a module domain the adapter gets its own: the throw is logged and only it goes offline.
    const { stack, clock, log } = makeStorage();
    const lone = new FakeScsiAdapter("0000:05:00.0", clock);
    lone.attach(0, 0, makeLun(2));
    stack.adapters.register(lone);
    await drive(clock, stack.scansComplete());
    lone.throwOnQueue = true;
    const failure = await drive(clock, stack.device(stack.listDevices()[0]!.name).read(0, 1, new Uint8Array(512)).catch((e: StorageIoError) => e), 1e15);
    expect(log.entries({ level: "error" }).map((e) => e.message)[0]).toBe("vmhba0 (fake_hba): vmhba0 queuecommand threw: fake_hba: queuecommand dereferenced a stale request; adapter quarantined");
    expect(failure).toBeInstanceOf(StorageIoError);
    expect((failure as StorageIoError).failure).toBe("all-paths-down");
  });

  it("ignores completions for commands it already took back, and second completions", async () => {
    const { clock, disk, adapter, stack } = await singlePath();
    const dones: ScsiDone[] = [];
    const queue = adapter.queueCommand.bind(adapter);
    adapter.queueCommand = (command, done) => {
      dones.push(done);
      return queue(command, done);
    };
    adapter.hangNext = 1;
    await drive(clock, disk.read(0, 1, new Uint8Array(512)));
    expect(dones).toHaveLength(2);
    // A confused driver completes the aborted attempt, and the retried one a second time.
    dones[0]!({ hostStatus: HostStatus.DID_OK, scsiStatus: ScsiStatus.GOOD, residual: 0 });
    dones[1]!({ hostStatus: HostStatus.DID_OK, scsiStatus: ScsiStatus.GOOD, residual: 0 });
    expect(stack.listAdapters()[0]!.stats.staleCompletions).toBe(2);
    expect(disk.stats()).toMatchObject({ reads: 1, inflight: 0, queued: 0 });
  });
});
