import type { LunFaultState } from "./lun-faults.js";
import type { PersistentReservationState } from "./persistent-reservations.js";
import type { InitiatorId } from "./scsi-command.js";
import type { UnitAttentionState } from "./unit-attentions.js";

export const LOGICAL_UNIT_STATE_VERSION = 1;

/**
 * What a logical unit remembers apart from its blocks (which live in its store), as plain data for
 * snapshots and migration. Commands in flight are not part of it: take it with the LU quiesced.
 */
export interface LogicalUnitState {
  version: typeof LOGICAL_UNIT_STATE_VERSION;
  capacityBlocks: number;
  /** START STOP UNIT state: false reports NOT READY to media access. */
  started: boolean;
  writeCacheEnabled: boolean;
  /** The I_T nexus holding a SCSI-2 (RESERVE) reservation, or null. */
  reservationHolder: InitiatorId | null;
  persistentReservations: PersistentReservationState;
  unitAttentions: UnitAttentionState;
  faults: LunFaultState;
}

/** Per-LU counters, for diagnostics and the management API. */
export interface LogicalUnitStatistics {
  commands: number;
  readCommands: number;
  writeCommands: number;
  blocksRead: number;
  blocksWritten: number;
  checkConditions: number;
  reservationConflicts: number;
  mediumErrors: number;
  compareAndWriteMiscompares: number;
}

export function emptyStatistics(): LogicalUnitStatistics {
  return {
    commands: 0,
    readCommands: 0,
    writeCommands: 0,
    blocksRead: 0,
    blocksWritten: 0,
    checkConditions: 0,
    reservationConflicts: 0,
    mediumErrors: 0,
    compareAndWriteMiscompares: 0,
  };
}
