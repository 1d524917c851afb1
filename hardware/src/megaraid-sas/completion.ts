import type { DmaPort } from "@vmk/kernel";
import { FrameFlags, Header, MfiStatus } from "./mfi-frames.js";
import type { FetchedFrame } from "./fetched-frame.js";
import type { FrameContext } from "./state.js";

/** How a command ends, as the firmware reports it in the frame header. */
export interface Completion {
  status: MfiStatus;
  scsiStatus?: number;
  /** Sense data for the frame's sense buffer. */
  sense?: Uint8Array;
  /** New data_xfer_len: the bytes actually moved. */
  dataLength?: number;
  /** Aborted: the context is posted but the header is left as the host wrote it. */
  aborted?: boolean;
}

/** Where a completion lands: the frame header, its sense buffer, and the context for the reply queue. */
export interface CompletionTarget {
  frameAddress: number;
  flags: number;
  context: FrameContext;
  senseAddress?: number;
  senseCapacity: number;
}

export function completionTarget(frame: FetchedFrame, hasSense: boolean): CompletionTarget {
  return {
    frameAddress: frame.address,
    flags: frame.flags,
    context: frame.context,
    senseAddress: hasSense ? frame.senseAddress : undefined,
    senseCapacity: hasSense ? frame.senseLength : 0,
  };
}

export function rejection(status: MfiStatus): Completion {
  return { status };
}

/** Statuses that reject a frame as malformed rather than report an outcome. */
export const REJECTING_STATUSES: ReadonlySet<number> = new Set([MfiStatus.INVALID_CMD, MfiStatus.INVALID_PARAMETER, MfiStatus.INVALID_SGL]);

/**
 * Writes the completion into host memory: sense data and its length, SCSI status, transfer length,
 * and the command status last, since drivers polling a frame watch cmd_status. Returns the number of
 * writes the port refused.
 */
export function writeCompletion(dma: DmaPort, target: CompletionTarget, completion: Completion): number {
  let refused = 0;
  const frame = target.frameAddress;
  if (completion.sense && target.senseAddress !== undefined && target.senseCapacity > 0) {
    const sense = completion.sense.subarray(0, target.senseCapacity);
    if (dma.write(target.senseAddress, sense)) refused += writeByte(dma, frame + Header.SENSE_LENGTH, sense.length);
    else refused++;
  }
  if (completion.aborted) return refused;
  if (completion.scsiStatus !== undefined) refused += writeByte(dma, frame + Header.SCSI_STATUS, completion.scsiStatus);
  if (completion.dataLength !== undefined && !dma.writeU32(frame + Header.DATA_LENGTH, completion.dataLength)) refused++;
  refused += writeByte(dma, frame + Header.COMMAND_STATUS, completion.status);
  return refused;
}

/** The port copies the byte before it returns, so one staging byte serves every write. */
const STAGED_BYTE = new Uint8Array(1);

/** One byte to host memory; 1 when the port refused it. */
function writeByte(dma: DmaPort, address: number, value: number): number {
  STAGED_BYTE[0] = value;
  return dma.write(address, STAGED_BYTE) ? 0 : 1;
}

export function postsReply(target: CompletionTarget): boolean {
  return (target.flags & FrameFlags.DONT_POST_IN_REPLY_QUEUE) === 0;
}
