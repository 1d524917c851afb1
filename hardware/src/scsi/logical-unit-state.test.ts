import { describe, expect, it } from "vitest";
import { ScsiStatus } from "./scsi-command.js";
import { Asc, SenseKey } from "./sense.js";
import { attach, Cdb, expectGood, expectSense, memoryUnit } from "./test-support.js";
import { LogicalUnit } from "./logical-unit.js";

describe("LogicalUnit save/restore", () => {
  it("round-trips reservation, unit attentions, start state and faults as plain JSON", async () => {
    const { unit, store } = memoryUnit(64);
    await attach(unit, "a", "b");
    expectGood(await unit.execute({ cdb: Cdb.reserve6(), initiator: "a" }));
    unit.reset();
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: "a" }), SenseKey.UNIT_ATTENTION, Asc.LOGICAL_UNIT_RESET);
    expectGood(await unit.execute({ cdb: Cdb.reserve6(), initiator: "a" }));
    expectGood(await unit.execute({ cdb: Cdb.startStopUnit(false), initiator: "a" }));
    unit.faults.inject({ kind: "medium-error", firstLba: 3, blockCount: 1, initiator: "a" });

    const saved = JSON.parse(JSON.stringify(unit.save())) as ReturnType<LogicalUnit["save"]>;
    expect(saved).toMatchObject({ version: 1, capacityBlocks: 64, started: false, reservationHolder: "a", unitAttentions: { a: [], b: [[0x29, 0x03]] } });

    const copy = new LogicalUnit({ store, identity: { name: "test-array/lun0" } });
    copy.restore(saved);
    expect(copy.save()).toEqual(saved);
    expect(copy.reservedBy).toBe("a");
    expectSense(await copy.execute({ cdb: Cdb.testUnitReady(), initiator: "b" }), SenseKey.UNIT_ATTENTION, Asc.LOGICAL_UNIT_RESET);
    expect((await copy.execute({ cdb: Cdb.testUnitReady(), initiator: "b" })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expectSense(await copy.execute({ cdb: Cdb.testUnitReady(), initiator: "a" }), SenseKey.NOT_READY, Asc.NOT_READY_INITIALIZING_COMMAND_REQUIRED);
    expectGood(await copy.execute({ cdb: Cdb.startStopUnit(true), initiator: "a" }));
    expectSense(await copy.execute({ cdb: Cdb.read10(3, 1), initiator: "a" }), SenseKey.MEDIUM_ERROR, Asc.UNRECOVERED_READ_ERROR);
    // Fault ids continue where the saved unit left off.
    expect(copy.faults.inject({ kind: "hang" })).toBe(2);
  });

  it("refuses another version or a capacity that does not match the store", () => {
    const { unit } = memoryUnit(64);
    const saved = unit.save();
    expect(() => unit.restore({ ...saved, version: 2 as 1 })).toThrow(/version/);
    expect(() => unit.restore({ ...saved, capacityBlocks: 65 })).toThrow(/capacity/);
  });

  it("a power cycle forgets reservations and nexuses and starts the unit", async () => {
    const { unit } = memoryUnit(64);
    await attach(unit, "a");
    expectGood(await unit.execute({ cdb: Cdb.reserve6(), initiator: "a" }));
    expectGood(await unit.execute({ cdb: Cdb.startStopUnit(false), initiator: "a" }));
    unit.powerCycle();
    expect(unit.reservedBy).toBeNull();
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: "a" }), SenseKey.UNIT_ATTENTION, Asc.POWER_ON_RESET_OR_BUS_DEVICE_RESET);
    expectGood(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: "a" }));
  });
});
