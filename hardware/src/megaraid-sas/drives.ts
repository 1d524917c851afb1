import { ScsiStatus, type InitiatorId, type ScsiCommandTarget, type ScsiResponse } from "../scsi/scsi-command.js";
import { MAX_LOGICAL_DRIVES, MAX_PHYSICAL_DRIVES } from "./mfi-frames.js";
import type { DriveGeometry } from "./state.js";

/** A drive passed through to the host as a system (JBOD) physical drive. */
export interface PhysicalDriveConfig {
  /** Firmware device ID (PD_SCSI_IO target); the next free one when omitted. */
  deviceId?: number;
  /** Enclosure slot the drive reports; the device ID when omitted. */
  slot?: number;
  target: ScsiCommandTarget;
}

export interface PhysicalDrive {
  deviceId: number;
  slot: number;
  target: ScsiCommandTarget;
}

const SENSE_KEY_UNIT_ATTENTION = 0x6;
const SENSE_KEY_ILLEGAL_REQUEST = 0x5;
/** Unit attentions the firmware absorbs for its own commands before giving up (power-on, capacity change, ...). */
const INTERNAL_RETRIES = 4;

/**
 * The drives behind the controller: logical drives by target ID (each backed by one LUN) and
 * pass-through physical drives by device ID. Configuration, not state: a restore brings its own.
 */
export class DriveSet {
  readonly logical = new Map<number, ScsiCommandTarget>();
  readonly physical = new Map<number, PhysicalDrive>();

  constructor(readonly initiator: InitiatorId) {}

  addLogical(targetId: number, target: ScsiCommandTarget): void {
    if (!Number.isInteger(targetId) || targetId < 0 || targetId >= MAX_LOGICAL_DRIVES) throw new RangeError(`logical drive target ID ${targetId} out of range 0..${MAX_LOGICAL_DRIVES - 1}`);
    if (this.logical.has(targetId)) throw new Error(`logical drive ${targetId} already exists`);
    this.logical.set(targetId, target);
  }

  addPhysical(config: PhysicalDriveConfig): PhysicalDrive {
    const deviceId = config.deviceId ?? this.freePhysicalId();
    if (!Number.isInteger(deviceId) || deviceId < 0 || deviceId >= MAX_PHYSICAL_DRIVES) throw new RangeError(`physical drive device ID ${deviceId} out of range`);
    if (this.physical.has(deviceId)) throw new Error(`physical drive ${deviceId} already exists`);
    const drive = { deviceId, slot: config.slot ?? deviceId, target: config.target };
    this.physical.set(deviceId, drive);
    return drive;
  }

  logicalIds(): number[] {
    return [...this.logical.keys()].sort((a, b) => a - b);
  }

  physicalIds(): number[] {
    return [...this.physical.keys()].sort((a, b) => a - b);
  }

  /**
   * A command the firmware issues on its own behalf. Unit attentions are the firmware's to absorb
   * (it is the initiator), so they are retried; anything else is returned.
   */
  async internal(target: ScsiCommandTarget, cdb: Uint8Array, dataInLength?: number, dataOut?: Uint8Array): Promise<ScsiResponse> {
    let response: ScsiResponse | undefined;
    for (let attempt = 0; attempt <= INTERNAL_RETRIES; attempt++) {
      response = await target.execute({ cdb, initiator: this.initiator, dataInLength, dataOut });
      if (response.status !== ScsiStatus.CHECK_CONDITION || senseKey(response) !== SENSE_KEY_UNIT_ATTENTION) return response;
    }
    return response!;
  }

  /** READ CAPACITY (16), falling back to (10) for units without SERVICE ACTION IN. */
  async geometry(target: ScsiCommandTarget): Promise<DriveGeometry | undefined> {
    const sixteen = new Uint8Array(16);
    sixteen[0] = 0x9e;
    sixteen[1] = 0x10;
    sixteen[13] = 32;
    const long = await this.internal(target, sixteen, 32);
    if (long.status === ScsiStatus.GOOD && long.dataIn && long.dataIn.length >= 12) {
      const view = new DataView(long.dataIn.buffer, long.dataIn.byteOffset, long.dataIn.byteLength);
      return { blocks: view.getUint32(0) * 2 ** 32 + view.getUint32(4) + 1, blockSize: view.getUint32(8) };
    }
    if (long.status !== ScsiStatus.CHECK_CONDITION || senseKey(long) !== SENSE_KEY_ILLEGAL_REQUEST) return undefined;
    const ten = new Uint8Array(10);
    ten[0] = 0x25;
    const short = await this.internal(target, ten, 8);
    if (short.status !== ScsiStatus.GOOD || !short.dataIn || short.dataIn.length < 8) return undefined;
    const view = new DataView(short.dataIn.buffer, short.dataIn.byteOffset, short.dataIn.byteLength);
    return { blocks: view.getUint32(0) + 1, blockSize: view.getUint32(4) };
  }

  /** INQUIRY: standard data, or a VPD page. */
  async inquiry(target: ScsiCommandTarget, length: number, page?: number): Promise<Uint8Array | undefined> {
    const cdb = new Uint8Array(6);
    cdb[0] = 0x12;
    if (page !== undefined) {
      cdb[1] = 1;
      cdb[2] = page;
    }
    cdb[3] = length >> 8;
    cdb[4] = length & 0xff;
    const response = await this.internal(target, cdb, length);
    return response.status === ScsiStatus.GOOD ? response.dataIn : undefined;
  }

  private freePhysicalId(): number {
    for (let id = 0; id < MAX_PHYSICAL_DRIVES; id++) if (!this.physical.has(id)) return id;
    throw new Error("no free physical drive device ID");
  }
}

export function senseKey(response: ScsiResponse): number | undefined {
  return response.sense && response.sense.length > 2 ? response.sense[2]! & 0x0f : undefined;
}
