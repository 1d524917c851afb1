import { describe, expect, it } from "vitest";
import { formatNaa, resolveIdentity } from "./lu-identity.js";
import { ScsiStatus } from "./scsi-command.js";
import { Asc, SenseKey } from "./sense.js";
import { Cdb, expectGood, expectSense, memoryUnit } from "./test-support.js";

const A = "hba0:host-a";
const ascii = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const be32 = (b: Uint8Array, o: number) => Buffer.from(b).readUInt32BE(o);

describe("INQUIRY standard data (SPC-3 6.4.2)", () => {
  it("describes a direct-access SPC-3 device with VMK identification", async () => {
    const { unit } = memoryUnit(1024, { identity: { name: "array/lun3", product: "Test Disk", revision: "2.5" } });
    const response = await unit.execute({ cdb: Cdb.inquiry(96), initiator: A });
    expectGood(response);
    const data = response.dataIn!;
    expect(data.length).toBe(96);
    expect(data[0]).toBe(0x00); // peripheral qualifier 000b, device type 00h
    expect(data[1]).toBe(0x00); // not removable
    expect(data[2]).toBe(0x05); // SPC-3
    expect(data[3] & 0x0f).toBe(0x02); // response data format 2
    expect(data[3] & 0x10).toBe(0x10); // HISUP
    expect(data[4]).toBe(96 - 5);
    expect(data[7] & 0x02).toBe(0x02); // CMDQUE
    expect(ascii(data.subarray(8, 16))).toBe("VMK     ");
    expect(ascii(data.subarray(16, 32))).toBe("Test Disk       ");
    expect(ascii(data.subarray(32, 36))).toBe("2.5 ");
    expect([be16(data, 58), be16(data, 60), be16(data, 62)]).toEqual([0x0060, 0x0300, 0x04c0]);
  });

  it("is cut to the allocation length and reports the initiator's residual", async () => {
    const { unit } = memoryUnit();
    const short = await unit.execute({ cdb: Cdb.inquiry(36), initiator: A, dataInLength: 255 });
    expect(short.dataIn!.length).toBe(36);
    expect(short.residual).toBe(255 - 36);
    const buffer = new Uint8Array(64).fill(0xee);
    const into = await unit.execute({ cdb: Cdb.inquiry(255), initiator: A, dataInBuffer: buffer, dataInLength: 40 });
    expect(into.dataIn!.buffer).toBe(buffer.buffer);
    expect(into.dataIn!.length).toBe(40);
    expect(into.residual).toBe(40 - 96);
    expect(buffer[40]).toBe(0xee);
  });

  it("does not report or clear a pending unit attention", async () => {
    const { unit } = memoryUnit();
    expectGood(await unit.execute({ cdb: Cdb.inquiry(), initiator: A }));
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: A }), SenseKey.UNIT_ATTENTION, Asc.POWER_ON_RESET_OR_BUS_DEVICE_RESET);
  });

  it("rejects a page code without EVPD, and CMDDT", async () => {
    const { unit } = memoryUnit();
    const cdb = Cdb.inquiry();
    cdb[2] = 0x80;
    const sense = expectSense(await unit.execute({ cdb, initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    expect(sense.information).toBeUndefined();
    const cmddt = Cdb.inquiry();
    cmddt[1] = 0x02;
    const response = await unit.execute({ cdb: cmddt, initiator: A });
    expectSense(response, SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    // Sense-key specific: SKSV, C/D (in the CDB), BPV with bit 1, field pointer byte 1.
    expect([response.sense![15], response.sense![16], response.sense![17]]).toEqual([0x80 | 0x40 | 0x08 | 1, 0, 1]);
  });
});

describe("VPD pages", () => {
  it("0x00 lists the supported pages in ascending order", async () => {
    const { unit } = memoryUnit();
    const data = (await unit.execute({ cdb: Cdb.inquiry(255, 0x00), initiator: A })).dataIn!;
    expect(data[1]).toBe(0x00);
    expect(be16(data, 2)).toBe(data.length - 4);
    expect([...data.subarray(4)]).toEqual([0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2]);
  });

  it("0x80 carries the unit serial number", async () => {
    const { unit } = memoryUnit(1024, { identity: { name: "x", serial: "SN-0042" } });
    const data = (await unit.execute({ cdb: Cdb.inquiry(255, 0x80), initiator: A })).dataIn!;
    expect(data[1]).toBe(0x80);
    expect(be16(data, 2)).toBe(7);
    expect(ascii(data.subarray(4))).toBe("SN-0042");
  });

  it("0x83 has an NAA 6 designator derived from the identity, identical for every initiator", async () => {
    const { unit } = memoryUnit(1024, { identity: { name: "array1/lun7" } });
    const data = (await unit.execute({ cdb: Cdb.inquiry(255, 0x83), initiator: A })).dataIn!;
    expect(data[1]).toBe(0x83);
    expect(be16(data, 2)).toBe(data.length - 4);
    // First designation descriptor: binary code set, LU association, designator type 3 (NAA), 16 bytes.
    expect(data[4]! & 0x0f).toBe(0x1);
    expect(data[5]).toBe(0x03);
    expect(data[7]).toBe(16);
    const naa = data.subarray(8, 24);
    expect(naa[0]! >> 4).toBe(0x6);
    // IEEE company ID 000C29h spans the next 24 bits.
    expect(((naa[0]! & 0xf) << 20) | (naa[1]! << 12) | (naa[2]! << 4) | (naa[3]! >> 4)).toBe(0x000c29);
    expect([...naa]).toEqual([...resolveIdentity({ name: "array1/lun7" }).naa]);
    expect(unit.naaName).toMatch(/^naa\.6000c29[0-9a-f]{25}$/);
    // Second: ASCII T10 vendor ID designator.
    expect(data[24]! & 0x0f).toBe(0x2);
    expect(data[25]).toBe(0x01);
    expect(ascii(data.subarray(28, 36))).toBe("VMK     ");

    const other = (await unit.execute({ cdb: Cdb.inquiry(255, 0x83), initiator: "hba9:host-b" })).dataIn!;
    expect([...other]).toEqual([...data]);
    const elsewhere = memoryUnit(1024, { identity: { name: "array1/lun7" } }).unit;
    expect(elsewhere.naaName).toBe(unit.naaName);
    expect(formatNaa(resolveIdentity({ name: "array1/lun8" }).naa)).not.toBe(unit.naaName);
  });

  it("0xB0 block limits (SBC-3 6.5.3)", async () => {
    const { unit } = memoryUnit(1024, { limits: { maxCompareAndWriteBlocks: 8, maxUnmapBlocks: 4096, maxUnmapDescriptors: 16, maxTransferBlocks: 2048 } });
    const data = (await unit.execute({ cdb: Cdb.inquiry(255, 0xb0), initiator: A })).dataIn!;
    expect(data[1]).toBe(0xb0);
    expect(be16(data, 2)).toBe(0x3c);
    expect(data[5]).toBe(8);
    expect(be16(data, 6)).toBe(1);
    expect(be32(data, 8)).toBe(2048);
    expect(be32(data, 12)).toBe(unit.limits.optimalTransferBlocks);
    expect(be32(data, 20)).toBe(4096);
    expect(be32(data, 24)).toBe(16);
    expect(be32(data, 28)).toBe(1);
    expect(Number(Buffer.from(data).readBigUInt64BE(36))).toBe(unit.limits.maxWriteSameBlocks);
  });

  it("0xB1 reports a non-rotating medium and 0xB2 thin provisioning with UNMAP", async () => {
    const { unit } = memoryUnit();
    const b1 = (await unit.execute({ cdb: Cdb.inquiry(255, 0xb1), initiator: A })).dataIn!;
    expect(be16(b1, 2)).toBe(0x3c);
    expect(be16(b1, 4)).toBe(1);
    const b2 = (await unit.execute({ cdb: Cdb.inquiry(255, 0xb2), initiator: A })).dataIn!;
    expect(be16(b2, 2)).toBe(4);
    expect(b2[5]! & 0xe0).toBe(0xe0); // LBPU, LBPWS, LBPWS10
    expect(b2[5]! & 0x04).toBe(0x04); // LBPRZ
    expect(b2[6]! & 0x07).toBe(0x02); // thin provisioned
  });

  it("rejects an unsupported page", async () => {
    const { unit } = memoryUnit();
    const response = await unit.execute({ cdb: Cdb.inquiry(255, 0x86), initiator: A });
    expect(response.status).toBe(ScsiStatus.CHECK_CONDITION);
    expectSense(response, SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
  });
});
