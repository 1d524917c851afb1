export * from "./pc-machine.js";
export * from "./pc-vm-runtime.js";
export * from "./pc-vmm.js";
export * from "./run-vm.js";
export * from "./terminal-attachment.js";
export * from "./virtual-nic-backend.js";
export * from "./serial-console-line.js";
export * from "./boot-image.js";
