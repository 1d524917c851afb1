import type { ExecutionDomain } from "../exec/execution-domain.js";
import type { DataDirection, HostStatus, ScsiStatus } from "./scsi-constants.js";

/**
 * The vmkernel's native storage device class. A host bus adapter driver (through vmklinux's
 * scsi_host, or natively) implements ScsiAdapter; the SCSI midlayer drives it. The shape follows the
 * hardware target contract (CDB, direction, status, sense, residual) and Linux's scsi_host_template.
 */

/** One command for one I_T_L nexus. The object is the command's identity: `abort` gets it back. */
export interface ScsiAdapterCommand {
  readonly target: number;
  readonly lun: number;
  readonly cdb: Uint8Array;
  readonly direction: DataDirection;
  /**
   * The data buffer as a scatter list (usually one segment). Segments are views; a segment whose
   * `buffer` is machine memory can be DMA-mapped at its `byteOffset`, any other must be bounced.
   * Data-in lands in these views; data-out is read from them. Empty when `direction` is "none".
   */
  readonly data: readonly Uint8Array[];
  /** Sum of the segments' lengths: the expected transfer length in bytes. */
  readonly transferLength: number;
  /** How long the midlayer waits before it starts error handling (abort) for this command. */
  readonly timeoutNs: number;
}

export interface ScsiCompletion {
  /** How delivery went (DID_*); anything but DID_OK makes `scsiStatus` meaningless. */
  hostStatus: HostStatus;
  scsiStatus: ScsiStatus;
  /** Sense data (fixed or descriptor format) returned with CHECK CONDITION. */
  sense?: Uint8Array;
  /** Expected transfer length minus bytes transferred: positive is an underrun. */
  residual: number;
}

/** Called exactly once per accepted command, from any context (interrupt handler, timer). */
export type ScsiDone = (completion: ScsiCompletion) => void;

/** A task management function's outcome: true is SUCCESS (the commands concerned are gone from the adapter). */
export type TaskManagementResult = boolean | Promise<boolean>;

export interface ScsiAdapterLimits {
  /** Commands the adapter accepts at once, over all LUNs (Linux can_queue). */
  canQueue: number;
  /** Commands per LUN the midlayer keeps outstanding (cmd_per_lun): the device queue depth. */
  cmdPerLun: number;
  /** Segments a scatter list may have (sg_tablesize). */
  sgTablesize: number;
  /** Largest transfer in 512-byte sectors (max_sectors). */
  maxSectors: number;
}

/** What the midlayer scans: targets 0..maxTargetId and LUNs 0..maxLun on each (one channel, C0). */
export interface ScsiScanLimits {
  maxTargetId: number;
  maxLun: number;
  /** The adapter's own ID on a parallel bus, skipped by the scan (Linux this_id). */
  initiatorId?: number;
}

export interface ScsiAdapter {
  /** Driver name ("mptspi") and bus address ("0000:00:10.0") for inventories; the address keeps the vmhba name across reloads. */
  readonly driver: string;
  readonly busAddress: string;
  /** Human-readable model ("LSI Logic 53c1030 Ultra320 SCSI"), shown by the console. */
  readonly model: string;
  readonly limits: ScsiAdapterLimits;
  readonly scan: ScsiScanLimits;
  /**
   * Starts a command (queuecommand). Returns false when the adapter cannot take it now (host busy,
   * SCSI_MLQUEUE_HOST_BUSY): `done` is then never called and the midlayer tries again after the next
   * completion. Otherwise `done` is called exactly once, possibly before this returns.
   */
  queueCommand(command: ScsiAdapterCommand, done: ScsiDone): boolean;
  /** ABORT TASK for one outstanding command (eh_abort_handler). On success `done` is never called for it. */
  abort(command: ScsiAdapterCommand): TaskManagementResult;
  /** LOGICAL UNIT RESET (eh_device_reset_handler): on success every command for that LUN is gone. */
  resetDevice(target: number, lun: number): TaskManagementResult;
  /** Resets the adapter and its bus (eh_host_reset_handler): on success no command is outstanding. */
  resetHost(): TaskManagementResult;
}

export interface RegisteredScsiAdapter {
  /** vmhbaN */
  readonly name: string;
  readonly adapter: ScsiAdapter;
  /** Rescans targets and LUNs (scsi_scan_host), e.g. after the driver learned of a topology change. */
  rescan(): Promise<void>;
}

export interface AdapterRegistrationOptions {
  /**
   * The fault domain every call into the adapter is charged to (the driver module's). Without one,
   * the adapter gets its own: a throw then takes only this adapter offline.
   */
  domain?: ExecutionDomain;
}

/** Exported to modules (Tokens.ScsiAdapters): drivers register their host adapters here, which become vmhbaN. */
export interface AdapterRegistry {
  register(adapter: ScsiAdapter, options?: AdapterRegistrationOptions): RegisteredScsiAdapter;
  /** The adapter is going away: its outstanding commands are taken back and failed over, its paths go dead. */
  unregister(registered: RegisteredScsiAdapter): void;
}
