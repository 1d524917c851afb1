/**
 * Architectural exceptions leave the instruction stream by throwing one preallocated signal;
 * the details ride on the CPU (pendingVector / pendingErrorCode) so no allocation happens.
 */
export const FAULT_SIGNAL = Object.freeze({ cpuFault: true });

export const enum Vector {
  DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
  TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18,
}

/** Error code value meaning "this exception pushes none". */
export const NO_ERROR_CODE = -1;

/** Contributory exceptions for the double-fault rules (SDM vol 3, table 6-5). */
export function isContributory(vector: number): boolean {
  return vector === 0 || (vector >= 10 && vector <= 13);
}
