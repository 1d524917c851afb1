import { inject, injectable } from "tsyringe";
import { Tokens } from "../tokens.js";
import type { Clock, Nanoseconds } from "../clock/clock.js";

export type FaultKind =
  | "mmio-unclaimed"
  | "port-unclaimed"
  | "access-width"
  | "dma-blocked"
  | "dma-bus-master-disabled"
  | "device-error";

export interface FaultEntry {
  readonly time: Nanoseconds;
  readonly kind: FaultKind;
  /** The address the access targeted (MMIO/port/bus address). */
  readonly address: number;
  readonly length: number;
  readonly write: boolean;
  /** Device or requester (PCI address) involved, when known. */
  readonly requester?: string;
  readonly detail?: string;
}

/**
 * A bounded record of bus-level faults: accesses nobody claimed (master aborts), width violations and
 * blocked DMA. Hardware does not crash on these and neither do we; they are counted and kept for
 * inspection instead.
 */
@injectable()
export class FaultRecord {
  private readonly ring: FaultEntry[] = [];
  private readonly counts = new Map<FaultKind, number>();

  constructor(
    @inject(Tokens.Clock) private readonly clock: Clock,
    readonly capacity = 1024,
  ) {}

  record(fault: Omit<FaultEntry, "time">): void {
    const entry: FaultEntry = { ...fault, time: this.clock.now() };
    if (this.ring.length >= this.capacity) this.ring.shift();
    this.ring.push(entry);
    this.counts.set(fault.kind, (this.counts.get(fault.kind) ?? 0) + 1);
  }

  count(kind?: FaultKind): number {
    if (kind) return this.counts.get(kind) ?? 0;
    let total = 0;
    for (const n of this.counts.values()) total += n;
    return total;
  }

  entries(kind?: FaultKind): readonly FaultEntry[] {
    return kind ? this.ring.filter((f) => f.kind === kind) : [...this.ring];
  }
}
