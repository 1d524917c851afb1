import type { ScsiDevice } from "./scsi-device.js";
import type { ScsiHost } from "./scsi-host.js";

/** ESX's path states: active and standby carry I/O (standby only when no active path is left). */
export type PathState = "active" | "standby" | "dead" | "disabled";

export interface PathStats {
  commands: number;
  reads: number;
  writes: number;
  blocksRead: number;
  blocksWritten: number;
  /** Attempts that failed on this path (transport failures, errors, retried conditions). */
  errors: number;
}

export interface PathEvents {
  pathStateChanged(path: ScsiPath, previous: PathState, reason: string): void;
}

/** One I_T_L nexus, vmhbaN:C0:Tt:Ll: how one adapter reaches one LUN. */
export class ScsiPath {
  readonly runtimeName: string;
  state: PathState = "active";
  /** Why the path is dead or disabled. */
  reason: string | undefined = undefined;
  /** The multipath device the path leads to; undefined while the scan is still asking what is there. */
  device: ScsiDevice | undefined = undefined;
  probing = false;
  readonly stats: PathStats = { commands: 0, reads: 0, writes: 0, blocksRead: 0, blocksWritten: 0, errors: 0 };

  constructor(
    readonly host: ScsiHost,
    readonly target: number,
    readonly lun: number,
    private readonly events: PathEvents,
  ) {
    this.runtimeName = `${host.name}:C0:T${target}:L${lun}`;
  }

  get alive(): boolean {
    return this.state === "active" || this.state === "standby";
  }

  /** Alive, and its adapter takes commands now (not removed, offline or in error recovery). */
  get usable(): boolean {
    return (this.state === "active" || this.state === "standby") && this.host.acceptsIo;
  }

  /** Runtime transitions (failure, probe, ALUA, rescan) leave a disabled path alone: only the administrator moves it. */
  setState(next: PathState, reason: string): void {
    if (this.state !== "disabled") this.setAdminState(next, reason);
  }

  setAdminState(next: PathState, reason: string): void {
    if (next === this.state) return;
    const previous = this.state;
    this.state = next;
    this.reason = next === "dead" || next === "disabled" ? reason : undefined;
    this.events.pathStateChanged(this, previous, reason);
  }
}
