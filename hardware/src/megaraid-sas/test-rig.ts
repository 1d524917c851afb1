import { Host, PciDeviceHandle, type CoherentBuffer, type IoMapping, type PciFunction, type VirtualClock } from "@vmk/kernel";
import { MegaRaidSasModel, type MegaRaidOptions } from "./megaraid-sas-model.js";
import { FrameFlags, Header, MfiCommand, MfiStatus, DcmdFrame, IoFrame, PassThroughFrame } from "./mfi-frames.js";
import * as R from "./registers.js";

export const SLOT_SIZE = 256;
const SLOTS = 64;
export const DATA_SIZE = 256 * 1024;

export interface SglPiece {
  address: number;
  length: number;
}

/**
 * A host with one MegaRAID in slot 5, driven the way the megaraid_sas driver does: handshake through
 * the doorbell, INIT with a reply queue in coherent memory, frames fired at the inbound queue port,
 * replies read from the queue, on virtual time. Test-only scaffolding.
 */
export class MegaRaidRig {
  readonly host = new Host({ memoryBytes: 32 << 20 });
  readonly model: MegaRaidSasModel;
  readonly fn: PciFunction;
  readonly handle: PciDeviceHandle;
  readonly regs: IoMapping;
  /** 64 frame slots of 256 bytes (a frame and three chained frames each). */
  readonly frames: CoherentBuffer;
  readonly replyQueue: CoherentBuffer;
  /** Producer index at 0, consumer index at 64. */
  readonly indices: CoherentBuffer;
  readonly data: CoherentBuffer;
  readonly sense: CoherentBuffer;
  entries = 0;

  constructor(options: MegaRaidOptions = {}) {
    this.model = new MegaRaidSasModel({ serial: "TESTSERIAL01", ...options });
    this.fn = this.host.pci.attach({ device: 5 }, this.model);
    this.host.pci.assignResources();
    this.handle = new PciDeviceHandle(this.fn, this.host.pci, this.host.interrupts, this.host.memory, "test");
    this.handle.enable();
    this.handle.setMaster(true);
    this.regs = this.handle.mapBar(this.model.variant.registerBar);
    this.frames = this.handle.dma.allocCoherent(SLOTS * SLOT_SIZE);
    this.replyQueue = this.handle.dma.allocCoherent(8 * 1024 * 8);
    this.indices = this.handle.dma.allocCoherent(128);
    this.data = this.handle.dma.allocCoherent(DATA_SIZE);
    this.sense = this.handle.dma.allocCoherent(4096);
  }

  get clock(): VirtualClock {
    return this.host.clock as VirtualClock;
  }

  read(offset: number): number {
    return this.regs.read32(offset);
  }

  write(offset: number, value: number): void {
    this.regs.write32(offset, value >>> 0);
  }

  /** The status word where the driver for this chip reads it. */
  statusWord(): number {
    return this.read(this.model.variant.flavour === "ppc" ? R.OUTBOUND_SCRATCH_PAD_0 : R.OUTBOUND_MSG_0);
  }

  get interruptAsserted(): boolean {
    return this.host.interrupts.isLineAsserted(this.fn.gsi!);
  }

  /** Runs virtual time and lets logical-unit promises settle, until both are quiet. */
  async settle(rounds = 20): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      this.clock.runUntilIdle(this.clock.now() + 10_000_000_000);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** megasas_transition_to_ready: wait out the boot, answer WAIT_HANDSHAKE, see READY. */
  async bootToReady(): Promise<void> {
    await this.settle(2);
    if ((this.statusWord() & R.MFI_STATE_MASK) >>> 0 === R.MfiState.WAIT_HANDSHAKE) {
      this.write(R.INBOUND_DOORBELL, R.MfiDoorbell.CLEAR_HANDSHAKE | R.MfiDoorbell.HOTPLUG);
    }
  }

  slotAddress(slot: number): number {
    return this.frames.busAddress + slot * SLOT_SIZE;
  }

  frame(slot: number): DataView {
    return new DataView(this.frames.bytes.buffer, this.frames.bytes.byteOffset + slot * SLOT_SIZE, SLOT_SIZE);
  }

  clearSlot(slot: number): DataView {
    this.frames.bytes.fill(0, slot * SLOT_SIZE, (slot + 1) * SLOT_SIZE);
    return this.frame(slot);
  }

  /** Posts a frame with the chip's own encoding of address and frame count. */
  fire(address: number, count = 0): void {
    if (this.model.variant.flavour === "xscale") this.write(R.INBOUND_QUEUE_PORT, (address / 8) | count);
    else this.write(R.INBOUND_QUEUE_PORT, (address | (count << 1) | 1) >>> 0);
  }

  fireSlot(slot: number, count = 0): void {
    this.fire(this.slotAddress(slot), count);
  }

  status(slot: number): number {
    return this.frame(slot).getUint8(Header.COMMAND_STATUS);
  }

  /** megasas_issue_init_mfi: INIT in `slot`, queue info right behind it, polled (not posted). */
  async init(entries = 64, slot = 0, flags = 0, producer = 0): Promise<number> {
    this.entries = entries;
    this.indices.view.setUint32(0, producer, true);
    this.indices.view.setUint32(64, 0, true);
    const frame = this.clearSlot(slot);
    frame.setUint8(Header.COMMAND, MfiCommand.INIT);
    frame.setUint8(Header.COMMAND_STATUS, MfiStatus.INVALID_STATUS);
    frame.setUint16(Header.FLAGS, FrameFlags.DONT_POST_IN_REPLY_QUEUE, true);
    frame.setUint32(Header.DATA_LENGTH, 32, true);
    const info = this.slotAddress(slot) + 64;
    frame.setUint32(24, info, true);
    frame.setUint32(64 + 0, flags, true);
    frame.setUint32(64 + 4, entries, true);
    frame.setUint32(64 + 8, this.replyQueue.busAddress, true);
    frame.setUint32(64 + 16, this.indices.busAddress, true);
    frame.setUint32(64 + 24, this.indices.busAddress + 64, true);
    this.fireSlot(slot);
    await this.settle();
    return this.status(slot);
  }

  /** Header of a command frame: status preset to 0xFF as the driver does, context = slot + 1000. */
  header(slot: number, command: number, flags: number, dataLength: number, sgeCount: number): DataView {
    const frame = this.clearSlot(slot);
    frame.setUint8(Header.COMMAND, command);
    frame.setUint8(Header.COMMAND_STATUS, MfiStatus.INVALID_STATUS);
    frame.setUint8(Header.SGE_COUNT, sgeCount);
    frame.setUint32(Header.CONTEXT, 1000 + slot, true);
    frame.setUint16(Header.FLAGS, flags, true);
    frame.setUint32(Header.DATA_LENGTH, dataLength, true);
    return frame;
  }

  writeSgl(frame: DataView, offset: number, pieces: readonly SglPiece[], sgl64: boolean): void {
    pieces.forEach((piece, i) => {
      if (sgl64) {
        const at = offset + i * 12;
        frame.setUint32(at, piece.address >>> 0, true);
        frame.setUint32(at + 4, Math.floor(piece.address / 2 ** 32), true);
        frame.setUint32(at + 8, piece.length, true);
      } else {
        frame.setUint32(offset + i * 8, piece.address, true);
        frame.setUint32(offset + i * 8 + 4, piece.length, true);
      }
    });
  }

  dcmd(slot: number, opcode: number, dataLength: number, mailbox: number[] = [], options: { sgl64?: boolean; pieces?: SglPiece[]; write?: boolean } = {}): DataView {
    const pieces = options.pieces ?? (dataLength > 0 ? [{ address: this.data.busAddress, length: dataLength }] : []);
    const flags = (options.sgl64 ? FrameFlags.SGL64 : 0) | (options.write ? FrameFlags.DIR_WRITE : FrameFlags.DIR_READ);
    const frame = this.header(slot, MfiCommand.DCMD, flags, dataLength, pieces.length);
    frame.setUint32(DcmdFrame.OPCODE, opcode, true);
    mailbox.forEach((byte, i) => frame.setUint8(DcmdFrame.MAILBOX + i, byte));
    this.writeSgl(frame, DcmdFrame.SGL, pieces, options.sgl64 ?? false);
    return frame;
  }

  /** LD_READ / LD_WRITE of `blocks` at `lba` through the data buffer. */
  blockIo(slot: number, write: boolean, targetId: number, lba: number, blocks: number, pieces: SglPiece[], sgl64 = true): DataView {
    const flags = (sgl64 ? FrameFlags.SGL64 | FrameFlags.SENSE64 : 0) | (write ? FrameFlags.DIR_WRITE : FrameFlags.DIR_READ);
    const frame = this.header(slot, write ? MfiCommand.LD_WRITE : MfiCommand.LD_READ, flags, blocks, pieces.length);
    frame.setUint8(Header.TARGET_ID, targetId);
    frame.setUint8(Header.SENSE_LENGTH, 96);
    frame.setUint32(IoFrame.SENSE_ADDRESS, this.sense.busAddress + slot * 64, true);
    frame.setUint32(IoFrame.LBA, lba >>> 0, true);
    frame.setUint32(IoFrame.LBA_HIGH, Math.floor(lba / 2 ** 32), true);
    this.writeSgl(frame, IoFrame.SGL, pieces, sgl64);
    return frame;
  }

  /** LD_SCSI_IO / PD_SCSI_IO carrying `cdb`. */
  passThrough(slot: number, logical: boolean, targetId: number, cdb: Uint8Array, dataLength: number, direction: "in" | "out" | "none", pieces?: SglPiece[], sgl64 = false): DataView {
    const list = pieces ?? (dataLength > 0 ? [{ address: this.data.busAddress, length: dataLength }] : []);
    const flags = (sgl64 ? FrameFlags.SGL64 | FrameFlags.SENSE64 : 0) | (direction === "in" ? FrameFlags.DIR_READ : direction === "out" ? FrameFlags.DIR_WRITE : 0);
    const frame = this.header(slot, logical ? MfiCommand.LD_SCSI_IO : MfiCommand.PD_SCSI_IO, flags, dataLength, list.length);
    frame.setUint8(Header.TARGET_ID, targetId);
    frame.setUint8(Header.CDB_LENGTH, cdb.length);
    frame.setUint8(Header.SENSE_LENGTH, 96);
    frame.setUint32(PassThroughFrame.SENSE_ADDRESS, this.sense.busAddress + slot * 64, true);
    new Uint8Array(frame.buffer, frame.byteOffset + PassThroughFrame.CDB, 16).set(cdb);
    this.writeSgl(frame, PassThroughFrame.SGL, list, sgl64);
    return frame;
  }

  senseOf(slot: number): Uint8Array {
    return this.sense.bytes.slice(slot * 64, slot * 64 + 64);
  }

  get producer(): number {
    return this.indices.view.getUint32(0, true);
  }

  get consumer(): number {
    return this.indices.view.getUint32(64, true);
  }

  /** megasas_complete_cmd_dpc: every context between consumer and producer, consumer moved up. */
  takeReplies(): number[] {
    const contexts: number[] = [];
    let consumer = this.consumer;
    const producer = this.producer;
    while (consumer !== producer) {
      contexts.push(this.replyQueue.view.getUint32(consumer * 4, true));
      consumer = (consumer + 1) % this.entries;
    }
    this.indices.view.setUint32(64, producer, true);
    return contexts;
  }

  /** Brings the controller up: READY, INIT, interrupts enabled the way the chip's Linux driver does it. */
  async bringUp(entries = 64): Promise<void> {
    await this.bootToReady();
    const status = await this.init(entries);
    if (status !== MfiStatus.OK) throw new Error(`INIT failed with status 0x${status.toString(16)}`);
    if (this.model.variant.flavour === "ppc") {
      this.write(R.OUTBOUND_DOORBELL_CLEAR_0, 0xffffffff);
      this.write(R.OUTBOUND_INTR_MASK, ~R.PPC_REPLY_INTERRUPT);
    } else {
      this.write(R.OUTBOUND_INTR_MASK, 0);
    }
  }

  /** megasas_clear_intr_*: reads the causes and writes them back where the chip clears them. */
  clearInterrupt(): number {
    const status = this.read(R.OUTBOUND_INTR_STATUS);
    this.write(this.model.variant.flavour === "ppc" ? R.OUTBOUND_DOORBELL_CLEAR_0 : R.OUTBOUND_INTR_STATUS, status);
    return status;
  }
}
