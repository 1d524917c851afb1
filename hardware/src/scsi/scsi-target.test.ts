import { describe, expect, it } from "vitest";
import { decodeLun, encodeLun } from "./lun-address.js";
import { ScsiStatus } from "./scsi-command.js";
import { ScsiTarget } from "./scsi-target.js";
import { Asc, decodeFixedSense, SenseKey } from "./sense.js";
import { attach, Cdb, expectGood, expectSense, memoryUnit, pattern } from "./test-support.js";

const A = "hba0:host-a";

describe("ScsiTarget", () => {
  it("REPORT LUNS lists the mapped LUNs in 8-byte single-level format (SPC-3 6.21)", async () => {
    const target = new ScsiTarget("array-port0");
    target.map(0, memoryUnit().unit);
    target.map(5, memoryUnit().unit);
    target.map(300, memoryUnit().unit);
    const response = await target.execute(0, { cdb: Cdb.reportLuns(), initiator: A });
    expectGood(response);
    const data = response.dataIn!;
    expect(Buffer.from(data).readUInt32BE(0)).toBe(24);
    expect(Buffer.from(data).readUInt32BE(4)).toBe(0);
    expect([...data.subarray(8, 16)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect([...data.subarray(16, 24)]).toEqual([0, 5, 0, 0, 0, 0, 0, 0]);
    expect([...data.subarray(24, 32)]).toEqual([0x41, 0x2c, 0, 0, 0, 0, 0, 0]); // flat space addressing
    expect([0, 1, 2].map((i) => decodeLun(data, 8 + 8 * i))).toEqual([0, 5, 300]);
  });

  it("REPORT LUNS works on any LUN, is cut to its allocation length and needs at least 16", async () => {
    const target = new ScsiTarget("t");
    target.map(0, memoryUnit().unit);
    target.map(1, memoryUnit().unit);
    const cut = await target.execute(7, { cdb: Cdb.reportLuns(16), initiator: A, dataInLength: 4096 });
    expect(cut.dataIn!.length).toBe(16);
    expect(Buffer.from(cut.dataIn!).readUInt32BE(0)).toBe(16);
    expect(cut.residual).toBe(4096 - 16);
    expectSense(await target.execute(0, { cdb: Cdb.reportLuns(8), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    expectSense(await target.execute(0, { cdb: Cdb.reportLuns(64, 7), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
  });

  it("a LUN with nothing mapped: INQUIRY says so, other commands fail with LOGICAL UNIT NOT SUPPORTED", async () => {
    const target = new ScsiTarget("t");
    target.map(0, memoryUnit().unit);
    const inquiry = await target.execute(3, { cdb: Cdb.inquiry(36), initiator: A });
    expectGood(inquiry);
    expect(inquiry.dataIn![0]).toBe(0x7f);
    expectSense(await target.execute(3, { cdb: Cdb.read10(0, 1), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.LOGICAL_UNIT_NOT_SUPPORTED);
    const sense = await target.execute(3, { cdb: Cdb.requestSense(), initiator: A });
    expect(sense.status).toBe(ScsiStatus.GOOD);
    expect(decodeFixedSense(sense.dataIn!)).toMatchObject({ key: SenseKey.ILLEGAL_REQUEST, asc: 0x25 });
  });

  it("the same LU behind two target ports is one device: same identity, same blocks, one reservation", async () => {
    const { unit } = memoryUnit(64, { identity: { name: "array1/lun2" } });
    const spa = new ScsiTarget("spa");
    const spb = new ScsiTarget("spb");
    spa.map(2, unit);
    spb.map(4, unit);
    await attach(unit, "host-a:vmhba1", "host-b:vmhba2");
    const idA = (await spa.execute(2, { cdb: Cdb.inquiry(255, 0x83), initiator: "host-a:vmhba1" })).dataIn!;
    const idB = (await spb.execute(4, { cdb: Cdb.inquiry(255, 0x83), initiator: "host-b:vmhba2" })).dataIn!;
    expect([...idA]).toEqual([...idB]);
    const data = pattern(512, 2);
    expectGood(await spa.execute(2, { cdb: Cdb.write10(9, 1), initiator: "host-a:vmhba1", dataOut: data }));
    expect([...(await spb.execute(4, { cdb: Cdb.read10(9, 1), initiator: "host-b:vmhba2" })).dataIn!]).toEqual([...data]);
    expectGood(await spa.execute(2, { cdb: Cdb.reserve6(), initiator: "host-a:vmhba1" }));
    expect((await spb.execute(4, { cdb: Cdb.read10(9, 1), initiator: "host-b:vmhba2" })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
  });

  it("lunTarget gives an HBA model one LUN as a ScsiCommandTarget, through the port", async () => {
    const target = new ScsiTarget("t");
    const { unit } = memoryUnit(16);
    target.map(3, unit);
    await attach(unit, A);
    const drive = target.lunTarget(3);
    expectGood(await drive.execute({ cdb: Cdb.read10(0, 1), initiator: A }));
    expectSense(await target.lunTarget(4).execute({ cdb: Cdb.testUnitReady(), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.LOGICAL_UNIT_NOT_SUPPORTED);
    target.setPathLost(A, true);
    await expect(drive.execute({ cdb: Cdb.read10(0, 1), initiator: A })).rejects.toMatchObject({ reason: "path-lost" });
  });

  it("refuses to map a LUN twice or outside 0..16383", () => {
    const target = new ScsiTarget("t");
    target.map(1, memoryUnit().unit);
    expect(() => target.map(1, memoryUnit().unit)).toThrow(/already/);
    expect(() => target.map(16384, memoryUnit().unit)).toThrow(RangeError);
    expect(target.unmap(1)).toBeDefined();
    expect(target.luns()).toEqual([]);
  });
});

describe("LUN addressing", () => {
  it("round-trips peripheral and flat space addressing and rejects other methods", () => {
    for (const lun of [0, 1, 255, 256, 4095, 16383]) expect(decodeLun(encodeLun(lun))).toBe(lun);
    expect([...encodeLun(255).subarray(0, 2)]).toEqual([0x00, 0xff]);
    expect([...encodeLun(256).subarray(0, 2)]).toEqual([0x41, 0x00]);
    expect(decodeLun(Uint8Array.of(0x01, 0x02, 0, 0, 0, 0, 0, 0))).toBeUndefined(); // bus 1
    expect(decodeLun(Uint8Array.of(0x00, 0x02, 0x40, 0x01, 0, 0, 0, 0))).toBeUndefined(); // second level
    expect(() => encodeLun(16384)).toThrow(RangeError);
  });
});
