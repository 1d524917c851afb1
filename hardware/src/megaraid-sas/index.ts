export * from "./megaraid-sas-model.js";
export * from "./variants.js";
export type { PhysicalDriveConfig } from "./drives.js";
export type { MegaRaidSnapshot } from "./snapshot.js";
export type { MegaRaidState, MegaRaidDiagnostics } from "./state.js";
export * as MegaRaidRegisters from "./registers.js";
export * as MegaRaidFrames from "./mfi-frames.js";
