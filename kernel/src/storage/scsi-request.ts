import type { Nanoseconds } from "../clock/clock.js";
import type { DataDirection } from "./scsi-constants.js";
import type { ScsiAdapterCommand, ScsiDone, ScsiCompletion } from "./scsi-adapter.js";
import type { StorageFailure } from "./storage-error.js";
import type { ScsiPath } from "./scsi-path.js";

export type RequestKind = "read" | "write" | "other";

/**
 * Who a request goes back to after each attempt: the multipath device (which may pick another path)
 * or a pinned owner (scan and probe commands, which stay on their path).
 */
export interface RequestOwner {
  /** The request is over, successfully or not (`failure` says); the outcome fields are final. */
  finished(request: ScsiRequest): void;
  /** Send it again after `delayNs`; the retry budget has already been charged. */
  retry(request: ScsiRequest, delayNs: Nanoseconds): void;
  /** The path it went down failed; nothing was charged. */
  pathFailed(request: ScsiRequest, path: ScsiPath): void;
}

/** One logical SCSI command from a caller, across all its attempts (retries, failovers). */
export class ScsiRequest {
  hostStatus = 0;
  scsiStatus = 0;
  sense: Uint8Array | undefined = undefined;
  residual = 0;
  failure: StorageFailure | undefined = undefined;
  attempts = 0;
  retries = 0;
  /** The path of the latest attempt. */
  path: ScsiPath | undefined = undefined;
  readonly transferLength: number;

  constructor(
    readonly owner: RequestOwner,
    readonly cdb: Uint8Array,
    readonly direction: DataDirection,
    readonly data: readonly Uint8Array[],
    readonly kind: RequestKind,
    readonly blocks: number,
    readonly timeoutNs: Nanoseconds,
    public retriesLeft: number,
    /** Passthrough: a final SCSI status (CHECK CONDITION, RESERVATION CONFLICT) is the answer, not an error. */
    readonly reportsStatus: boolean,
    readonly submittedAt: Nanoseconds,
    readonly settle: (request: ScsiRequest) => void,
  ) {
    let length = 0;
    for (const segment of data) length += segment.length;
    this.transferLength = length;
  }

  record(completion: ScsiCompletion): void {
    this.hostStatus = completion.hostStatus;
    this.scsiStatus = completion.scsiStatus;
    this.sense = completion.sense;
    this.residual = completion.residual;
  }
}

/** Where an attempt stands. Only an ISSUED command may complete; anything else the adapter says about it is stale. */
export const CommandState = {
  ISSUED: 0,
  COMPLETED: 1,
  /** Past its deadline, waiting for error handling; a completion now is ignored. */
  TIMED_OUT: 2,
  /** Taken back from the adapter (abort, reset, adapter gone). */
  RECLAIMED: 3,
} as const;
export type CommandState = (typeof CommandState)[keyof typeof CommandState];

/** One attempt of a request on one path: the object the adapter sees, and its identity for abort. */
export class InFlightCommand implements ScsiAdapterCommand {
  state: CommandState = CommandState.ISSUED;
  readonly target: number;
  readonly lun: number;
  readonly cdb: Uint8Array;
  readonly direction: DataDirection;
  readonly data: readonly Uint8Array[];
  readonly transferLength: number;
  readonly timeoutNs: Nanoseconds;
  readonly done: ScsiDone;

  constructor(
    readonly request: ScsiRequest,
    readonly path: ScsiPath,
    readonly deadline: Nanoseconds,
    complete: (command: InFlightCommand, completion: ScsiCompletion) => void,
  ) {
    this.target = path.target;
    this.lun = path.lun;
    this.cdb = request.cdb;
    this.direction = request.direction;
    this.data = request.data;
    this.transferLength = request.transferLength;
    this.timeoutNs = request.timeoutNs;
    this.done = (completion) => complete(this, completion);
  }
}
