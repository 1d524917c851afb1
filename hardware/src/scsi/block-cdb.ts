import { getBe16, getBe24, getBe32, getBe64 } from "./big-endian.js";
import { ScsiOpcode } from "./opcodes.js";
import { CheckCondition } from "./sense.js";

/** The media-access fields of a READ, WRITE, VERIFY or SYNCHRONIZE CACHE CDB. */
export interface BlockRange {
  lba: number;
  blocks: number;
  /** Byte offset of the transfer length field, for sense field pointers. */
  lengthField: number;
}

/** READ/WRITE (6, 10, 12, 16): LBA and transfer length (SBC-3 5.8–5.11, 5.29–5.32). */
export function decodeReadWrite(cdb: Uint8Array): BlockRange {
  switch (cdb[0]) {
    case ScsiOpcode.READ_6:
    case ScsiOpcode.WRITE_6:
      // A 6-byte transfer length of 0 means 256 blocks (SBC-3 5.8).
      return { lba: getBe24(cdb, 1) & 0x1fffff, blocks: cdb[4]! === 0 ? 256 : cdb[4]!, lengthField: 4 };
    case ScsiOpcode.READ_10:
    case ScsiOpcode.WRITE_10:
      return { lba: getBe32(cdb, 2), blocks: getBe16(cdb, 7), lengthField: 7 };
    case ScsiOpcode.READ_12:
    case ScsiOpcode.WRITE_12:
      return { lba: getBe32(cdb, 2), blocks: getBe32(cdb, 6), lengthField: 6 };
    default:
      return { lba: getBe64(cdb, 2), blocks: getBe32(cdb, 10), lengthField: 10 };
  }
}

/** VERIFY (10, 16) and SYNCHRONIZE CACHE (10, 16) share the 10- and 16-byte layouts. */
export function decodeTenOrSixteen(cdb: Uint8Array): BlockRange {
  return cdb[0]! >> 5 === 4
    ? { lba: getBe64(cdb, 2), blocks: getBe32(cdb, 10), lengthField: 10 }
    : { lba: getBe32(cdb, 2), blocks: getBe16(cdb, 7), lengthField: 7 };
}

/** The protection field (RDPROTECT, WRPROTECT, VRPROTECT: byte 1 bits 7–5) must be 0: no protection information. */
export function rejectProtection(cdb: Uint8Array): void {
  if ((cdb[1]! & 0xe0) !== 0) throw CheckCondition.invalidCdbField(1, 7);
}

/** FUA (byte 1 bit 3) of the 10-, 12- and 16-byte READ/WRITE and COMPARE AND WRITE; the 6-byte forms have none. */
export function forceUnitAccess(cdb: Uint8Array): boolean {
  return cdb[0] !== ScsiOpcode.READ_6 && cdb[0] !== ScsiOpcode.WRITE_6 && (cdb[1]! & 0x08) !== 0;
}
