import { NS_PER_MS, NS_PER_S, type Nanoseconds } from "../clock/clock.js";

export type PathSelectionPolicyName = "VMW_PSP_FIXED" | "VMW_PSP_MRU" | "VMW_PSP_RR";

/** Host-wide storage tunables; the ESX advanced option each follows is named. */
export interface StorageSettings {
  /** Policy given to newly discovered devices (ESX's NMP default for active/active arrays is Fixed). */
  defaultPolicy: PathSelectionPolicyName;
  /** Round Robin: I/Os sent down one path before switching to the next (esxcli ... roundrobin --iops, 1000). */
  roundRobinIops: number;
  /** Time a command may be outstanding before error handling starts (Linux sd's 30 s). */
  commandTimeoutNs: Nanoseconds;
  /** Retries for transient conditions per command (Linux SD_MAX_RETRIES, 5); path failover does not count. */
  commandRetries: number;
  /** Time each task management step (abort, LUN reset, host reset) may take (Linux eh_timeout, 10 s). */
  taskManagementTimeoutNs: Nanoseconds;
  /** Interval at which dead paths are probed with TEST UNIT READY (Disk.PathEvalTime, 300 s). */
  pathProbeIntervalNs: Nanoseconds;
  /** How long I/O waits for a path while all paths are down before it fails (Misc.APDTimeout, 140 s). */
  allPathsDownTimeoutNs: Nanoseconds;
  /** Delay before retrying after BUSY, TASK SET FULL or a LUN becoming ready. */
  busyRetryDelayNs: Nanoseconds;
}

export const DEFAULT_STORAGE_SETTINGS: Readonly<StorageSettings> = Object.freeze({
  defaultPolicy: "VMW_PSP_FIXED",
  roundRobinIops: 1000,
  commandTimeoutNs: 30 * NS_PER_S,
  commandRetries: 5,
  taskManagementTimeoutNs: 10 * NS_PER_S,
  pathProbeIntervalNs: 300 * NS_PER_S,
  allPathsDownTimeoutNs: 140 * NS_PER_S,
  busyRetryDelayNs: 2 * NS_PER_MS,
});
