/** The PC machine's FERR# → IRQ13 wiring and the port 0xF0 latch clear, run by a guest kernel. */
import { describe, expect, it } from "vitest";
import { assembleTestKernel } from "./test-kernels.js";
import { testVm } from "./test-rig.js";

describe("x87 error reporting on the PC machine", () => {
  it("delivers IRQ13 for FERR# with CR0.NE = 0, re-arms after OUT 0xF0, and #MF with CR0.NE = 1", () => {
    const vm = testVm({ images: { kernel: assembleTestKernel("fpu-irq13.asm") } });
    vm.runtime.powerOn();
    vm.runUntilPoweredOff(1e9);
    // Status seen by the IRQ13 handler: ZE, ES, B, TOP 6 (the quotient withheld, nothing popped).
    expect(vm.com1.text()).toBe("vmk fpu irq13 test\nirq13 status 0000b084\n#MF after irqs 00000002\n");
    expect(vm.runtime.exitCode).toBe((0x13 << 1) | 1);
  });
});
