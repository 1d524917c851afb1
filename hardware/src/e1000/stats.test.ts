import { describe, expect, it } from "vitest";
import { E1000Rig, ethernetFrame } from "./test-rig.js";
import * as R from "./registers.js";

describe("8254x statistics", () => {
  it("clear on read; the 64-bit octet counters clear when the high half is read", () => {
    const rig = new E1000Rig();
    rig.bringLinkUp();
    rig.setupRx(8);
    const frame = ethernetFrame("00:1b:21:aa:bb:cc", "02:00:00:00:00:01", 0x88b5, 186);
    rig.model.receiveFrame(frame);
    rig.model.receiveFrame(frame);
    expect(rig.read(R.GPRC)).toBe(2);
    expect(rig.read(R.GPRC)).toBe(0);
    expect(rig.read(R.PRC255)).toBe(2);
    expect(rig.read(R.TPR)).toBe(2);
    const octets = 2 * (frame.length + 4);
    expect(rig.read(R.GORCL)).toBe(octets);
    expect(rig.read(R.GORCL)).toBe(octets);
    expect(rig.read(R.GORCH)).toBe(0);
    expect(rig.read(R.GORCL)).toBe(0);
    expect(rig.read(R.TORL)).toBe(octets);
    rig.read(R.TORH);
    expect(rig.read(R.TORL)).toBe(0);
  });

  it("carries into the high half and ignores writes", () => {
    const rig = new E1000Rig();
    rig.model.state.regs[R.reg(R.GOTCL)] = 0xffffffc0;
    rig.bringLinkUp();
    rig.setupTx(8);
    rig.legacyTx(0, ethernetFrame("02:00:00:00:00:01", "00:1b:21:aa:bb:cc", 0x88b5, 100), R.TXD_CMD_EOP);
    rig.write(R.TDT, 1);
    const low = rig.read(R.GOTCL);
    expect(rig.read(R.GOTCH)).toBe(1);
    expect(low).toBe(0xffffffc0 + 118 - 0x100000000);
    expect(rig.read(R.GPTC)).toBe(1);
    rig.write(R.GPTC, 55);
    expect(rig.read(R.GPTC)).toBe(0);
  });
});
