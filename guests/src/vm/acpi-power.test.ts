import { describe, expect, it } from "vitest";
import { assembleTestKernel } from "./test-kernels.js";
import { testVm } from "./test-rig.js";

describe("ACPI power-off from inside the guest", () => {
  it("finds the FADT through the RSDP and RSDT, and powers the VM off by entering S5 in PM1a_CNT", async () => {
    const vm = testVm({ images: { kernel: assembleTestKernel("acpi-poweroff.asm") } });
    const stopped = vm.runtime.whenPoweredOff();
    vm.runtime.powerOn();
    vm.runUntilPoweredOff(1e9);
    expect(vm.com1.text()).toBe("PM1a_CNT=00000604 SCI=00000009\n");
    await expect(stopped).resolves.toMatchObject({ kind: "poweredOff", reason: "guest-power-off" });
    expect(vm.runtime.exitCode).toBeUndefined();
  });
});
