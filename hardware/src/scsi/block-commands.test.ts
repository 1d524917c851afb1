import { describe, expect, it } from "vitest";
import { ScsiStatus } from "./scsi-command.js";
import { Asc, decodeFixedSense, SenseKey } from "./sense.js";
import { attach, Cdb, expectGood, expectSense, memoryUnit, pattern, unmapParameterList } from "./test-support.js";

const A = "hba0:host-a";
const be32 = (b: Uint8Array, o: number) => Buffer.from(b).readUInt32BE(o);
const be64 = (b: Uint8Array, o: number) => Number(Buffer.from(b).readBigUInt64BE(o));

describe("READ CAPACITY", () => {
  it("(10) returns the last LBA and the block length", async () => {
    const { unit } = memoryUnit(2048);
    await attach(unit, A);
    const response = await unit.execute({ cdb: Cdb.readCapacity10(), initiator: A });
    expectGood(response);
    expect(response.dataIn!.length).toBe(8);
    expect(be32(response.dataIn!, 0)).toBe(2047);
    expect(be32(response.dataIn!, 4)).toBe(512);
  });

  it("(16) returns the last LBA, block length and LBPME/LBPRZ, for 4096-byte blocks too", async () => {
    const { unit } = memoryUnit(300, { blockSize: 4096 });
    await attach(unit, A);
    const data = (await unit.execute({ cdb: Cdb.readCapacity16(32), initiator: A })).dataIn!;
    expect(data.length).toBe(32);
    expect(be64(data, 0)).toBe(299);
    expect(be32(data, 8)).toBe(4096);
    expect(data[12]).toBe(0); // no protection
    expect(data[13]).toBe(0); // one logical block per physical block
    expect(data[14]! & 0xc0).toBe(0xc0);
    const short = (await unit.execute({ cdb: Cdb.readCapacity16(12), initiator: A })).dataIn!;
    expect(short.length).toBe(12);
  });

  it("(16) rejects another SERVICE ACTION IN service action", async () => {
    const { unit } = memoryUnit();
    await attach(unit, A);
    const cdb = Cdb.readCapacity16();
    cdb[1] = 0x12;
    expectSense(await unit.execute({ cdb, initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
  });
});

describe("READ and WRITE", () => {
  it.each([
    ["6", Cdb.read6, Cdb.write6],
    ["10", Cdb.read10, Cdb.write10],
    ["12", Cdb.read12, Cdb.write12],
    ["16", Cdb.read16, Cdb.write16],
  ] as const)("(%s) round-trip through the store's bytes", async (_name, read, write) => {
    const { unit, store } = memoryUnit(2048);
    await attach(unit, A);
    const data = pattern(4 * 512, 6);
    const written = await unit.execute({ cdb: write(100, 4), initiator: A, dataOut: data });
    expectGood(written);
    expect(written.residual).toBe(0);
    expect([...store.contents.subarray(100 * 512, 104 * 512)]).toEqual([...data]);
    expect(store.contents[99 * 512 + 511]).toBe(0);
    expect(store.contents[104 * 512]).toBe(0);
    const back = await unit.execute({ cdb: read(100, 4), initiator: A, dataInLength: 4 * 512 });
    expectGood(back);
    expect([...back.dataIn!]).toEqual([...data]);
    expect(back.residual).toBe(0);
  });

  it("(6) treats a transfer length of 0 as 256 blocks", async () => {
    const { unit } = memoryUnit(2048);
    await attach(unit, A);
    const response = await unit.execute({ cdb: Cdb.read6(0, 0), initiator: A });
    expect(response.dataIn!.length).toBe(256 * 512);
  });

  it("reads straight into the initiator's buffer", async () => {
    const { unit, store } = memoryUnit(64, { blockSize: 4096 });
    await attach(unit, A);
    store.contents.set(pattern(4096, 1), 5 * 4096);
    const buffer = new Uint8Array(8192);
    const response = await unit.execute({ cdb: Cdb.read10(5, 1), initiator: A, dataInBuffer: buffer });
    expect(response.dataIn!.buffer).toBe(buffer.buffer);
    expect(response.dataIn!.length).toBe(4096);
    expect(response.residual).toBe(4096);
    expect([...buffer.subarray(0, 4096)]).toEqual([...pattern(4096, 1)]);
  });

  it("reports an overrun when the initiator offers less than the command reads", async () => {
    const { unit } = memoryUnit();
    await attach(unit, A);
    const response = await unit.execute({ cdb: Cdb.read10(0, 2), initiator: A, dataInLength: 512 });
    expectGood(response);
    expect(response.dataIn!.length).toBe(512);
    expect(response.residual).toBe(-512);
  });

  it("rejects a write whose data-out is shorter than the transfer length, writing nothing", async () => {
    const { unit, store } = memoryUnit();
    await attach(unit, A);
    const response = await unit.execute({ cdb: Cdb.write10(0, 2), initiator: A, dataOut: new Uint8Array(512).fill(1) });
    expectSense(response, SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    expect(store.contents[0]).toBe(0);
  });

  it("fails out-of-range LBAs with LBA OUT OF RANGE", async () => {
    const { unit } = memoryUnit(100);
    await attach(unit, A);
    expectSense(await unit.execute({ cdb: Cdb.read10(99, 2), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.LBA_OUT_OF_RANGE);
    expectSense(await unit.execute({ cdb: Cdb.read16(2 ** 40, 1), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.LBA_OUT_OF_RANGE);
    expectSense(await unit.execute({ cdb: Cdb.write10(100, 1), initiator: A, dataOut: new Uint8Array(512) }), SenseKey.ILLEGAL_REQUEST, Asc.LBA_OUT_OF_RANGE);
    expectGood(await unit.execute({ cdb: Cdb.read10(99, 1), initiator: A }));
  });

  it("rejects protection information and transfers above the maximum", async () => {
    const { unit } = memoryUnit(4096, { limits: { maxTransferBlocks: 128 } });
    await attach(unit, A);
    const protectedRead = await unit.execute({ cdb: Cdb.read10(0, 1, 0x20), initiator: A });
    expectSense(protectedRead, SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    expect(protectedRead.sense![17]).toBe(1);
    const tooLong = await unit.execute({ cdb: Cdb.read10(0, 129), initiator: A });
    expectSense(tooLong, SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    expect(tooLong.sense![17]).toBe(7);
  });

  it("flushes the store for FUA writes only", async () => {
    const { unit, store } = memoryUnit();
    await attach(unit, A);
    await unit.execute({ cdb: Cdb.write10(0, 1), initiator: A, dataOut: new Uint8Array(512) });
    expect(store.flushes).toBe(0);
    await unit.execute({ cdb: Cdb.write10(0, 1, 0x08), initiator: A, dataOut: new Uint8Array(512) });
    await unit.execute({ cdb: Cdb.write16(0, 1, 0x08), initiator: A, dataOut: new Uint8Array(512) });
    expect(store.flushes).toBe(2);
  });
});

describe("error and state commands", () => {
  it("answers an unknown opcode with INVALID COMMAND OPERATION CODE", async () => {
    const { unit } = memoryUnit();
    await attach(unit, A);
    const cdb = new Uint8Array(10);
    cdb[0] = 0x3c; // READ BUFFER: not offered
    const response = await unit.execute({ cdb, initiator: A, dataInLength: 64 });
    const sense = expectSense(response, SenseKey.ILLEGAL_REQUEST, Asc.INVALID_COMMAND_OPERATION_CODE);
    expect(sense.information).toBeUndefined();
    expect(response.residual).toBe(64);
    // Fixed format, current error, additional length 10.
    expect(response.sense!.length).toBe(18);
    expect(response.sense![0]).toBe(0x70);
    expect(response.sense![7]).toBe(10);
  });

  it("rejects a CDB shorter than its group and the NACA bit", async () => {
    const { unit } = memoryUnit();
    await attach(unit, A);
    expectSense(await unit.execute({ cdb: Cdb.read10(0, 1).subarray(0, 6), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    const naca = Cdb.read10(0, 1);
    naca[9] = 0x04;
    expectSense(await unit.execute({ cdb: naca, initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
  });

  it("START STOP UNIT: a stopped unit is NOT READY for media access and TEST UNIT READY", async () => {
    const { unit } = memoryUnit();
    await attach(unit, A);
    expectGood(await unit.execute({ cdb: Cdb.startStopUnit(false), initiator: A }));
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: A }), SenseKey.NOT_READY, Asc.NOT_READY_INITIALIZING_COMMAND_REQUIRED);
    expectSense(await unit.execute({ cdb: Cdb.read10(0, 1), initiator: A }), SenseKey.NOT_READY, Asc.NOT_READY_INITIALIZING_COMMAND_REQUIRED);
    const sense = await unit.execute({ cdb: Cdb.requestSense(), initiator: A });
    expectGood(sense);
    expect(decodeFixedSense(sense.dataIn!)).toMatchObject({ key: SenseKey.NOT_READY, asc: 0x04, ascq: 0x02 });
    expectGood(await unit.execute({ cdb: Cdb.inquiry(), initiator: A }));
    expectGood(await unit.execute({ cdb: Cdb.startStopUnit(true), initiator: A }));
    expectGood(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: A }));
  });

  it("REQUEST SENSE reports NO SENSE on a quiet unit and refuses descriptor format", async () => {
    const { unit } = memoryUnit();
    await attach(unit, A);
    const response = await unit.execute({ cdb: Cdb.requestSense(252), initiator: A });
    expectGood(response);
    expect(response.dataIn!.length).toBe(18);
    expect(decodeFixedSense(response.dataIn!)).toMatchObject({ key: SenseKey.NO_SENSE, asc: 0, ascq: 0 });
    expect((await unit.execute({ cdb: Cdb.requestSense(8), initiator: A })).dataIn!.length).toBe(8);
    expectSense(await unit.execute({ cdb: Cdb.requestSense(252, true), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
  });
});

describe("MODE SENSE", () => {
  it("(6) caching page with header and short block descriptor", async () => {
    const { unit } = memoryUnit(2048);
    await attach(unit, A);
    const data = (await unit.execute({ cdb: Cdb.modeSense6(0x08), initiator: A })).dataIn!;
    expect(data[0]).toBe(data.length - 1);
    expect(data.length).toBe(4 + 8 + 20);
    expect(data[2]! & 0x10).toBe(0x10); // DPOFUA
    expect(data[2]! & 0x80).toBe(0); // not write protected
    expect(data[3]).toBe(8);
    expect(be32(data, 4)).toBe(2048);
    expect((data[9]! << 16) | (data[10]! << 8) | data[11]!).toBe(512);
    expect(data[12]).toBe(0x08);
    expect(data[13]).toBe(0x12);
    expect(data[14]! & 0x04).toBe(0x04); // WCE
    expect(data[14]! & 0x01).toBe(0); // RCD clear
  });

  it("(6) control page with DBD; all pages in ascending order", async () => {
    const { unit } = memoryUnit();
    await attach(unit, A);
    const control = (await unit.execute({ cdb: Cdb.modeSense6(0x0a, { dbd: true }), initiator: A })).dataIn!;
    expect(control[3]).toBe(0);
    expect([control[4], control[5]]).toEqual([0x0a, 0x0a]);
    expect(control[6]! & 0x04).toBe(0); // D_SENSE: fixed format
    expect(control.length).toBe(4 + 12);
    const all = (await unit.execute({ cdb: Cdb.modeSense6(0x3f, { dbd: true }), initiator: A })).dataIn!;
    expect(all.length).toBe(4 + 20 + 12);
    expect(all[4]).toBe(0x08);
    expect(all[24]).toBe(0x0a);
  });

  it("(10) with a long LBA block descriptor", async () => {
    const { unit } = memoryUnit(2048, { blockSize: 4096 });
    await attach(unit, A);
    const data = (await unit.execute({ cdb: Cdb.modeSense10(0x3f, { llbaa: true }), initiator: A })).dataIn!;
    expect((data[0]! << 8) | data[1]!).toBe(data.length - 2);
    expect(data[3]! & 0x10).toBe(0x10);
    expect(data[4]! & 0x01).toBe(1); // LONGLBA
    expect((data[6]! << 8) | data[7]!).toBe(16);
    expect(be64(data, 8)).toBe(2048);
    expect(be32(data, 20)).toBe(4096);
    expect(data[24]).toBe(0x08);
    expect(data.length).toBe(8 + 16 + 20 + 12);
    const short = (await unit.execute({ cdb: Cdb.modeSense10(0x08), initiator: A })).dataIn!;
    expect((short[6]! << 8) | short[7]!).toBe(8);
  });

  it("reports nothing changeable, refuses saved values and unknown pages, honours allocation length", async () => {
    const { unit } = memoryUnit();
    await attach(unit, A);
    const changeable = (await unit.execute({ cdb: Cdb.modeSense6(0x08, { pageControl: 1, dbd: true }), initiator: A })).dataIn!;
    expect([...changeable.subarray(6)].every((b) => b === 0)).toBe(true);
    expectSense(await unit.execute({ cdb: Cdb.modeSense6(0x08, { pageControl: 3 }), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.SAVING_PARAMETERS_NOT_SUPPORTED);
    expectSense(await unit.execute({ cdb: Cdb.modeSense6(0x1c), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    expectSense(await unit.execute({ cdb: Cdb.modeSense6(0x08, { subpage: 1 }), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    const four = await unit.execute({ cdb: Cdb.modeSense6(0x3f, { allocation: 4 }), initiator: A });
    expect(four.dataIn!.length).toBe(4);
    expect(four.dataIn![0]).toBe(4 + 8 + 20 + 12 - 1);
  });
});

describe("SYNCHRONIZE CACHE, UNMAP, VERIFY", () => {
  it("SYNCHRONIZE CACHE (10, 16) flushes the store and checks the LBA", async () => {
    const { unit, store } = memoryUnit(100);
    await attach(unit, A);
    expectGood(await unit.execute({ cdb: Cdb.synchronizeCache10(), initiator: A }));
    expectGood(await unit.execute({ cdb: Cdb.synchronizeCache16(10, 5), initiator: A }));
    expectGood(await unit.execute({ cdb: Cdb.synchronizeCache10(0, 0, true), initiator: A }));
    expect(store.flushes).toBe(3);
    expectSense(await unit.execute({ cdb: Cdb.synchronizeCache10(100, 1), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.LBA_OUT_OF_RANGE);
  });

  it("UNMAP zeroes the described extents only", async () => {
    const { unit, store } = memoryUnit(256);
    await attach(unit, A);
    store.contents.fill(0xab);
    const list = unmapParameterList([
      { lba: 10, blocks: 2 },
      { lba: 100, blocks: 1 },
    ]);
    expectGood(await unit.execute({ cdb: Cdb.unmap(list.length), initiator: A, dataOut: list }));
    expect(store.contents.subarray(10 * 512, 12 * 512).every((b) => b === 0)).toBe(true);
    expect(store.contents.subarray(100 * 512, 101 * 512).every((b) => b === 0)).toBe(true);
    expect(store.contents[10 * 512 - 1]).toBe(0xab);
    expect(store.contents[12 * 512]).toBe(0xab);
    expect(store.contents[101 * 512]).toBe(0xab);
  });

  it("UNMAP enforces its limits and ranges", async () => {
    const { unit } = memoryUnit(256, { limits: { maxUnmapBlocks: 8, maxUnmapDescriptors: 2 } });
    await attach(unit, A);
    const tooMany = unmapParameterList([{ lba: 0, blocks: 1 }, { lba: 2, blocks: 1 }, { lba: 4, blocks: 1 }]);
    expectSense(await unit.execute({ cdb: Cdb.unmap(tooMany.length), initiator: A, dataOut: tooMany }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_PARAMETER_LIST);
    const tooBig = unmapParameterList([{ lba: 0, blocks: 9 }]);
    expectSense(await unit.execute({ cdb: Cdb.unmap(tooBig.length), initiator: A, dataOut: tooBig }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_PARAMETER_LIST);
    const outside = unmapParameterList([{ lba: 255, blocks: 2 }]);
    expectSense(await unit.execute({ cdb: Cdb.unmap(outside.length), initiator: A, dataOut: outside }), SenseKey.ILLEGAL_REQUEST, Asc.LBA_OUT_OF_RANGE);
    expectSense(await unit.execute({ cdb: Cdb.unmap(4), initiator: A, dataOut: new Uint8Array(4) }), SenseKey.ILLEGAL_REQUEST, Asc.PARAMETER_LIST_LENGTH_ERROR);
    expectGood(await unit.execute({ cdb: Cdb.unmap(0), initiator: A }));
  });

  it("WRITE SAME repeats one block over the range, or discards it with UNMAP and a zero block", async () => {
    const { unit, store } = memoryUnit(4096, { limits: { maxWriteSameBlocks: 3000 } });
    await attach(unit, A);
    const block = pattern(512, 13);
    expectGood(await unit.execute({ cdb: Cdb.writeSame16(10, 2500), initiator: A, dataOut: block }));
    for (const lba of [10, 11, 1000, 2509]) expect([...store.contents.subarray(lba * 512, (lba + 1) * 512)]).toEqual([...block]);
    expect(store.contents[2510 * 512]).toBe(0);
    expectGood(await unit.execute({ cdb: Cdb.writeSame10(11, 2, 0x08), initiator: A, dataOut: new Uint8Array(512) }));
    expect(store.contents.subarray(11 * 512, 13 * 512).every((b) => b === 0)).toBe(true);
    expect(store.contents[13 * 512]).toBe(block[0]);
    expectGood(await unit.execute({ cdb: Cdb.writeSame16(20, 1, 0x01), initiator: A })); // NDOB
    expect(store.contents.subarray(20 * 512, 21 * 512).every((b) => b === 0)).toBe(true);
    expectSense(await unit.execute({ cdb: Cdb.writeSame16(0, 3001), initiator: A, dataOut: block }), SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB);
    expectSense(await unit.execute({ cdb: Cdb.writeSame16(4095, 2), initiator: A, dataOut: block }), SenseKey.ILLEGAL_REQUEST, Asc.LBA_OUT_OF_RANGE);
    expectGood(await unit.execute({ cdb: Cdb.writeSame16(3000, 0), initiator: A, dataOut: block })); // 0: through the last block
    expect([...store.contents.subarray(4095 * 512)]).toEqual([...block]);
  });

  it("VERIFY checks the range, and with BYTCHK compares data-out, reporting the miscompare offset", async () => {
    const { unit, store } = memoryUnit(64);
    await attach(unit, A);
    const data = pattern(3 * 512, 9);
    store.contents.set(data, 4 * 512);
    expectGood(await unit.execute({ cdb: Cdb.verify10(4, 3), initiator: A }));
    expectGood(await unit.execute({ cdb: Cdb.verify16(4, 3, 1), initiator: A, dataOut: data }));
    const changed = data.slice();
    changed[700] ^= 0xff;
    const miscompare = expectSense(await unit.execute({ cdb: Cdb.verify10(4, 3, 1), initiator: A, dataOut: changed }), SenseKey.MISCOMPARE, Asc.MISCOMPARE_DURING_VERIFY);
    expect(miscompare.information).toBe(700);
    store.contents.fill(7, 0, 2 * 512);
    expectGood(await unit.execute({ cdb: Cdb.verify10(0, 2, 3), initiator: A, dataOut: new Uint8Array(512).fill(7) }));
    expectSense(await unit.execute({ cdb: Cdb.verify10(63, 2), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.LBA_OUT_OF_RANGE);
  });
});

describe("unit attentions", () => {
  it("are reported once per initiator after a reset, and REQUEST SENSE reports and clears them", async () => {
    const { unit } = memoryUnit();
    const [a, b, c] = ["hba0:host-a", "hba1:host-a", "hba0:host-b"];
    await attach(unit, a, b, c);
    unit.reset();
    for (const initiator of [a, b]) {
      expectSense(await unit.execute({ cdb: Cdb.read10(0, 1), initiator }), SenseKey.UNIT_ATTENTION, Asc.LOGICAL_UNIT_RESET);
      expectGood(await unit.execute({ cdb: Cdb.read10(0, 1), initiator }));
    }
    const sense = await unit.execute({ cdb: Cdb.requestSense(), initiator: c });
    expectGood(sense);
    expect(decodeFixedSense(sense.dataIn!)).toMatchObject({ key: SenseKey.UNIT_ATTENTION, asc: 0x29, ascq: 0x03 });
    expectGood(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: c }));
  });

  it("a nexus seen for the first time gets POWER ON, RESET", async () => {
    const { unit } = memoryUnit();
    const response = await unit.execute({ cdb: Cdb.read10(0, 1), initiator: "late-comer", dataInLength: 512 });
    expectSense(response, SenseKey.UNIT_ATTENTION, Asc.POWER_ON_RESET_OR_BUS_DEVICE_RESET);
    expect(response.residual).toBe(512);
    expect(response.dataIn).toBeUndefined();
  });

  it("CAPACITY DATA HAS CHANGED follows a resize, and READ CAPACITY shows the new size", async () => {
    const { unit } = memoryUnit(100);
    await attach(unit, A, "other");
    await unit.resize(150);
    expectSense(await unit.execute({ cdb: Cdb.readCapacity10(), initiator: A }), SenseKey.UNIT_ATTENTION, Asc.CAPACITY_DATA_HAS_CHANGED);
    expect(be32((await unit.execute({ cdb: Cdb.readCapacity10(), initiator: A })).dataIn!, 0)).toBe(149);
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: "other" }), SenseKey.UNIT_ATTENTION, Asc.CAPACITY_DATA_HAS_CHANGED);
    expectGood(await unit.execute({ cdb: Cdb.read10(149, 1), initiator: A }));
  });

  it("a reset supersedes other pending conditions", async () => {
    const { unit } = memoryUnit(100);
    await attach(unit, A);
    await unit.resize(120);
    unit.reset();
    expectSense(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: A }), SenseKey.UNIT_ATTENTION, Asc.LOGICAL_UNIT_RESET);
    expect((await unit.execute({ cdb: Cdb.testUnitReady(), initiator: A })).status).toBe(ScsiStatus.GOOD);
  });
});
