import { READ_CAPACITY_16_SERVICE_ACTION, ScsiOpcode } from "./scsi-constants.js";

/** Builders for the CDBs the midlayer issues. Multi-byte fields are big-endian, as SCSI is. */

export function testUnitReadyCdb(): Uint8Array {
  return new Uint8Array(6);
}

/** INQUIRY; with `vpdPage` the EVPD bit is set and that page is asked for. */
export function inquiryCdb(allocationLength: number, vpdPage?: number): Uint8Array {
  const cdb = new Uint8Array(6);
  cdb[0] = ScsiOpcode.INQUIRY;
  if (vpdPage !== undefined) {
    cdb[1] = 0x01;
    cdb[2] = vpdPage;
  }
  cdb[3] = allocationLength >>> 8;
  cdb[4] = allocationLength & 0xff;
  return cdb;
}

/** REPORT LUNS, select report 0 (every addressable LUN). */
export function reportLunsCdb(allocationLength: number): Uint8Array {
  const cdb = new Uint8Array(12);
  cdb[0] = ScsiOpcode.REPORT_LUNS;
  putBe32(cdb, 6, allocationLength);
  return cdb;
}

export function readCapacity10Cdb(): Uint8Array {
  const cdb = new Uint8Array(10);
  cdb[0] = ScsiOpcode.READ_CAPACITY_10;
  return cdb;
}

export const READ_CAPACITY_16_LENGTH = 32;

export function readCapacity16Cdb(): Uint8Array {
  const cdb = new Uint8Array(16);
  cdb[0] = ScsiOpcode.SERVICE_ACTION_IN_16;
  cdb[1] = READ_CAPACITY_16_SERVICE_ACTION;
  putBe32(cdb, 10, READ_CAPACITY_16_LENGTH);
  return cdb;
}

/** READ or WRITE, the 10-byte form when the LBA and length fit it (as sd does), else the 16-byte form. */
export function readWriteCdb(write: boolean, lba: number, blocks: number): Uint8Array {
  if (lba + blocks <= 0x1_0000_0000 && blocks <= 0xffff) {
    const cdb = new Uint8Array(10);
    cdb[0] = write ? ScsiOpcode.WRITE_10 : ScsiOpcode.READ_10;
    putBe32(cdb, 2, lba);
    cdb[7] = blocks >>> 8;
    cdb[8] = blocks & 0xff;
    return cdb;
  }
  const cdb = new Uint8Array(16);
  cdb[0] = write ? ScsiOpcode.WRITE_16 : ScsiOpcode.READ_16;
  putBe32(cdb, 2, Math.floor(lba / 0x1_0000_0000));
  putBe32(cdb, 6, lba >>> 0);
  putBe32(cdb, 10, blocks);
  return cdb;
}

/** SYNCHRONIZE CACHE(10) over the whole medium (LBA 0, 0 blocks). */
export function synchronizeCacheCdb(): Uint8Array {
  const cdb = new Uint8Array(10);
  cdb[0] = ScsiOpcode.SYNCHRONIZE_CACHE_10;
  return cdb;
}

export function putBe32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

export function be32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/** A 64-bit big-endian value; exact below 2^53, which covers every LBA a double can index. */
export function be64(bytes: Uint8Array, offset: number): number {
  return be32(bytes, offset) * 0x1_0000_0000 + be32(bytes, offset + 4);
}

const OPCODE_NAMES = new Map<number, string>([
  [0x00, "TEST UNIT READY"],
  [0x03, "REQUEST SENSE"],
  [0x12, "INQUIRY"],
  [0x16, "RESERVE(6)"],
  [0x17, "RELEASE(6)"],
  [0x25, "READ CAPACITY(10)"],
  [0x28, "READ(10)"],
  [0x2a, "WRITE(10)"],
  [0x35, "SYNCHRONIZE CACHE(10)"],
  [0x88, "READ(16)"],
  [0x89, "COMPARE AND WRITE"],
  [0x8a, "WRITE(16)"],
  [0x9e, "SERVICE ACTION IN(16)"],
  [0xa0, "REPORT LUNS"],
]);

/** For log lines: "READ(10)" or "opcode 0xc1". */
export function describeCdb(cdb: Uint8Array): string {
  const opcode = cdb[0] ?? 0;
  return OPCODE_NAMES.get(opcode) ?? `opcode 0x${opcode.toString(16).padStart(2, "0")}`;
}
