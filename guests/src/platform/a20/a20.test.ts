import { describe, expect, it } from "vitest";
import { SystemControlPortA } from "../system-control-port-a/system-control-port-a.js";
import { A20Gate } from "./a20-gate.js";

describe("A20 gate and system control port A (0x92)", () => {
  it("opens A20 from either control, and closes it only when both are off", () => {
    const a20 = new A20Gate();
    const changes: boolean[] = [];
    const stop = a20.onChange((enabled) => changes.push(enabled));
    expect(a20.a20Enabled).toBe(false);
    a20.set("keyboardController", true);
    a20.set("fastGate", true);
    a20.set("keyboardController", false);
    expect(a20.a20Enabled).toBe(true);
    a20.set("fastGate", false);
    expect(changes).toEqual([true, false]);
    stop();
    a20.set("fastGate", true);
    expect(changes).toEqual([true, false]);
  });

  it("sets fast A20 with bit 1 and resets the CPU on a rising bit 0", () => {
    const a20 = new A20Gate();
    let resets = 0;
    const port = new SystemControlPortA({ a20, requestCpuReset: () => resets++ });
    port.ports.writeByte(0, 0x02);
    expect(a20.a20Enabled).toBe(true);
    expect(port.ports.readByte(0)).toBe(0x02);
    port.ports.writeByte(0, 0x03);
    port.ports.writeByte(0, 0x03); // no second edge
    expect(resets).toBe(1);
    port.ports.writeByte(0, 0x00);
    expect(a20.a20Enabled).toBe(false);
  });

  it("saves and restores both", () => {
    const a20 = new A20Gate();
    const port = new SystemControlPortA({ a20, requestCpuReset: () => {} });
    port.ports.writeByte(0, 0x02);
    const copyGate = new A20Gate();
    const copyPort = new SystemControlPortA({ a20: copyGate, requestCpuReset: () => {} });
    copyGate.restoreState(JSON.parse(JSON.stringify(a20.saveState())));
    copyPort.restoreState(JSON.parse(JSON.stringify(port.saveState())));
    expect(copyGate.a20Enabled).toBe(true);
    expect(copyPort.ports.readByte(0)).toBe(0x02);
    expect(() => copyGate.restoreState({ ...a20.saveState(), version: 9 as 1 })).toThrow(/version/);
  });
});
