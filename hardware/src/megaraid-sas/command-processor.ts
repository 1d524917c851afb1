import type { DmaPort, TimerHandle } from "@vmk/kernel";
import { ScsiStatus, type TaskAbortSignal } from "../scsi/scsi-command.js";
import { TaskAbort } from "../scsi/task-abort.js";
import { completionTarget, postsReply, REJECTING_STATUSES, writeCompletion, type Completion, type CompletionTarget } from "./completion.js";
import type { DcmdProcessor, DcmdResult } from "./dcmd.js";
import { FetchedFrame } from "./fetched-frame.js";
import type { Firmware } from "./firmware.js";
import { AbortFrame, DcmdFrame, IoFrame, InitFrame, MFI_FRAME_SIZE, MfiCommand, MfiStatus, PassThroughFrame, QueueInfo, QUEUE_FLAG_CONTEXT64 } from "./mfi-frames.js";
import { MfiState } from "./registers.js";
import type { ReplyQueue } from "./reply-queue.js";
import type { ScsiIo } from "./scsi-io.js";
import { decodeSgl, gather, scatter, sglEnd } from "./sgl.js";
import type { EventWaiter, FrameContext, InFlightCommand, MegaRaidState, PostedFrame } from "./state.js";

export interface ProcessorHost {
  readonly dma: DmaPort | undefined;
  schedule(delay: number, callback: () => void, label: string): TimerHandle | undefined;
  reportError(detail: string): void;
}

export interface ProcessorLimits {
  maxCommands: number;
  maxSge: number;
}

/** Where each command's SGL starts; commands without one are absent. */
const SGL_OFFSETS: ReadonlyMap<number, number> = new Map([
  [MfiCommand.LD_READ, IoFrame.SGL],
  [MfiCommand.LD_WRITE, IoFrame.SGL],
  [MfiCommand.LD_SCSI_IO, PassThroughFrame.SGL],
  [MfiCommand.PD_SCSI_IO, PassThroughFrame.SGL],
  [MfiCommand.DCMD, DcmdFrame.SGL],
]);
const HAS_SENSE: ReadonlySet<number> = new Set([MfiCommand.LD_READ, MfiCommand.LD_WRITE, MfiCommand.LD_SCSI_IO, MfiCommand.PD_SCSI_IO]);

/**
 * The firmware's command engine: frames posted to the inbound queue port are fetched by DMA (never
 * before the current work finishes, as a real IOP picks them up later), validated, executed, and
 * completed by writing the frame header and posting the context to the reply queue. Commands that
 * wait on a logical unit are tracked until they settle; a reset abandons them.
 */
export class CommandProcessor {
  private drainTimer: TimerHandle | undefined;
  private readonly aborters = new Map<number, TaskAbort>();
  /**
   * Where single frames are fetched: a frame is only read while it is being dispatched (commands copy
   * what they need before they wait), so one buffer serves every command.
   */
  private readonly fetchBuffer = new Uint8Array(MFI_FRAME_SIZE);
  private readonly fetchedFrame = new FetchedFrame(0, this.fetchBuffer);

  constructor(
    private readonly state: MegaRaidState,
    private readonly limits: ProcessorLimits,
    private readonly firmware: Firmware,
    private readonly replies: ReplyQueue,
    private readonly dcmd: DcmdProcessor,
    private readonly io: ScsiIo,
    private readonly host: ProcessorHost,
  ) {}

  /** The inbound queue port took a frame address. */
  post(address: number, count: number): void {
    const accepting = this.firmware.current === MfiState.READY || this.firmware.current === MfiState.OPERATIONAL;
    if (!accepting || this.state.postedFrames.length >= this.limits.maxCommands) {
      this.state.diagnostics.framesDropped++;
      return;
    }
    this.state.postedFrames.push({ address, count });
    this.sync();
  }

  /** Schedules the fetch of posted frames and the resolution of commands restored from a snapshot. */
  sync(): void {
    if (this.drainTimer?.pending) return;
    if (this.state.postedFrames.length === 0 && !this.hasOrphans()) return;
    this.drainTimer = this.host.schedule(0, () => this.drain(), "megaraid-sas inbound queue");
  }

  release(): void {
    this.drainTimer?.cancel();
    this.drainTimer = undefined;
  }

  /** Drops every accepted command without a reply (reset, ABORT doorbell). */
  abandon(): void {
    const diagnostics = this.state.diagnostics;
    for (const record of this.state.inFlight) this.aborters.get(record.id)?.abort();
    diagnostics.commandsAbandoned += this.state.inFlight.length + this.state.eventWaiters.length + this.state.postedFrames.length;
    this.aborters.clear();
    this.state.inFlight = [];
    this.state.eventWaiters = [];
    this.state.postedFrames = [];
  }

  /** An event satisfied a parked CTRL_EVENT_WAIT. */
  deliverEvent(waiter: EventWaiter, detail: Uint8Array): void {
    const dma = this.host.dma;
    if (!dma) return;
    const elements = waiter.sgl.map(([address, length]) => ({ address, length }));
    const completion: Completion = { status: MfiStatus.OK };
    if (!scatter(dma, elements, detail)) completion.status = this.dmaFault("event detail buffer");
    this.finish({ frameAddress: waiter.frameAddress, flags: waiter.flags, context: waiter.context, senseCapacity: 0 }, completion);
  }

  private get outstanding(): number {
    return this.state.inFlight.length + this.state.eventWaiters.length;
  }

  private hasOrphans(): boolean {
    for (const record of this.state.inFlight) if (!this.aborters.has(record.id)) return true;
    return false;
  }

  private drain(): void {
    this.drainTimer = undefined;
    this.resolveOrphans();
    while (this.state.postedFrames.length > 0) this.process(this.state.postedFrames.shift()!);
    this.replies.flush();
  }

  /**
   * Commands a snapshot caught in flight have no logical-unit request behind them any more. Their
   * outcome must not depend on timing: I/O fails with SCSI_IO_FAILED (the driver retries it), a
   * management command runs again from its frame.
   */
  private resolveOrphans(): void {
    if (!this.hasOrphans()) return;
    const orphans = this.state.inFlight.filter((record) => !this.aborters.has(record.id));
    if (orphans.length === 0) return;
    this.state.inFlight = this.state.inFlight.filter((record) => this.aborters.has(record.id));
    for (const record of orphans) {
      if (record.kind === "dcmd") {
        this.process({ address: record.frameAddress, count: 0 });
        continue;
      }
      this.state.diagnostics.commandsAbandoned++;
      this.finish({ frameAddress: record.frameAddress, flags: record.flags, context: record.context, senseCapacity: 0 }, { status: MfiStatus.SCSI_IO_FAILED, scsiStatus: 0 });
    }
  }

  private process(posted: PostedFrame): void {
    const state = this.firmware.current;
    if (state !== MfiState.READY && state !== MfiState.OPERATIONAL) {
      this.state.diagnostics.framesDropped++;
      return;
    }
    const fetched = this.fetch(posted.address);
    if (!fetched) return;
    const { frame, complete } = fetched;
    const target = completionTarget(frame, HAS_SENSE.has(frame.command));
    if (!complete) {
      this.finish(target, { status: this.dmaFault("frame chain") });
      return;
    }
    if (state === MfiState.READY && frame.command !== MfiCommand.INIT) {
      this.finish(target, { status: MfiStatus.WRONG_STATE });
      return;
    }
    const queued = frame.command !== MfiCommand.INIT && frame.command !== MfiCommand.ABORT;
    if (queued && this.outstanding >= this.limits.maxCommands) {
      this.finish(target, { status: MfiStatus.SCSI_DONE_WITH_ERROR, scsiStatus: ScsiStatus.BUSY });
      return;
    }
    switch (frame.command) {
      case MfiCommand.INIT:
        this.finish(target, this.init(frame));
        return;
      case MfiCommand.ABORT:
        this.finish(target, this.abort(frame));
        return;
      case MfiCommand.DCMD:
        // Management commands may keep their frame while they gather data: they get a copy of their own.
        this.directCommand(frame.bytes === this.fetchBuffer ? new FetchedFrame(frame.address, frame.bytes.slice()) : frame, target);
        return;
      case MfiCommand.LD_READ:
      case MfiCommand.LD_WRITE:
        this.track(frame, target, "io", (signal) => this.io.blockIo(frame, frame.command === MfiCommand.LD_WRITE, signal));
        return;
      case MfiCommand.LD_SCSI_IO:
      case MfiCommand.PD_SCSI_IO:
        this.track(frame, target, "io", (signal) => this.io.passThrough(frame, frame.command === MfiCommand.LD_SCSI_IO, signal));
        return;
      default:
        // SMP and STP pass-through need expanders and SATA targets this controller does not have.
        this.finish(target, { status: MfiStatus.INVALID_CMD });
    }
  }

  /**
   * Reads the frame, then as many following frames as its SGL reaches into. `complete` is false when
   * the header came but the rest of the chain is outside the DMA mapping; undefined when not even the
   * header could be read: the frame is dropped, there is nowhere to report status.
   */
  private fetch(address: number): { frame: FetchedFrame; complete: boolean } | undefined {
    const dma = this.host.dma;
    const first = this.fetchBuffer;
    if (!dma || !dma.read(address, first)) {
      this.state.diagnostics.framesDropped++;
      this.dmaFault(`frame at 0x${address.toString(16)}`);
      return undefined;
    }
    const head = this.fetchedFrame;
    head.address = address;
    const sglOffset = SGL_OFFSETS.get(head.command);
    const count = head.sgeCount;
    if (sglOffset === undefined || count > this.limits.maxSge) return { frame: head, complete: true };
    const end = sglEnd(sglOffset, count, head.flags);
    if (end <= MFI_FRAME_SIZE) return { frame: head, complete: true };
    const chain = new Uint8Array(Math.ceil(end / MFI_FRAME_SIZE) * MFI_FRAME_SIZE);
    chain.set(first);
    if (!dma.read(address + MFI_FRAME_SIZE, chain.subarray(MFI_FRAME_SIZE))) return { frame: head, complete: false };
    return { frame: new FetchedFrame(address, chain), complete: true };
  }

  /** INIT: takes the reply queue description, READY → OPERATIONAL. */
  private init(frame: FetchedFrame): Completion {
    if (this.firmware.current !== MfiState.READY) return { status: MfiStatus.WRONG_STATE };
    const infoAddress = frame.u64(InitFrame.QUEUE_INFO);
    if (infoAddress === 0 || frame.dataLength < QueueInfo.SIZE) return { status: MfiStatus.INVALID_PARAMETER };
    const dma = this.host.dma!;
    const raw = new Uint8Array(QueueInfo.SIZE);
    if (!dma.read(infoAddress, raw)) return { status: this.dmaFault("queue information") };
    const info = new FetchedFrame(infoAddress, raw);
    const entries = info.u32(QueueInfo.ENTRIES);
    const address = info.u64(QueueInfo.REPLY_QUEUE);
    const producerAddress = info.u64(QueueInfo.PRODUCER);
    const consumerAddress = info.u64(QueueInfo.CONSUMER);
    if (entries < 2 || entries > this.limits.maxCommands || address === 0 || producerAddress === 0 || consumerAddress === 0) {
      return { status: MfiStatus.INVALID_PARAMETER };
    }
    const indices = new Uint8Array(8);
    if (!dma.read(producerAddress, indices.subarray(0, 4)) || !dma.read(consumerAddress, indices.subarray(4))) {
      return { status: this.dmaFault("reply queue indices") };
    }
    const view = new DataView(indices.buffer);
    const producer = view.getUint32(0, true);
    if (producer >= entries || view.getUint32(4, true) >= entries) return { status: MfiStatus.INVALID_PARAMETER };
    const context64 = (info.u32(QueueInfo.FLAGS) & QUEUE_FLAG_CONTEXT64) !== 0;
    this.replies.configure({ entries, address, producerAddress, consumerAddress, context64, producer });
    this.firmware.enterOperational();
    return { status: MfiStatus.OK };
  }

  /**
   * ABORT: finds the command by frame address and context. A parked event wait is posted at once; a
   * command at a logical unit is asked to stop and completes when the unit lets go of it; management
   * commands already running cannot be aborted.
   */
  private abort(frame: FetchedFrame): Completion {
    const address = frame.u64(AbortFrame.ABORT_FRAME);
    const context: FrameContext = { low: frame.u32(AbortFrame.ABORT_CONTEXT), high: frame.u32(AbortFrame.ABORT_CONTEXT_HIGH) };
    const waiterIndex = this.state.eventWaiters.findIndex((waiter) => waiter.frameAddress === address);
    if (waiterIndex >= 0) {
      const waiter = this.state.eventWaiters[waiterIndex]!;
      if (!this.sameContext(waiter.context, context)) return { status: MfiStatus.ABORT_NOT_POSSIBLE };
      this.state.eventWaiters.splice(waiterIndex, 1);
      this.finish({ frameAddress: waiter.frameAddress, flags: waiter.flags, context: waiter.context, senseCapacity: 0 }, { status: MfiStatus.OK, aborted: true });
      return { status: MfiStatus.OK };
    }
    const record = this.state.inFlight.find((candidate) => candidate.frameAddress === address);
    if (!record) return { status: MfiStatus.NOT_FOUND };
    if (!this.sameContext(record.context, context) || record.kind !== "io") return { status: MfiStatus.ABORT_NOT_POSSIBLE };
    this.aborters.get(record.id)?.abort();
    return { status: MfiStatus.OK };
  }

  private sameContext(a: FrameContext, b: FrameContext): boolean {
    return a.low === b.low && (!this.replies.configured?.context64 || a.high === b.high);
  }

  private directCommand(frame: FetchedFrame, target: CompletionTarget): void {
    const sgl = decodeSgl(frame.view, DcmdFrame.SGL, frame.sgeCount, frame.flags, this.limits.maxSge);
    if (!sgl.ok) return this.finish(target, { status: sgl.status });
    const dataLength = frame.dataLength;
    if (dataLength > sgl.total) return this.finish(target, { status: MfiStatus.INVALID_PARAMETER });
    const elements = sgl.elements;
    const outcome = this.dcmd.execute({
      opcode: frame.u32(DcmdFrame.OPCODE),
      mailbox: frame.bytes.slice(DcmdFrame.MAILBOX, DcmdFrame.MAILBOX + DcmdFrame.MAILBOX_SIZE),
      dataLength,
      frame,
      sgl: elements,
      readData: () => {
        const data = this.host.dma ? gather(this.host.dma, elements, dataLength) : undefined;
        if (!data) this.dmaFault("DCMD data");
        return data;
      },
    });
    if (outcome === "parked") return;
    if (outcome instanceof Promise) {
      this.track(frame, target, "dcmd", () => outcome.then((result) => this.deliverData(result, elements, dataLength)));
      return;
    }
    this.finish(target, this.deliverData(outcome, elements, dataLength));
  }

  private deliverData(result: DcmdResult, elements: { address: number; length: number }[], dataLength: number): Completion {
    if (!result.data || result.status !== MfiStatus.OK) return { status: result.status };
    const dma = this.host.dma;
    const data = result.data.subarray(0, Math.min(result.data.length, dataLength));
    if (!dma || !scatter(dma, elements, data)) return { status: this.dmaFault("DCMD data") };
    return { status: MfiStatus.OK };
  }

  private track(frame: FetchedFrame, target: CompletionTarget, kind: InFlightCommand["kind"], run: (signal: TaskAbortSignal) => Promise<Completion>): void {
    const record: InFlightCommand = { id: this.state.nextCommandId++, frameAddress: frame.address, context: target.context, command: frame.command, flags: frame.flags, kind };
    const abort = new TaskAbort();
    this.state.inFlight.push(record);
    this.aborters.set(record.id, abort);
    run(abort).then(
      (completion) => this.settle(record.id, target, completion),
      (error: unknown) => {
        this.host.reportError(`megaraid-sas: command failed inside the firmware: ${String(error)}`);
        this.settle(record.id, target, { status: MfiStatus.SCSI_IO_FAILED });
      },
    );
  }

  private settle(id: number, target: CompletionTarget, completion: Completion): void {
    this.aborters.delete(id);
    const index = this.state.inFlight.findIndex((record) => record.id === id);
    if (index < 0) return;
    this.state.inFlight.splice(index, 1);
    this.finish(target, completion);
  }

  private finish(target: CompletionTarget, completion: Completion): void {
    const dma = this.host.dma;
    if (!dma) return;
    if (REJECTING_STATUSES.has(completion.status) && !completion.aborted) this.state.diagnostics.framesRejected++;
    const refused = writeCompletion(dma, target, completion);
    if (refused > 0) this.dmaFault(`completion of frame 0x${target.frameAddress.toString(16)}`, refused);
    if (postsReply(target)) this.replies.post(target.context);
  }

  private dmaFault(what: string, count = 1): MfiStatus {
    this.state.diagnostics.dmaErrors += count;
    this.host.reportError(`megaraid-sas: DMA blocked: ${what}`);
    return MfiStatus.PCI_ERRORS_DETECTED;
  }
}
