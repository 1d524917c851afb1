import { inject, injectable } from "tsyringe";
import { Tokens } from "../tokens.js";
import type { Clock, Nanoseconds } from "../clock/clock.js";

export type LogLevel = "error" | "warn" | "info" | "debug";

const SEVERITY: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface LogEntry {
  readonly seq: number;
  /** Host clock time when logged. */
  readonly time: Nanoseconds;
  readonly level: LogLevel;
  /** Subsystem ("pci", "loader") or module name ("e1000"). */
  readonly source: string;
  readonly message: string;
}

export interface LogQuery {
  /** Most verbose level to include: "info" returns error, warn and info. */
  level?: LogLevel;
  source?: string;
  sinceSeq?: number;
  limit?: number;
}

export type LogListener = (entry: LogEntry) => void;

/**
 * The vmkernel log: a bounded ring of entries stamped on the host clock. Old entries are overwritten,
 * as in ESX's vmkernel log buffer; `dropped` says how many.
 */
@injectable()
export class KernelLog {
  private readonly ring: (LogEntry | undefined)[];
  private next = 0;
  private seq = 0;
  private readonly listeners = new Set<LogListener>();

  constructor(
    @inject(Tokens.Clock) private readonly clock: Clock,
    readonly capacity = 8192,
  ) {
    this.ring = new Array(capacity);
  }

  get dropped(): number {
    return Math.max(0, this.seq - this.capacity);
  }

  log(level: LogLevel, source: string, message: string): LogEntry {
    const entry: LogEntry = { seq: this.seq++, time: this.clock.now(), level, source, message };
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    for (const listener of this.listeners) listener(entry);
    return entry;
  }

  error(source: string, message: string): LogEntry {
    return this.log("error", source, message);
  }
  warn(source: string, message: string): LogEntry {
    return this.log("warn", source, message);
  }
  info(source: string, message: string): LogEntry {
    return this.log("info", source, message);
  }
  debug(source: string, message: string): LogEntry {
    return this.log("debug", source, message);
  }

  /** Entries still in the ring, oldest first, filtered. */
  entries(query: LogQuery = {}): LogEntry[] {
    const maxSeverity = SEVERITY[query.level ?? "debug"];
    const out: LogEntry[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const entry = this.ring[(this.next + i) % this.capacity];
      if (!entry) continue;
      if (SEVERITY[entry.level] > maxSeverity) continue;
      if (query.source !== undefined && entry.source !== query.source) continue;
      if (query.sinceSeq !== undefined && entry.seq < query.sinceSeq) continue;
      out.push(entry);
    }
    return query.limit !== undefined ? out.slice(-query.limit) : out;
  }

  subscribe(listener: LogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** "[   12.345678] source: message", the layout of the ESX/Linux kernel log. */
export function formatLogEntry(entry: LogEntry): string {
  const seconds = (entry.time / 1e9).toFixed(6).padStart(12, " ");
  const level = entry.level === "info" ? "" : `${entry.level.toUpperCase()}: `;
  return `[${seconds}] ${entry.source}: ${level}${entry.message}`;
}
