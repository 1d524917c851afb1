/** A claim on blocks [start, end) of a logical unit, shared (reads) or exclusive (writes, COMPARE AND WRITE). */
export interface RangeLease {
  readonly start: number;
  readonly end: number;
  readonly exclusive: boolean;
  /** Settles when the lease is granted; null when it was granted at once. */
  readonly granted: Promise<void> | null;
}

interface LeaseEntry extends RangeLease {
  granted: Promise<void> | null;
  /** Conflicting leases that arrived earlier and are still held or waiting. */
  blockers: number;
  grant: (() => void) | null;
}

/**
 * Orders media access per logical unit: commands on disjoint blocks run concurrently, reads share,
 * and overlapping commands where either writes run in arrival order. That makes COMPARE AND WRITE
 * atomic against every other command touching its blocks without serialising the whole LU, which a
 * QD32 random workload would feel. The queue is as long as the commands in flight, so a linear scan is fine.
 */
export class LbaRangeLock {
  private readonly entries: LeaseEntry[] = [];

  get size(): number {
    return this.entries.length;
  }

  acquire(start: number, end: number, exclusive: boolean): RangeLease {
    const entry: LeaseEntry = { start, end, exclusive, granted: null, blockers: 0, grant: null };
    for (const other of this.entries) {
      if (conflicts(entry, other)) entry.blockers++;
    }
    if (entry.blockers > 0) {
      entry.granted = new Promise<void>((resolve) => {
        entry.grant = resolve;
      });
    }
    this.entries.push(entry);
    return entry;
  }

  release(lease: RangeLease): void {
    const index = this.entries.indexOf(lease as LeaseEntry);
    if (index < 0) throw new Error("LbaRangeLock: lease released twice");
    this.entries.splice(index, 1);
    for (let i = index; i < this.entries.length; i++) {
      const later = this.entries[i]!;
      if (conflicts(later, lease) && --later.blockers === 0) {
        later.grant?.();
        later.grant = null;
      }
    }
  }
}

function conflicts(a: RangeLease, b: RangeLease): boolean {
  return (a.exclusive || b.exclusive) && a.start < b.end && b.start < a.end;
}
