import { describe, expect, it } from "vitest";
import { E1000Rig, ethernetFrame } from "./test-rig.js";
import { E1000Model } from "./e1000-model.js";
import * as R from "./registers.js";

describe("8254x save/restore", () => {
  it("round-trips through JSON into a fresh device mid-packet, timers and all", () => {
    const source = new E1000Rig({ variant: "82545EM" });
    source.bringLinkUp();
    source.setupRx(8);
    source.setupTx(8);
    source.write(R.IMS, R.ICR_RXT0 | R.ICR_TXDW);
    source.write(R.RDTR, 500);
    source.write(R.MTA + 12, 0xdeadbeef);
    source.model.receiveFrame(ethernetFrame("00:1b:21:aa:bb:cc", "02:00:00:00:00:01", 0x88b5, 100));
    // First half of a two-descriptor packet is fetched; the EOP descriptor is not yet given to the chip.
    const frame = ethernetFrame("02:00:00:00:00:01", "00:1b:21:aa:bb:cc", 0x88b5, 200);
    source.legacyTx(0, frame.subarray(0, 64), 0);
    source.legacyTx(1, frame.subarray(64), R.TXD_CMD_EOP | R.TXD_CMD_RS);
    source.write(R.TDT, 1);
    source.advance(100_000);

    const snapshot = JSON.parse(JSON.stringify(source.model.saveState()));
    expect(snapshot.version).toBe(1);

    // The destination is a fresh host: same memory layout (the test allocates in the same order).
    const target = new E1000Rig({ variant: "82545EM", mac: "02:ff:ff:ff:ff:ff" });
    target.setupRx(8);
    target.setupTx(8);
    target.model.connect(target.medium);
    target.model.restoreState(snapshot);
    expect(target.model.saveState()).toEqual({ ...snapshot, config: target.model.saveState().config });
    expect(target.read(R.MTA + 12)).toBe(0xdeadbeef);
    expect(target.read(R.RA)).toBe(0xaa211b00);
    expect(target.read(R.STATUS) & R.STATUS_LU).toBeTruthy();
    expect(target.interruptAsserted).toBe(false);
    // The receive delay timer had 512 µs - 100 µs left.
    target.advance(400_000);
    expect(target.interruptAsserted).toBe(false);
    target.advance(13_000);
    expect(target.interruptAsserted).toBe(true);
    expect(target.read(R.ICR) & (R.ICR_RXT0 | R.ICR_TXDW)).toBe(R.ICR_RXT0);
    // The saved partial packet completes with the rest of the descriptors.
    target.txRing!.bytes.set(source.txRing!.bytes);
    target.txBuffers!.bytes.set(source.txBuffers!.bytes);
    target.write(R.TDT, 2);
    expect(target.medium.frames).toEqual([frame]);
  });

  it("refuses a snapshot of the other variant or an unknown version", () => {
    const a = new E1000Model({ variant: "82540EM" });
    const b = new E1000Model({ variant: "82545EM" });
    expect(() => b.restoreState(a.saveState())).toThrow(/82540EM/);
    expect(() => a.restoreState({ ...a.saveState(), version: 2 as 1 })).toThrow(/version/);
  });
});
