import { describe, expect, it } from "vitest";
import { assembleTestKernel } from "./test-kernels.js";
import { testVm } from "./test-rig.js";

/** 115200 baud, 8N1: ten bit times per character. */
const CHARACTER_NS = Math.round((10 * 1e9) / 115_200);

describe("a VM's serial ports", () => {
  // a20.asm prints one line on COM1, polling THRE before every character, and exits.
  const line = "0x200000=00a20a20 0x300000=00000000\n";

  function run(serialTransmit?: "immediate" | "line-rate") {
    const vm = testVm({ images: { kernel: assembleTestKernel("a20.asm") }, serialTransmit });
    vm.runtime.powerOn();
    vm.runUntilPoweredOff(1e9);
    expect(vm.com1.text()).toBe(line);
    return vm.runtime.stats();
  }

  it("transmit immediately by default: printing costs the guest one THRE poll per character, not its bit times", () => {
    const stats = run();
    expect(stats.guestTimeNs).toBeLessThan(CHARACTER_NS);
    expect(stats.instructions).toBeLessThan(line.length * 100);
  });

  it("pace characters at the line rate when asked to, as a physical port would", () => {
    const stats = run("line-rate");
    // THRE says the transmit FIFO is empty: each character waits for the one before it to move into
    // the shift register, so the guest sits through every character time but the last two (the
    // exit's drain hands those over).
    expect(stats.guestTimeNs).toBeGreaterThanOrEqual((line.length - 2) * CHARACTER_NS);
    expect(stats.instructions).toBeGreaterThan((line.length - 2) * CHARACTER_NS * 0.9);
  });
});
