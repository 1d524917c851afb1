import type { Clock, Nanoseconds, TimerHandle } from "../clock/clock.js";
import { NS_PER_S } from "../clock/clock.js";
import { formatIpv4 } from "./packets/ipv4-address.js";

export interface PingOptions {
  /** Echo requests to send (vmkping's default: 3). */
  count?: number;
  /** Between requests (default 1 s). */
  intervalNs?: Nanoseconds;
  /** How long each request waits for its reply before it counts as lost (default 1 s). */
  timeoutNs?: Nanoseconds;
  /** ICMP data bytes after the 8-byte echo header (default 56, as ping). */
  payloadBytes?: number;
  ttl?: number;
}

export interface PingResult {
  sequence: number;
  received: boolean;
  /** Host-clock nanoseconds from request to reply; undefined when lost. */
  rttNs?: number;
  /** TTL of the reply. */
  ttl?: number;
  /** Replies beyond the first for this sequence. */
  duplicates: number;
}

export interface PingReport {
  source: string;
  target: string;
  transmitted: number;
  received: number;
  /** Percent of requests without a reply, 0-100. */
  lossPercent: number;
  results: PingResult[];
  rttMinNs?: number;
  rttAvgNs?: number;
  rttMaxNs?: number;
}

/** What a ping session needs from its interface. */
export interface EchoSender {
  /** Sends an echo request; false if it could not even be queued (no route). */
  sendEchoRequest(target: number, identifier: number, sequence: number, payload: Uint8Array, ttl: number): boolean;
}

interface Outstanding {
  sentAt: Nanoseconds;
  payload: Uint8Array;
  result: PingResult;
  timer: TimerHandle | undefined;
  settled: boolean;
}

/**
 * One `ping`: requests paced on the host clock, each settled by its reply or its timeout; the report
 * is delivered once every request has settled.
 */
export class PingSession {
  readonly done: Promise<PingReport>;
  private finish!: (report: PingReport) => void;
  private readonly outstanding: Outstanding[] = [];
  private readonly count: number;
  private readonly intervalNs: Nanoseconds;
  private readonly timeoutNs: Nanoseconds;
  private readonly payloadBytes: number;
  private readonly ttl: number;
  private settledCount = 0;

  constructor(
    private readonly clock: Clock,
    private readonly sender: EchoSender,
    private readonly source: number,
    readonly target: number,
    readonly identifier: number,
    options: PingOptions,
    private readonly onFinished: (session: PingSession) => void,
  ) {
    this.count = options.count ?? 3;
    this.intervalNs = options.intervalNs ?? NS_PER_S;
    this.timeoutNs = options.timeoutNs ?? NS_PER_S;
    this.payloadBytes = options.payloadBytes ?? 56;
    this.ttl = options.ttl ?? 64;
    if (!Number.isInteger(this.count) || this.count < 1) throw new RangeError(`ping count must be a positive integer, got ${this.count}`);
    if (!Number.isInteger(this.payloadBytes) || this.payloadBytes < 0 || this.payloadBytes > 1472) throw new RangeError(`ping payload must be 0-1472 bytes, got ${this.payloadBytes}`);
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  start(): void {
    this.sendNext();
  }

  /** An echo reply carrying this session's identifier arrived. */
  reply(sequence: number, payload: Uint8Array, ttl: number): void {
    const entry = this.outstanding[sequence];
    if (entry === undefined || !samePayload(entry.payload, payload)) return;
    if (entry.result.received) {
      entry.result.duplicates++;
      return;
    }
    if (entry.settled) return;
    entry.result.received = true;
    entry.result.rttNs = this.clock.now() - entry.sentAt;
    entry.result.ttl = ttl;
    this.settle(entry);
  }

  private sendNext(): void {
    const sequence = this.outstanding.length;
    const payload = new Uint8Array(this.payloadBytes);
    for (let i = 0; i < payload.length; i++) payload[i] = (sequence + i) & 0xff;
    const entry: Outstanding = { sentAt: this.clock.now(), payload, result: { sequence, received: false, duplicates: 0 }, timer: undefined, settled: false };
    this.outstanding.push(entry);
    entry.timer = this.clock.setTimer(this.timeoutNs, () => this.settle(entry), { label: "ping timeout" });
    if (sequence + 1 < this.count) this.clock.setTimer(this.intervalNs, () => this.sendNext(), { label: "ping interval" });
    this.sender.sendEchoRequest(this.target, this.identifier, sequence, payload, this.ttl);
  }

  private settle(entry: Outstanding): void {
    if (entry.settled) return;
    entry.settled = true;
    entry.timer?.cancel();
    if (++this.settledCount === this.count) {
      this.onFinished(this);
      this.finish(this.report());
    }
  }

  private report(): PingReport {
    const results = this.outstanding.map((o) => ({ ...o.result }));
    const rtts = results.filter((r) => r.received).map((r) => r.rttNs!);
    const received = rtts.length;
    return {
      source: formatIpv4(this.source),
      target: formatIpv4(this.target),
      transmitted: this.count,
      received,
      lossPercent: ((this.count - received) * 100) / this.count,
      results,
      ...(received > 0 ? { rttMinNs: Math.min(...rtts), rttAvgNs: rtts.reduce((a, b) => a + b, 0) / received, rttMaxNs: Math.max(...rtts) } : {}),
    };
  }
}

function samePayload(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
