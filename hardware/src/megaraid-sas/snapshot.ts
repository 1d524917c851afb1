import type { PciConfigSnapshot, PciConfigSpace } from "@vmk/kernel";
import { MEGARAID_STATE_VERSION, NOT_ARMED, type MegaRaidState } from "./state.js";
import type { MegaRaidVariantName } from "./variants.js";

/**
 * A saved controller: JSON-safe plain data. The boot deadline is stored as time remaining and the
 * boot time as time elapsed, so the firmware resumes on a host whose clock reads differently.
 * Commands at logical units are recorded as in flight; the restored controller fails their I/O
 * (SCSI_IO_FAILED) and re-runs their management commands, since the requests behind them are gone.
 */
export interface MegaRaidSnapshot {
  version: typeof MEGARAID_STATE_VERSION;
  variant: MegaRaidVariantName;
  config: PciConfigSnapshot;
  /** The drive layout the state refers to; a restore needs the same one. */
  logicalDriveIds: number[];
  physicalDriveIds: number[];
  bootRemainingNs: number;
  bootedAgoNs: number;
  state: Omit<MegaRaidState, "bootDeadline" | "bootedAt">;
}

export interface DriveLayout {
  logicalDriveIds: number[];
  physicalDriveIds: number[];
}

export function takeSnapshot(state: MegaRaidState, config: PciConfigSpace, variant: MegaRaidVariantName, drives: DriveLayout, now: number): MegaRaidSnapshot {
  const { bootDeadline, bootedAt, ...rest } = state;
  return {
    version: MEGARAID_STATE_VERSION,
    variant,
    config: config.snapshot(),
    logicalDriveIds: [...drives.logicalDriveIds],
    physicalDriveIds: [...drives.physicalDriveIds],
    bootRemainingNs: bootDeadline === NOT_ARMED ? NOT_ARMED : Math.max(0, bootDeadline - now),
    bootedAgoNs: Math.max(0, now - bootedAt),
    state: structuredClone(rest),
  };
}

/** Copies a snapshot into the live state object in place (the components hold references to it). */
export function restoreSnapshot(state: MegaRaidState, config: PciConfigSpace, snapshot: MegaRaidSnapshot, drives: DriveLayout, now: number): void {
  if (snapshot.version !== MEGARAID_STATE_VERSION) throw new Error(`megaraid-sas: unsupported snapshot version ${String(snapshot.version)}`);
  if (!sameIds(snapshot.logicalDriveIds, drives.logicalDriveIds) || !sameIds(snapshot.physicalDriveIds, drives.physicalDriveIds)) {
    throw new Error("megaraid-sas: snapshot was taken with a different drive layout");
  }
  config.restore(snapshot.config);
  Object.assign(state, structuredClone(snapshot.state));
  state.bootDeadline = snapshot.bootRemainingNs === NOT_ARMED ? NOT_ARMED : now + snapshot.bootRemainingNs;
  state.bootedAt = now - snapshot.bootedAgoNs;
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
