import { describe, expect, it } from "vitest";
import { E1000Rig, ethernetFrame } from "./test-rig.js";
import * as R from "./registers.js";
import { ipv4Packet, pattern, pseudoHeaderBytes, referenceChecksum, tcpSegment, udpDatagram } from "./packets.test-support.js";

const OWN = "00:1b:21:aa:bb:cc";
const PEER = "02:00:00:00:00:02";

function txRig(descriptors = 8): E1000Rig {
  const rig = new E1000Rig();
  rig.bringLinkUp();
  rig.setupTx(descriptors);
  return rig;
}

/** An Ethernet + IPv4 + TCP frame as the stack hands it over for offload: checksums not filled in. */
function unfinishedTcpFrame(payload: Uint8Array, flags = 0x19): Uint8Array {
  const ip = ipv4Packet({ protocol: 6, payload: tcpSegment(payload, 5000, flags), id: 0x0100 }, false);
  const frame = new Uint8Array(14 + ip.length);
  frame.set(ethernetFrame(PEER, OWN, 0x0800, 0), 0);
  frame.set(ip, 14);
  return frame;
}

function verifyIpv4Tcp(frame: Uint8Array): void {
  const ip = frame.subarray(14);
  const headerLength = (ip[0]! & 0xf) * 4;
  const total = (ip[2]! << 8) | ip[3]!;
  expect(total).toBe(ip.length);
  expect(referenceChecksum(ip.subarray(0, headerLength))).toBe(0);
  expect(referenceChecksum(pseudoHeaderBytes(ip, 6, ip.subarray(headerLength, total)))).toBe(0);
}

describe("8254x transmit", () => {
  it("sends on TDT, writes DD only where RS was set, moves TDH to TDT and raises TXDW/TXQE", () => {
    const rig = txRig();
    rig.write(R.IMS, R.ICR_TXDW);
    const frames = [0, 1, 2].map((i) => ethernetFrame(PEER, OWN, 0x88b5, 100 + i));
    rig.legacyTx(0, frames[0]!, R.TXD_CMD_EOP | R.TXD_CMD_IFCS);
    rig.legacyTx(1, frames[1]!, R.TXD_CMD_EOP | R.TXD_CMD_IFCS | R.TXD_CMD_RS);
    rig.legacyTx(2, frames[2]!, R.TXD_CMD_EOP | R.TXD_CMD_IFCS);
    rig.write(R.TDT, 3);
    expect(rig.medium.frames).toEqual(frames);
    expect([0, 1, 2].map((i) => rig.txStatus(i) & R.TXD_STAT_DD)).toEqual([0, 1, 0]);
    expect(rig.read(R.TDH)).toBe(3);
    expect(rig.interruptAsserted).toBe(true);
    expect(rig.read(R.ICR) & (R.ICR_TXDW | R.ICR_TXQE)).toBe(R.ICR_TXDW | R.ICR_TXQE);
    expect(rig.read(R.GPTC)).toBe(3);
    expect(rig.read(R.TPT)).toBe(3);
    expect(rig.read(R.GOTCL)).toBe(frames.reduce((n, f) => n + f.length + 4, 0));
  });

  it("does nothing while TCTL.EN is clear and catches up when it is set", () => {
    const rig = txRig();
    rig.write(R.TCTL, rig.read(R.TCTL) & ~R.TCTL_EN);
    rig.legacyTx(0, ethernetFrame(PEER, OWN, 0x88b5, 100), R.TXD_CMD_EOP);
    rig.write(R.TDT, 1);
    expect(rig.medium.frames).toHaveLength(0);
    expect(rig.read(R.TDH)).toBe(0);
    rig.write(R.TCTL, rig.read(R.TCTL) | R.TCTL_EN);
    expect(rig.medium.frames).toHaveLength(1);
  });

  it("gathers a packet over several descriptors, waits for EOP across TDT writes, wraps the ring", () => {
    const rig = txRig(8);
    rig.write(R.TDH, 6);
    rig.write(R.TDT, 6);
    const frame = ethernetFrame(PEER, OWN, 0x88b5, 300);
    rig.legacyTx(6, frame.subarray(0, 100), 0);
    rig.legacyTx(7, frame.subarray(100, 250), R.TXD_CMD_RS);
    rig.legacyTx(0, frame.subarray(250), R.TXD_CMD_EOP | R.TXD_CMD_RS);
    rig.write(R.TDT, 0);
    expect(rig.medium.frames).toHaveLength(0);
    expect(rig.read(R.TDH)).toBe(0);
    rig.write(R.TDT, 1);
    expect(rig.medium.frames).toEqual([frame]);
    expect(rig.read(R.TDH)).toBe(1);
    expect([6, 7, 0].map((i) => rig.txStatus(i) & R.TXD_STAT_DD)).toEqual([0, 1, 1]);
  });

  it("pads short frames with PSP and inserts a VLAN tag with VLE when CTRL.VME is set", () => {
    const rig = txRig();
    const short = ethernetFrame(PEER, OWN, 0x0806, 28);
    rig.legacyTx(0, short, R.TXD_CMD_EOP);
    rig.write(R.TDT, 1);
    expect(rig.medium.frames[0]!.length).toBe(60);
    expect(rig.medium.frames[0]!.subarray(0, short.length)).toEqual(short);
    rig.write(R.CTRL, rig.read(R.CTRL) | R.CTRL_VME);
    const frame = ethernetFrame(PEER, OWN, 0x88b5, 100);
    rig.legacyTx(1, frame, R.TXD_CMD_EOP | R.TXD_CMD_VLE, 0, 0, 0x2064);
    rig.write(R.TDT, 2);
    const sent = rig.medium.frames[1]!;
    expect(sent.length).toBe(frame.length + 4);
    expect(Array.from(sent.subarray(12, 16))).toEqual([0x81, 0x00, 0x20, 0x64]);
    expect(sent.subarray(16)).toEqual(frame.subarray(12));
  });

  it("legacy IC inserts the checksum from CSS to the end at CSO", () => {
    const rig = txRig();
    const payload = pattern(77);
    const datagram = udpDatagram(payload);
    const ip = ipv4Packet({ protocol: 17, payload: datagram });
    const frame = ethernetFrame(PEER, OWN, 0x0800, ip);
    // Seed the UDP checksum field with the pseudo-header sum, as a stack does for partial checksums.
    const pseudo = pseudoHeaderBytes(ip, 17, new Uint8Array(0));
    pseudo[10] = datagram.length >>> 8;
    pseudo[11] = datagram.length & 0xff;
    const seed = ~referenceChecksum(pseudo) & 0xffff;
    frame[14 + 20 + 6] = seed >>> 8;
    frame[14 + 20 + 7] = seed & 0xff;
    rig.legacyTx(0, frame, R.TXD_CMD_EOP | R.TXD_CMD_IC, 14 + 20 + 6, 14 + 20);
    rig.write(R.TDT, 1);
    const sent = rig.medium.frames[0]!;
    const sentIp = sent.subarray(14);
    expect(referenceChecksum(pseudoHeaderBytes(sentIp, 17, sentIp.subarray(20)))).toBe(0);
  });

  it("context + data descriptors: IXSM and TXSM fill IP and TCP checksums", () => {
    const rig = txRig();
    const frame = unfinishedTcpFrame(pattern(333));
    // Software puts the folded pseudo-header sum (with length) into the TCP checksum field.
    const pseudoOnly = pseudoHeaderBytes(frame.subarray(14), 6, new Uint8Array(0));
    pseudoOnly[10] = (frame.length - 34) >>> 8;
    pseudoOnly[11] = (frame.length - 34) & 0xff;
    const pseudoSum = ~referenceChecksum(pseudoOnly) & 0xffff;
    frame[34 + 16] = pseudoSum >>> 8;
    frame[34 + 17] = pseudoSum & 0xff;
    rig.contextTx(0, { ipcss: 14, ipcso: 24, ipcse: 33, tucss: 34, tucso: 50, tucse: 0, tucmd: R.TXD_TUCMD_TCP | R.TXD_TUCMD_IP });
    rig.dataTx(1, frame, R.TXD_CMD_EOP | R.TXD_CMD_RS, R.TXD_POPTS_IXSM | R.TXD_POPTS_TXSM);
    rig.write(R.TDT, 2);
    expect(rig.medium.frames).toHaveLength(1);
    verifyIpv4Tcp(rig.medium.frames[0]!);
    expect(rig.txStatus(1) & R.TXD_STAT_DD).toBeTruthy();
    expect(rig.txStatus(0) & R.TXD_STAT_DD).toBe(0);
  });

  it("TSO cuts the payload into MSS-sized segments with fixed-up IP length, id, TCP sequence, flags and checksums", () => {
    const rig = txRig(16);
    const payload = pattern(4000, 9);
    const mss = 1460;
    const frame = unfinishedTcpFrame(payload, 0x19); // FIN|PSH|ACK
    const headerLength = 14 + 20 + 20;
    // Linux-style seed: pseudo-header sum with a zero length.
    const pseudo = pseudoHeaderBytes(frame.subarray(14), 6, new Uint8Array(0));
    pseudo[10] = 0;
    pseudo[11] = 0;
    const seed = ~referenceChecksum(pseudo) & 0xffff;
    frame[34 + 16] = seed >>> 8;
    frame[34 + 17] = seed & 0xff;
    rig.contextTx(0, {
      ipcss: 14, ipcso: 24, ipcse: 33, tucss: 34, tucso: 50, tucse: 0,
      paylen: payload.length, hdrlen: headerLength, mss, tucmd: R.TXD_TUCMD_TCP | R.TXD_TUCMD_IP | R.TXD_TUCMD_TSE,
    });
    // Header in its own descriptor, payload over two more (as a scatter-gather skb is mapped).
    rig.dataTx(1, frame.subarray(0, headerLength), R.TXD_CMD_TSE, R.TXD_POPTS_IXSM | R.TXD_POPTS_TXSM);
    rig.dataTx(2, frame.subarray(headerLength, headerLength + 2500), R.TXD_CMD_TSE, 0);
    rig.dataTx(3, frame.subarray(headerLength + 2500), R.TXD_CMD_TSE | R.TXD_CMD_EOP | R.TXD_CMD_RS, 0);
    rig.write(R.TDT, 4);
    const segments = rig.medium.frames;
    expect(segments.map((s) => s.length - headerLength)).toEqual([1460, 1460, 1080]);
    const reassembled: number[] = [];
    segments.forEach((segment, i) => {
      verifyIpv4Tcp(segment);
      const view = new DataView(segment.buffer, segment.byteOffset);
      expect(view.getUint16(14 + 4)).toBe(0x0100 + i);
      expect(view.getUint32(34 + 4)).toBe(5000 + i * mss);
      expect(segment[34 + 13]).toBe(i === 2 ? 0x19 : 0x10);
      reassembled.push(...segment.subarray(headerLength));
    });
    expect(Uint8Array.from(reassembled)).toEqual(payload);
    expect(rig.read(R.TSCTC)).toBe(1);
    expect(rig.read(R.GPTC)).toBe(3);
    expect(rig.txStatus(3) & R.TXD_STAT_DD).toBeTruthy();
  });

  it("TSO with a malformed context is dropped and counted in TSCTFC", () => {
    const rig = txRig();
    const frame = unfinishedTcpFrame(pattern(100));
    rig.contextTx(0, { ipcss: 14, ipcso: 24, tucss: 34, tucso: 50, hdrlen: 54, mss: 0, tucmd: R.TXD_TUCMD_TCP | R.TXD_TUCMD_IP | R.TXD_TUCMD_TSE });
    rig.dataTx(1, frame, R.TXD_CMD_TSE | R.TXD_CMD_EOP | R.TXD_CMD_RS, R.TXD_POPTS_TXSM);
    rig.write(R.TDT, 2);
    expect(rig.medium.frames).toHaveLength(0);
    expect(rig.read(R.TSCTFC)).toBe(1);
    expect(rig.txStatus(1) & R.TXD_STAT_DD).toBeTruthy();
  });

  it("a descriptor ring or buffer outside the mapping is blocked and counted, without a throw", () => {
    const rig = txRig();
    rig.legacyTx(0, ethernetFrame(PEER, OWN, 0x88b5, 100), R.TXD_CMD_EOP | R.TXD_CMD_RS);
    rig.txRing!.view.setUint32(0, 0x01f00000, true);
    expect(() => rig.write(R.TDT, 1)).not.toThrow();
    expect(rig.medium.frames).toHaveLength(0);
    expect(rig.model.diagnostics.txDmaDrops).toBe(1);
    rig.write(R.TDBAL, 0x01f00000);
    rig.write(R.TDH, 0);
    rig.write(R.TDT, 1);
    expect(rig.read(R.TDH)).toBe(0);
    expect(rig.model.diagnostics.dmaErrors).toBe(2);
    expect(rig.host.faults.count("device-error")).toBe(2);
  });

  it("frames sent without link are lost on the wire but their descriptors complete", () => {
    const rig = new E1000Rig();
    rig.setupTx();
    rig.legacyTx(0, ethernetFrame(PEER, OWN, 0x88b5, 100), R.TXD_CMD_EOP | R.TXD_CMD_RS);
    rig.write(R.TDT, 1);
    expect(rig.txStatus(0) & R.TXD_STAT_DD).toBeTruthy();
    expect(rig.model.diagnostics.txNoLinkDrops).toBe(1);
    expect(rig.read(R.GPTC)).toBe(0);
  });
});
