export * from "./simulated-host.js";
