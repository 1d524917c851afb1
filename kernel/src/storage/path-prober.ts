import type { Clock, TimerHandle } from "../clock/clock.js";
import { probeVerdict } from "./completion-disposition.js";
import { issuePinned } from "./pinned-command.js";
import { testUnitReadyCdb } from "./scsi-cdb.js";
import { HostStatus, ScsiStatus } from "./scsi-constants.js";
import type { ScsiPath } from "./scsi-path.js";
import type { StorageSettings } from "./storage-settings.js";

const NO_DATA = new Uint8Array(0);

/**
 * Re-probes dead paths with TEST UNIT READY every pathProbeIntervalNs, as ESX's path evaluation does,
 * and brings back those whose LUN answers. The timer runs only while some dead path can be probed.
 */
export class PathProber {
  private readonly watched = new Set<ScsiPath>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly settings: StorageSettings,
    private readonly revive: (path: ScsiPath, state: "active" | "standby") => void,
  ) {}

  watch(path: ScsiPath): void {
    this.watched.add(path);
    this.arm();
  }

  private arm(): void {
    if (this.timer !== undefined || this.watched.size === 0) return;
    this.timer = this.clock.setTimer(this.settings.pathProbeIntervalNs, () => this.probeAll(), { label: "storage path probe" });
  }

  private probeAll(): void {
    this.timer = undefined;
    for (const path of this.watched) {
      const host = path.host;
      // A path leaves the watch list once it lives again or its adapter is gone for good (a new registration makes new paths).
      if (path.state !== "dead" || path.device === undefined || host.state === "offline" || host.state === "removed") {
        this.watched.delete(path);
        continue;
      }
      if (host.acceptsIo && !path.probing) void this.probe(path);
    }
    this.arm();
  }

  private async probe(path: ScsiPath): Promise<void> {
    path.probing = true;
    const outcome = await issuePinned(path, { cdb: testUnitReadyCdb(), direction: "none", buffer: NO_DATA, retries: 0, timeoutNs: this.settings.commandTimeoutNs }, this.clock, this.settings);
    path.probing = false;
    if (path.state !== "dead" || outcome.pathLost) return;
    const verdict = probeVerdict({ hostStatus: outcome.hostStatus as HostStatus, scsiStatus: outcome.scsiStatus as ScsiStatus, ...(outcome.sense ? { sense: outcome.sense } : {}), residual: 0 });
    if (verdict !== "dead") {
      this.watched.delete(path);
      this.revive(path, verdict);
    }
  }
}
