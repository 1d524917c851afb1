/** SPC sense keys, shared with the kernel's midlayer. */
export { SenseKey } from "@vmk/kernel";
import { SenseKey } from "@vmk/kernel";

/** An additional sense code and its qualifier. */
export interface AdditionalSense {
  readonly asc: number;
  readonly ascq: number;
}

const code = (asc: number, ascq: number): AdditionalSense => Object.freeze({ asc, ascq });

/** The ASC/ASCQ pairs this target reports (SPC-3 Annex D). */
export const Asc = {
  NO_ADDITIONAL_SENSE: code(0x00, 0x00),
  NOT_READY_INITIALIZING_COMMAND_REQUIRED: code(0x04, 0x02),
  WRITE_ERROR: code(0x0c, 0x00),
  UNRECOVERED_READ_ERROR: code(0x11, 0x00),
  PARAMETER_LIST_LENGTH_ERROR: code(0x1a, 0x00),
  MISCOMPARE_DURING_VERIFY: code(0x1d, 0x00),
  INVALID_COMMAND_OPERATION_CODE: code(0x20, 0x00),
  LBA_OUT_OF_RANGE: code(0x21, 0x00),
  INVALID_FIELD_IN_CDB: code(0x24, 0x00),
  LOGICAL_UNIT_NOT_SUPPORTED: code(0x25, 0x00),
  INVALID_FIELD_IN_PARAMETER_LIST: code(0x26, 0x00),
  INVALID_RELEASE_OF_PERSISTENT_RESERVATION: code(0x26, 0x04),
  SPACE_ALLOCATION_FAILED_WRITE_PROTECT: code(0x27, 0x07),
  POWER_ON_RESET_OR_BUS_DEVICE_RESET: code(0x29, 0x00),
  LOGICAL_UNIT_RESET: code(0x29, 0x03),
  RESERVATIONS_PREEMPTED: code(0x2a, 0x03),
  RESERVATIONS_RELEASED: code(0x2a, 0x04),
  REGISTRATIONS_PREEMPTED: code(0x2a, 0x05),
  CAPACITY_DATA_HAS_CHANGED: code(0x2a, 0x09),
  SAVING_PARAMETERS_NOT_SUPPORTED: code(0x39, 0x00),
  INTERNAL_TARGET_FAILURE: code(0x44, 0x00),
} as const;

/** Fixed-format sense data is 18 bytes: 8 of header and an additional sense length of 10. */
export const FIXED_SENSE_LENGTH = 18;
const RESPONSE_CODE_CURRENT_FIXED = 0x70;
const VALID = 0x80;

/** Points at the CDB or parameter-list byte (and optionally bit) that was wrong: SPC-3 sense-key specific field. */
export interface FieldPointer {
  inCdb: boolean;
  byte: number;
  bit?: number;
}

export interface SenseDetail {
  key: SenseKey;
  code: AdditionalSense;
  /** The INFORMATION field (an LBA, a miscompare offset); sets VALID. */
  information?: number;
  field?: FieldPointer;
}

export function buildFixedSense(detail: SenseDetail): Uint8Array {
  const sense = new Uint8Array(FIXED_SENSE_LENGTH);
  sense[0] = RESPONSE_CODE_CURRENT_FIXED;
  sense[2] = detail.key;
  sense[7] = FIXED_SENSE_LENGTH - 8;
  sense[12] = detail.code.asc;
  sense[13] = detail.code.ascq;
  if (detail.information !== undefined) {
    // The 4-byte field cannot hold a larger value; SPC-3 then leaves VALID clear.
    if (detail.information >= 0 && detail.information <= 0xffffffff) {
      sense[0] |= VALID;
      new DataView(sense.buffer).setUint32(3, detail.information);
    }
  }
  if (detail.field) {
    const { inCdb, byte, bit } = detail.field;
    sense[15] = 0x80 | (inCdb ? 0x40 : 0) | (bit !== undefined ? 0x08 | (bit & 7) : 0);
    sense[16] = byte >> 8;
    sense[17] = byte & 0xff;
  }
  return sense;
}

/**
 * Thrown by command handlers to end a command with CHECK CONDITION. Not an Error: it is a normal
 * outcome, and capturing a stack for each would tax error-heavy workloads (path probing, UA storms).
 */
export class CheckCondition {
  constructor(readonly detail: SenseDetail) {}

  static illegalRequest(code: AdditionalSense, field?: FieldPointer): CheckCondition {
    return new CheckCondition({ key: SenseKey.ILLEGAL_REQUEST, code, field });
  }

  static invalidCdbField(byte: number, bit?: number): CheckCondition {
    return new CheckCondition({ key: SenseKey.ILLEGAL_REQUEST, code: Asc.INVALID_FIELD_IN_CDB, field: { inCdb: true, byte, bit } });
  }

  static invalidParameterField(byte: number, bit?: number): CheckCondition {
    return new CheckCondition({ key: SenseKey.ILLEGAL_REQUEST, code: Asc.INVALID_FIELD_IN_PARAMETER_LIST, field: { inCdb: false, byte, bit } });
  }

  static lbaOutOfRange(): CheckCondition {
    return new CheckCondition({ key: SenseKey.ILLEGAL_REQUEST, code: Asc.LBA_OUT_OF_RANGE });
  }
}

/** Decoded fixed-format sense, for initiators and tests. */
export interface DecodedSense {
  key: number;
  asc: number;
  ascq: number;
  information: number | undefined;
}

export function decodeFixedSense(sense: Uint8Array): DecodedSense {
  const responseCode = sense[0]! & 0x7f;
  if (responseCode !== 0x70 && responseCode !== 0x71) throw new RangeError(`not fixed-format sense (response code 0x${responseCode.toString(16)})`);
  const view = new DataView(sense.buffer, sense.byteOffset, sense.byteLength);
  return {
    key: sense[2]! & 0x0f,
    asc: sense[12] ?? 0,
    ascq: sense[13] ?? 0,
    information: sense[0]! & VALID ? view.getUint32(3) : undefined,
  };
}
