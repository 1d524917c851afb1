import type { ScsiPath } from "./scsi-path.js";
import type { PathSelectionPolicyName } from "./storage-settings.js";

/** A path selection plugin (ESX's PSP): which path the next I/O of a device takes. */
export interface PathSelector {
  readonly policy: PathSelectionPolicyName;
  /** The path for the next I/O, or undefined when none is usable. Called once per I/O: keep it cheap. */
  select(paths: readonly ScsiPath[]): ScsiPath | undefined;
  /** Whether the path carries I/O now (ESX's "Active (I/O)"). */
  isWorking(path: ScsiPath): boolean;
}

/** First usable active path in order, else the first usable standby one (standby only serves when no active path is left). */
function firstUsable(paths: readonly ScsiPath[], startAfter = -1): ScsiPath | undefined {
  let standby: ScsiPath | undefined;
  const n = paths.length;
  for (let i = 1; i <= n; i++) {
    const path = paths[(startAfter + i + n) % n]!;
    if (!path.usable) continue;
    if (path.state === "active") return path;
    standby ??= path;
  }
  return standby;
}

/** VMW_PSP_FIXED: the preferred path whenever it is usable (failing back to it when it returns), else another. */
export class FixedPathSelector implements PathSelector {
  readonly policy = "VMW_PSP_FIXED" as const;
  private current: ScsiPath | undefined;

  constructor(public preferred: ScsiPath | undefined) {}

  select(paths: readonly ScsiPath[]): ScsiPath | undefined {
    const preferred = this.preferred;
    if (preferred !== undefined && preferred.state === "active" && preferred.usable) return (this.current = preferred);
    const current = this.current;
    if (current !== undefined && current.state === "active" && current.usable) return current;
    return (this.current = firstUsable(paths));
  }

  isWorking(path: ScsiPath): boolean {
    return path === this.current && path.usable;
  }
}

/** VMW_PSP_MRU: stays on the path in use until it fails; never fails back. */
export class MostRecentlyUsedPathSelector implements PathSelector {
  readonly policy = "VMW_PSP_MRU" as const;

  constructor(private current: ScsiPath | undefined) {}

  select(paths: readonly ScsiPath[]): ScsiPath | undefined {
    const current = this.current;
    if (current !== undefined && current.state === "active" && current.usable) return current;
    return (this.current = firstUsable(paths));
  }

  isWorking(path: ScsiPath): boolean {
    return path === this.current && path.usable;
  }
}

/** VMW_PSP_RR: rotates over the usable active paths, moving on after `iops` I/Os on one. */
export class RoundRobinPathSelector implements PathSelector {
  readonly policy = "VMW_PSP_RR" as const;
  private current: ScsiPath | undefined;
  private issued = 0;

  constructor(readonly iops: number) {
    if (!Number.isInteger(iops) || iops < 1) throw new RangeError(`round robin IOPS must be a positive integer (got ${iops})`);
  }

  select(paths: readonly ScsiPath[]): ScsiPath | undefined {
    const current = this.current;
    if (current !== undefined && this.issued < this.iops && current.state === "active" && current.usable) {
      this.issued++;
      return current;
    }
    const next = firstUsable(paths, current === undefined ? -1 : paths.indexOf(current));
    this.current = next;
    this.issued = next === undefined ? 0 : 1;
    return next;
  }

  isWorking(path: ScsiPath): boolean {
    return path.state === "active" && path.usable;
  }
}
