import type { DeviceStats } from "./block-device.js";
import type { ScsiAdapterLimits, ScsiScanLimits } from "./scsi-adapter.js";
import type { AdapterState, AdapterStats } from "./scsi-host.js";
import type { PathState, PathStats } from "./scsi-path.js";
import type { PathSelectionPolicyName } from "./storage-settings.js";

/** Plain, JSON-serialisable views of the storage stack, for the console (esxcli storage core ...). */

export interface AdapterView {
  /** vmhbaN */
  name: string;
  driver: string;
  busAddress: string;
  model: string;
  state: AdapterState;
  /** Why it is offline or removed. */
  reason?: string;
  limits: ScsiAdapterLimits;
  scan: ScsiScanLimits;
  outstanding: number;
  paths: number;
  stats: AdapterStats;
}

export interface DevicePolicyView {
  name: PathSelectionPolicyName;
  /** Fixed: the preferred path. */
  preferredPath?: string;
  /** Round Robin: I/Os per path before switching. */
  iops?: number;
}

export interface DeviceView {
  /** naa.<hex> */
  name: string;
  /** "VMK Disk (naa.6000c29...)", as the vSphere client lists devices. */
  displayName: string;
  vendor: string;
  model: string;
  revision: string;
  blocks: number;
  blockSize: number;
  sizeBytes: number;
  queueDepth: number;
  policy: DevicePolicyView;
  /** "on" while some path is alive; "all paths down" otherwise. */
  status: "on" | "all paths down";
  paths: string[];
  workingPaths: string[];
  stats: DeviceStats;
}

export interface PathView {
  /** vmhbaN:C0:Tt:Ll */
  runtimeName: string;
  adapter: string;
  channel: 0;
  target: number;
  lun: number;
  device: string;
  state: PathState;
  reason?: string;
  preferred: boolean;
  /** Carrying I/O now (ESX's "Active (I/O)"). */
  working: boolean;
  stats: PathStats;
}

export interface StorageView {
  adapters: AdapterView[];
  devices: DeviceView[];
  paths: PathView[];
}
