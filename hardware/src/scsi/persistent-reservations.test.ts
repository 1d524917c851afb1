import { describe, expect, it } from "vitest";
import { LogicalUnit } from "./logical-unit.js";
import { PrInAction, PrOutAction, PrType } from "./persistent-reservations.js";
import { ScsiStatus, type InitiatorId, type ScsiResponse } from "./scsi-command.js";
import { Asc, SenseKey } from "./sense.js";
import { attach, Cdb, expectGood, expectSense, memoryUnit, prOutParameters } from "./test-support.js";

const NODE1 = "iqn.node1:vmhba64";
const NODE2 = "iqn.node2:vmhba64";
const NODE3 = "iqn.node3:vmhba64";

function prOut(unit: LogicalUnit, initiator: InitiatorId, action: number, key: bigint, serviceActionKey: bigint, type = 0): Promise<ScsiResponse> {
  return unit.execute({ cdb: Cdb.persistentReserveOut(action, type), initiator, dataOut: prOutParameters(key, serviceActionKey) });
}

async function readKeys(unit: LogicalUnit, initiator: InitiatorId): Promise<{ generation: number; keys: bigint[] }> {
  const data = (await unit.execute({ cdb: Cdb.persistentReserveIn(PrInAction.READ_KEYS), initiator })).dataIn!;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = view.getUint32(4);
  return { generation: view.getUint32(0), keys: Array.from({ length: length / 8 }, (_, i) => view.getBigUint64(8 + 8 * i)) };
}

async function readReservation(unit: LogicalUnit, initiator: InitiatorId): Promise<{ key: bigint; type: number } | null> {
  const data = (await unit.execute({ cdb: Cdb.persistentReserveIn(PrInAction.READ_RESERVATION), initiator })).dataIn!;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(4) === 0) return null;
  expect(view.getUint32(4)).toBe(16);
  return { key: view.getBigUint64(8), type: data[21]! };
}

async function cluster(): Promise<LogicalUnit> {
  const { unit } = memoryUnit(64);
  await attach(unit, NODE1, NODE2, NODE3);
  return unit;
}

describe("persistent reservations (SPC-3 5.6)", () => {
  it("REGISTER, READ KEYS with the generation, and key checks", async () => {
    const unit = await cluster();
    expectGood(await prOut(unit, NODE1, PrOutAction.REGISTER, 0n, 0x1111n));
    expectGood(await prOut(unit, NODE2, PrOutAction.REGISTER, 0n, 0x2222n));
    expect(await readKeys(unit, NODE3)).toEqual({ generation: 2, keys: [0x1111n, 0x2222n] });
    // A registered nexus must present its current key; an unregistered one must present zero.
    expect((await prOut(unit, NODE1, PrOutAction.REGISTER, 0x9999n, 0x1234n)).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expect((await prOut(unit, NODE3, PrOutAction.REGISTER, 0x5n, 0x3333n)).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expectGood(await prOut(unit, NODE1, PrOutAction.REGISTER_AND_IGNORE_EXISTING_KEY, 0n, 0xaaaan));
    expectGood(await prOut(unit, NODE2, PrOutAction.REGISTER, 0x2222n, 0n));
    expect(await readKeys(unit, NODE3)).toEqual({ generation: 4, keys: [0xaaaan] });
  });

  it("Write Exclusive: others may read but not write; the holder releases", async () => {
    const unit = await cluster();
    expectGood(await prOut(unit, NODE1, PrOutAction.REGISTER, 0n, 0x11n));
    expectGood(await prOut(unit, NODE1, PrOutAction.RESERVE, 0x11n, 0n, PrType.WRITE_EXCLUSIVE));
    expect(await readReservation(unit, NODE2)).toEqual({ key: 0x11n, type: PrType.WRITE_EXCLUSIVE });
    expectGood(await unit.execute({ cdb: Cdb.read10(0, 1), initiator: NODE2 }));
    expect((await unit.execute({ cdb: Cdb.write10(0, 1), initiator: NODE2, dataOut: new Uint8Array(512) })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expectGood(await unit.execute({ cdb: Cdb.write10(0, 1), initiator: NODE1, dataOut: new Uint8Array(512) }));
    expectGood(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: NODE2 }));
    // A SCSI-2 RESERVE now conflicts for everyone (CRH is 0).
    expect((await unit.execute({ cdb: Cdb.reserve6(), initiator: NODE1 })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    // RELEASE with the wrong type is refused; with the right one it works.
    expectSense(await prOut(unit, NODE1, PrOutAction.RELEASE, 0x11n, 0n, PrType.EXCLUSIVE_ACCESS), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_RELEASE_OF_PERSISTENT_RESERVATION);
    expectGood(await prOut(unit, NODE1, PrOutAction.RELEASE, 0x11n, 0n, PrType.WRITE_EXCLUSIVE));
    expect(await readReservation(unit, NODE2)).toBeNull();
    expectGood(await unit.execute({ cdb: Cdb.write10(0, 1), initiator: NODE2, dataOut: new Uint8Array(512) }));
  });

  it("Exclusive Access Registrants Only: registrants have access, others none; a reservation survives an LU reset", async () => {
    const unit = await cluster();
    expectGood(await prOut(unit, NODE1, PrOutAction.REGISTER, 0n, 0x11n));
    expectGood(await prOut(unit, NODE2, PrOutAction.REGISTER, 0n, 0x22n));
    expectGood(await prOut(unit, NODE1, PrOutAction.RESERVE, 0x11n, 0n, PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY));
    expect((await prOut(unit, NODE2, PrOutAction.RESERVE, 0x22n, 0n, PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY)).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expectGood(await unit.execute({ cdb: Cdb.write10(1, 1), initiator: NODE2, dataOut: new Uint8Array(512) }));
    expect((await unit.execute({ cdb: Cdb.read10(1, 1), initiator: NODE3 })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    unit.reset();
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: NODE3 }), SenseKey.UNIT_ATTENTION, Asc.LOGICAL_UNIT_RESET);
    expect((await unit.execute({ cdb: Cdb.read10(1, 1), initiator: NODE3 })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    // The holder unregistering releases a registrants-only reservation and tells the other registrants.
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: NODE2 }), SenseKey.UNIT_ATTENTION, Asc.LOGICAL_UNIT_RESET);
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: NODE1 }), SenseKey.UNIT_ATTENTION, Asc.LOGICAL_UNIT_RESET);
    expectGood(await prOut(unit, NODE1, PrOutAction.REGISTER, 0x11n, 0n));
    expect(await readReservation(unit, NODE3)).toBeNull();
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: NODE2 }), SenseKey.UNIT_ATTENTION, Asc.RESERVATIONS_RELEASED);
  });

  it("PREEMPT takes over a failed node's reservation and removes its registration (cluster failover)", async () => {
    const unit = await cluster();
    expectGood(await prOut(unit, NODE1, PrOutAction.REGISTER, 0n, 0x11n));
    expectGood(await prOut(unit, NODE2, PrOutAction.REGISTER, 0n, 0x22n));
    expectGood(await prOut(unit, NODE1, PrOutAction.RESERVE, 0x11n, 0n, PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY));
    expectGood(await prOut(unit, NODE2, PrOutAction.PREEMPT, 0x22n, 0x11n, PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY));
    expect(await readReservation(unit, NODE3)).toEqual({ key: 0x22n, type: PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY });
    expect((await readKeys(unit, NODE3)).keys).toEqual([0x22n]);
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: NODE1 }), SenseKey.UNIT_ATTENTION, Asc.REGISTRATIONS_PREEMPTED);
    expect((await unit.execute({ cdb: Cdb.write10(0, 1), initiator: NODE1, dataOut: new Uint8Array(512) })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    // Preempting a key nobody holds is a conflict; a zero key is invalid.
    expect((await prOut(unit, NODE2, PrOutAction.PREEMPT, 0x22n, 0x77n, PrType.WRITE_EXCLUSIVE)).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expectSense(await prOut(unit, NODE2, PrOutAction.PREEMPT, 0x22n, 0n, PrType.WRITE_EXCLUSIVE), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_PARAMETER_LIST);
  });

  it("CLEAR drops every registration and the reservation; all-registrants reservations report key 0", async () => {
    const unit = await cluster();
    expectGood(await prOut(unit, NODE1, PrOutAction.REGISTER, 0n, 0x11n));
    expectGood(await prOut(unit, NODE2, PrOutAction.REGISTER, 0n, 0x22n));
    expectGood(await prOut(unit, NODE2, PrOutAction.RESERVE, 0x22n, 0n, PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS));
    expect(await readReservation(unit, NODE3)).toEqual({ key: 0n, type: PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS });
    expectGood(await unit.execute({ cdb: Cdb.read10(0, 1), initiator: NODE1 }));
    expect((await unit.execute({ cdb: Cdb.read10(0, 1), initiator: NODE3 })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expectGood(await prOut(unit, NODE1, PrOutAction.CLEAR, 0x11n, 0n));
    expect(await readKeys(unit, NODE3)).toMatchObject({ keys: [] });
    expect(await readReservation(unit, NODE3)).toBeNull();
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: NODE2 }), SenseKey.UNIT_ATTENTION, Asc.RESERVATIONS_PREEMPTED);
    expectGood(await unit.execute({ cdb: Cdb.read10(0, 1), initiator: NODE3 }));
  });

  it("REPORT CAPABILITIES, parameter validation, and save/restore", async () => {
    const unit = await cluster();
    const caps = (await unit.execute({ cdb: Cdb.persistentReserveIn(PrInAction.REPORT_CAPABILITIES), initiator: NODE1 })).dataIn!;
    expect([...caps]).toEqual([0, 8, 0x00, 0x90, 0xea, 0x01, 0, 0]);
    expectSense(await unit.execute({ cdb: Cdb.persistentReserveIn(3), initiator: NODE1 }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    const shortList = Cdb.persistentReserveOut(PrOutAction.REGISTER);
    shortList[8] = 16;
    expectSense(await unit.execute({ cdb: shortList, initiator: NODE1, dataOut: new Uint8Array(16) }), SenseKey.ILLEGAL_REQUEST, Asc.PARAMETER_LIST_LENGTH_ERROR);
    const aptpl = await unit.execute({ cdb: Cdb.persistentReserveOut(PrOutAction.REGISTER), initiator: NODE1, dataOut: prOutParameters(0n, 1n, 0x01) });
    expectSense(aptpl, SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_PARAMETER_LIST);
    expectGood(await prOut(unit, NODE1, PrOutAction.REGISTER, 0n, 0x11n));
    expectSense(await prOut(unit, NODE1, PrOutAction.RESERVE, 0x11n, 0n, 0x2), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    expectGood(await prOut(unit, NODE1, PrOutAction.RESERVE, 0x11n, 0n, PrType.EXCLUSIVE_ACCESS));

    const saved = JSON.parse(JSON.stringify(unit.save())) as ReturnType<LogicalUnit["save"]>;
    expect(saved.persistentReservations).toEqual({ generation: 1, registrations: { [NODE1]: "0000000000000011" }, reservation: { holder: NODE1, type: PrType.EXCLUSIVE_ACCESS } });
    unit.powerCycle();
    await attach(unit, NODE1);
    expect(await readReservation(unit, NODE1)).toBeNull();
    unit.restore(saved);
    expect(await readReservation(unit, NODE2)).toEqual({ key: 0x11n, type: PrType.EXCLUSIVE_ACCESS });
  });
});
