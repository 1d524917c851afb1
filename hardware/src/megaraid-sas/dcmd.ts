import { ScsiStatus } from "../scsi/scsi-command.js";
import { buildControllerInfo, CONTROLLER_PROPERTIES_SIZE, type ControllerIdentity, type ControllerLimits } from "./controller-info.js";
import {
  buildLdInfo,
  buildLdList,
  buildLdProperties,
  buildLdTargetIdList,
  buildPdInfo,
  buildPdList,
  PD_ADDRESS_SIZE,
  type PhysicalDriveEntry,
} from "./drive-info.js";
import type { DriveSet, PhysicalDrive } from "./drives.js";
import { decodeClassLocale, EVENT_DETAIL_SIZE, EventArgs, EventClass, EventCode, EventLocale, type EventLog } from "./events.js";
import type { FetchedFrame } from "./fetched-frame.js";
import { DcmdOpcode, LdQueryType, MAX_PHYSICAL_DRIVES, MfiStatus, PdQueryType } from "./mfi-frames.js";
import type { ScatterGatherElement } from "./sgl.js";
import type { DriveGeometry, EventWaiter, MegaRaidState } from "./state.js";
import type { MegaRaidVariant } from "./variants.js";

export interface DcmdRequest {
  opcode: number;
  mailbox: Uint8Array;
  /** Size of the host's data buffer (data_xfer_len). */
  dataLength: number;
  frame: FetchedFrame;
  sgl: ScatterGatherElement[];
  /** The host's data, for commands that send some; undefined if it cannot be fetched. */
  readData(): Uint8Array | undefined;
}

export interface DcmdResult {
  status: MfiStatus;
  data?: Uint8Array;
}
/** "parked": the command completes later (CTRL_EVENT_WAIT). */
export type DcmdOutcome = DcmdResult | "parked";

export interface DcmdHost {
  readonly state: MegaRaidState;
  readonly variant: MegaRaidVariant;
  readonly drives: DriveSet;
  readonly events: EventLog;
  readonly identity: ControllerIdentity;
  readonly limits: ControllerLimits;
  /** READ CAPACITY of a logical drive, caching the answer for block I/O. */
  refreshGeometry(targetId: number): Promise<DriveGeometry | undefined>;
  physicalEntry(drive: PhysicalDrive): Promise<PhysicalDriveEntry>;
  reportError(detail: string): void;
}

type Handler = (request: DcmdRequest) => DcmdOutcome | Promise<DcmdResult>;

const SYNCHRONIZE_CACHE_10 = 0x35;
/**
 * CTRL_CACHE_FLUSH mailbox byte 0: flush the controller cache (0x01) and/or the disks' caches (0x02).
 * A logical drive's LUN is where its writes are cached, so it counts as controller cache; the
 * pass-through drives' LUNs are the disks.
 */
const FLUSH_CONTROLLER_CACHE = 0x01;
const FLUSH_DISK_CACHE = 0x02;

/**
 * Direct commands: the firmware's management interface. Opcodes not in the table are answered with
 * MFI_STAT_INVALID_DCMD, as firmware does for commands it does not implement.
 */
export class DcmdProcessor {
  private readonly handlers: ReadonlyMap<number, Handler>;

  constructor(private readonly host: DcmdHost) {
    this.handlers = new Map<number, Handler>([
      [DcmdOpcode.CTRL_GET_INFO, () => this.controllerInfo()],
      [DcmdOpcode.CTRL_GET_PROPERTIES, () => ({ status: MfiStatus.OK, data: Uint8Array.from(this.host.state.properties) })],
      [DcmdOpcode.CTRL_SET_PROPERTIES, (request) => this.setProperties(request)],
      [DcmdOpcode.CTRL_EVENT_GET_INFO, () => ({ status: MfiStatus.OK, data: this.host.events.info() })],
      [DcmdOpcode.CTRL_EVENT_GET, (request) => this.eventGet(request)],
      [DcmdOpcode.CTRL_EVENT_WAIT, (request) => this.eventWait(request)],
      [DcmdOpcode.CTRL_CACHE_FLUSH, (request) => this.cacheFlush(request.mailbox[0]!, MfiStatus.FLUSH_FAILED)],
      [DcmdOpcode.CTRL_SHUTDOWN, () => this.shutdown()],
      [DcmdOpcode.LD_GET_LIST, () => this.ldList()],
      [DcmdOpcode.LD_LIST_QUERY, (request) => this.ldListQuery(request)],
      [DcmdOpcode.LD_GET_INFO, (request) => this.ldInfo(request)],
      [DcmdOpcode.LD_GET_PROPERTIES, (request) => this.ldProperties(request)],
      [DcmdOpcode.PD_GET_LIST, (request) => this.pdList(request)],
      [DcmdOpcode.PD_LIST_QUERY, (request) => this.pdListQuery(request)],
      [DcmdOpcode.PD_GET_INFO, (request) => this.pdInfo(request)],
    ]);
  }

  execute(request: DcmdRequest): DcmdOutcome | Promise<DcmdResult> {
    const handler = this.handlers.get(request.opcode);
    return handler ? handler(request) : { status: MfiStatus.INVALID_DCMD };
  }

  private controllerInfo(): DcmdOutcome {
    const { drives } = this.host;
    const data = buildControllerInfo(
      this.host.variant,
      this.host.identity,
      this.host.limits,
      { logicalDrives: drives.logical.size, physicalDrives: drives.physical.size },
      Uint8Array.from(this.host.state.properties),
    );
    return { status: MfiStatus.OK, data };
  }

  private setProperties(request: DcmdRequest): DcmdOutcome {
    if (request.dataLength < CONTROLLER_PROPERTIES_SIZE) return { status: MfiStatus.INVALID_PARAMETER };
    const data = request.readData();
    if (!data) return { status: MfiStatus.PCI_ERRORS_DETECTED };
    this.host.state.properties = Array.from(data.subarray(0, CONTROLLER_PROPERTIES_SIZE));
    return { status: MfiStatus.OK };
  }

  private eventGet(request: DcmdRequest): DcmdOutcome {
    const view = mailboxView(request);
    const { locale, eventClass } = decodeClassLocale(view.getUint32(4, true));
    return { status: MfiStatus.OK, data: this.host.events.list(view.getUint32(0, true), locale, eventClass, request.dataLength) };
  }

  private eventWait(request: DcmdRequest): DcmdOutcome {
    if (request.dataLength < EVENT_DETAIL_SIZE) return { status: MfiStatus.INVALID_PARAMETER };
    const view = mailboxView(request);
    const { locale, eventClass } = decodeClassLocale(view.getUint32(4, true));
    const waiter: EventWaiter = {
      id: this.host.state.nextCommandId++,
      frameAddress: request.frame.address,
      context: request.frame.context,
      flags: request.frame.flags,
      sequence: view.getUint32(0, true),
      locale,
      eventClass,
      sgl: request.sgl.map((element) => [element.address, element.length]),
    };
    const detail = this.host.events.wait(waiter);
    return detail ? { status: MfiStatus.OK, data: detail } : "parked";
  }

  /** SYNCHRONIZE CACHE to the drives `which` selects; `failure` is the status a drive's refusal turns into. */
  private async cacheFlush(which: number, failure: MfiStatus): Promise<DcmdResult> {
    const { drives } = this.host;
    const targets = [
      ...(which & FLUSH_CONTROLLER_CACHE ? [...drives.logical.values()] : []),
      ...(which & FLUSH_DISK_CACHE ? [...drives.physical.values()].map((drive) => drive.target) : []),
    ];
    let failed = false;
    for (const target of targets) {
      const cdb = new Uint8Array(10);
      cdb[0] = SYNCHRONIZE_CACHE_10;
      try {
        const response = await drives.internal(target, cdb);
        if (response.status !== ScsiStatus.GOOD) failed = true;
      } catch (error) {
        this.host.reportError(`megaraid-sas: cache flush failed: ${(error as Error).message}`);
        failed = true;
      }
    }
    return { status: failed ? failure : MfiStatus.OK };
  }

  private async shutdown(): Promise<DcmdResult> {
    const flushed = await this.cacheFlush(FLUSH_CONTROLLER_CACHE | FLUSH_DISK_CACHE, MfiStatus.SHUTDOWN_FAILED);
    if (flushed.status !== MfiStatus.OK) return flushed;
    this.host.events.record(EventCode.CTRL_SHUTDOWN, EventLocale.CTRL, EventClass.INFO, EventArgs.NONE, new Uint8Array(96), "Adapter shutdown");
    this.host.events.markShutdown();
    return { status: MfiStatus.OK };
  }

  private async ldList(): Promise<DcmdResult> {
    const entries = [];
    for (const targetId of this.host.drives.logicalIds()) entries.push({ targetId, geometry: await this.host.refreshGeometry(targetId) });
    return { status: MfiStatus.OK, data: buildLdList(entries) };
  }

  private ldListQuery(request: DcmdRequest): DcmdOutcome {
    const type = request.mailbox[0]!;
    if (type !== LdQueryType.ALL && type !== LdQueryType.EXPOSED_TO_HOST && type !== LdQueryType.USED_TARGET_IDS) return { status: MfiStatus.INVALID_PARAMETER };
    return { status: MfiStatus.OK, data: buildLdTargetIdList(this.host.drives.logicalIds()) };
  }

  private async ldInfo(request: DcmdRequest): Promise<DcmdResult> {
    const targetId = request.mailbox[0]!;
    const target = this.host.drives.logical.get(targetId);
    if (!target) return { status: MfiStatus.DEVICE_NOT_FOUND };
    const geometry = await this.host.refreshGeometry(targetId);
    if (!geometry) return { status: MfiStatus.LD_OFFLINE };
    const vpd = await this.host.drives.inquiry(target, 64, 0x83);
    return { status: MfiStatus.OK, data: buildLdInfo(targetId, geometry, vpd) };
  }

  private ldProperties(request: DcmdRequest): DcmdOutcome {
    const targetId = request.mailbox[0]!;
    if (!this.host.drives.logical.has(targetId)) return { status: MfiStatus.DEVICE_NOT_FOUND };
    return { status: MfiStatus.OK, data: buildLdProperties(targetId) };
  }

  private async pdList(request: DcmdRequest): Promise<DcmdResult> {
    if (request.dataLength < 8 + PD_ADDRESS_SIZE) return { status: MfiStatus.INVALID_PARAMETER };
    const entries = [];
    for (const id of this.host.drives.physicalIds()) entries.push(await this.host.physicalEntry(this.host.drives.physical.get(id)!));
    return { status: MfiStatus.OK, data: buildPdList(entries, request.dataLength) };
  }

  /** Every PD here is a system (JBOD) drive, so all query types but unknown ones return the full list. */
  private pdListQuery(request: DcmdRequest): DcmdResult | Promise<DcmdResult> {
    const type = request.mailbox[0]!;
    if (type > PdQueryType.EXPOSED_TO_HOST) return { status: MfiStatus.INVALID_PARAMETER };
    return this.pdList(request);
  }

  private async pdInfo(request: DcmdRequest): Promise<DcmdResult> {
    const deviceId = mailboxView(request).getUint16(0, true);
    const drive = deviceId < MAX_PHYSICAL_DRIVES ? this.host.drives.physical.get(deviceId) : undefined;
    if (!drive) return { status: MfiStatus.DEVICE_NOT_FOUND };
    const entry = await this.host.physicalEntry(drive);
    const geometry = await this.host.drives.geometry(drive.target);
    const inquiry = await this.host.drives.inquiry(drive.target, 96);
    const vpd = await this.host.drives.inquiry(drive.target, 64, 0x83);
    return { status: MfiStatus.OK, data: buildPdInfo(entry, geometry, inquiry, vpd) };
  }
}

function mailboxView(request: DcmdRequest): DataView {
  return new DataView(request.mailbox.buffer, request.mailbox.byteOffset, request.mailbox.byteLength);
}
