import { describe, expect, it } from "vitest";
import { FakeScsiAdapter } from "./testing/fake-scsi-adapter.js";
import { MemoryLun } from "./testing/memory-lun.js";
import { drive, makeLun, makeStorage, testNaa, twoAdaptersTwoLuns } from "./testing/storage-fixture.js";

describe("LUN discovery", () => {
  it("groups 2 adapters × 2 LUNs into 2 devices with 2 paths each, named by NAA ID", async () => {
    const { stack, log } = await twoAdaptersTwoLuns();
    expect(stack.listAdapters().map((a) => [a.name, a.busAddress, a.state, a.paths])).toEqual([
      ["vmhba0", "0000:03:00.0", "online", 2],
      ["vmhba1", "0000:04:00.0", "online", 2],
    ]);
    const devices = stack.listDevices();
    expect(devices.map((d) => d.name)).toEqual([`naa.${testNaa(1)}`, `naa.${testNaa(2)}`]);
    expect(devices[0]!.name).toMatch(/^naa\.[0-9a-f]{32}$/);
    expect(devices[0]).toMatchObject({
      vendor: "VMK",
      model: "Test LUN 1",
      revision: "1.0",
      blocks: 2048,
      blockSize: 512,
      sizeBytes: 1 << 20,
      queueDepth: 16,
      policy: { name: "VMW_PSP_FIXED", preferredPath: "vmhba0:C0:T0:L0" },
      status: "on",
      paths: ["vmhba0:C0:T0:L0", "vmhba1:C0:T0:L0"],
    });
    expect(devices[1]!.paths).toEqual(["vmhba0:C0:T0:L1", "vmhba1:C0:T0:L1"]);
    expect(stack.listPaths().map((p) => [p.runtimeName, p.device.slice(-4), p.state])).toEqual([
      ["vmhba0:C0:T0:L0", testNaa(1).slice(-4), "active"],
      ["vmhba0:C0:T0:L1", testNaa(2).slice(-4), "active"],
      ["vmhba1:C0:T0:L0", testNaa(1).slice(-4), "active"],
      ["vmhba1:C0:T0:L1", testNaa(2).slice(-4), "active"],
    ]);
    const messages = log.entries().map((e) => e.message);
    expect(messages).toContain("vmhba0: scan found 2 disk LUNs");
    expect(messages.some((m) => m.startsWith(`naa.${testNaa(1)}: VMK Test LUN 1 1.0, 2048 blocks of 512 bytes (1 MiB)`))).toBe(true);
  });

  it("retries the power-on unit attention that every new initiator gets", async () => {
    const { stack, adapters } = await twoAdaptersTwoLuns();
    // READ CAPACITY(16) met the unit attention first, on each path, and went again.
    const rc16 = adapters[0]!.issued.filter((c) => c.opcode === 0x9e && c.lun === 0);
    expect(rc16).toHaveLength(2);
    expect(stack.listDevices()[0]!.blocks).toBe(2048);
  });

  it("scans sequentially when REPORT LUNS is unsupported, and falls back to READ CAPACITY(10)", async () => {
    const { stack, clock } = makeStorage();
    const adapter = new FakeScsiAdapter("0000:05:00.0", clock, { scan: { maxTargetId: 2, maxLun: 7 } });
    const old = new MemoryLun({ naa: testNaa(7), blocks: 4096, blockSize: 4096 });
    old.readCapacity16Supported = false;
    adapter.attach(1, 0, old).reportLunsSupported = false;
    adapter.attach(1, 1, makeLun(8));
    // LUN 3 sits past a hole: a sequential scan stops at the first missing LUN, as Linux's does.
    adapter.attach(1, 3, makeLun(9));
    stack.adapters.register(adapter);
    await drive(clock, stack.scansComplete());
    expect(stack.listPaths().map((p) => p.runtimeName)).toEqual(["vmhba0:C0:T1:L0", "vmhba0:C0:T1:L1"]);
    expect(stack.device(`naa.${testNaa(7)}`)).toMatchObject({ blocks: 4096, blockSize: 4096 });
    expect(adapter.issued.some((c) => c.opcode === 0x25)).toBe(true);
    // No REPORT LUNS reached targets 0 and 2 beyond the selection attempt, and target 7 (the initiator) was skipped.
    expect(new Set(adapter.issued.map((c) => c.target))).toEqual(new Set([0, 1, 2]));
  });

  it("reports LUNs above 255 (flat addressing) and names a LUN without identity after its path", async () => {
    const { stack, clock } = makeStorage();
    const adapter = new FakeScsiAdapter("0000:06:00.0", clock, { scan: { maxTargetId: 0, maxLun: 511 } });
    adapter.attach(0, 300, makeLun(3));
    adapter.attach(0, 2, new MemoryLun({ blocks: 64 }));
    stack.adapters.register(adapter);
    await drive(clock, stack.scansComplete());
    expect(stack.listDevices().map((d) => [d.name, d.paths])).toEqual([
      ["mpx.vmhba0:C0:T0:L2", ["vmhba0:C0:T0:L2"]],
      [`naa.${testNaa(3)}`, ["vmhba0:C0:T0:L300"]],
    ]);
  });

  it("rescans: a new LUN appears, a vanished one's path dies, and a re-registered adapter keeps its name", async () => {
    const { stack, clock, adapters, registered } = await twoAdaptersTwoLuns();
    adapters[0]!.attach(0, 2, makeLun(5));
    adapters[0]!.targets.get(0)!.luns.delete(1);
    await drive(clock, stack.rescan("vmhba0"));
    expect(stack.listPaths().find((p) => p.runtimeName === "vmhba0:C0:T0:L1")).toMatchObject({ state: "dead", reason: "not found by rescan" });
    expect(stack.listDevices().find((d) => d.name === `naa.${testNaa(5)}`)?.paths).toEqual(["vmhba0:C0:T0:L2"]);

    stack.adapters.unregister(registered[1]!);
    expect(stack.listPaths().filter((p) => p.adapter === "vmhba1").map((p) => p.state)).toEqual(["dead", "dead"]);
    const again = stack.adapters.register(adapters[1]!);
    expect(again.name).toBe("vmhba1");
    await drive(clock, stack.scansComplete());
    expect(stack.listPaths().filter((p) => p.adapter === "vmhba1").map((p) => [p.runtimeName, p.state])).toEqual([
      ["vmhba1:C0:T0:L0", "active"],
      ["vmhba1:C0:T0:L1", "active"],
    ]);
    expect(stack.listAdapters().map((a) => a.name)).toEqual(["vmhba0", "vmhba1"]);
  });
});
