import { describe, expect, it } from "vitest";
import { E1000Rig } from "./test-rig.js";
import * as R from "./registers.js";
import { BMCR_AN_ENABLE, BMCR_RESET, BMCR_RESTART_AN, BMSR_AN_COMPLETE, BMSR_LINK, M88_PHY_SPEC_STATUS, PHY_1000T_STATUS, PHY_ANLPAR, PHY_BMCR, PHY_BMSR, PHY_ID1, PHY_ID2 } from "./phy.js";

describe("8254x MDIC and the M88E1011 PHY", () => {
  it("identifies the PHY and completes MDIC cycles with READY; a wrong PHY address sets ERROR", () => {
    const rig = new E1000Rig();
    expect(rig.phyRead(PHY_ID1)).toBe(0x0141);
    expect(rig.phyRead(PHY_ID2) & 0xfff0).toBe(0x0c20);
    expect(rig.read(R.MDIC) & R.MDIC_READY).toBeTruthy();
    rig.write(R.MDIC, (R.MDIC_OP_READ << R.MDIC_OP_SHIFT) | (2 << R.MDIC_PHY_SHIFT) | (PHY_ID1 << R.MDIC_REG_SHIFT));
    expect(rig.read(R.MDIC) & (R.MDIC_READY | R.MDIC_ERROR)).toBe(R.MDIC_READY | R.MDIC_ERROR);
  });

  it("raises MDAC when the MDIC interrupt-enable bit is set", () => {
    const rig = new E1000Rig();
    rig.write(R.MDIC, (R.MDIC_OP_READ << R.MDIC_OP_SHIFT) | (1 << R.MDIC_PHY_SHIFT) | R.MDIC_INT_EN);
    expect(rig.read(R.ICR) & R.ICR_MDAC).toBeTruthy();
  });

  it("negotiates 1000/full with a partner after the autonegotiation time; BMSR link latches low", () => {
    const rig = new E1000Rig();
    rig.model.connect(rig.medium);
    rig.write(R.CTRL, R.CTRL_SLU | R.CTRL_ASDE);
    expect(rig.phyRead(PHY_BMSR) & BMSR_LINK).toBe(0);
    rig.advance(50_000_000);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBe(0);
    rig.advance(60_000_000);
    expect(rig.phyRead(PHY_BMSR) & (BMSR_LINK | BMSR_AN_COMPLETE)).toBe(BMSR_LINK | BMSR_AN_COMPLETE);
    expect(rig.phyRead(PHY_ANLPAR)).not.toBe(0);
    expect(rig.phyRead(PHY_1000T_STATUS) & 0x0800).toBeTruthy();
    expect(rig.phyRead(M88_PHY_SPEC_STATUS) >>> 14).toBe(2);
    const status = rig.read(R.STATUS);
    expect(status & (R.STATUS_LU | R.STATUS_FD)).toBe(R.STATUS_LU | R.STATUS_FD);
    expect((status >>> R.STATUS_SPEED_SHIFT) & 3).toBe(R.SPEED_1000);

    rig.model.carrierChanged(false);
    rig.model.carrierChanged(true);
    // Link dropped and is renegotiating: the first read shows the latched-low link, the second too.
    expect(rig.phyRead(PHY_BMSR) & BMSR_LINK).toBe(0);
    rig.advance(200_000_000);
    expect(rig.phyRead(PHY_BMSR) & BMSR_LINK).toBe(BMSR_LINK);
  });

  it("advertising only 100 Mb/s resolves to 100 full duplex", () => {
    const rig = new E1000Rig();
    rig.bringLinkUp();
    rig.phyWrite(9, 0);
    rig.phyWrite(PHY_BMCR, BMCR_AN_ENABLE | BMCR_RESTART_AN);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBe(0);
    rig.advance(200_000_000);
    const status = rig.read(R.STATUS);
    expect(status & R.STATUS_LU).toBeTruthy();
    expect((status >>> R.STATUS_SPEED_SHIFT) & 3).toBe(R.SPEED_100);
  });

  it("BMCR reset and CTRL.PHY_RST restore PHY defaults and renegotiate", () => {
    const rig = new E1000Rig();
    rig.bringLinkUp();
    rig.phyWrite(4, 0x0de1);
    rig.phyWrite(PHY_BMCR, BMCR_RESET);
    expect(rig.phyRead(PHY_BMCR) & BMCR_RESET).toBe(0);
    expect(rig.phyRead(4)).toBe(0x01e1);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBe(0);
    rig.advance(200_000_000);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBeTruthy();
    rig.write(R.CTRL, rig.read(R.CTRL) | R.CTRL_PHY_RST);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBe(0);
    rig.advance(200_000_000);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBe(0);
    rig.write(R.CTRL, rig.read(R.CTRL) & ~R.CTRL_PHY_RST);
    rig.advance(200_000_000);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBeTruthy();
  });
});

describe("8254x link state", () => {
  it("raises LSC on carrier loss and return, and STATUS.LU needs CTRL.SLU", () => {
    const rig = new E1000Rig();
    rig.write(R.IMS, R.ICR_LSC);
    rig.model.connect(rig.medium);
    rig.advance(1_000_000_000);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBe(0);
    expect(rig.interruptAsserted).toBe(false);
    rig.write(R.CTRL, R.CTRL_SLU);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBeTruthy();
    expect(rig.interruptAsserted).toBe(true);
    expect(rig.read(R.ICR) & R.ICR_LSC).toBeTruthy();
    expect(rig.interruptAsserted).toBe(false);

    rig.model.carrierChanged(false);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBe(0);
    expect(rig.interruptAsserted).toBe(true);
    expect(rig.read(R.ICR)).toBe(R.ICR_LSC);
    rig.model.carrierChanged(true);
    rig.advance(1_000_000_000);
    expect(rig.read(R.ICR)).toBe(R.ICR_LSC);
    expect(rig.read(R.STATUS) & R.STATUS_LU).toBeTruthy();
  });

  it("drops frames from the wire without link", () => {
    const rig = new E1000Rig();
    rig.setupRx();
    rig.model.receiveFrame(new Uint8Array(64).fill(0xff));
    expect(rig.model.diagnostics.rxDisabledDrops).toBe(1);
    expect(rig.read(R.TPR)).toBe(0);
  });
});
