import type { DmaPort } from "@vmk/kernel";
import * as R from "./registers.js";
import { internetChecksum, readU16, readU32, writeU16, writeU32 } from "./checksum.js";
import type { Interrupts } from "./interrupts.js";
import type { DeviceDmaHost } from "./rx.js";
import type { E1000State, TxContext } from "./state.js";
import { STAT, countTransmitted, increment } from "./stats.js";

export interface TransmitHost extends DeviceDmaHost {
  /** Puts a frame on the wire (or loops it back); false when it was lost for lack of link. */
  emitFrame(frame: Uint8Array): boolean;
}

const CTRL_INDEX = R.reg(R.CTRL);
const TCTL_INDEX = R.reg(R.TCTL);
const VET_INDEX = R.reg(R.VET);
const TDBAL_INDEX = R.reg(R.TDBAL);
const TDBAH_INDEX = R.reg(R.TDBAH);
const TDLEN_INDEX = R.reg(R.TDLEN);
const TDH_INDEX = R.reg(R.TDH);
const TDT_INDEX = R.reg(R.TDT);
const TXDCTL_INDEX = R.reg(R.TXDCTL);

const DESCRIPTOR_SIZE = 16;
const MIN_FRAME = 60;
const FCS_LENGTH = 4;
const VLAN_TAG_LENGTH = 4;
const DEXT = 1 << 29;
/** The longest packet the gather buffer takes: a TSO header plus a 20-bit PAYLEN. */
const MAX_PACKET = 256 + 0xfffff;
const TCP_FLAG_FIN = 0x01;
const TCP_FLAG_PSH = 0x08;
const IPV6_HEADER_LENGTH = 40;

/**
 * The transmit path (SDM 3.3-3.5): descriptor fetch from the ring between TDH and TDT, legacy and
 * extended (context + data) descriptors, gather into one packet per EOP, checksum insertion, TCP/UDP
 * segmentation, VLAN tag insertion, padding, DD write-back for RS and the TXDW/TXQE/TXD_LOW causes.
 * Descriptors are processed as soon as software moves TDT.
 */
export class Transmitter {
  private readonly regs: Uint32Array;
  private readonly descriptor = new Uint8Array(DESCRIPTOR_SIZE);
  private readonly view = new DataView(this.descriptor.buffer);
  private readonly doneStatus = new Uint8Array([R.TXD_STAT_DD]);
  private segment = new Uint8Array(16384);
  private processing = false;
  /** The DMA port of the ring run in progress (process() sets it, so the per-descriptor steps need no lookup). */
  private dma: DmaPort | undefined;
  private reported = false;
  private reportDelayed = false;

  constructor(
    private readonly state: E1000State,
    private readonly interrupts: Interrupts,
    private readonly host: TransmitHost,
  ) {
    this.regs = state.regs;
  }

  /** Runs the ring until TDH meets TDT (TDT write, TCTL.EN set). */
  process(): void {
    if (this.processing) return;
    const regs = this.regs;
    if (!(regs[TCTL_INDEX]! & R.TCTL_EN)) return;
    const count = ((regs[TDLEN_INDEX]! & 0xfff80) / DESCRIPTOR_SIZE) | 0;
    let head = regs[TDH_INDEX]!;
    const tail = regs[TDT_INDEX]!;
    if (count === 0 || head >= count || tail >= count || head === tail) return;
    const dma = this.host.dma;
    if (!dma) return;
    this.dma = dma;
    this.processing = true;
    this.reported = false;
    this.reportDelayed = false;
    const ringBase = regs[TDBAL_INDEX]! + regs[TDBAH_INDEX]! * 0x100000000;
    try {
      while (head !== tail) {
        const address = ringBase + head * DESCRIPTOR_SIZE;
        if (!dma.read(address, this.descriptor)) {
          this.state.diagnostics.dmaErrors++;
          this.host.reportError(`transmit descriptor fetch at 0x${address.toString(16)} blocked`);
          break;
        }
        head = (head + 1) % count;
        regs[TDH_INDEX] = head;
        this.descriptorFetched(address);
      }
    } finally {
      this.processing = false;
    }
    let causes = 0;
    if (head === tail) causes |= R.ICR_TXQE;
    const lowThreshold = (regs[TXDCTL_INDEX]! >>> R.TXDCTL_LWTHRESH_SHIFT) * 8;
    if (lowThreshold !== 0 && (tail - head + count) % count < lowThreshold) causes |= R.ICR_TXD_LOW;
    if (causes) this.interrupts.raise(causes);
    if (this.reported) this.interrupts.descriptorsWrittenBack(this.reportDelayed);
  }

  /** Drops a packet in progress and the offload context (device reset). */
  reset(): void {
    const packet = this.state.txPacket;
    packet.length = 0;
    packet.descriptors = 0;
    packet.failed = false;
    packet.reportAddresses.length = 0;
  }

  private descriptorFetched(address: number): void {
    const view = this.view;
    const low = view.getUint32(0, true);
    const high = view.getUint32(4, true);
    const lower = view.getUint32(8, true);
    const upper = view.getUint32(12, true);
    if (lower & DEXT) {
      const type = (lower >>> 20) & 0xf;
      if (type === R.TXD_DTYP_CONTEXT) this.loadContext(address, low, high, lower, upper);
      else if (type === R.TXD_DTYP_DATA) this.dataDescriptor(address, low + high * 0x100000000, lower & 0xfffff, lower >>> 24, (upper >>> 8) & 0xff, upper >>> 16, true, 0, 0);
      // Other descriptor types are reserved on the 8254x: fetched and skipped.
      return;
    }
    this.dataDescriptor(address, low + high * 0x100000000, lower & 0xffff, lower >>> 24, 0, upper >>> 16, false, (lower >>> 16) & 0xff, (upper >>> 8) & 0xff);
  }

  private loadContext(address: number, low: number, high: number, lower: number, upper: number): void {
    const context = this.state.txContext;
    context.ipcss = low & 0xff;
    context.ipcso = (low >>> 8) & 0xff;
    context.ipcse = low >>> 16;
    context.tucss = high & 0xff;
    context.tucso = (high >>> 8) & 0xff;
    context.tucse = high >>> 16;
    context.paylen = lower & 0xfffff;
    context.tucmd = lower >>> 24;
    context.hdrlen = (upper >>> 8) & 0xff;
    context.mss = upper >>> 16;
    const command = lower >>> 24;
    if (command & R.TXD_CMD_RS) this.reportDone(address, (command & R.TXD_CMD_IDE) !== 0);
  }

  private dataDescriptor(
    address: number,
    buffer: number,
    length: number,
    command: number,
    popts: number,
    special: number,
    extended: boolean,
    checksumOffset: number,
    checksumStart: number,
  ): void {
    const state = this.state;
    const packet = state.txPacket;
    const dma = this.dma!;
    const eop = (command & R.TXD_CMD_EOP) !== 0;
    const vlan = (command & R.TXD_CMD_VLE) !== 0 && (this.regs[CTRL_INDEX]! & R.CTRL_VME) !== 0;

    if (packet.descriptors === 0) {
      // Only the first descriptor's offload options count for the packet.
      packet.extended = extended;
      packet.popts = extended ? popts : 0;
      packet.tse = extended && (command & R.TXD_CMD_TSE) !== 0;
      packet.interruptDelay = false;
      const plain = !vlan && !packet.tse && packet.popts === 0 && (extended || !(command & R.TXD_CMD_IC));
      if (eop && plain && (length >= MIN_FRAME || !(this.regs[TCTL_INDEX]! & R.TCTL_PSP))) {
        // The common case, one descriptor per frame with nothing to insert: read straight into the frame.
        const frame = new Uint8Array(length);
        if (dma.read(buffer, frame)) this.send(frame);
        else this.bufferFailed(buffer, true);
        if (command & R.TXD_CMD_RS) this.reportDone(address, (command & R.TXD_CMD_IDE) !== 0);
        return;
      }
    }
    packet.descriptors++;
    if (command & R.TXD_CMD_IDE) packet.interruptDelay = true;
    if (length > 0 && !packet.failed) {
      if (packet.length + length > MAX_PACKET) {
        packet.failed = true;
        this.host.reportError(`transmit packet longer than ${MAX_PACKET} bytes dropped`);
      } else {
        this.ensureCapacity(packet.length + length);
        if (dma.read(buffer, state.txBuffer.subarray(packet.length, packet.length + length))) packet.length += length;
        else this.bufferFailed(buffer, false);
      }
    }
    if (command & R.TXD_CMD_RS) packet.reportAddresses.push(address);
    if (!eop) return;

    if (packet.failed) {
      state.diagnostics.txDmaDrops++;
    } else {
      const bytes = state.txBuffer.subarray(0, packet.length);
      const tag = vlan ? special : -1;
      if (packet.tse) this.segmentAndSend(bytes, packet.popts, tag);
      else {
        if (!extended && command & R.TXD_CMD_IC) insertChecksum(bytes, checksumStart, bytes.length, checksumOffset, 0, false);
        if (packet.popts) applyOffloads(bytes, bytes.length, state.txContext, packet.popts, 0);
        this.sendCopy(bytes, bytes.length, tag);
      }
    }
    for (const reportAddress of packet.reportAddresses) this.reportDone(reportAddress, packet.interruptDelay);
    packet.reportAddresses.length = 0;
    packet.length = 0;
    packet.descriptors = 0;
    packet.failed = false;
  }

  /** TCP/UDP segmentation (SDM 3.5): one frame per MSS of payload, headers fixed up per segment. */
  private segmentAndSend(bytes: Uint8Array, popts: number, tag: number): void {
    const regs = this.regs;
    const context = this.state.txContext;
    const headerLength = context.hdrlen;
    const mss = context.mss;
    const tcp = (context.tucmd & R.TXD_TUCMD_TCP) !== 0;
    const ipv4 = (context.tucmd & R.TXD_TUCMD_IP) !== 0;
    const headerFields = Math.max(context.ipcss + (ipv4 ? 12 : 6), context.tucss + (tcp ? 14 : 8));
    if (mss === 0 || headerLength === 0 || headerLength > bytes.length || headerFields > headerLength) {
      increment(regs, STAT.TSCTFC);
      this.state.diagnostics.tsoFailures++;
      this.host.reportError(`TSO context rejected (HDRLEN ${headerLength}, MSS ${mss}, ${bytes.length} bytes)`);
      return;
    }
    increment(regs, STAT.TSCTC);
    const payload = bytes.length - headerLength;
    const firstSequence = tcp ? readU32(bytes, context.tucss + 4) : 0;
    const firstId = ipv4 ? readU16(bytes, context.ipcss + 4) : 0;
    const flags = tcp ? bytes[context.tucss + 13]! : 0;
    let index = 0;
    for (let offset = 0; offset < payload || index === 0; offset += mss, index++) {
      const segmentPayload = Math.min(mss, payload - offset);
      const length = headerLength + segmentPayload;
      const last = offset + segmentPayload >= payload;
      if (this.segment.length < length) this.segment = new Uint8Array(length);
      const frame = this.segment;
      frame.set(bytes.subarray(0, headerLength), 0);
      frame.set(bytes.subarray(headerLength + offset, headerLength + offset + segmentPayload), headerLength);
      if (ipv4) {
        writeU16(frame, context.ipcss + 2, length - context.ipcss);
        writeU16(frame, context.ipcss + 4, (firstId + index) & 0xffff);
      } else {
        writeU16(frame, context.ipcss + 4, length - context.ipcss - IPV6_HEADER_LENGTH);
      }
      if (tcp) {
        writeU32(frame, context.tucss + 4, (firstSequence + offset) >>> 0);
        frame[context.tucss + 13] = last ? flags : flags & ~(TCP_FLAG_FIN | TCP_FLAG_PSH);
      } else {
        writeU16(frame, context.tucss + 4, length - context.tucss);
      }
      // Software seeded the L4 checksum with a pseudo-header sum without length; the length is added per segment.
      applyOffloads(frame, length, context, popts, length - context.tucss);
      this.sendCopy(frame, length, tag);
    }
  }

  /** Copies a packet into a frame of its own, inserting the 802.1Q tag and padding as configured. */
  private sendCopy(bytes: Uint8Array, length: number, tag: number): void {
    const tagged = tag >= 0;
    const size = length + (tagged ? VLAN_TAG_LENGTH : 0);
    const pad = this.regs[TCTL_INDEX]! & R.TCTL_PSP && size < MIN_FRAME;
    const frame = new Uint8Array(pad ? MIN_FRAME : size);
    if (tagged && length >= 12) {
      frame.set(bytes.subarray(0, 12), 0);
      writeU16(frame, 12, this.regs[VET_INDEX]! & 0xffff);
      writeU16(frame, 14, tag);
      frame.set(bytes.subarray(12, length), 16);
    } else {
      frame.set(bytes.subarray(0, length), 0);
    }
    this.send(frame);
  }

  private send(frame: Uint8Array): void {
    if (this.host.emitFrame(frame)) countTransmitted(this.regs, frame, Math.max(frame.length, MIN_FRAME) + FCS_LENGTH);
    else this.state.diagnostics.txNoLinkDrops++;
  }

  private reportDone(address: number, delayed: boolean): void {
    if (!this.dma!.write(address + 12, this.doneStatus)) {
      this.state.diagnostics.dmaErrors++;
      this.host.reportError(`transmit descriptor write-back at 0x${(address + 12).toString(16)} blocked`);
      return;
    }
    this.reported = true;
    if (delayed) this.reportDelayed = true;
  }

  private bufferFailed(buffer: number, dropped: boolean): void {
    const diagnostics = this.state.diagnostics;
    diagnostics.dmaErrors++;
    if (dropped) diagnostics.txDmaDrops++;
    else this.state.txPacket.failed = true;
    this.host.reportError(`transmit buffer read at 0x${buffer.toString(16)} blocked`);
  }

  private ensureCapacity(size: number): void {
    const state = this.state;
    if (state.txBuffer.length >= size) return;
    const grown = new Uint8Array(Math.min(MAX_PACKET, Math.max(size, state.txBuffer.length * 2)));
    grown.set(state.txBuffer);
    state.txBuffer = grown;
  }
}

/** IP (IXSM) and TCP/UDP (TXSM) checksum insertion with the context's offsets. */
function applyOffloads(bytes: Uint8Array, length: number, context: TxContext, popts: number, l4LengthForPseudoHeader: number): void {
  if (popts & R.TXD_POPTS_IXSM) {
    const end = context.ipcse ? context.ipcse + 1 : length;
    insertChecksum(bytes, context.ipcss, end, context.ipcso, 0, true);
  }
  if (popts & R.TXD_POPTS_TXSM) {
    const end = context.tucse ? context.tucse + 1 : length;
    const udp = (context.tucmd & R.TXD_TUCMD_TCP) === 0;
    insertChecksum(bytes, context.tucss, end, context.tucso, l4LengthForPseudoHeader, false, udp);
  }
}

/**
 * Sums bytes [start, end) and stores the complement at `offset`. `zeroField` clears the field first
 * (IP header checksum); otherwise the field holds software's seed (pseudo-header sum). A computed
 * UDP checksum of 0 is sent as FFFFh, since 0 means "no checksum".
 */
function insertChecksum(bytes: Uint8Array, start: number, end: number, offset: number, extra: number, zeroField: boolean, udp = false): void {
  const limit = Math.min(end, bytes.length);
  if (start >= limit || offset + 2 > bytes.length) return;
  if (zeroField) writeU16(bytes, offset, 0);
  let checksum = internetChecksum(bytes, start, limit, extra);
  if (udp && checksum === 0) checksum = 0xffff;
  writeU16(bytes, offset, checksum);
}
