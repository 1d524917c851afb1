import { describe, expect, it } from "vitest";
import { E1000Rig, ethernetFrame, macBytes } from "./test-rig.js";
import * as R from "./registers.js";
import { ipv4Frame, pattern, referenceChecksum } from "./packets.test-support.js";
import { multicastHash } from "./rx.js";

const OWN = "00:1b:21:aa:bb:cc";
const PEER = "02:00:00:00:00:01";

function rxRig(descriptors = 8, rctlExtra = 0, bufferSize = 2048): E1000Rig {
  const rig = new E1000Rig();
  rig.bringLinkUp();
  rig.setupRx(descriptors, rctlExtra, bufferSize);
  return rig;
}

describe("8254x receive", () => {
  it("stores a frame in the next descriptor with DD|EOP, advances RDH and raises RXT0", () => {
    const rig = rxRig();
    rig.write(R.IMS, R.ICR_RXT0);
    const frame = ethernetFrame(OWN, PEER, 0x88b5, 100);
    rig.model.receiveFrame(frame);
    const d = rig.rxDescriptor(0);
    expect(d.status & (R.RXD_STAT_DD | R.RXD_STAT_EOP)).toBe(R.RXD_STAT_DD | R.RXD_STAT_EOP);
    expect(d.length).toBe(frame.length);
    expect(d.data).toEqual(frame);
    expect(rig.read(R.RDH)).toBe(1);
    expect(rig.interruptAsserted).toBe(true);
    expect(rig.read(R.ICR) & R.ICR_RXT0).toBeTruthy();
    expect(rig.rxDescriptor(1).status).toBe(0);
  });

  it("pads short frames to the minimum size and appends the FCS unless SECRC", () => {
    const rig = rxRig();
    rig.write(R.RCTL, rig.read(R.RCTL) & ~R.RCTL_SECRC);
    const frame = ethernetFrame(OWN, PEER, 0x0806, 28);
    rig.model.receiveFrame(frame);
    const d = rig.rxDescriptor(0);
    expect(d.length).toBe(64);
    expect(d.data.subarray(0, frame.length)).toEqual(frame);
    expect(d.data.subarray(frame.length, 60).every((b) => b === 0)).toBe(true);
    expect(rig.read(R.PRC64)).toBe(1);
    expect(rig.read(R.GORCL)).toBe(64);
  });

  it("spreads a frame larger than the buffer over several descriptors, EOP on the last", () => {
    const rig = rxRig(8, 0, 512);
    const frame = ethernetFrame(OWN, PEER, 0x88b5, 1200);
    rig.model.receiveFrame(frame);
    const parts = [0, 1, 2].map((i) => rig.rxDescriptor(i));
    expect(parts.map((p) => p.length)).toEqual([512, 512, frame.length - 1024]);
    expect(parts.map((p) => p.status & (R.RXD_STAT_DD | R.RXD_STAT_EOP))).toEqual([R.RXD_STAT_DD, R.RXD_STAT_DD, R.RXD_STAT_DD | R.RXD_STAT_EOP]);
    const joined = new Uint8Array(frame.length);
    let at = 0;
    for (const p of parts) {
      joined.set(p.data, at);
      at += p.length;
    }
    expect(joined).toEqual(frame);
    expect(rig.read(R.RDH)).toBe(3);
  });

  it("wraps the ring and never fills the descriptor at RDT; with none left counts RNBC and MPC and raises RXO", () => {
    const rig = rxRig(8);
    rig.write(R.IMS, R.ICR_RXO);
    const frame = ethernetFrame(OWN, PEER, 0x88b5, 80);
    for (let i = 0; i < 7; i++) rig.model.receiveFrame(frame);
    expect(rig.read(R.RDH)).toBe(7);
    expect(rig.interruptAsserted).toBe(false);
    rig.model.receiveFrame(frame);
    expect(rig.read(R.RDH)).toBe(7);
    expect(rig.read(R.RNBC)).toBe(1);
    expect(rig.read(R.MPC)).toBe(1);
    expect(rig.read(R.ICR) & R.ICR_RXO).toBeTruthy();
    // Software returns descriptors 0..2: the ring wraps past the end.
    rig.write(R.RDT, 2);
    rig.model.receiveFrame(frame);
    rig.model.receiveFrame(frame);
    expect(rig.read(R.RDH)).toBe(1);
    expect(rig.read(R.GPRC)).toBe(9);
  });

  it("raises RXDMT0 when free descriptors fall to the RDMTS threshold", () => {
    const rig = rxRig(16);
    const frame = ethernetFrame(OWN, PEER, 0x88b5, 80);
    for (let i = 0; i < 6; i++) rig.model.receiveFrame(frame);
    expect(rig.read(R.ICR) & R.ICR_RXDMT0).toBe(0);
    rig.model.receiveFrame(frame);
    expect(rig.read(R.ICR) & R.ICR_RXDMT0).toBeTruthy();
  });

  it("filters by station address, RA entries, multicast hash, broadcast and promiscuous bits", () => {
    const rig = rxRig(16, 0);
    const send = (destination: string) => rig.model.receiveFrame(ethernetFrame(destination, PEER, 0x88b5, 50));
    send("02:99:99:99:99:99");
    send("01:00:5e:00:00:fb");
    expect(rig.read(R.RDH)).toBe(0);
    send(OWN);
    send("ff:ff:ff:ff:ff:ff");
    expect(rig.read(R.RDH)).toBe(2);
    // A second unicast address in RA[3].
    rig.write(R.RA + 24, 0x99999902);
    rig.write(R.RA + 28, 0x80009999);
    send("02:99:99:99:99:99");
    expect(rig.read(R.RDH)).toBe(3);
    // Multicast hash with MO=0 (bits 47:36).
    const mcast = macBytes("01:00:5e:00:00:fb");
    const hash = multicastHash(mcast, 0);
    expect(hash).toBe(((0x00 >>> 4) | (0xfb << 4)) & 0xfff);
    rig.write(R.MTA + 4 * (hash >>> 5), 1 << (hash & 31));
    send("01:00:5e:00:00:fb");
    expect(rig.read(R.RDH)).toBe(4);
    expect(rig.read(R.MPRC)).toBe(1);
    expect(rig.read(R.BPRC)).toBe(1);
    rig.write(R.RCTL, rig.read(R.RCTL) & ~R.RCTL_BAM);
    send("ff:ff:ff:ff:ff:ff");
    expect(rig.read(R.RDH)).toBe(4);
    rig.write(R.RCTL, rig.read(R.RCTL) | R.RCTL_UPE | R.RCTL_MPE);
    send("02:12:34:56:78:9a");
    send("01:80:c2:00:00:0e");
    send("ff:ff:ff:ff:ff:ff");
    expect(rig.read(R.RDH)).toBe(7);
  });

  it("drops long frames unless LPE, counting ROC", () => {
    const rig = rxRig(8, 0, 2048);
    // 14 + 1505 + 4 (FCS) = 1523 bytes: one more than a tagged maximum-size frame.
    rig.model.receiveFrame(ethernetFrame(OWN, PEER, 0x88b5, 1505));
    expect(rig.read(R.ROC)).toBe(1);
    expect(rig.read(R.RDH)).toBe(0);
    rig.model.receiveFrame(ethernetFrame(OWN, PEER, 0x88b5, 1500));
    expect(rig.read(R.RDH)).toBe(1);
    rig.write(R.RCTL, rig.read(R.RCTL) | R.RCTL_LPE);
    rig.model.receiveFrame(ethernetFrame(OWN, PEER, 0x88b5, 3000));
    expect(rig.read(R.RDH)).toBe(3);
    expect(rig.read(R.ROC)).toBe(0);
  });

  it("drops frames while the receiver is disabled", () => {
    const rig = rxRig();
    rig.write(R.RCTL, rig.read(R.RCTL) & ~R.RCTL_EN);
    rig.model.receiveFrame(ethernetFrame(OWN, PEER, 0x88b5, 100));
    expect(rig.read(R.RDH)).toBe(0);
    expect(rig.read(R.TPR)).toBe(0);
  });

  it("VLAN: VFTA filters tagged frames, CFI is checked with CFIEN, VME strips the tag into special", () => {
    const rig = rxRig(8, R.RCTL_VFE);
    const tagged = (vid: number, cfi = 0) => {
      const inner = ethernetFrame(OWN, PEER, 0x88b5, 60);
      const frame = new Uint8Array(inner.length + 4);
      frame.set(inner.subarray(0, 12), 0);
      frame.set([0x81, 0x00, (5 << 5) | (cfi << 4) | (vid >>> 8), vid & 0xff], 12);
      frame.set(inner.subarray(12), 16);
      return { frame, inner };
    };
    rig.model.receiveFrame(tagged(100).frame);
    expect(rig.read(R.RDH)).toBe(0);
    rig.write(R.VFTA + 4 * (100 >>> 5), 1 << (100 & 31));
    const { frame, inner } = tagged(100);
    rig.model.receiveFrame(frame);
    expect(rig.read(R.RDH)).toBe(1);
    let d = rig.rxDescriptor(0);
    expect(d.status & R.RXD_STAT_VP).toBe(0);
    expect(d.data).toEqual(frame);
    // Untagged frames are not subject to the VLAN filter.
    rig.model.receiveFrame(inner);
    expect(rig.read(R.RDH)).toBe(2);
    rig.write(R.RCTL, rig.read(R.RCTL) | R.RCTL_CFIEN);
    rig.model.receiveFrame(tagged(100, 1).frame);
    expect(rig.read(R.RDH)).toBe(2);
    rig.write(R.CTRL, rig.read(R.CTRL) | R.CTRL_VME);
    rig.model.receiveFrame(frame);
    d = rig.rxDescriptor(2);
    expect(d.status & R.RXD_STAT_VP).toBeTruthy();
    expect(d.special).toBe((5 << 13) | 100);
    expect(d.data).toEqual(inner);
  });

  it("checksum offload: IPCS/TCPCS with IPE/TCPE matching an independent checksum; IXSM when disabled", () => {
    const rig = rxRig(16);
    const payload = pattern(301);
    const cases: [Uint8Array, number, number][] = [
      [ipv4Frame(6, payload), R.RXD_STAT_IPCS | R.RXD_STAT_TCPCS, 0],
      [ipv4Frame(17, payload), R.RXD_STAT_IPCS | R.RXD_STAT_TCPCS, 0],
      [ipv4Frame(6, payload, { corruptL4: true }), R.RXD_STAT_IPCS | R.RXD_STAT_TCPCS, R.RXD_ERR_TCPE],
      [ipv4Frame(17, payload, { corruptIp: true }), R.RXD_STAT_IPCS | R.RXD_STAT_TCPCS, R.RXD_ERR_IPE],
    ];
    cases.forEach(([frame, status, errors], i) => {
      rig.model.receiveFrame(frame);
      const d = rig.rxDescriptor(i);
      expect(d.status & (R.RXD_STAT_IPCS | R.RXD_STAT_TCPCS | R.RXD_STAT_IXSM), `case ${i}`).toBe(status);
      expect(d.errors, `case ${i}`).toBe(errors);
      // Packet checksum from PCSS (0 here, so from the start) to the end: the unfolded complement of the reference.
      expect(d.checksum).toBe(~referenceChecksum(frame) & 0xffff);
    });
    rig.write(R.RXCSUM, 14);
    const frame = ipv4Frame(6, payload);
    rig.model.receiveFrame(frame);
    const d = rig.rxDescriptor(4);
    expect(d.status & R.RXD_STAT_IXSM).toBeTruthy();
    expect(d.status & (R.RXD_STAT_IPCS | R.RXD_STAT_TCPCS)).toBe(0);
    expect(d.checksum).toBe(~referenceChecksum(frame.subarray(14)) & 0xffff);
  });

  it("MAC loopback returns transmitted frames to the receive ring without touching the wire", () => {
    const rig = rxRig(8, R.RCTL_LBM_MAC);
    rig.setupTx(8);
    const frame = ethernetFrame(OWN, PEER, 0x88b5, 100);
    rig.legacyTx(0, frame, R.TXD_CMD_EOP | R.TXD_CMD_RS);
    rig.write(R.TDT, 1);
    expect(rig.medium.frames).toHaveLength(0);
    expect(rig.rxDescriptor(0).data).toEqual(frame);
  });

  it("a ring outside the device's DMA mapping is blocked: the frame is dropped and counted, nothing throws", () => {
    const rig = rxRig();
    rig.write(R.RDBAL, 0x01f00000);
    expect(() => rig.model.receiveFrame(ethernetFrame(OWN, PEER, 0x88b5, 100))).not.toThrow();
    expect(rig.model.diagnostics.rxDmaDrops).toBe(1);
    expect(rig.model.diagnostics.dmaErrors).toBe(1);
    expect(rig.read(R.RDH)).toBe(0);
    expect(rig.host.faults.count("dma-blocked")).toBe(1);
    expect(rig.host.faults.count("device-error")).toBe(1);
    // A descriptor pointing at an unmapped buffer is dropped the same way.
    rig.write(R.RDBAL, rig.rxRing!.busAddress);
    rig.rxRing!.view.setUint32(0, 0x01f00000, true);
    rig.model.receiveFrame(ethernetFrame(OWN, PEER, 0x88b5, 100));
    expect(rig.model.diagnostics.rxDmaDrops).toBe(2);
    expect(rig.rxDescriptor(0).status).toBe(0);
  });
});
