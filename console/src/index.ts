export * from "./cli.js";
export * from "./inventory.js";
export * from "./commands/host.js";
export * from "./format/table.js";
export * from "./commands/run.js";
