import type { DmaPort } from "@vmk/kernel";
import * as R from "./registers.js";
import { ethernetCrc, foldSum, onesComplementSum, readU16 } from "./checksum.js";
import type { Interrupts } from "./interrupts.js";
import type { E1000State } from "./state.js";
import { STAT, countReceivedGood, countReceivedTotal, increment } from "./stats.js";

export interface DeviceDmaHost {
  /** Undefined until the device is plugged into a bus. */
  readonly dma: DmaPort | undefined;
  reportError(detail: string): void;
}

const CTRL_INDEX = R.reg(R.CTRL);
const RCTL_INDEX = R.reg(R.RCTL);
const VET_INDEX = R.reg(R.VET);
const RDBAL_INDEX = R.reg(R.RDBAL);
const RDBAH_INDEX = R.reg(R.RDBAH);
const RDLEN_INDEX = R.reg(R.RDLEN);
const RDH_INDEX = R.reg(R.RDH);
const RDT_INDEX = R.reg(R.RDT);
const RSRPD_INDEX = R.reg(R.RSRPD);
const RXCSUM_INDEX = R.reg(R.RXCSUM);
const RA_INDEX = R.reg(R.RA);
const MTA_INDEX = R.reg(R.MTA);
const VFTA_INDEX = R.reg(R.VFTA);

/** Shortest frame on the wire without FCS: a transmitter pads to 64 bytes with FCS. */
const MIN_FRAME = 60;
const FCS_LENGTH = 4;
const VLAN_TAG_LENGTH = 4;
const MAX_STANDARD_LENGTH = 1522;
const MAX_LONG_LENGTH = 16384;
const DESCRIPTOR_SIZE = 16;
const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** Enough descriptors for the longest frame in the smallest buffers (16384 / 256, rounded up). */
const MAX_DESCRIPTORS_PER_FRAME = 66;

/** Receive buffer size selected by RCTL.BSIZE and RCTL.BSEX (SDM 13.4.22). */
export function receiveBufferSize(rctl: number): number {
  const code = (rctl >>> R.RCTL_BSIZE_SHIFT) & 3;
  if (rctl & R.RCTL_BSEX) return code === 0 ? 2048 : 32768 >>> code;
  return 2048 >>> code;
}

/** The MTA bit a multicast address hashes to under RCTL.MO (SDM 13.5.1). */
export function multicastHash(address: Uint8Array, offsetMode: number): number {
  const a4 = address[4]!;
  const a5 = address[5]!;
  switch (offsetMode & 3) {
    case 0:
      return ((a4 >>> 4) | (a5 << 4)) & 0xfff;
    case 1:
      return ((a4 >>> 3) | (a5 << 5)) & 0xfff;
    case 2:
      return ((a4 >>> 2) | (a5 << 6)) & 0xfff;
    default:
      return (a4 | (a5 << 8)) & 0xfff;
  }
}

/**
 * The receive path (SDM 3.2): length checks, VLAN and address filtering, VLAN stripping, receive
 * checksum offload, then DMA into the legacy descriptor ring with write-back and interrupt causes.
 * There is no on-chip packet buffer: a frame that finds too few descriptors is dropped at once and
 * counted as missed (RNBC, MPC, RXO).
 */
export class Receiver {
  private readonly regs: Uint32Array;
  private readonly descriptor = new Uint8Array(DESCRIPTOR_SIZE);
  private readonly descriptorView = new DataView(this.descriptor.buffer);
  private readonly writeBack = new Uint8Array(8);
  private readonly writeBackView = new DataView(this.writeBack.buffer);
  private readonly padded = new Uint8Array(MIN_FRAME);
  /** The bytes placed in host memory when they differ from the wire frame (tag stripped, FCS kept). */
  private readonly stored = new Uint8Array(MAX_LONG_LENGTH + FCS_LENGTH);
  private readonly bufferAddresses = new Float64Array(MAX_DESCRIPTORS_PER_FRAME);
  private readonly descriptorAddresses = new Float64Array(MAX_DESCRIPTORS_PER_FRAME);

  constructor(
    private readonly state: E1000State,
    private readonly interrupts: Interrupts,
    private readonly host: DeviceDmaHost,
  ) {
    this.regs = state.regs;
  }

  /** A frame (without FCS) arrives from the wire, or from the transmitter in loopback. */
  receive(frame: Uint8Array): void {
    const regs = this.regs;
    const rctl = regs[RCTL_INDEX]!;
    if (!(rctl & R.RCTL_EN)) {
      this.state.diagnostics.rxDisabledDrops++;
      return;
    }
    let data = frame;
    if (data.length < MIN_FRAME) {
      this.padded.fill(0);
      this.padded.set(data);
      data = this.padded;
    }
    const wireLength = data.length + FCS_LENGTH;
    countReceivedTotal(regs, wireLength);
    if (wireLength > (rctl & R.RCTL_LPE ? MAX_LONG_LENGTH : MAX_STANDARD_LENGTH)) {
      increment(regs, STAT.ROC);
      return;
    }

    const tagged = ((data[12]! << 8) | data[13]!) === (regs[VET_INDEX]! & 0xffff);
    const tci = tagged ? (data[14]! << 8) | data[15]! : 0;
    if (tagged && rctl & R.RCTL_VFE && !this.vlanAccepted(tci, rctl)) return;
    if (!this.addressAccepted(data, rctl)) return;

    const strip = tagged && (regs[CTRL_INDEX]! & R.CTRL_VME) !== 0;
    const keepFcs = (rctl & R.RCTL_SECRC) === 0;
    let bytes = data;
    let length = data.length;
    if (strip || keepFcs) {
      bytes = this.stored;
      if (strip) {
        bytes.set(data.subarray(0, 12), 0);
        bytes.set(data.subarray(12 + VLAN_TAG_LENGTH), 12);
        length -= VLAN_TAG_LENGTH;
      } else {
        bytes.set(data, 0);
      }
      if (keepFcs) {
        const fcs = ethernetCrc(data, 0, data.length);
        bytes[length] = fcs & 0xff;
        bytes[length + 1] = (fcs >>> 8) & 0xff;
        bytes[length + 2] = (fcs >>> 16) & 0xff;
        bytes[length + 3] = fcs >>> 24;
        length += FCS_LENGTH;
      }
    }

    const count = ((regs[RDLEN_INDEX]! & 0xfff80) / DESCRIPTOR_SIZE) | 0;
    const head = regs[RDH_INDEX]!;
    const tail = regs[RDT_INDEX]!;
    const available = count === 0 || head >= count || tail >= count ? 0 : (tail - head + count) % count;
    const bufferSize = receiveBufferSize(rctl);
    const needed = Math.ceil(length / bufferSize);
    if (available < needed) {
      increment(regs, STAT.RNBC);
      increment(regs, STAT.MPC);
      this.interrupts.raise(R.ICR_RXO);
      return;
    }
    if (!this.deliver(bytes, length, needed, head, count, bufferSize, data, tagged, tci, strip, keepFcs)) return;

    const newHead = (head + needed) % count;
    regs[RDH_INDEX] = newHead;
    countReceivedGood(regs, data, wireLength);
    let causes = 0;
    const free = (tail - newHead + count) % count;
    if (free <= count >>> (1 + ((rctl >>> R.RCTL_RDMTS_SHIFT) & 3))) causes |= R.ICR_RXDMT0;
    const smallPacketSize = regs[RSRPD_INDEX]! & 0xfff;
    if (smallPacketSize !== 0 && length < smallPacketSize) causes |= R.ICR_SRPD;
    if (causes) this.interrupts.raise(causes);
    this.interrupts.packetReceived();
  }

  /** Fetches the descriptors, writes the buffers, then writes the descriptors back. False if dropped. */
  private deliver(
    bytes: Uint8Array,
    length: number,
    needed: number,
    head: number,
    count: number,
    bufferSize: number,
    frame: Uint8Array,
    tagged: boolean,
    tci: number,
    stripped: boolean,
    keepFcs: boolean,
  ): boolean {
    const dma = this.host.dma;
    if (!dma) return this.dmaFailed("receive with no bus attachment");
    const regs = this.regs;
    const ringBase = regs[RDBAL_INDEX]! + regs[RDBAH_INDEX]! * 0x100000000;
    const descriptorView = this.descriptorView;
    for (let i = 0; i < needed; i++) {
      const address = ringBase + ((head + i) % count) * DESCRIPTOR_SIZE;
      this.descriptorAddresses[i] = address;
      if (!dma.read(address, this.descriptor)) return this.dmaFailed(`receive descriptor fetch at 0x${address.toString(16)} blocked`);
      this.bufferAddresses[i] = descriptorView.getUint32(0, true) + descriptorView.getUint32(4, true) * 0x100000000;
    }
    for (let i = 0, offset = 0; i < needed; i++, offset += bufferSize) {
      const end = Math.min(length, offset + bufferSize);
      // A frame that fits one buffer as it came from the wire is written as it is, without a view of it.
      const piece = offset === 0 && end === bytes.length ? bytes : bytes.subarray(offset, end);
      if (!dma.write(this.bufferAddresses[i]!, piece)) {
        return this.dmaFailed(`receive buffer write at 0x${this.bufferAddresses[i]!.toString(16)} blocked`);
      }
    }

    const rxcsum = regs[RXCSUM_INDEX]!;
    const payloadEnd = keepFcs ? length - FCS_LENGTH : length;
    const packetChecksum = foldSum(onesComplementSum(bytes, Math.min(rxcsum & R.RXCSUM_PCSS_MASK, payloadEnd), payloadEnd));
    const offload = this.checksumOffload(frame, tagged, rxcsum);
    const view = this.writeBackView;
    for (let i = 0, offset = 0; i < needed; i++, offset += bufferSize) {
      const last = i === needed - 1;
      view.setUint16(0, Math.min(bufferSize, length - offset), true);
      view.setUint16(2, packetChecksum, true);
      let status = R.RXD_STAT_DD;
      let errors = 0;
      if (last) {
        status |= R.RXD_STAT_EOP | (offload & 0xff) | (stripped ? R.RXD_STAT_VP : 0);
        errors = offload >>> 8;
      }
      this.writeBack[4] = status;
      this.writeBack[5] = errors;
      view.setUint16(6, stripped ? tci : 0, true);
      const at = this.descriptorAddresses[i]! + 8;
      if (!dma.write(at, this.writeBack)) {
        this.state.diagnostics.dmaErrors++;
        this.host.reportError(`receive descriptor write-back at 0x${at.toString(16)} blocked`);
      }
    }
    return true;
  }

  private dmaFailed(detail: string): false {
    this.state.diagnostics.dmaErrors++;
    this.state.diagnostics.rxDmaDrops++;
    this.host.reportError(detail);
    return false;
  }

  private vlanAccepted(tci: number, rctl: number): boolean {
    if (rctl & R.RCTL_CFIEN && ((tci >>> 12) & 1) !== ((rctl & R.RCTL_CFI) >>> 20)) return false;
    const vid = tci & 0xfff;
    return ((this.regs[VFTA_INDEX + (vid >>> 5)]! >>> (vid & 31)) & 1) === 1;
  }

  private addressAccepted(frame: Uint8Array, rctl: number): boolean {
    const multicast = (frame[0]! & 1) !== 0;
    if (!multicast) {
      if (rctl & R.RCTL_UPE) return true;
    } else {
      const broadcast = (frame[0]! & frame[1]! & frame[2]! & frame[3]! & frame[4]! & frame[5]!) === 0xff;
      if (broadcast && rctl & R.RCTL_BAM) return true;
      if (rctl & R.RCTL_MPE) return true;
    }
    if (this.exactMatch(frame)) return true;
    if (!multicast) return false;
    const hash = multicastHash(frame, (rctl >>> R.RCTL_MO_SHIFT) & 3);
    return ((this.regs[MTA_INDEX + (hash >>> 5)]! >>> (hash & 31)) & 1) === 1;
  }

  private exactMatch(frame: Uint8Array): boolean {
    const regs = this.regs;
    const low = (frame[0]! | (frame[1]! << 8) | (frame[2]! << 16) | (frame[3]! << 24)) >>> 0;
    const high = frame[4]! | (frame[5]! << 8);
    for (let i = 0; i < R.RA_ENTRIES; i++) {
      const rah = regs[RA_INDEX + 2 * i + 1]!;
      // Address select 00b: the entry filters destination addresses.
      if ((rah & (R.RAH_AV | 0x30000)) === R.RAH_AV && (rah & 0xffff) === high && regs[RA_INDEX + 2 * i] === low) return true;
    }
    return false;
  }

  /**
   * Receive checksum offload (SDM 3.2.9) for IPv4 with TCP or UDP: status bits in the low byte of the
   * result, error bits in the next byte.
   */
  private checksumOffload(frame: Uint8Array, tagged: boolean, rxcsum: number): number {
    if (!(rxcsum & (R.RXCSUM_IPOFL | R.RXCSUM_TUOFL))) return R.RXD_STAT_IXSM;
    const l3 = tagged ? 18 : 14;
    if (readU16(frame, l3 - 2) !== ETHERTYPE_IPV4 || frame.length < l3 + 20 || frame[l3]! >>> 4 !== 4) return 0;
    const headerLength = (frame[l3]! & 0xf) * 4;
    const totalLength = readU16(frame, l3 + 2);
    if (headerLength < 20 || l3 + headerLength > frame.length) return 0;
    let status = 0;
    let errors = 0;
    if (rxcsum & R.RXCSUM_IPOFL) {
      status |= R.RXD_STAT_IPCS;
      if (foldSum(onesComplementSum(frame, l3, l3 + headerLength)) !== 0xffff) errors |= R.RXD_ERR_IPE;
    }
    const fragmented = (readU16(frame, l3 + 6) & 0x3fff) !== 0;
    const protocol = frame[l3 + 9]!;
    const l4 = l3 + headerLength;
    const l4Length = totalLength - headerLength;
    if (rxcsum & R.RXCSUM_TUOFL && !fragmented && (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) && l4Length >= 8 && l4 + l4Length <= frame.length) {
      // A UDP datagram sent without a checksum has nothing to verify.
      if (protocol === IPPROTO_UDP && readU16(frame, l4 + 6) === 0) return status | (errors << 8);
      status |= R.RXD_STAT_TCPCS;
      let sum = onesComplementSum(frame, l3 + 12, l3 + 20, protocol + l4Length);
      sum = onesComplementSum(frame, l4, l4 + l4Length, sum);
      if (foldSum(sum) !== 0xffff) errors |= R.RXD_ERR_TCPE;
    }
    return status | (errors << 8);
  }
}
