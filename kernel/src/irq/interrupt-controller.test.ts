import { describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual-clock.js";
import { KernelLog } from "../log/kernel-log.js";
import { InterruptController, IrqReturn } from "./interrupt-controller.js";
import type { ExecutionDomain } from "../exec/execution-domain.js";

function setup() {
  const clock = new VirtualClock();
  const log = new KernelLog(clock);
  return { clock, log, irq: new InterruptController(clock, log) };
}

describe("InterruptController", () => {
  it("masks a level line and delivers it on unmask if still asserted", () => {
    const { clock, irq } = setup();
    const vector = irq.lineVector(17);
    let hits = 0;
    irq.requestIrq(vector, () => {
      hits++;
      irq.setLine(17, "dev", false);
      return IrqReturn.Handled;
    }, { name: "h" });
    irq.mask(vector);
    irq.setLine(17, "dev", true);
    clock.runUntilIdle();
    expect(hits).toBe(0);
    irq.unmask(vector);
    clock.runUntilIdle();
    expect(hits).toBe(1);
  });

  it("redelivers a level interrupt while its source stays asserted", () => {
    const { clock, irq } = setup();
    const vector = irq.lineVector(18);
    let pending = 3;
    irq.requestIrq(vector, () => {
      if (--pending === 0) irq.setLine(18, "dev", false);
      return IrqReturn.Handled;
    }, { name: "h" });
    irq.setLine(18, "dev", true);
    clock.runUntilIdle();
    expect(pending).toBe(0);
  });

  it("shuts off a stuck line nobody claims instead of livelocking", () => {
    const { clock, irq, log } = setup();
    const vector = irq.lineVector(19);
    irq.requestIrq(vector, () => IrqReturn.None, { name: "not-mine", shared: true });
    irq.setLine(19, "stuck-device", true);
    clock.runUntilIdle(Number.POSITIVE_INFINITY, 100_000);
    const info = irq.info().find((v) => v.vector === vector)!;
    expect(info.masked).toBe(true);
    expect(info.unhandled).toBe(1000);
    expect(log.entries({ level: "error" })[0]!.message).toMatch(/nobody cared/);
  });

  it("validates MSI messages and vectors", () => {
    const { clock, irq } = setup();
    const vector = irq.allocateMsiVector();
    let hits = 0;
    irq.requestIrq(vector, () => (hits++, IrqReturn.Handled), { name: "msi" });
    expect(irq.deliverMsi({ address: 0xfee00000, data: vector })).toBe(true);
    expect(irq.deliverMsi({ address: 0x12345678, data: vector })).toBe(false);
    expect(irq.deliverMsi({ address: 0xfee00000, data: 0xee })).toBe(false);
    clock.runUntilIdle();
    expect(hits).toBe(1);
    irq.freeMsiVector(vector);
    expect(irq.allocateMsiVector()).toBe(vector);
  });

  it("charges a throwing handler to its domain and still runs the other handlers", () => {
    const { clock, irq } = setup();
    const vector = irq.lineVector(16);
    const faults: string[] = [];
    const domain: ExecutionDomain = { name: "buggy", alive: true, fault: (e) => faults.push((e as Error).message) };
    let otherRan = false;
    irq.requestIrq(vector, () => {
      throw new Error("null deref in isr");
    }, { name: "buggy", shared: true, domain });
    irq.requestIrq(vector, () => {
      otherRan = true;
      irq.setLine(16, "x", false);
      return IrqReturn.Handled;
    }, { name: "good", shared: true });
    irq.setLine(16, "x", true);
    clock.runUntilIdle();
    expect(faults).toEqual(["null deref in isr"]);
    expect(otherRan).toBe(true);
    expect(irq.releaseDomain(domain)).toBe(1);
  });
});
