export * from "./driver-template.js";
export { simulatedHost, SimulatedHost, SimulatedHostBuilder } from "@vmk/test";
