/** Test support: a VM runtime on a virtual clock, and a way to run it to completion. */
import { KernelLog, NetworkStack, parseVmConfig, VirtualClock, type VmConfig } from "@vmk/kernel";
import type { UartTransmitPacing } from "../platform/uart/uart-16550.js";
import type { BootImages } from "./boot-image.js";
import { PcVmRuntime } from "./pc-vm-runtime.js";

export interface TestVmOptions {
  /** Extra .vmx lines (memsize defaults to 16 MB). */
  vmx?: string;
  images: BootImages;
  clock?: VirtualClock;
  network?: NetworkStack;
  guestReset?: "reboot" | "powerOff";
  /** COM1/COM2's transmitters (the runtime's default: "immediate"). */
  serialTransmit?: UartTransmitPacing;
}

export function testVm(options: TestVmOptions) {
  const clock = options.clock ?? new VirtualClock();
  const log = new KernelLog(clock);
  const config: VmConfig = parseVmConfig(`displayName = "test-vm"\nmemsize = "16"\n${options.vmx ?? ""}`);
  const runtime = new PcVmRuntime({
    config,
    services: { clock, network: options.network, log: (level, message) => log.log(level, "vmm", message) },
    images: options.images,
    guestReset: options.guestReset ?? "powerOff",
    serialTransmit: options.serialTransmit,
  });
  /** Runs the virtual clock until the VM powers off or `limitNs` of virtual time has passed. */
  const runUntilPoweredOff = (limitNs: number) => {
    const end = clock.now() + limitNs;
    while (runtime.powerState === "poweredOn" && clock.now() < end) clock.runUntil(Math.min(end, clock.now() + 1_000_000));
  };
  return { clock, log, config, runtime, runUntilPoweredOff, com1: runtime.serial(0)! };
}
