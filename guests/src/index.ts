export * from "./cpu/index.js";
export * from "./platform/index.js";
export * from "./loaders/index.js";
export * from "./pci-host/index.js";
export * from "./vm/index.js";
