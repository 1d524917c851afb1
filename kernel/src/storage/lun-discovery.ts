import type { KernelLog } from "../log/kernel-log.js";
import { inquiryCdb, readCapacity10Cdb, readCapacity16Cdb, READ_CAPACITY_16_LENGTH, reportLunsCdb } from "./scsi-cdb.js";
import { HostStatus, ScsiStatus, VPD_DEVICE_IDENTIFICATION } from "./scsi-constants.js";
import { SCSI_LOG, describeCompletion, type ScsiHost } from "./scsi-host.js";
import type { ScsiPath } from "./scsi-path.js";
import {
  CAPACITY_10_OVERFLOW,
  PERIPHERAL_DIRECT_ACCESS,
  STANDARD_INQUIRY_ALLOCATION,
  parseDeviceIdentification,
  parseReadCapacity10,
  parseReadCapacity16,
  parseReportLuns,
  parseStandardInquiry,
  type Capacity,
  type DeviceIdentifiers,
  type StandardInquiry,
} from "./scsi-responses.js";
import type { DataDirection } from "./scsi-constants.js";
import type { PinnedOutcome } from "./pinned-command.js";

/** A disk LUN found behind an adapter, with what identifies it across paths. */
export interface DiscoveredLun {
  path: ScsiPath;
  inquiry: StandardInquiry;
  ids: DeviceIdentifiers;
  capacity: Capacity;
}

export interface DiscoveryPort {
  /** The path object for a nexus: the existing one, or a fresh one not yet attached to a device. */
  pathFor(host: ScsiHost, target: number, lun: number): ScsiPath;
  issue(path: ScsiPath, cdb: Uint8Array, direction: DataDirection, allocationLength: number): Promise<PinnedOutcome>;
}

const REPORT_LUNS_INITIAL_ALLOCATION = 8 + 8 * 64;
const VPD_ALLOCATION = 255;

/**
 * Scans one adapter as Linux's scsi_scan_host does: each target ID, REPORT LUNS to LUN 0 (a
 * sequential scan from LUN 0 when the target does not support it), then for each LUN a standard
 * INQUIRY, the device identification VPD page and READ CAPACITY(16), falling back to (10).
 */
export class LunDiscovery {
  constructor(
    private readonly host: ScsiHost,
    private readonly port: DiscoveryPort,
    private readonly log: KernelLog,
  ) {}

  async scan(): Promise<DiscoveredLun[]> {
    const found: DiscoveredLun[] = [];
    const limits = this.host.adapter.scan;
    for (let target = 0; target <= limits.maxTargetId; target++) {
      if (target === limits.initiatorId) continue;
      if (!this.host.acceptsIo) break;
      const luns = await this.lunsOf(target);
      if (luns === undefined) continue;
      for (const lun of luns) {
        if (lun > limits.maxLun) {
          this.log.debug(SCSI_LOG, `${this.host.name}:C0:T${target}:L${lun}: beyond the adapter's max LUN ${limits.maxLun}; skipped`);
          continue;
        }
        const disk = await this.probeLun(target, lun);
        if (disk !== undefined) found.push(disk);
      }
    }
    return found;
  }

  /** The LUNs a target reports; undefined when no target answers at this ID. */
  private async lunsOf(target: number): Promise<number[] | undefined> {
    const path = this.port.pathFor(this.host, target, 0);
    let allocation = REPORT_LUNS_INITIAL_ALLOCATION;
    for (let attempt = 0; attempt < 2; attempt++) {
      const outcome = await this.port.issue(path, reportLunsCdb(allocation), "fromDevice", allocation);
      if (outcome.pathLost || outcome.hostStatus !== HostStatus.DID_OK) return undefined;
      if (outcome.scsiStatus !== ScsiStatus.GOOD) {
        this.log.debug(SCSI_LOG, `${path.runtimeName}: REPORT LUNS not supported (${describeCompletion(outcome)}); scanning LUNs sequentially`);
        return this.sequentialLuns(target);
      }
      const reported = parseReportLuns(outcome.data);
      if (reported.listLength + 8 <= allocation) return [...new Set(reported.luns)].sort((a, b) => a - b);
      allocation = reported.listLength + 8;
    }
    return undefined;
  }

  /** Linux's sequential scan: LUN 0 upwards, stopping at the first LUN with nothing behind it. */
  private async sequentialLuns(target: number): Promise<number[] | undefined> {
    const luns: number[] = [];
    for (let lun = 0; lun <= this.host.adapter.scan.maxLun; lun++) {
      const path = this.port.pathFor(this.host, target, lun);
      const outcome = await this.port.issue(path, inquiryCdb(STANDARD_INQUIRY_ALLOCATION), "fromDevice", STANDARD_INQUIRY_ALLOCATION);
      if (outcome.pathLost || outcome.hostStatus !== HostStatus.DID_OK) return lun === 0 ? undefined : luns;
      const inquiry = outcome.scsiStatus === ScsiStatus.GOOD ? parseStandardInquiry(outcome.data) : undefined;
      if (inquiry === undefined || inquiry.peripheralQualifier === 3) break;
      luns.push(lun);
    }
    return luns;
  }

  private async probeLun(target: number, lun: number): Promise<DiscoveredLun | undefined> {
    const path = this.port.pathFor(this.host, target, lun);
    const where = path.runtimeName;
    const standard = await this.port.issue(path, inquiryCdb(STANDARD_INQUIRY_ALLOCATION), "fromDevice", STANDARD_INQUIRY_ALLOCATION);
    if (standard.pathLost || standard.hostStatus !== HostStatus.DID_OK || standard.scsiStatus !== ScsiStatus.GOOD) {
      this.log.warn(SCSI_LOG, `${where}: INQUIRY failed (${describeOutcome(standard)}); LUN skipped`);
      return undefined;
    }
    const inquiry = parseStandardInquiry(standard.data);
    if (inquiry === undefined || inquiry.peripheralQualifier !== 0) return undefined;
    if (inquiry.deviceType !== PERIPHERAL_DIRECT_ACCESS) {
      this.log.info(SCSI_LOG, `${where}: ${inquiry.vendor} ${inquiry.model} is peripheral type 0x${inquiry.deviceType.toString(16)}, not a disk; ignored`);
      return undefined;
    }
    const vpd = await this.port.issue(path, inquiryCdb(VPD_ALLOCATION, VPD_DEVICE_IDENTIFICATION), "fromDevice", VPD_ALLOCATION);
    const ids = vpd.hostStatus === HostStatus.DID_OK && vpd.scsiStatus === ScsiStatus.GOOD && !vpd.pathLost ? parseDeviceIdentification(vpd.data) : {};
    const capacity = await this.readCapacity(path);
    if (capacity === undefined) return undefined;
    return { path, inquiry, ids, capacity };
  }

  private async readCapacity(path: ScsiPath): Promise<Capacity | undefined> {
    const long = await this.port.issue(path, readCapacity16Cdb(), "fromDevice", READ_CAPACITY_16_LENGTH);
    if (long.pathLost || long.hostStatus !== HostStatus.DID_OK) {
      this.log.warn(SCSI_LOG, `${path.runtimeName}: READ CAPACITY failed (${describeOutcome(long)}); LUN skipped`);
      return undefined;
    }
    if (long.scsiStatus === ScsiStatus.GOOD) return valid(parseReadCapacity16(long.data));
    const short = await this.port.issue(path, readCapacity10Cdb(), "fromDevice", 8);
    const capacity = short.hostStatus === HostStatus.DID_OK && short.scsiStatus === ScsiStatus.GOOD && !short.pathLost ? valid(parseReadCapacity10(short.data)) : undefined;
    if (capacity === undefined || capacity.blocks === CAPACITY_10_OVERFLOW) {
      this.log.warn(SCSI_LOG, `${path.runtimeName}: READ CAPACITY failed (${describeOutcome(short)}); LUN skipped`);
      return undefined;
    }
    return capacity;
  }
}

function valid(capacity: Capacity | undefined): Capacity | undefined {
  if (capacity === undefined || capacity.blockSize < 512 || capacity.blockSize % 512 !== 0) return undefined;
  return capacity;
}

function describeOutcome(outcome: PinnedOutcome): string {
  if (outcome.pathLost) return "path lost";
  return describeCompletion(outcome);
}
