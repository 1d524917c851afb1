import type { Clock } from "../clock/clock.js";
import type { DataDirection } from "./scsi-constants.js";
import type { ScsiPath } from "./scsi-path.js";
import { ScsiRequest, type RequestOwner } from "./scsi-request.js";
import type { StorageSettings } from "./storage-settings.js";

/** How a command pinned to one path ended. `data` is what arrived (the buffer minus the residual). */
export interface PinnedOutcome {
  hostStatus: number;
  scsiStatus: number;
  sense?: Uint8Array;
  data: Uint8Array;
  /** The path failed or its adapter went away; no status exists. */
  pathLost: boolean;
}

/**
 * Scan and probe commands: they must reach one particular I_T_L nexus, so they retry on their path
 * and never fail over. They wait out the adapter's error recovery rather than fail because of it.
 */
class PinnedOwner implements RequestOwner {
  constructor(
    private readonly path: ScsiPath,
    private readonly clock: Clock,
    private readonly settings: StorageSettings,
  ) {}

  finished(request: ScsiRequest): void {
    request.settle(request);
  }

  retry(request: ScsiRequest, delayNs: number): void {
    this.clock.setTimer(delayNs, () => this.resend(request), { label: `${this.path.runtimeName} retry` });
  }

  pathFailed(request: ScsiRequest): void {
    request.failure = "path-lost";
    request.settle(request);
  }

  resend(request: ScsiRequest): void {
    if (this.path.host.state === "recovering") {
      this.retry(request, this.settings.busyRetryDelayNs);
      return;
    }
    if (!this.path.host.send(request, this.path, true)) this.retry(request, this.settings.busyRetryDelayNs);
  }
}

export interface PinnedCommandSpec {
  cdb: Uint8Array;
  direction: DataDirection;
  /** Bytes to receive (data-in) or the bytes to send (data-out). */
  buffer: Uint8Array;
  retries: number;
  timeoutNs: number;
}

export function issuePinned(path: ScsiPath, spec: PinnedCommandSpec, clock: Clock, settings: StorageSettings): Promise<PinnedOutcome> {
  return new Promise<PinnedOutcome>((resolve) => {
    const owner = new PinnedOwner(path, clock, settings);
    const data = spec.buffer.length > 0 ? [spec.buffer] : [];
    const request = new ScsiRequest(owner, spec.cdb, spec.direction, data, "other", 0, spec.timeoutNs, spec.retries, true, clock.now(), (r) => {
      const received = spec.direction === "fromDevice" ? spec.buffer.subarray(0, Math.max(0, Math.min(spec.buffer.length, spec.buffer.length - r.residual))) : spec.buffer;
      resolve({ hostStatus: r.hostStatus, scsiStatus: r.scsiStatus, ...(r.sense !== undefined ? { sense: r.sense } : {}), data: received, pathLost: r.failure === "path-lost" });
    });
    owner.resend(request);
  });
}
