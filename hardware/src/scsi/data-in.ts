import { ScsiStatus, type ScsiCommand, type ScsiResponse } from "./scsi-command.js";

/** The expected transfer length in the command's data direction: what a command that moves nothing leaves as residual. */
export function expectedTransfer(command: ScsiCommand): number {
  return command.dataOut?.length ?? command.dataInLength ?? 0;
}

/**
 * Completes a data-in command whose data was built in memory: `allocationLength` (from the CDB) cuts
 * it first, then the initiator's expected length. Data lands in `dataInBuffer` when there is one.
 */
export function completeWithData(command: ScsiCommand, data: Uint8Array, allocationLength: number): ScsiResponse {
  const length = Math.min(data.length, allocationLength);
  const expected = command.dataInLength ?? command.dataInBuffer?.length;
  const transferred = expected === undefined ? length : Math.min(length, expected);
  let dataIn = data.subarray(0, transferred);
  if (command.dataInBuffer) {
    command.dataInBuffer.set(dataIn);
    dataIn = command.dataInBuffer.subarray(0, transferred);
  }
  return { status: ScsiStatus.GOOD, dataIn, residual: expected === undefined ? 0 : expected - length };
}
