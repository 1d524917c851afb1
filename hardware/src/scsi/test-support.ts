// CDB builders and assertions shared by the SCSI tests (an initiator's view of the target).
import { expect } from "vitest";
import { putBe16, putBe32, putBe64 } from "./big-endian.js";
import { LogicalUnit, type LogicalUnitOptions } from "./logical-unit.js";
import { MemoryLunStore } from "./memory-lun-store.js";
import { ScsiOpcode } from "./opcodes.js";
import { ScsiStatus, type InitiatorId, type ScsiResponse } from "./scsi-command.js";
import { decodeFixedSense, SenseKey, type AdditionalSense } from "./sense.js";

function cdbOf(length: number, fill: (cdb: Uint8Array) => void): Uint8Array {
  const cdb = new Uint8Array(length);
  fill(cdb);
  return cdb;
}

export const Cdb = {
  testUnitReady: () => cdbOf(6, () => {}),
  requestSense: (allocation = 252, desc = false) =>
    cdbOf(6, (c) => {
      c[0] = ScsiOpcode.REQUEST_SENSE;
      c[1] = desc ? 1 : 0;
      c[4] = allocation;
    }),
  inquiry: (allocation = 255, page?: number) =>
    cdbOf(6, (c) => {
      c[0] = ScsiOpcode.INQUIRY;
      if (page !== undefined) {
        c[1] = 1;
        c[2] = page;
      }
      putBe16(c, 3, allocation);
    }),
  read6: (lba: number, blocks: number) =>
    cdbOf(6, (c) => {
      c[0] = ScsiOpcode.READ_6;
      c[1] = (lba >> 16) & 0x1f;
      c[2] = lba >> 8;
      c[3] = lba;
      c[4] = blocks;
    }),
  write6: (lba: number, blocks: number) => {
    const c = Cdb.read6(lba, blocks);
    c[0] = ScsiOpcode.WRITE_6;
    return c;
  },
  read10: (lba: number, blocks: number, byte1 = 0) =>
    cdbOf(10, (c) => {
      c[0] = ScsiOpcode.READ_10;
      c[1] = byte1;
      putBe32(c, 2, lba);
      putBe16(c, 7, blocks);
    }),
  write10: (lba: number, blocks: number, byte1 = 0) => {
    const c = Cdb.read10(lba, blocks, byte1);
    c[0] = ScsiOpcode.WRITE_10;
    return c;
  },
  read12: (lba: number, blocks: number) =>
    cdbOf(12, (c) => {
      c[0] = ScsiOpcode.READ_12;
      putBe32(c, 2, lba);
      putBe32(c, 6, blocks);
    }),
  write12: (lba: number, blocks: number) => {
    const c = Cdb.read12(lba, blocks);
    c[0] = ScsiOpcode.WRITE_12;
    return c;
  },
  read16: (lba: number, blocks: number, byte1 = 0) =>
    cdbOf(16, (c) => {
      c[0] = ScsiOpcode.READ_16;
      c[1] = byte1;
      putBe64(c, 2, lba);
      putBe32(c, 10, blocks);
    }),
  write16: (lba: number, blocks: number, byte1 = 0) => {
    const c = Cdb.read16(lba, blocks, byte1);
    c[0] = ScsiOpcode.WRITE_16;
    return c;
  },
  readCapacity10: () => cdbOf(10, (c) => (c[0] = ScsiOpcode.READ_CAPACITY_10)),
  readCapacity16: (allocation = 32) =>
    cdbOf(16, (c) => {
      c[0] = ScsiOpcode.SERVICE_ACTION_IN_16;
      c[1] = 0x10;
      putBe32(c, 10, allocation);
    }),
  modeSense6: (page: number, options: { pageControl?: number; dbd?: boolean; subpage?: number; allocation?: number } = {}) =>
    cdbOf(6, (c) => {
      c[0] = ScsiOpcode.MODE_SENSE_6;
      c[1] = options.dbd ? 0x08 : 0;
      c[2] = ((options.pageControl ?? 0) << 6) | page;
      c[3] = options.subpage ?? 0;
      c[4] = options.allocation ?? 255;
    }),
  modeSense10: (page: number, options: { pageControl?: number; dbd?: boolean; llbaa?: boolean; allocation?: number } = {}) =>
    cdbOf(10, (c) => {
      c[0] = ScsiOpcode.MODE_SENSE_10;
      c[1] = (options.dbd ? 0x08 : 0) | (options.llbaa ? 0x10 : 0);
      c[2] = ((options.pageControl ?? 0) << 6) | page;
      putBe16(c, 7, options.allocation ?? 1024);
    }),
  startStopUnit: (start: boolean, powerCondition = 0) =>
    cdbOf(6, (c) => {
      c[0] = ScsiOpcode.START_STOP_UNIT;
      c[4] = (powerCondition << 4) | (start ? 1 : 0);
    }),
  reserve6: () => cdbOf(6, (c) => (c[0] = ScsiOpcode.RESERVE_6)),
  release6: () => cdbOf(6, (c) => (c[0] = ScsiOpcode.RELEASE_6)),
  synchronizeCache10: (lba = 0, blocks = 0, immediate = false) =>
    cdbOf(10, (c) => {
      c[0] = ScsiOpcode.SYNCHRONIZE_CACHE_10;
      c[1] = immediate ? 0x02 : 0;
      putBe32(c, 2, lba);
      putBe16(c, 7, blocks);
    }),
  synchronizeCache16: (lba = 0, blocks = 0) =>
    cdbOf(16, (c) => {
      c[0] = ScsiOpcode.SYNCHRONIZE_CACHE_16;
      putBe64(c, 2, lba);
      putBe32(c, 10, blocks);
    }),
  writeSame16: (lba: number, blocks: number, byte1 = 0) =>
    cdbOf(16, (c) => {
      c[0] = ScsiOpcode.WRITE_SAME_16;
      c[1] = byte1;
      putBe64(c, 2, lba);
      putBe32(c, 10, blocks);
    }),
  writeSame10: (lba: number, blocks: number, byte1 = 0) =>
    cdbOf(10, (c) => {
      c[0] = ScsiOpcode.WRITE_SAME_10;
      c[1] = byte1;
      putBe32(c, 2, lba);
      putBe16(c, 7, blocks);
    }),
  unmap: (parameterListLength: number) =>
    cdbOf(10, (c) => {
      c[0] = ScsiOpcode.UNMAP;
      putBe16(c, 7, parameterListLength);
    }),
  compareAndWrite: (lba: number, blocks: number, fua = false) =>
    cdbOf(16, (c) => {
      c[0] = ScsiOpcode.COMPARE_AND_WRITE;
      c[1] = fua ? 0x08 : 0;
      putBe64(c, 2, lba);
      c[13] = blocks;
    }),
  verify10: (lba: number, blocks: number, byteCheck = 0) =>
    cdbOf(10, (c) => {
      c[0] = ScsiOpcode.VERIFY_10;
      c[1] = byteCheck << 1;
      putBe32(c, 2, lba);
      putBe16(c, 7, blocks);
    }),
  verify16: (lba: number, blocks: number, byteCheck = 0) =>
    cdbOf(16, (c) => {
      c[0] = ScsiOpcode.VERIFY_16;
      c[1] = byteCheck << 1;
      putBe64(c, 2, lba);
      putBe32(c, 10, blocks);
    }),
  persistentReserveIn: (serviceAction: number, allocation = 1024) =>
    cdbOf(10, (c) => {
      c[0] = ScsiOpcode.PERSISTENT_RESERVE_IN;
      c[1] = serviceAction;
      putBe16(c, 7, allocation);
    }),
  persistentReserveOut: (serviceAction: number, type = 0) =>
    cdbOf(10, (c) => {
      c[0] = ScsiOpcode.PERSISTENT_RESERVE_OUT;
      c[1] = serviceAction;
      c[2] = type;
      putBe32(c, 5, 24);
    }),
  reportLuns: (allocation = 4096, select = 0) =>
    cdbOf(12, (c) => {
      c[0] = ScsiOpcode.REPORT_LUNS;
      c[2] = select;
      putBe32(c, 6, allocation);
    }),
};

/** The basic PERSISTENT RESERVE OUT parameter list (SPC-3 6.12.3). */
export function prOutParameters(key: bigint, serviceActionKey: bigint, flags = 0): Uint8Array {
  const list = new Uint8Array(24);
  const view = new DataView(list.buffer);
  view.setBigUint64(0, key);
  view.setBigUint64(8, serviceActionKey);
  list[20] = flags;
  return list;
}

/** An UNMAP parameter list (SBC-3 5.28.2). */
export function unmapParameterList(extents: Array<{ lba: number; blocks: number }>): Uint8Array {
  const list = new Uint8Array(8 + 16 * extents.length);
  putBe16(list, 0, list.length - 2);
  putBe16(list, 2, 16 * extents.length);
  extents.forEach((extent, i) => {
    putBe64(list, 8 + 16 * i, extent.lba);
    putBe32(list, 16 + 16 * i, extent.blocks);
  });
  return list;
}

/** A fresh memory-backed logical unit. */
export function memoryUnit(blocks = 2048, options: Partial<LogicalUnitOptions> = {}): { unit: LogicalUnit; store: MemoryLunStore } {
  const blockSize = options.blockSize ?? 512;
  const store = new MemoryLunStore(blocks * blockSize);
  const unit = new LogicalUnit({ identity: { name: "test-array/lun0" }, ...options, store, blockSize });
  return { unit, store };
}

/** Takes the power-on unit attention every new nexus gets, so a test starts from a quiet unit. */
export async function attach(unit: LogicalUnit, ...initiators: InitiatorId[]): Promise<void> {
  for (const initiator of initiators) {
    const response = await unit.execute({ cdb: Cdb.testUnitReady(), initiator });
    expectSense(response, SenseKey.UNIT_ATTENTION, { asc: 0x29, ascq: 0x00 });
  }
}

export function expectGood(response: ScsiResponse): void {
  expect(response.sense ? decodeFixedSense(response.sense) : undefined).toBeUndefined();
  expect(response.status).toBe(ScsiStatus.GOOD);
}

export function expectSense(response: ScsiResponse, key: number, code: AdditionalSense): ReturnType<typeof decodeFixedSense> {
  expect(response.status).toBe(ScsiStatus.CHECK_CONDITION);
  expect(response.sense).toBeDefined();
  const sense = decodeFixedSense(response.sense!);
  expect({ key: sense.key, asc: sense.asc, ascq: sense.ascq }).toEqual({ key, asc: code.asc, ascq: code.ascq });
  return sense;
}

/** A block of `size` bytes filled with a recognisable pattern seeded by `seed`. */
export function pattern(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return bytes;
}
