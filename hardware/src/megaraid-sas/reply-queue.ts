import type { DmaPort } from "@vmk/kernel";
import type { FrameContext, MegaRaidState, ReplyQueueState } from "./state.js";

export interface ReplyQueueHost {
  readonly dma: DmaPort | undefined;
  /** A context reached host memory: latch the reply interrupt. */
  replyPosted(): void;
  reportError(detail: string): void;
}

/**
 * The host-memory reply queue: a ring of `entries` contexts the firmware fills at the producer index
 * and the driver drains up to it, writing its consumer index back. One slot always stays empty, so
 * producer == consumer means empty. Replies that find the ring full wait, in order, until the
 * consumer index moves.
 */
export class ReplyQueue {
  /** A reply entry is staged here; the port copies it before write returns. */
  private readonly entry64 = new Uint8Array(8);
  private readonly entry32 = this.entry64.subarray(0, 4);
  private readonly entryView = new DataView(this.entry64.buffer);

  constructor(
    private readonly state: MegaRaidState,
    private readonly host: ReplyQueueHost,
  ) {}

  get configured(): ReplyQueueState | null {
    return this.state.replyQueue;
  }

  configure(queue: ReplyQueueState): void {
    this.state.replyQueue = queue;
    this.state.pendingReplies = [];
  }

  /** The firmware forgets the queue (READY doorbell, adapter reset). */
  reset(): void {
    this.state.replyQueue = null;
    this.state.pendingReplies = [];
  }

  post(context: FrameContext): void {
    if (!this.state.replyQueue) return;
    // Replies already waiting for room go first; otherwise this one need not wait in the list at all.
    if (this.state.pendingReplies.length === 0) {
      const outcome = this.write(context);
      if (outcome === "posted") this.host.replyPosted();
      if (outcome !== "full") return;
    }
    this.state.pendingReplies.push({ low: context.low, high: context.high });
    this.flush();
  }

  /** Posts waiting replies while the ring has room. */
  flush(): void {
    const pending = this.state.pendingReplies;
    if (pending.length === 0) return;
    let posted = false;
    let done = 0;
    while (done < pending.length) {
      const outcome = this.write(pending[done]!);
      if (outcome === "full") {
        this.state.diagnostics.replyQueueStalls++;
        break;
      }
      done++;
      if (outcome === "posted") posted = true;
    }
    if (done > 0) pending.splice(0, done);
    if (posted) this.host.replyPosted();
  }

  private write(context: FrameContext): "posted" | "full" | "lost" {
    const queue = this.state.replyQueue;
    const dma = this.host.dma;
    if (!queue || !dma) return "lost";
    const blockedBefore = dma.blocked;
    const consumer = dma.readU32(queue.consumerAddress);
    if (dma.blocked !== blockedBefore) return this.lost("consumer index unreadable");
    if ((queue.producer + 1) % queue.entries === consumer % queue.entries) return "full";
    const entry = queue.context64 ? this.entry64 : this.entry32;
    this.entryView.setUint32(0, context.low, true);
    if (queue.context64) this.entryView.setUint32(4, context.high, true);
    if (!dma.write(queue.address + queue.producer * entry.length, entry)) return this.lost("reply queue entry unwritable");
    queue.producer = (queue.producer + 1) % queue.entries;
    if (!dma.writeU32(queue.producerAddress, queue.producer)) return this.lost("producer index unwritable");
    return "posted";
  }

  private lost(detail: string): "lost" {
    this.state.diagnostics.dmaErrors++;
    this.state.diagnostics.repliesLost++;
    this.host.reportError(`megaraid-sas: reply lost: ${detail}`);
    return "lost";
  }
}
