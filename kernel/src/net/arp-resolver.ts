import type { Clock, Nanoseconds, TimerHandle } from "../clock/clock.js";
import type { ArpCache } from "./arp-cache.js";

/** Linux's defaults: three requests a second apart before giving up on a neighbour. */
export const ARP_RETRY_INTERVAL_NS = 1e9;
export const ARP_MAX_REQUESTS = 3;
const QUEUE_LIMIT = 8;

export interface ArpResolverIo {
  sendRequest(ip: number): void;
  /** Sends a queued datagram now that the neighbour's MAC is known. */
  sendResolved(datagram: Uint8Array, mac: Uint8Array): void;
  /** The neighbour did not answer; its queued datagrams are dropped. */
  unresolved(ip: number, dropped: number): void;
}

interface PendingNeighbor {
  queue: Uint8Array[];
  requests: number;
  timer: TimerHandle | undefined;
}

/** Holds datagrams for neighbours whose MAC is not yet known and asks for it, with retries. */
export class ArpResolver {
  private readonly pending = new Map<number, PendingNeighbor>();

  constructor(
    private readonly cache: ArpCache,
    private readonly clock: Clock,
    private readonly io: ArpResolverIo,
    private readonly retryIntervalNs: Nanoseconds = ARP_RETRY_INTERVAL_NS,
  ) {}

  /** Queues a datagram for `ip` (the oldest is dropped beyond the queue limit) and starts resolution. */
  enqueue(ip: number, datagram: Uint8Array): void {
    const waiting = this.pending.get(ip);
    if (waiting !== undefined) {
      waiting.queue.push(datagram);
      if (waiting.queue.length > QUEUE_LIMIT) waiting.queue.shift();
      return;
    }
    // Queued before soliciting: on a synchronous path the reply arrives inside the request.
    const neighbor: PendingNeighbor = { queue: [datagram], requests: 0, timer: undefined };
    this.pending.set(ip, neighbor);
    this.solicit(ip, neighbor);
  }

  /** Called whenever the cache learned something: sends what waited for it. */
  resolved(ip: number): void {
    const neighbor = this.pending.get(ip);
    const mac = this.cache.lookup(ip);
    if (neighbor === undefined || mac === undefined) return;
    this.pending.delete(ip);
    neighbor.timer?.cancel();
    for (const datagram of neighbor.queue) this.io.sendResolved(datagram, mac);
  }

  isResolving(ip: number): boolean {
    return this.pending.has(ip);
  }

  cancelAll(): void {
    for (const neighbor of this.pending.values()) neighbor.timer?.cancel();
    this.pending.clear();
  }

  private solicit(ip: number, neighbor: PendingNeighbor): void {
    if (neighbor.requests >= ARP_MAX_REQUESTS) {
      this.pending.delete(ip);
      this.io.unresolved(ip, neighbor.queue.length);
      return;
    }
    neighbor.requests++;
    neighbor.timer = this.clock.setTimer(this.retryIntervalNs, () => this.solicit(ip, neighbor), { label: "arp retry" });
    this.io.sendRequest(ip);
  }
}
