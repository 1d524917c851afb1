export * from "./e1000-model.js";
export * from "./variants.js";
export * as E1000Registers from "./registers.js";
export type { E1000Snapshot } from "./snapshot.js";
export type { E1000State, E1000Diagnostics } from "./state.js";
export { buildEepromImage, eepromSum, EEPROM_CHECKSUM_TARGET } from "./eeprom.js";
