import { describe, expect, it } from "vitest";
import type { VmRuntimeEvent } from "@vmk/kernel";
import { assembleTestKernel } from "./test-kernels.js";
import { testVm } from "./test-rig.js";

describe("machine control from inside the guest", () => {
  it("applies the A20 gate (port 0x92 and the keyboard controller) to the processor's physical addresses", () => {
    const vm = testVm({ images: { kernel: assembleTestKernel("a20.asm") } });
    vm.runtime.powerOn();
    vm.runUntilPoweredOff(1e9);
    expect(vm.com1.text()).toBe("0x200000=00a20a20 0x300000=00000000\n");
    expect(vm.runtime.exitCode).toBe((0x20 << 1) | 1);
  });

  const causes = [
    ["triple fault", "", "triple-fault"],
    ["the keyboard controller's reset pulse", "kbd", "reset-line"],
    ["port 0x92's fast reset", "port92", "reset-line"],
    ["the reset control register at 0xCF9", "cf9", "reset-control-register"],
  ] as const;

  for (const [what, commandLine, cause] of causes) {
    it(`reboots the kernel on ${what}`, () => {
      const vm = testVm({ guestReset: "reboot", images: { kernel: assembleTestKernel("reset.asm"), commandLine } });
      const events: VmRuntimeEvent[] = [];
      vm.runtime.onEvent((event) => {
        events.push(event);
        if (event.kind === "reset" && vm.runtime.stats().resets === 2) vm.runtime.powerOff();
      });
      vm.runtime.powerOn();
      vm.runUntilPoweredOff(1e9);
      expect(vm.com1.text()).toBe("boot\nboot\n");
      expect(events.map((e) => (e.kind === "reset" ? `reset ${e.cause}` : e.kind))).toEqual(["poweredOn", `reset ${cause}`, `reset ${cause}`, "poweredOff"]);
    });
  }

  it("powers off instead when the VM is set not to reboot, saying why", () => {
    const vm = testVm({ guestReset: "powerOff", images: { kernel: assembleTestKernel("reset.asm") } });
    const stopped = vm.runtime.whenPoweredOff();
    vm.runtime.powerOn();
    vm.runUntilPoweredOff(1e9);
    expect(vm.com1.text()).toBe("boot\n");
    return expect(stopped).resolves.toMatchObject({ kind: "poweredOff", reason: "guest-reset", detail: "the guest reset the machine (triple-fault)" });
  });

  it("resets on request from the console and keeps running", () => {
    const vm = testVm({ images: { kernel: assembleTestKernel("timer.asm") } });
    vm.runtime.powerOn();
    vm.clock.runUntil(5_000_000);
    vm.runtime.reset();
    vm.runUntilPoweredOff(1e9);
    expect(vm.com1.text()).toMatch(/^vmk timer test\n\.*vmk timer test\n\.{10}\ntsc [0-9a-f]{8}\n$/);
    expect(vm.runtime.stats().resets).toBe(1);
    expect(vm.runtime.exitCode).toBe(67);
  });

  it("reports a kernel that cannot be loaded as a failed power-on, and stays off", () => {
    const vm = testVm({ images: { kernel: new Uint8Array(8192) } });
    const stopped = vm.runtime.whenPoweredOff();
    expect(() => vm.runtime.powerOn()).toThrow(/multiboot/i);
    expect(vm.runtime.powerState).toBe("poweredOff");
    return expect(stopped).resolves.toMatchObject({ reason: "error" });
  });
});
