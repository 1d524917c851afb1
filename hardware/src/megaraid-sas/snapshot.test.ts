import { describe, expect, it } from "vitest";
import { LogicalUnit } from "../scsi/logical-unit.js";
import { MemoryLunStore } from "../scsi/memory-lun-store.js";
import type { ScsiCommandTarget } from "../scsi/scsi-command.js";
import { MegaRaidRig } from "./test-rig.js";
import { DcmdOpcode, MfiStatus } from "./mfi-frames.js";
import { EVENT_DETAIL_SIZE, EventLocale } from "./events.js";
import type { MegaRaidSnapshot } from "./snapshot.js";
import * as R from "./registers.js";

/** A LUN whose commands never come back: they stay in flight across the snapshot. */
const hanging: ScsiCommandTarget = { execute: () => new Promise(() => {}) };

describe("save and restore", () => {
  it("round-trips through JSON; in-flight I/O fails deterministically, a pending event wait survives", async () => {
    const store = new MemoryLunStore(1024 * 512);
    const options = { variant: "perc5" as const, logicalDrives: [new LogicalUnit({ identity: { name: "ld0" }, store }), hanging] };
    const source = new MegaRaidRig(options);
    await source.bringUp();
    source.clearInterrupt();

    source.dcmd(1, DcmdOpcode.CTRL_EVENT_WAIT, EVENT_DETAIL_SIZE, [1, 0, 0, 0, 0xff, 0xff, 0, 0]);
    source.fireSlot(1);
    source.passThrough(2, true, 1, Uint8Array.of(0, 0, 0, 0, 0, 0), 0, "none");
    source.fireSlot(2);
    await source.settle();
    expect(source.model.state.inFlight).toHaveLength(1);
    expect(source.model.state.eventWaiters).toHaveLength(1);

    const snapshot = JSON.parse(JSON.stringify(source.model.saveState())) as MegaRaidSnapshot;
    expect(snapshot).toEqual(source.model.saveState());

    const target = new MegaRaidRig({ ...options, logicalDrives: [new LogicalUnit({ identity: { name: "ld0" }, store }), hanging] });
    target.host.memory.bytes.set(source.host.memory.bytes);
    target.entries = source.entries;
    target.model.restoreState(snapshot);
    expect(target.model.saveState()).toEqual(snapshot);
    expect((target.statusWord() & R.MFI_STATE_MASK) >>> 0).toBe(R.MfiState.OPERATIONAL);

    await target.settle();
    expect(target.status(2)).toBe(MfiStatus.SCSI_IO_FAILED);
    expect(target.status(1)).toBe(MfiStatus.INVALID_STATUS);
    expect(target.takeReplies()).toEqual([1002]);
    expect(target.model.diagnostics.commandsAbandoned).toBe(1);

    target.model.attachLogicalDrive(9, new LogicalUnit({ identity: { name: "hot" }, store: new MemoryLunStore(64 * 512) }));
    await target.settle();
    expect(target.status(1)).toBe(MfiStatus.OK);
    expect(target.data.view.getUint16(12, true)).toBe(EventLocale.LD);
    expect(target.takeReplies()).toEqual([1001]);

    target.data.bytes.fill(0x77, 0, 512);
    target.blockIo(3, true, 0, 5, 1, [{ address: target.data.busAddress, length: 512 }]);
    target.fireSlot(3);
    await target.settle();
    expect(target.status(3)).toBe(MfiStatus.OK);
    expect(store.contents.slice(5 * 512, 6 * 512).every((byte) => byte === 0x77)).toBe(true);
  });

  it("resumes a boot in progress with the time it had left", async () => {
    const source = new MegaRaidRig({ bootNs: 10_000_000 });
    source.clock.advance(4_000_000);
    const snapshot = source.model.saveState();
    const target = new MegaRaidRig({ bootNs: 10_000_000 });
    target.clock.advance(50_000_000);
    target.write(R.INBOUND_DOORBELL, R.MfiDoorbell.ADAPTER_RESET);
    target.model.restoreState(snapshot);
    expect((target.statusWord() & R.MFI_STATE_MASK) >>> 0).toBe(R.MfiState.FW_INIT);
    target.clock.advance(5_999_999);
    expect((target.statusWord() & R.MFI_STATE_MASK) >>> 0).toBe(R.MfiState.FW_INIT);
    target.clock.advance(1);
    expect((target.statusWord() & R.MFI_STATE_MASK) >>> 0).toBe(R.MfiState.WAIT_HANDSHAKE);
  });

  it("refuses a snapshot of another variant or drive layout", () => {
    const snapshot = new MegaRaidRig({ variant: "sas1078" }).model.saveState();
    expect(() => new MegaRaidRig({ variant: "perc5" }).model.restoreState(snapshot)).toThrow(/sas1078/);
    expect(() => new MegaRaidRig({ variant: "sas1078", logicalDrives: [hanging] }).model.restoreState(snapshot)).toThrow(/drive layout/);
  });
});
