import type { DmaPort } from "@vmk/kernel";
import { putBe32 } from "../scsi/big-endian.js";
import { ScsiStatus, ScsiTaskAbortedError, ScsiTransportError, type ScsiCommandTarget, type ScsiResponse, type TaskAbortSignal } from "../scsi/scsi-command.js";
import type { Completion } from "./completion.js";
import { DataBuffers } from "./data-buffers.js";
import { senseKey, type DriveSet } from "./drives.js";
import type { FetchedFrame } from "./fetched-frame.js";
import { FRAME_DIRECTION_MASK, FrameFlags, IoFrame, MfiStatus, PassThroughFrame } from "./mfi-frames.js";
import { decodeSgl, gatherInto, scatter, type ScatterGatherElement } from "./sgl.js";
import type { DriveGeometry, MegaRaidState } from "./state.js";

export interface ScsiIoHost {
  readonly state: MegaRaidState;
  readonly drives: DriveSet;
  readonly dma: DmaPort | undefined;
  readonly maxSge: number;
  /** The logical drive's geometry when the firmware already knows it (no command needed). */
  knownGeometry(targetId: number): DriveGeometry | undefined;
  /** The logical drive's geometry, from the cache or READ CAPACITY. */
  geometry(targetId: number): Promise<DriveGeometry | undefined>;
  reportError(detail: string): void;
}

const READ_16 = 0x88;
const WRITE_16 = 0x8a;
const FUA = 0x08;
const MAX_CDB_LENGTH = 16;
const SENSE_KEY_UNIT_ATTENTION = 0x6;
const UNIT_ATTENTION_RETRIES = 4;

const LOGICAL_BLOCK_IO: RunMode = { logical: true, reportsLength: false };
const LOGICAL_PASS_THROUGH: RunMode = { logical: true, reportsLength: true };
const PHYSICAL_PASS_THROUGH: RunMode = { logical: false, reportsLength: true };

interface RunMode {
  logical: boolean;
  reportsLength: boolean;
}

/**
 * The I/O frames: LD_READ / LD_WRITE (block I/O on a logical drive, turned into READ(16)/WRITE(16)
 * for its LUN) and LD_SCSI_IO / PD_SCSI_IO (a CDB for a logical or pass-through drive, given to its
 * LUN as it is). Data moves only through the frame's SGL via the DMA port, staged in the firmware's
 * reusable buffers.
 *
 * Everything a command needs from its frame is read before its first wait: the frame the processor
 * hands over is only valid until then.
 */
export class ScsiIo {
  private readonly buffers = new DataBuffers();

  constructor(private readonly host: ScsiIoHost) {}

  /** Bytes of idle staging buffers the firmware keeps. */
  get pooledBytes(): number {
    return this.buffers.pooledBytes;
  }

  blockIo(frame: FetchedFrame, write: boolean, signal: TaskAbortSignal): Promise<Completion> {
    const target = this.host.drives.logical.get(frame.targetId);
    if (!target) return Promise.resolve({ status: MfiStatus.DEVICE_NOT_FOUND });
    const sgl = decodeSgl(frame.view, IoFrame.SGL, frame.sgeCount, frame.flags, this.host.maxSge);
    if (!sgl.ok) return Promise.resolve({ status: sgl.status });
    const blocks = frame.dataLength;
    const cdb = new Uint8Array(16);
    cdb[0] = write ? WRITE_16 : READ_16;
    // The access byte carries CDB byte 1 of the host's command: FUA survives the translation.
    cdb[1] = frame.lun & FUA;
    const lba = frame.u64(IoFrame.LBA);
    putBe32(cdb, 2, Math.floor(lba / 2 ** 32));
    putBe32(cdb, 6, lba >>> 0);
    putBe32(cdb, 10, blocks);
    const known = this.host.knownGeometry(frame.targetId);
    if (known !== undefined) return this.blockTransfer(target, cdb, write, blocks, known, sgl.elements, sgl.total, signal);
    return this.host.geometry(frame.targetId).then((geometry) => this.blockTransfer(target, cdb, write, blocks, geometry, sgl.elements, sgl.total, signal));
  }

  passThrough(frame: FetchedFrame, logical: boolean, signal: TaskAbortSignal): Promise<Completion> {
    // Logical drives and pass-through disks are single-LUN targets.
    const drive = logical ? this.host.drives.logical.get(frame.targetId) : this.host.drives.physical.get(frame.targetId)?.target;
    const target = frame.lun === 0 ? drive : undefined;
    if (!target) return Promise.resolve({ status: MfiStatus.DEVICE_NOT_FOUND });
    const cdbLength = frame.cdbLength;
    if (cdbLength === 0 || cdbLength > MAX_CDB_LENGTH) return Promise.resolve({ status: MfiStatus.INVALID_PARAMETER });
    const direction = frame.flags & FRAME_DIRECTION_MASK;
    const length = frame.dataLength;
    if (direction === FRAME_DIRECTION_MASK || (direction === 0 && length > 0)) return Promise.resolve({ status: MfiStatus.INVALID_PARAMETER });
    const sgl = decodeSgl(frame.view, PassThroughFrame.SGL, frame.sgeCount, frame.flags, this.host.maxSge);
    if (!sgl.ok) return Promise.resolve({ status: sgl.status });
    if (sgl.total < length) return Promise.resolve({ status: MfiStatus.INVALID_PARAMETER });
    const cdb = frame.bytes.slice(PassThroughFrame.CDB, PassThroughFrame.CDB + cdbLength);
    const phase = length === 0 ? "none" : direction === FrameFlags.DIR_WRITE ? "out" : "in";
    return this.run(target, cdb, phase, length, sgl.elements, signal, logical ? LOGICAL_PASS_THROUGH : PHYSICAL_PASS_THROUGH);
  }

  private blockTransfer(
    target: ScsiCommandTarget,
    cdb: Uint8Array,
    write: boolean,
    blocks: number,
    geometry: DriveGeometry | undefined,
    elements: readonly ScatterGatherElement[],
    sglTotal: number,
    signal: TaskAbortSignal,
  ): Promise<Completion> {
    if (!geometry) return Promise.resolve({ status: MfiStatus.LD_OFFLINE });
    const bytes = blocks * geometry.blockSize;
    if (sglTotal < bytes) return Promise.resolve({ status: MfiStatus.INVALID_PARAMETER });
    return this.run(target, cdb, write ? "out" : "in", bytes, elements, signal, LOGICAL_BLOCK_IO);
  }

  private async run(
    target: ScsiCommandTarget,
    cdb: Uint8Array,
    phase: "in" | "out" | "none",
    length: number,
    elements: readonly ScatterGatherElement[],
    signal: TaskAbortSignal,
    mode: RunMode,
  ): Promise<Completion> {
    const dma = this.host.dma;
    if (!dma) return { status: MfiStatus.SCSI_IO_FAILED };
    const staging = phase === "none" ? undefined : this.buffers.take(length);
    try {
      if (phase === "out" && !gatherInto(dma, elements, staging!)) return this.dmaFault();
      const dataOut = phase === "out" ? staging : undefined;
      const dataIn = phase === "in" ? staging : undefined;
      let response: ScsiResponse;
      try {
        // A logical drive is the firmware's own device: unit attentions of the LUN behind it (power-on,
        // reset) are the firmware's to take, as the initiator of that LUN. Pass-through drives report theirs.
        for (let attempt = 0; ; attempt++) {
          response = await target.execute({
            cdb,
            initiator: this.host.drives.initiator,
            dataOut,
            dataInLength: dataIn !== undefined ? length : undefined,
            dataInBuffer: dataIn,
            signal,
          });
          if (!mode.logical || attempt >= UNIT_ATTENTION_RETRIES || response.status !== ScsiStatus.CHECK_CONDITION || senseKey(response) !== SENSE_KEY_UNIT_ATTENTION) break;
        }
      } catch (error) {
        if (error instanceof ScsiTaskAbortedError) return { status: MfiStatus.SCSI_IO_FAILED, aborted: true };
        // The drive is unreachable from this controller: a logical drive whose only drive is gone is
        // offline, a pass-through drive that vanished is not found. Neither is a fault of the firmware.
        if (error instanceof ScsiTransportError) return { status: mode.logical ? MfiStatus.LD_OFFLINE : MfiStatus.DEVICE_NOT_FOUND };
        this.host.reportError(`megaraid-sas: logical unit failed a command: ${(error as Error).message}`);
        return { status: MfiStatus.SCSI_IO_FAILED };
      }
      let moved = 0;
      if (phase === "in" && response.dataIn && response.dataIn.length > 0) {
        const data = response.dataIn.length > length ? response.dataIn.subarray(0, length) : response.dataIn;
        const current = this.host.dma;
        if (!current) return { status: MfiStatus.SCSI_IO_FAILED };
        if (!scatter(current, elements, data)) return this.dmaFault();
        moved = data.length;
      } else if (phase === "out") {
        moved = Math.max(0, length - Math.max(0, response.residual));
      }
      const completion: Completion = {
        status: response.status === ScsiStatus.GOOD ? MfiStatus.OK : MfiStatus.SCSI_DONE_WITH_ERROR,
        scsiStatus: response.status,
        sense: response.status === ScsiStatus.CHECK_CONDITION ? response.sense : undefined,
      };
      if (mode.reportsLength) completion.dataLength = moved;
      return completion;
    } finally {
      // The logical unit has answered (or never got the command): nothing holds the buffer any more.
      if (staging !== undefined) this.buffers.give(staging);
    }
  }

  private dmaFault(): Completion {
    this.host.state.diagnostics.dmaErrors++;
    this.host.reportError("megaraid-sas: data buffer outside the DMA mapping");
    return { status: MfiStatus.PCI_ERRORS_DETECTED };
  }
}
