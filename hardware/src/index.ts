export * from "./net/ethernet.js";
export * from "./catalog.js";
export * from "./platform/chipset-functions.js";
export * from "./platform/host-profiles.js";
export * from "./platform/assemble-host.js";
