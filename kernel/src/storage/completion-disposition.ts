import { HostStatus, ScsiStatus, SenseKey } from "./scsi-constants.js";
import { decodeSense } from "./scsi-sense.js";
import type { ScsiCompletion } from "./scsi-adapter.js";

/** What the midlayer does with a completion, as Linux's scsi_decide_disposition and ESX's NMP decide. */
export const Disposition = {
  SUCCESS: 0,
  /** Transient: send again now, charged to the retry budget. */
  RETRY: 1,
  /** Transient, but the target needs a moment (BUSY, TASK SET FULL, becoming ready). */
  RETRY_LATER: 2,
  /** The path cannot carry I/O: mark it dead and fail over, uncharged. */
  PATH_FAILURE: 3,
  /** The target port went to standby (ALUA): the path stays alive as standby, the I/O fails over. */
  PATH_STANDBY: 4,
  /** Final: the error goes to the caller. */
  FAIL: 5,
} as const;
export type Disposition = (typeof Disposition)[keyof typeof Disposition];

const ASC_NOT_READY = 0x04;
const ASCQ_BECOMING_READY = 0x01;
const ASCQ_ALUA_TRANSITION = 0x0a;
const ASCQ_ALUA_STANDBY = 0x0b;
const ASCQ_ALUA_UNAVAILABLE = 0x0c;
const ASC_LOGICAL_UNIT_NOT_SUPPORTED = 0x25;

export function decideDisposition(completion: ScsiCompletion): Disposition {
  switch (completion.hostStatus) {
    case HostStatus.DID_OK:
      return statusDisposition(completion);
    case HostStatus.DID_NO_CONNECT:
    case HostStatus.DID_BAD_TARGET:
    case HostStatus.DID_TRANSPORT_FAILFAST:
      return Disposition.PATH_FAILURE;
    case HostStatus.DID_BUS_BUSY:
    case HostStatus.DID_TRANSPORT_DISRUPTED:
      return Disposition.RETRY_LATER;
    case HostStatus.DID_TIME_OUT:
    case HostStatus.DID_ABORT:
    case HostStatus.DID_PARITY:
    case HostStatus.DID_ERROR:
    case HostStatus.DID_RESET:
    case HostStatus.DID_BAD_INTR:
    case HostStatus.DID_SOFT_ERROR:
    case HostStatus.DID_IMM_RETRY:
    case HostStatus.DID_REQUEUE:
      return Disposition.RETRY;
    default:
      return Disposition.FAIL;
  }
}

function statusDisposition(completion: ScsiCompletion): Disposition {
  switch (completion.scsiStatus) {
    case ScsiStatus.GOOD:
    case ScsiStatus.CONDITION_MET:
      return Disposition.SUCCESS;
    case ScsiStatus.BUSY:
    case ScsiStatus.TASK_SET_FULL:
      return Disposition.RETRY_LATER;
    case ScsiStatus.TASK_ABORTED:
      return Disposition.RETRY;
    case ScsiStatus.CHECK_CONDITION:
      return senseDisposition(completion.sense);
    default:
      return Disposition.FAIL;
  }
}

function senseDisposition(raw: Uint8Array | undefined): Disposition {
  const sense = decodeSense(raw);
  // CHECK CONDITION without usable sense: the adapter lost it; asking again is all one can do.
  if (sense === undefined) return Disposition.RETRY;
  switch (sense.key) {
    case SenseKey.RECOVERED_ERROR:
      return Disposition.SUCCESS;
    case SenseKey.NO_SENSE:
    case SenseKey.UNIT_ATTENTION:
    case SenseKey.ABORTED_COMMAND:
    case SenseKey.MEDIUM_ERROR:
    case SenseKey.HARDWARE_ERROR:
      return Disposition.RETRY;
    case SenseKey.NOT_READY:
      if (sense.asc !== ASC_NOT_READY) return Disposition.FAIL;
      if (sense.ascq === ASCQ_BECOMING_READY || sense.ascq === ASCQ_ALUA_TRANSITION) return Disposition.RETRY_LATER;
      if (sense.ascq === ASCQ_ALUA_STANDBY) return Disposition.PATH_STANDBY;
      if (sense.ascq === ASCQ_ALUA_UNAVAILABLE) return Disposition.PATH_FAILURE;
      return Disposition.FAIL;
    case SenseKey.ILLEGAL_REQUEST:
      // The LUN is gone from this path (ESX's permanent device loss on the path); others may still reach it.
      return sense.asc === ASC_LOGICAL_UNIT_NOT_SUPPORTED ? Disposition.PATH_FAILURE : Disposition.FAIL;
    default:
      return Disposition.FAIL;
  }
}

/** TEST UNIT READY answers that prove a path reaches its LUN: GOOD, or a unit attention (the LUN speaks). */
export function probeVerdict(completion: ScsiCompletion): "active" | "standby" | "dead" {
  if (completion.hostStatus !== HostStatus.DID_OK) return "dead";
  if (completion.scsiStatus === ScsiStatus.GOOD) return "active";
  if (completion.scsiStatus !== ScsiStatus.CHECK_CONDITION) return "dead";
  const sense = decodeSense(completion.sense);
  if (sense === undefined) return "dead";
  if (sense.key === SenseKey.UNIT_ATTENTION) return "active";
  if (sense.key === SenseKey.NOT_READY && sense.asc === ASC_NOT_READY && sense.ascq === ASCQ_ALUA_STANDBY) return "standby";
  return "dead";
}
