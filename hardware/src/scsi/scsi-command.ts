/**
 * The contract between a SCSI target (logical units behind a target port) and whoever hands it CDBs:
 * HBA models, and through them the kernel's SCSI midlayer. One command in, one response out; the
 * transfer directions follow SAM (data-out from the initiator, data-in to it).
 */

/** Identifies an I_T nexus: the initiator port (HBA, host) as the target sees it. Reservations and unit attentions are kept per nexus. */
export type InitiatorId = string;

/** SAM-5 status codes: the kernel's own vocabulary, which the target speaks too. */
export { ScsiStatus } from "@vmk/kernel";
import type { ScsiStatus } from "@vmk/kernel";

export interface ScsiCommand {
  /** The command descriptor block; its length must cover the opcode's group (6, 10, 12 or 16 bytes). */
  cdb: Uint8Array;
  initiator: InitiatorId;
  /** The data-out buffer; its length is the expected data-out transfer length. */
  dataOut?: Uint8Array;
  /**
   * The expected data-in transfer length (bytes the initiator can take). Absent: the initiator takes
   * whatever the command returns (within the CDB's own allocation length) and the residual is 0.
   */
  dataInLength?: number;
  /**
   * Where data-in should land when the initiator already has a buffer (a DMA window), so bulk reads
   * are never copied twice. It must hold at least `dataInLength` bytes; without it the target allocates.
   */
  dataInBuffer?: Uint8Array;
  /** Aborts the command (ABORT TASK) while it has not reached the medium yet. */
  signal?: TaskAbortSignal;
}

/**
 * The part of an AbortSignal a target uses: an AbortSignal fits, and so does a `TaskAbort`, which an
 * HBA model can afford for every command where an AbortController per command it cannot.
 */
export interface TaskAbortSignal {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

export interface ScsiResponse {
  status: ScsiStatus;
  /** The bytes actually transferred to the initiator (a view into `dataInBuffer` when one was given). */
  dataIn?: Uint8Array;
  /** Fixed-format sense data (response code 0x70), present with CHECK CONDITION. */
  sense?: Uint8Array;
  /**
   * Expected transfer length minus bytes transferred, in the command's data direction. Positive is an
   * underrun; negative an overrun (the command had more to move than the initiator offered).
   */
  residual: number;
}

/** Anything that executes commands for one logical unit number: a `LogicalUnit`, or a target's view of one. */
export interface ScsiCommandTarget {
  execute(command: ScsiCommand): Promise<ScsiResponse>;
}

/**
 * The command never reached the logical unit, or its completion never came back: the path from this
 * initiator is gone. Promises of `execute` reject with this; no status exists for such a command.
 */
export class ScsiTransportError extends Error {
  override readonly name = "ScsiTransportError";
  constructor(
    readonly initiator: InitiatorId,
    readonly reason: "path-lost",
  ) {
    super(`SCSI transport failure for initiator ${initiator}: ${reason}`);
  }
}

/** The command was aborted (ABORT TASK through its signal, or a logical unit reset) before it completed. */
export class ScsiTaskAbortedError extends Error {
  override readonly name = "ScsiTaskAbortedError";
  constructor(readonly abortedBy: "abort-task" | "lu-reset") {
    super(`SCSI command aborted (${abortedBy})`);
  }
}
