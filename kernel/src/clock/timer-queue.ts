import type { Nanoseconds, TimerHandle } from "./clock.js";
import type { ExecutionDomain } from "../exec/execution-domain.js";

/** One scheduled callback; `seq` keeps timers with equal deadlines in the order they were set. */
export class ScheduledTimer implements TimerHandle {
  pending = true;
  heapIndex = -1;
  constructor(
    readonly deadline: Nanoseconds,
    readonly seq: number,
    readonly callback: () => void,
    readonly domain: ExecutionDomain | undefined,
    readonly label: string,
    private readonly queue: TimerQueue,
  ) {}

  cancel(): void {
    if (!this.pending) return;
    this.pending = false;
    this.queue.remove(this);
  }
}

function earlier(a: ScheduledTimer, b: ScheduledTimer): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

/** A binary min-heap of timers ordered by (deadline, insertion order), with O(log n) cancellation. */
export class TimerQueue {
  private heap: ScheduledTimer[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  add(deadline: Nanoseconds, callback: () => void, domain: ExecutionDomain | undefined, label: string): ScheduledTimer {
    const timer = new ScheduledTimer(deadline, this.nextSeq++, callback, domain, label, this);
    timer.heapIndex = this.heap.length;
    this.heap.push(timer);
    this.siftUp(timer.heapIndex);
    return timer;
  }

  peek(): ScheduledTimer | undefined {
    return this.heap[0];
  }

  /** Removes and returns the earliest timer. */
  pop(): ScheduledTimer | undefined {
    const top = this.heap[0];
    if (top) this.removeAt(0);
    return top;
  }

  remove(timer: ScheduledTimer): void {
    if (timer.heapIndex >= 0 && this.heap[timer.heapIndex] === timer) this.removeAt(timer.heapIndex);
  }

  /** Timers in firing order, for diagnostics. */
  list(): readonly ScheduledTimer[] {
    return [...this.heap].sort((a, b) => (earlier(a, b) ? -1 : 1));
  }

  private removeAt(index: number): void {
    const removed = this.heap[index]!;
    const last = this.heap.pop()!;
    removed.heapIndex = -1;
    if (last !== removed) {
      this.heap[index] = last;
      last.heapIndex = index;
      this.siftDown(index);
      this.siftUp(last.heapIndex);
    }
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!earlier(heap[index]!, heap[parent]!)) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && earlier(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && earlier(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === index) return;
      this.swap(index, smallest);
      index = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const heap = this.heap;
    const ta = heap[a]!;
    const tb = heap[b]!;
    heap[a] = tb;
    heap[b] = ta;
    ta.heapIndex = b;
    tb.heapIndex = a;
  }
}
