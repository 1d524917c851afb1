import { putBe32 } from "../scsi-cdb.js";
import { SenseKey } from "../scsi-constants.js";
import type { ScsiAdapterCommand } from "../scsi-adapter.js";
import { check, noLogicalUnitInquiry, respond, type MemoryLun, type TargetResponse } from "./memory-lun.js";

/** A SCSI target port with LUNs behind it; it answers REPORT LUNS and routes the rest to the addressed LUN. */
export class FakeTarget {
  readonly luns = new Map<number, MemoryLun>();
  /** Off: REPORT LUNS is an invalid opcode, as on SCSI-2 devices, and the initiator has to scan sequentially. */
  reportLunsSupported = true;

  execute(initiator: string, command: ScsiAdapterCommand): TargetResponse {
    if (command.cdb[0] === 0xa0) return this.reportLuns(command);
    const lun = this.luns.get(command.lun);
    if (lun !== undefined) return lun.execute(initiator, command);
    if (command.cdb[0] === 0x12) return noLogicalUnitInquiry(command);
    return check(SenseKey.ILLEGAL_REQUEST, 0x25, 0x00, command.transferLength);
  }

  private reportLuns(command: ScsiAdapterCommand): TargetResponse {
    if (!this.reportLunsSupported) return check(SenseKey.ILLEGAL_REQUEST, 0x20, 0x00, command.transferLength);
    const numbers = [...this.luns.keys()].sort((a, b) => a - b);
    const data = new Uint8Array(8 + 8 * numbers.length);
    putBe32(data, 0, 8 * numbers.length);
    numbers.forEach((lun, i) => {
      // Peripheral device addressing below 256, flat space addressing above.
      data[8 + 8 * i] = lun < 256 ? 0 : 0x40 | (lun >> 8);
      data[9 + 8 * i] = lun & 0xff;
    });
    const cdb = command.cdb;
    const allocation = ((cdb[6]! << 24) | (cdb[7]! << 16) | (cdb[8]! << 8) | cdb[9]!) >>> 0;
    return respond(command, data, allocation);
  }
}
