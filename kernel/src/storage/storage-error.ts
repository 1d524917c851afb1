import { hostStatusName, scsiStatusName } from "./scsi-constants.js";
import { formatSense, type DecodedSense } from "./scsi-sense.js";

export type StorageFailure =
  /** The target or adapter returned a final error (after the retries the condition allows). */
  | "command-failed"
  /** No path to the device was usable for longer than the all-paths-down timeout. */
  | "all-paths-down"
  /** The one path the command was pinned to (scan, probe) was lost. */
  | "path-lost"
  /** The request itself is wrong: beyond the medium, a buffer too small. */
  | "invalid-request";

/** Why an I/O failed, with the SCSI outcome that decided it. */
export class StorageIoError extends Error {
  override readonly name = "StorageIoError";
  constructor(
    readonly device: string,
    readonly failure: StorageFailure,
    readonly hostStatus: number,
    readonly scsiStatus: number,
    readonly sense: DecodedSense | undefined,
    detail?: string,
  ) {
    super(`${device}: ${detail ?? describeOutcome(failure, hostStatus, scsiStatus, sense)}`);
  }
}

export function describeOutcome(failure: StorageFailure, hostStatus: number, scsiStatus: number, sense: DecodedSense | undefined): string {
  if (failure === "all-paths-down") return "all paths down";
  if (hostStatus !== 0) return `${failure}: ${hostStatusName(hostStatus)}`;
  if (sense !== undefined) return `${failure}: ${scsiStatusName(scsiStatus)}, ${formatSense(sense)}`;
  return `${failure}: ${scsiStatusName(scsiStatus)}`;
}
