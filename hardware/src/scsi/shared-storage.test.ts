import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileLunStore } from "./file-lun-store.js";
import { LogicalUnit } from "./logical-unit.js";
import { ScsiStatus } from "./scsi-command.js";
import { Asc, SenseKey } from "./sense.js";
import { attach, Cdb, expectGood, expectSense, memoryUnit, pattern } from "./test-support.js";

const HOST_A = "fc0:host-a";
const HOST_B = "fc0:host-b";

describe("SCSI-2 RESERVE / RELEASE between hosts sharing a LU", () => {
  it("gives other initiators RESERVATION CONFLICT on media access until the holder releases", async () => {
    const { unit } = memoryUnit();
    await attach(unit, HOST_A, HOST_B);
    expectGood(await unit.execute({ cdb: Cdb.reserve6(), initiator: HOST_A }));
    expect(unit.reservedBy).toBe(HOST_A);
    expectGood(await unit.execute({ cdb: Cdb.read10(0, 1), initiator: HOST_A }));

    const conflict = await unit.execute({ cdb: Cdb.write10(0, 1), initiator: HOST_B, dataOut: new Uint8Array(512) });
    expect(conflict.status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expect(conflict.sense).toBeUndefined();
    expect(conflict.residual).toBe(512);
    expect((await unit.execute({ cdb: Cdb.read10(0, 1), initiator: HOST_B })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expect((await unit.execute({ cdb: Cdb.testUnitReady(), initiator: HOST_B })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expect((await unit.execute({ cdb: Cdb.reserve6(), initiator: HOST_B })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    // INQUIRY and REQUEST SENSE still work, and a RELEASE from a non-holder is a harmless no-op.
    expectGood(await unit.execute({ cdb: Cdb.inquiry(), initiator: HOST_B }));
    expectGood(await unit.execute({ cdb: Cdb.requestSense(), initiator: HOST_B }));
    expectGood(await unit.execute({ cdb: Cdb.release6(), initiator: HOST_B }));
    expect(unit.reservedBy).toBe(HOST_A);

    expectGood(await unit.execute({ cdb: Cdb.release6(), initiator: HOST_A }));
    expect(unit.reservedBy).toBeNull();
    expectGood(await unit.execute({ cdb: Cdb.reserve6(), initiator: HOST_B }));
    expect((await unit.execute({ cdb: Cdb.read10(0, 1), initiator: HOST_A })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
  });

  it("a logical unit reset releases the reservation", async () => {
    const { unit } = memoryUnit();
    await attach(unit, HOST_A, HOST_B);
    expectGood(await unit.execute({ cdb: Cdb.reserve6(), initiator: HOST_A }));
    unit.reset();
    expect(unit.reservedBy).toBeNull();
    expectSense(await unit.execute({ cdb: Cdb.read10(0, 1), initiator: HOST_B }), SenseKey.UNIT_ATTENTION, Asc.LOGICAL_UNIT_RESET);
    expectGood(await unit.execute({ cdb: Cdb.read10(0, 1), initiator: HOST_B }));
  });

  it("a unit attention is reported before a reservation conflict", async () => {
    const { unit } = memoryUnit();
    await attach(unit, HOST_A);
    expectGood(await unit.execute({ cdb: Cdb.reserve6(), initiator: HOST_A }));
    expectSense(await unit.execute({ cdb: Cdb.read10(0, 1), initiator: HOST_B }), SenseKey.UNIT_ATTENTION, Asc.POWER_ON_RESET_OR_BUS_DEVICE_RESET);
    expect((await unit.execute({ cdb: Cdb.read10(0, 1), initiator: HOST_B })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
  });
});

/** An ATS lock record as VMFS writes it: the owner's id in the first bytes of one block. */
function lockRecord(owner: number, blockSize = 512): Uint8Array {
  const block = new Uint8Array(blockSize);
  block[0] = owner;
  block.fill(owner, 8, 16);
  return block;
}

function atsPayload(expected: Uint8Array, replacement: Uint8Array): Uint8Array {
  const payload = new Uint8Array(expected.length + replacement.length);
  payload.set(expected);
  payload.set(replacement, expected.length);
  return payload;
}

describe("COMPARE AND WRITE (ATS)", () => {
  it("writes the second half when the first half matches, and reports the miscompare offset otherwise", async () => {
    const { unit, store } = memoryUnit(64, { limits: { maxCompareAndWriteBlocks: 2 } });
    await attach(unit, HOST_A);
    const current = pattern(1024, 3);
    store.contents.set(current, 10 * 512);
    const next = pattern(1024, 4);
    const swapped = await unit.execute({ cdb: Cdb.compareAndWrite(10, 2), initiator: HOST_A, dataOut: atsPayload(current, next) });
    expectGood(swapped);
    expect([...store.contents.subarray(10 * 512, 12 * 512)]).toEqual([...next]);

    const stale = current.slice();
    const miss = await unit.execute({ cdb: Cdb.compareAndWrite(10, 2), initiator: HOST_A, dataOut: atsPayload(stale, pattern(1024, 5)) });
    const sense = expectSense(miss, SenseKey.MISCOMPARE, Asc.MISCOMPARE_DURING_VERIFY);
    expect(sense.information).toBe([...current].findIndex((b, i) => b !== next[i]));
    expect([...store.contents.subarray(10 * 512, 12 * 512)]).toEqual([...next]);
    expect(unit.statistics.compareAndWriteMiscompares).toBe(1);
  });

  it("checks the block count against the limit, and the range", async () => {
    const { unit } = memoryUnit(64);
    await attach(unit, HOST_A);
    expectSense(await unit.execute({ cdb: Cdb.compareAndWrite(0, 2), initiator: HOST_A, dataOut: new Uint8Array(2048) }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    expectSense(await unit.execute({ cdb: Cdb.compareAndWrite(64, 1), initiator: HOST_A, dataOut: new Uint8Array(1024) }), SenseKey.ILLEGAL_REQUEST, Asc.LBA_OUT_OF_RANGE);
    expectSense(await unit.execute({ cdb: Cdb.compareAndWrite(0, 1), initiator: HOST_A, dataOut: new Uint8Array(512) }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    expectGood(await unit.execute({ cdb: Cdb.compareAndWrite(0, 0), initiator: HOST_A }));
  });

  async function raceForTheLock(unit: LogicalUnit, contenders: number, lockLba: number): Promise<number[]> {
    const free = lockRecord(0, unit.blockSize);
    const initiators = Array.from({ length: contenders }, (_, i) => `hba${i % 4}:host-${i}`);
    await attach(unit, ...initiators);
    const results = await Promise.all(
      initiators.map((initiator, i) =>
        unit.execute({ cdb: Cdb.compareAndWrite(lockLba, 1), initiator, dataOut: atsPayload(free, lockRecord(i + 1, unit.blockSize)) }),
      ),
    );
    return results.map((r) => r.status);
  }

  it("only one of many racing contenders wins (memory store, with reads and writes around the lock)", async () => {
    const { unit, store } = memoryUnit(64);
    const background = Array.from({ length: 16 }, (_, i) =>
      i % 2 ? unit.execute({ cdb: Cdb.read10(7, 3), initiator: "bg" }) : unit.execute({ cdb: Cdb.write10(i, 1), initiator: "bg", dataOut: new Uint8Array(512) }),
    );
    const statuses = await raceForTheLock(unit, 24, 8);
    await Promise.all(background);
    expect(statuses.filter((s) => s === ScsiStatus.GOOD)).toHaveLength(1);
    expect(statuses.filter((s) => s === ScsiStatus.CHECK_CONDITION)).toHaveLength(23);
    const winner = statuses.indexOf(ScsiStatus.GOOD) + 1;
    expect(store.contents[8 * 512]).toBe(winner);
  });

  describe("on a file store", () => {
    let directory: string | undefined;
    afterEach(() => {
      if (directory) rmSync(directory, { recursive: true, force: true });
      directory = undefined;
    });

    it("only one of many racing contenders wins, and the file holds the winner's record", async () => {
      directory = mkdtempSync(join(tmpdir(), "vmk-scsi-ats-"));
      const path = join(directory, "shared.img");
      const store = await FileLunStore.create(path, 256 * 4096);
      const unit = new LogicalUnit({ store, identity: { name: "san/vmfs-datastore" }, blockSize: 4096 });
      try {
        const statuses = await raceForTheLock(unit, 32, 17);
        expect(statuses.filter((s) => s === ScsiStatus.GOOD)).toHaveLength(1);
        const winner = statuses.indexOf(ScsiStatus.GOOD) + 1;
        const onDisk = readFileSync(path).subarray(17 * 4096, 18 * 4096);
        expect([...onDisk]).toEqual([...lockRecord(winner, 4096)]);
      } finally {
        await unit.close();
      }
    });
  });
});
