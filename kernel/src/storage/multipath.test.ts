import { describe, expect, it } from "vitest";
import { advance, drive, pattern, twoAdaptersTwoLuns } from "./testing/storage-fixture.js";
import { StorageIoError } from "./storage-error.js";

const PROBE_NS = 5e9;

describe("multipathing", () => {
  it("reads back through one path what was written through the other", async () => {
    const { stack, clock, adapters, devices } = await twoAdaptersTwoLuns();
    const disk = devices[0]!;
    const data = pattern(100, 8);
    await drive(clock, disk.write(100, 8, data));
    expect([adapters[0]!.mediaCommands(), adapters[1]!.mediaCommands()]).toEqual([1, 0]);
    stack.setPreferredPath(disk.name, "vmhba1:C0:T0:L0");
    const back = new Uint8Array(8 * 512);
    await drive(clock, disk.read(100, 8, back));
    expect([adapters[0]!.mediaCommands(), adapters[1]!.mediaCommands()]).toEqual([1, 1]);
    expect(back).toEqual(data);
    expect(disk.stats()).toMatchObject({ reads: 1, writes: 1, blocksRead: 8, blocksWritten: 8, failed: 0 });
    expect(stack.listPaths().find((p) => p.runtimeName === "vmhba1:C0:T0:L0")).toMatchObject({ preferred: true, working: true, stats: { reads: 1, blocksRead: 8 } });
  });

  it("Round Robin switches path after the configured number of I/Os", async () => {
    const { stack, clock, adapters, devices } = await twoAdaptersTwoLuns({ roundRobinIops: 1 });
    const disk = devices[1]!;
    stack.setPolicy(disk.name, "VMW_PSP_RR");
    const used: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = adapters.map((a) => a.mediaCommands());
      await drive(clock, disk.read(i, 1, new Uint8Array(512)));
      used.push(adapters.findIndex((a, n) => a.mediaCommands() > before[n]!));
    }
    expect(used).toEqual([0, 1, 0, 1, 0, 1]);
    expect(stack.listDevices()[1]!.policy).toEqual({ name: "VMW_PSP_RR", iops: 1 });
    expect(stack.listDevices()[1]!.workingPaths).toEqual(["vmhba0:C0:T0:L1", "vmhba1:C0:T0:L1"]);

    stack.setPolicy(disk.name, "VMW_PSP_RR", { iops: 3 });
    const before = adapters[0]!.mediaCommands();
    for (let i = 0; i < 3; i++) await drive(clock, disk.read(i, 1, new Uint8Array(512)));
    expect(adapters[0]!.mediaCommands() - before).toBe(3);
  });

  it("keeps queue depth at cmd_per_lun and queues the rest", async () => {
    const { clock, adapters, devices } = await twoAdaptersTwoLuns({}, { limits: { cmdPerLun: 4 } });
    const disk = devices[0]!;
    expect(disk.queueDepth).toBe(4);
    const ios = Array.from({ length: 20 }, (_, i) => disk.write(i * 8, 8, pattern(i * 8, 8)));
    expect(disk.stats()).toMatchObject({ inflight: 4, queued: 16 });
    await drive(clock, Promise.all(ios));
    expect(adapters[0]!.maxOutstanding).toBe(4);
    expect(disk.stats()).toMatchObject({ writes: 20, inflight: 0, queued: 0 });
  });

  it("fails I/O over when a path is cut mid-workload, completing each exactly once, and revives the path on re-probe", async () => {
    const { stack, clock, log, adapters, devices, luns } = await twoAdaptersTwoLuns({ roundRobinIops: 1, pathProbeIntervalNs: PROBE_NS });
    const disk = devices[0]!;
    stack.setPolicy(disk.name, "VMW_PSP_RR");
    const count = 200;
    let completions = 0;
    const ios: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      ios.push(disk.write(i * 4, 4, pattern(i * 4, 4, 512, 1)).then(() => void completions++));
    }
    // Part of the workload is on the wire when the cable to vmhba0 is pulled.
    await advance(clock, 250_000);
    expect(completions).toBeGreaterThan(0);
    expect(completions).toBeLessThan(count);
    adapters[0]!.linkDown = true;
    await drive(clock, Promise.all(ios));
    expect(completions).toBe(count);
    // Every write reached the medium exactly once, through whichever path carried it.
    expect([...luns[0]!.writesExecuted].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i * 4));
    const back = new Uint8Array(count * 4 * 512);
    await drive(clock, disk.read(0, count * 4, back));
    const expected = new Uint8Array(back.length);
    for (let i = 0; i < count; i++) expected.set(pattern(i * 4, 4, 512, 1), i * 2048);
    expect(Buffer.from(back).equals(Buffer.from(expected))).toBe(true);

    const cut = stack.listPaths().find((p) => p.runtimeName === "vmhba0:C0:T0:L0")!;
    expect(cut).toMatchObject({ state: "dead", reason: "DID_NO_CONNECT", working: false });
    expect(disk.stats().failovers).toBeGreaterThan(0);
    expect(disk.stats().failed).toBe(0);
    expect(log.entries().map((e) => e.message)).toContain(`vmhba0:C0:T0:L0 (${disk.name}): path active → dead: DID_NO_CONNECT`);

    // Still cut at the first probe: stays dead. Reconnected: the next probe brings it back.
    await advance(clock, PROBE_NS);
    expect(stack.listPaths().find((p) => p.runtimeName === "vmhba0:C0:T0:L0")!.state).toBe("dead");
    adapters[0]!.linkDown = false;
    await advance(clock, PROBE_NS);
    expect(stack.listPaths().find((p) => p.runtimeName === "vmhba0:C0:T0:L0")!.state).toBe("active");
    const before = adapters[0]!.mediaCommands();
    await drive(clock, Promise.all([disk.read(0, 1, new Uint8Array(512)), disk.read(1, 1, new Uint8Array(512))]));
    expect(adapters[0]!.mediaCommands()).toBe(before + 1);
  });

  it("Fixed fails over from the preferred path and fails back when it returns; MRU stays", async () => {
    const { stack, clock, log, adapters, devices } = await twoAdaptersTwoLuns({ pathProbeIntervalNs: PROBE_NS });
    const disk = devices[0]!;
    adapters[0]!.linkDown = true;
    await drive(clock, disk.read(0, 1, new Uint8Array(512)));
    expect(log.entries().map((e) => e.message)).toContain(`${disk.name}: I/O moved from vmhba0:C0:T0:L0 to vmhba1:C0:T0:L0 (vmhba0:C0:T0:L0 is dead: DID_NO_CONNECT)`);
    adapters[0]!.linkDown = false;
    await advance(clock, PROBE_NS);
    const before = adapters[0]!.mediaCommands();
    await drive(clock, disk.read(0, 1, new Uint8Array(512)));
    expect(adapters[0]!.mediaCommands()).toBe(before + 1);

    stack.setPolicy(disk.name, "VMW_PSP_MRU");
    adapters[0]!.linkDown = true;
    await drive(clock, disk.read(0, 1, new Uint8Array(512)));
    adapters[0]!.linkDown = false;
    await advance(clock, PROBE_NS);
    const onSecond = adapters[1]!.mediaCommands();
    await drive(clock, disk.read(0, 1, new Uint8Array(512)));
    expect(adapters[1]!.mediaCommands()).toBe(onSecond + 1);
    expect(stack.listDevices()[0]!.workingPaths).toEqual(["vmhba1:C0:T0:L0"]);
  });

  it("uses a standby path only when no active path is left, and promotes it when it serves I/O", async () => {
    const { clock, devices, luns, stack } = await twoAdaptersTwoLuns();
    const disk = devices[0]!;
    const states = () => stack.listPaths().filter((p) => p.device === disk.name).map((p) => p.state);
    luns[0]!.standby = true;
    const failed = await drive(clock, disk.read(0, 1, new Uint8Array(512)).catch((e: unknown) => e));
    // Each path answered NOT READY (standby) once and became standby; on standby paths the I/O was retried, then failed.
    expect(states()).toEqual(["standby", "standby"]);
    expect(failed).toBeInstanceOf(StorageIoError);
    expect((failed as StorageIoError).sense).toMatchObject({ key: 0x2, asc: 0x04, ascq: 0x0b });
    luns[0]!.standby = false;
    await drive(clock, disk.read(0, 1, new Uint8Array(512)));
    expect(states()).toEqual(["active", "standby"]);
  });

  it("holds I/O while all paths are down, then fails it after the APD timeout", async () => {
    const { clock, log, adapters, devices } = await twoAdaptersTwoLuns({ allPathsDownTimeoutNs: 10e9, pathProbeIntervalNs: 60e9 });
    const disk = devices[0]!;
    for (const adapter of adapters) adapter.linkDown = true;
    const outcome = disk.read(0, 1, new Uint8Array(512)).then(
      () => "ok",
      (e: StorageIoError) => e.failure,
    );
    await advance(clock, 5e9);
    expect(disk.stats()).toMatchObject({ queued: 1, inflight: 0 });
    expect(await drive(clock, outcome)).toBe("all-paths-down");
    expect(log.entries().map((e) => e.message)).toContain(`${disk.name}: all paths down; I/O waits up to 10 s for a path`);
    const fast = await disk.read(0, 1, new Uint8Array(512)).catch((e: StorageIoError) => e.failure);
    expect(fast).toBe("all-paths-down");
  });
});
