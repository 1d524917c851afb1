import { senseKeyName } from "./scsi-constants.js";

/** The fields of sense data the midlayer decides on, from either fixed (70h/71h) or descriptor (72h/73h) format. */
export interface DecodedSense {
  key: number;
  asc: number;
  ascq: number;
  /** Deferred errors (71h/73h) report on an earlier command. */
  deferred: boolean;
}

/** Returns undefined for empty or unrecognised sense (the midlayer then treats the condition as transient). */
export function decodeSense(sense: Uint8Array | undefined): DecodedSense | undefined {
  if (sense === undefined || sense.length < 2) return undefined;
  const responseCode = sense[0]! & 0x7f;
  if (responseCode === 0x70 || responseCode === 0x71) {
    if (sense.length < 3) return undefined;
    return { key: sense[2]! & 0x0f, asc: sense[12] ?? 0, ascq: sense[13] ?? 0, deferred: responseCode === 0x71 };
  }
  if (responseCode === 0x72 || responseCode === 0x73) {
    return { key: sense[1]! & 0x0f, asc: sense[2] ?? 0, ascq: sense[3] ?? 0, deferred: responseCode === 0x73 };
  }
  return undefined;
}

export function formatSense(sense: DecodedSense | undefined): string {
  if (sense === undefined) return "no sense";
  return `${senseKeyName(sense.key)} ${hex2(sense.asc)}/${hex2(sense.ascq)}`;
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, "0");
}
