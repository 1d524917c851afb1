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
    this.state.pendingReplies.push({ ...context });
    this.flush();
  }

  /** Posts waiting replies while the ring has room. */
  flush(): void {
    let posted = false;
    while (this.state.pendingReplies.length > 0) {
      const outcome = this.write(this.state.pendingReplies[0]!);
      if (outcome === "full") {
        this.state.diagnostics.replyQueueStalls++;
        break;
      }
      this.state.pendingReplies.shift();
      if (outcome === "posted") posted = true;
    }
    if (posted) this.host.replyPosted();
  }

  private write(context: FrameContext): "posted" | "full" | "lost" {
    const queue = this.state.replyQueue;
    const dma = this.host.dma;
    if (!queue || !dma) return "lost";
    const consumerBytes = new Uint8Array(4);
    if (!dma.read(queue.consumerAddress, consumerBytes)) return this.lost("consumer index unreadable");
    const consumer = new DataView(consumerBytes.buffer).getUint32(0, true);
    if ((queue.producer + 1) % queue.entries === consumer % queue.entries) return "full";
    const entry = new Uint8Array(queue.context64 ? 8 : 4);
    const view = new DataView(entry.buffer);
    view.setUint32(0, context.low, true);
    if (queue.context64) view.setUint32(4, context.high, true);
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
