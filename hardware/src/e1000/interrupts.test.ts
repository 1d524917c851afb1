import { describe, expect, it } from "vitest";
import { E1000Rig, ethernetFrame } from "./test-rig.js";
import * as R from "./registers.js";

describe("8254x interrupt causes", () => {
  it("ICS sets causes, IMS/IMC gate the line, reading ICR clears everything", () => {
    const rig = new E1000Rig();
    rig.write(R.ICS, R.ICR_TXDW | R.ICR_RXT0);
    expect(rig.interruptAsserted).toBe(false);
    rig.write(R.IMS, R.ICR_RXT0);
    expect(rig.read(R.IMS)).toBe(R.ICR_RXT0);
    expect(rig.interruptAsserted).toBe(true);
    rig.write(R.IMC, R.ICR_RXT0);
    expect(rig.read(R.IMS)).toBe(0);
    expect(rig.interruptAsserted).toBe(false);
    rig.write(R.IMS, R.ICR_TXDW);
    expect(rig.interruptAsserted).toBe(true);
    expect(rig.read(R.ICR)).toBe(R.ICR_TXDW | R.ICR_RXT0);
    expect(rig.read(R.ICR)).toBe(0);
    expect(rig.interruptAsserted).toBe(false);
    // Writing 1s to ICR clears those causes only.
    rig.write(R.ICS, R.ICR_TXDW | R.ICR_LSC);
    rig.write(R.ICR, R.ICR_TXDW);
    expect(rig.read(R.ICR)).toBe(R.ICR_LSC);
    // ICS and IMC are write-only.
    expect(rig.read(R.ICS)).toBe(0);
    expect(rig.read(R.IMC)).toBe(0);
  });

  it("ITR holds a new assertion back until the interval since the last one has passed", () => {
    const rig = new E1000Rig();
    rig.write(R.ITR, 1000); // 256 µs
    rig.write(R.IMS, R.ICR_TXDW);
    rig.write(R.ICS, R.ICR_TXDW);
    expect(rig.interruptAsserted).toBe(true);
    rig.read(R.ICR);
    rig.write(R.ICS, R.ICR_TXDW);
    expect(rig.interruptAsserted).toBe(false);
    rig.advance(255_000);
    expect(rig.interruptAsserted).toBe(false);
    rig.advance(1_000);
    expect(rig.interruptAsserted).toBe(true);
  });

  it("RDTR delays RXT0 and restarts per packet; RADV bounds it; FPD flushes", () => {
    const rig = new E1000Rig();
    rig.bringLinkUp();
    rig.setupRx(16);
    rig.write(R.IMS, R.ICR_RXT0);
    rig.write(R.RDTR, 100); // 102.4 µs
    rig.write(R.RADV, 250); // 256 µs
    const frame = ethernetFrame("00:1b:21:aa:bb:cc", "02:00:00:00:00:01", 0x88b5, 100);
    rig.model.receiveFrame(frame);
    expect(rig.read(R.ICR) & R.ICR_RXT0).toBe(0);
    for (let i = 0; i < 3; i++) {
      rig.advance(80_000);
      rig.model.receiveFrame(frame);
    }
    // 240 µs in: the packet timer keeps restarting; the absolute timer fires at 256 µs.
    expect(rig.interruptAsserted).toBe(false);
    rig.advance(17_000);
    expect(rig.interruptAsserted).toBe(true);
    expect(rig.read(R.ICR) & R.ICR_RXT0).toBeTruthy();

    rig.model.receiveFrame(frame);
    rig.advance(103_000);
    expect(rig.read(R.ICR) & R.ICR_RXT0).toBeTruthy();

    rig.model.receiveFrame(frame);
    expect(rig.interruptAsserted).toBe(false);
    rig.write(R.RDTR, 100 | R.RDTR_FPD);
    expect(rig.read(R.RDTR)).toBe(100);
    expect(rig.read(R.ICR) & R.ICR_RXT0).toBeTruthy();
  });

  it("TIDV delays TXDW for descriptors with IDE", () => {
    const rig = new E1000Rig();
    rig.bringLinkUp();
    rig.setupTx(8);
    rig.write(R.TIDV, 64);
    rig.write(R.IMS, R.ICR_TXDW);
    const frame = ethernetFrame("02:00:00:00:00:02", "00:1b:21:aa:bb:cc", 0x88b5, 60);
    rig.legacyTx(0, frame, R.TXD_CMD_EOP | R.TXD_CMD_RS | R.TXD_CMD_IDE);
    rig.write(R.TDT, 1);
    expect(rig.txStatus(0) & R.TXD_STAT_DD).toBeTruthy();
    expect(rig.interruptAsserted).toBe(false);
    rig.advance(65_536);
    expect(rig.interruptAsserted).toBe(true);
    rig.read(R.ICR);
    rig.legacyTx(1, frame, R.TXD_CMD_EOP | R.TXD_CMD_RS);
    rig.write(R.TDT, 2);
    expect(rig.interruptAsserted).toBe(true);
  });
});
