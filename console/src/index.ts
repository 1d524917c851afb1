export * from "./cli.js";
export * from "./inventory.js";
export * from "./commands/host.js";
export * from "./format/table.js";
export * from "./commands/run.js";
export * from "./commands/vm.js";
export * from "./commands/network.js";
export * from "./format/network-tables.js";
