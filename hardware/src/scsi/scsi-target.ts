import { getBe16, getBe32, putBe32 } from "./big-endian.js";
import { absentLogicalUnitInquiry, type InquiryProfile } from "./inquiry-data.js";
import { completeWithData, expectedTransfer } from "./data-in.js";
import type { LogicalUnit } from "./logical-unit.js";
import { encodeLun, MAX_LUN } from "./lun-address.js";
import { resolveIdentity } from "./lu-identity.js";
import { ScsiOpcode } from "./opcodes.js";
import { ScsiStatus, ScsiTaskAbortedError, ScsiTransportError, type InitiatorId, type ScsiCommand, type ScsiCommandTarget, type ScsiResponse } from "./scsi-command.js";
import { Asc, buildFixedSense, CheckCondition, FIXED_SENSE_LENGTH, SenseKey } from "./sense.js";

/** REPORT LUNS SELECT REPORT values (SPC-3 6.21). */
const SelectReport = { ALL_ADDRESSED: 0x00, WELL_KNOWN_ONLY: 0x01, ALL: 0x02 } as const;

/**
 * A SCSI target port and the logical units mapped behind it. It answers REPORT LUNS and the commands
 * addressed to LUNs with nothing mapped, and hands everything else to the logical unit. The same
 * `LogicalUnit` may be mapped into several targets: that is a LU reached over several paths.
 */
export class ScsiTarget {
  private readonly units = new Map<number, LogicalUnit>();
  private readonly lostPaths = new Set<InitiatorId>();
  private readonly absentProfile: InquiryProfile;

  constructor(readonly name: string) {
    this.absentProfile = {
      identity: resolveIdentity({ name: `${name}/no-lun` }),
      limits: { maxTransferBlocks: 0, optimalTransferBlocks: 0, maxCompareAndWriteBlocks: 0, maxUnmapBlocks: 0, maxUnmapDescriptors: 0, maxWriteSameBlocks: 0 },
      rotationRate: 0,
    };
  }

  map(lun: number, unit: LogicalUnit): void {
    if (!Number.isInteger(lun) || lun < 0 || lun > MAX_LUN) throw new RangeError(`LUN ${lun} is outside 0..${MAX_LUN}`);
    if (this.units.has(lun)) throw new Error(`target ${this.name}: LUN ${lun} is already mapped`);
    this.units.set(lun, unit);
  }

  unmap(lun: number): LogicalUnit | undefined {
    const unit = this.units.get(lun);
    this.units.delete(lun);
    return unit;
  }

  unit(lun: number): LogicalUnit | undefined {
    return this.units.get(lun);
  }

  /** Mapped LUNs in ascending order. */
  luns(): number[] {
    return [...this.units.keys()].sort((a, b) => a - b);
  }

  /** Cuts (or restores) every path from `initiator` to this target port: commands reject with ScsiTransportError. */
  setPathLost(initiator: InitiatorId, lost: boolean): void {
    if (lost) this.lostPaths.add(initiator);
    else this.lostPaths.delete(initiator);
  }

  /** The commands of one LUN through this port, for an HBA model that addresses LUNs as drives. */
  lunTarget(lun: number): ScsiCommandTarget {
    return { execute: (command) => this.execute(lun, command) };
  }

  async execute(lun: number, command: ScsiCommand): Promise<ScsiResponse> {
    if (this.lostPaths.size > 0 && this.lostPaths.has(command.initiator)) throw new ScsiTransportError(command.initiator, "path-lost");
    const cdb = command.cdb;
    let response: ScsiResponse;
    if (cdb[0] === ScsiOpcode.REPORT_LUNS) {
      if (command.signal?.aborted) throw new ScsiTaskAbortedError("abort-task");
      response = this.reportLuns(command);
    } else {
      const unit = this.units.get(lun);
      response = unit ? await unit.execute(command) : this.answerForAbsentUnit(command);
    }
    if (this.lostPaths.size > 0 && this.lostPaths.has(command.initiator)) throw new ScsiTransportError(command.initiator, "path-lost");
    return response;
  }

  /** REPORT LUNS (SPC-3 6.21), answered the same whichever LUN it is addressed to. */
  private reportLuns(command: ScsiCommand): ScsiResponse {
    const cdb = command.cdb;
    try {
      if (cdb.length < 12) throw CheckCondition.invalidCdbField(0);
      const select = cdb[2]!;
      if (select !== SelectReport.ALL_ADDRESSED && select !== SelectReport.WELL_KNOWN_ONLY && select !== SelectReport.ALL) {
        throw CheckCondition.invalidCdbField(2);
      }
      const allocation = getBe32(cdb, 6);
      if (allocation < 16) throw CheckCondition.invalidCdbField(6);
      const luns = select === SelectReport.WELL_KNOWN_ONLY ? [] : this.luns();
      const data = new Uint8Array(8 + 8 * luns.length);
      putBe32(data, 0, 8 * luns.length);
      luns.forEach((lun, i) => data.set(encodeLun(lun), 8 + 8 * i));
      return completeWithData(command, data, allocation);
    } catch (error) {
      if (!(error instanceof CheckCondition)) throw error;
      return { status: ScsiStatus.CHECK_CONDITION, sense: buildFixedSense(error.detail), residual: expectedTransfer(command) };
    }
  }

  /** SPC-3 4.x: INQUIRY reports "no logical unit", REQUEST SENSE says why, everything else fails. */
  private answerForAbsentUnit(command: ScsiCommand): ScsiResponse {
    const cdb = command.cdb;
    const notSupported = { key: SenseKey.ILLEGAL_REQUEST, code: Asc.LOGICAL_UNIT_NOT_SUPPORTED } as const;
    if (cdb[0] === ScsiOpcode.INQUIRY && cdb.length >= 6 && (cdb[1]! & 0x03) === 0 && cdb[2] === 0) {
      return completeWithData(command, absentLogicalUnitInquiry(this.absentProfile), getBe16(cdb, 3));
    }
    if (cdb[0] === ScsiOpcode.REQUEST_SENSE && cdb.length >= 6) {
      return completeWithData(command, buildFixedSense(notSupported), Math.min(cdb[4]!, FIXED_SENSE_LENGTH));
    }
    return { status: ScsiStatus.CHECK_CONDITION, sense: buildFixedSense(notSupported), residual: expectedTransfer(command) };
  }
}
