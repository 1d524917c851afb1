import type { DataDirection } from "./scsi-constants.js";

/** What the rest of the kernel (datastores, virtual disks) sees of a storage device. */
export interface BlockDevice {
  /** naa.<hex>, eui.<hex>, t10.<id> or mpx.vmhbaN:C0:Tt:Ll */
  readonly name: string;
  readonly blockSize: number;
  readonly blocks: number;
  /** Reads `blocks` blocks at `lba` into `into` (at least blocks × blockSize bytes). Rejects with StorageIoError. */
  read(lba: number, blocks: number, into: Uint8Array): Promise<void>;
  write(lba: number, blocks: number, from: Uint8Array): Promise<void>;
  /** Commits the device's write cache (SYNCHRONIZE CACHE); a device without one succeeds at once. */
  flush(): Promise<void>;
  /** Sends any CDB (reservations, COMPARE AND WRITE for ATS), with the midlayer's retries and path failover. */
  scsi(command: PassthroughCommand): Promise<PassthroughResult>;
  stats(): DeviceStats;
}

export interface PassthroughCommand {
  cdb: Uint8Array;
  direction: DataDirection;
  /** The data buffer, or its scatter list. */
  data?: Uint8Array | readonly Uint8Array[];
  timeoutNs?: number;
  /** Retries for transient conditions (unit attention, busy); the host's default when omitted. */
  retries?: number;
}

/** A final SCSI status is an answer: CHECK CONDITION comes back here, not as an error. Host failures reject. */
export interface PassthroughResult {
  scsiStatus: number;
  sense?: Uint8Array;
  residual: number;
  /** The path (vmhbaN:C0:Tt:Ll) that carried the last attempt. */
  path: string;
}

export interface DeviceStats {
  /** Requests completed successfully, over all kinds. */
  commands: number;
  reads: number;
  writes: number;
  blocksRead: number;
  blocksWritten: number;
  /** Requests that failed to the caller. */
  failed: number;
  /** Attempts sent again after a transient condition. */
  retries: number;
  /** Attempts sent again because their path failed. */
  failovers: number;
  /** Times the path carrying I/O changed (Fixed and MRU only; Round Robin changes by design). */
  pathSwitches: number;
  /** Total latency of successful reads and writes, submission to completion. */
  readLatencyNs: number;
  writeLatencyNs: number;
  /** Waiting for a queue slot or a path now. */
  queued: number;
  /** With an adapter now. */
  inflight: number;
}
