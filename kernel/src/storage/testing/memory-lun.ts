import { be32, be64, putBe32 } from "../scsi-cdb.js";
import { ScsiStatus, SenseKey } from "../scsi-constants.js";
import type { ScsiAdapterCommand } from "../scsi-adapter.js";

/** What a test target returns for one command (the adapter adds the host status). */
export interface TargetResponse {
  status: number;
  sense?: Uint8Array;
  residual: number;
}

export interface MemoryLunOptions {
  /** 32 hex digits: the NAA 6 designator of VPD page 83h (omit for a LUN without identity). */
  naa?: string;
  vendor?: string;
  product?: string;
  revision?: string;
  blocks: number;
  blockSize?: number;
}

/**
 * A direct-access logical unit in memory that parses real CDBs: TEST UNIT READY, INQUIRY (standard,
 * VPD 00h and 83h), READ CAPACITY(10) and (16), READ and WRITE (10) and (16), SYNCHRONIZE CACHE(10).
 * Unit attentions are kept per initiator, as SPC requires; the fields below are fault switches.
 */
export class MemoryLun {
  readonly medium: Uint8Array;
  readonly blockSize: number;
  readonly blocks: number;
  /** READs touching these LBAs end in MEDIUM ERROR, UNRECOVERED READ ERROR. */
  readonly mediumErrorLbas = new Set<number>();
  readCapacity16Supported = true;
  /** The target port group is in ALUA standby: media access answers NOT READY 04/0B. */
  standby = false;
  /** Every WRITE that reached the medium, by first LBA: no write may arrive twice. */
  readonly writesExecuted: number[] = [];
  readsExecuted = 0;
  mediumErrorsReported = 0;
  private readonly unitAttentions = new Map<string, [number, number]>();
  private readonly knownInitiators = new Set<string>();

  constructor(readonly options: MemoryLunOptions) {
    this.blockSize = options.blockSize ?? 512;
    this.blocks = options.blocks;
    this.medium = new Uint8Array(this.blocks * this.blockSize);
  }

  /** Queues a unit attention for every initiator that has talked to the LUN (a mode change, a reset by someone). */
  raiseUnitAttention(asc: number, ascq: number): void {
    for (const initiator of this.knownInitiators) this.unitAttentions.set(initiator, [asc, ascq]);
  }

  execute(initiator: string, command: ScsiAdapterCommand): TargetResponse {
    const cdb = command.cdb;
    const opcode = cdb[0]!;
    if (!this.knownInitiators.has(initiator)) {
      this.knownInitiators.add(initiator);
      this.unitAttentions.set(initiator, [0x29, 0x00]);
    }
    // SPC-4 5.14: INQUIRY and REPORT LUNS neither report nor clear a unit attention.
    if (opcode !== 0x12 && opcode !== 0xa0) {
      const pending = this.unitAttentions.get(initiator);
      if (pending !== undefined) {
        this.unitAttentions.delete(initiator);
        return check(SenseKey.UNIT_ATTENTION, pending[0], pending[1], command.transferLength);
      }
    }
    switch (opcode) {
      case 0x00:
        return this.standby ? check(SenseKey.NOT_READY, 0x04, 0x0b, 0) : good(0);
      case 0x12:
        return this.inquiry(command);
      case 0x25:
        return this.readCapacity10(command);
      case 0x9e:
        if ((cdb[1]! & 0x1f) !== 0x10 || !this.readCapacity16Supported) return check(SenseKey.ILLEGAL_REQUEST, 0x20, 0x00, command.transferLength);
        return this.readCapacity16(command);
      case 0x28:
        return this.readWrite(command, false, be32(cdb, 2), (cdb[7]! << 8) | cdb[8]!);
      case 0x88:
        return this.readWrite(command, false, be64(cdb, 2), be32(cdb, 10));
      case 0x2a:
        return this.readWrite(command, true, be32(cdb, 2), (cdb[7]! << 8) | cdb[8]!);
      case 0x8a:
        return this.readWrite(command, true, be64(cdb, 2), be32(cdb, 10));
      case 0x35:
        return good(0);
      default:
        return check(SenseKey.ILLEGAL_REQUEST, 0x20, 0x00, command.transferLength);
    }
  }

  private inquiry(command: ScsiAdapterCommand): TargetResponse {
    const cdb = command.cdb;
    const allocation = (cdb[3]! << 8) | cdb[4]!;
    if ((cdb[1]! & 1) === 0) {
      if (cdb[2] !== 0) return check(SenseKey.ILLEGAL_REQUEST, 0x24, 0x00, command.transferLength);
      return respond(command, standardInquiry(this.options), allocation);
    }
    switch (cdb[2]) {
      case 0x00:
        return respond(command, Uint8Array.of(0, 0x00, 0, this.options.naa ? 2 : 1, 0x00, ...(this.options.naa ? [0x83] : [])), allocation);
      case 0x83:
        if (this.options.naa === undefined) return check(SenseKey.ILLEGAL_REQUEST, 0x24, 0x00, command.transferLength);
        return respond(command, deviceIdentificationPage(this.options.naa), allocation);
      default:
        return check(SenseKey.ILLEGAL_REQUEST, 0x24, 0x00, command.transferLength);
    }
  }

  private readCapacity10(command: ScsiAdapterCommand): TargetResponse {
    const data = new Uint8Array(8);
    putBe32(data, 0, Math.min(this.blocks - 1, 0xffffffff));
    putBe32(data, 4, this.blockSize);
    return respond(command, data, 8);
  }

  private readCapacity16(command: ScsiAdapterCommand): TargetResponse {
    const data = new Uint8Array(32);
    const last = this.blocks - 1;
    putBe32(data, 0, Math.floor(last / 0x1_0000_0000));
    putBe32(data, 4, last >>> 0);
    putBe32(data, 8, this.blockSize);
    return respond(command, data, be32(command.cdb, 10));
  }

  private readWrite(command: ScsiAdapterCommand, write: boolean, lba: number, blocks: number): TargetResponse {
    if (this.standby) return check(SenseKey.NOT_READY, 0x04, 0x0b, command.transferLength);
    if (lba + blocks > this.blocks) return check(SenseKey.ILLEGAL_REQUEST, 0x21, 0x00, command.transferLength);
    const bytes = blocks * this.blockSize;
    if (command.transferLength < bytes) return check(SenseKey.ILLEGAL_REQUEST, 0x24, 0x00, command.transferLength);
    if (!write) {
      for (let i = 0; i < blocks; i++) {
        if (this.mediumErrorLbas.has(lba + i)) {
          this.mediumErrorsReported++;
          return check(SenseKey.MEDIUM_ERROR, 0x11, 0x00, command.transferLength);
        }
      }
      this.readsExecuted++;
      scatter(command.data, this.medium.subarray(lba * this.blockSize, lba * this.blockSize + bytes));
    } else {
      this.writesExecuted.push(lba);
      gather(command.data, this.medium.subarray(lba * this.blockSize, lba * this.blockSize + bytes));
    }
    return good(command.transferLength - bytes);
  }
}

export function good(residual: number): TargetResponse {
  return { status: ScsiStatus.GOOD, residual };
}

export function check(key: number, asc: number, ascq: number, residual: number): TargetResponse {
  const sense = new Uint8Array(18);
  sense[0] = 0x70;
  sense[2] = key;
  sense[7] = 10;
  sense[12] = asc;
  sense[13] = ascq;
  return { status: ScsiStatus.CHECK_CONDITION, sense, residual };
}

/** Copies `source` into the command's data-in segments (up to the allocation length) and returns the residual. */
export function respond(command: ScsiAdapterCommand, source: Uint8Array, allocationLength: number): TargetResponse {
  const length = Math.min(source.length, allocationLength, command.transferLength);
  scatter(command.data, source.subarray(0, length));
  return good(command.transferLength - length);
}

function scatter(segments: readonly Uint8Array[], source: Uint8Array): void {
  let offset = 0;
  for (const segment of segments) {
    if (offset >= source.length) break;
    const n = Math.min(segment.length, source.length - offset);
    segment.set(source.subarray(offset, offset + n));
    offset += n;
  }
}

function gather(segments: readonly Uint8Array[], target: Uint8Array): void {
  let offset = 0;
  for (const segment of segments) {
    if (offset >= target.length) break;
    const n = Math.min(segment.length, target.length - offset);
    target.set(segment.subarray(0, n), offset);
    offset += n;
  }
}

function standardInquiry(options: MemoryLunOptions): Uint8Array {
  const data = new Uint8Array(96);
  data[0] = 0x00;
  data[2] = 0x06;
  data[3] = 0x12;
  data[4] = 91;
  data[7] = 0x02;
  putAscii(data, 8, 8, options.vendor ?? "VMK");
  putAscii(data, 16, 16, options.product ?? "Memory LUN");
  putAscii(data, 32, 4, options.revision ?? "1.0");
  return data;
}

function deviceIdentificationPage(naaHex: string): Uint8Array {
  const naa = Uint8Array.from(naaHex.match(/../g)!.map((h) => parseInt(h, 16)));
  // A target port designator first, so the parser has to pick the LU's NAA designator out of several.
  const port = [0x61, 0x93, 0x00, 0x08, 0x50, 0x00, 0x0c, 0x29, 0x00, 0x00, 0x00, 0x01];
  const lu = [0x01, 0x03, 0x00, naa.length, ...naa];
  const body = [...port, ...lu];
  return Uint8Array.of(0x00, 0x83, body.length >> 8, body.length & 0xff, ...body);
}

function putAscii(data: Uint8Array, offset: number, length: number, text: string): void {
  for (let i = 0; i < length; i++) data[offset + i] = i < text.length ? text.charCodeAt(i) : 0x20;
}

/** Peripheral qualifier 3, type 1Fh: nothing at this LUN. */
export function noLogicalUnitInquiry(command: ScsiAdapterCommand): TargetResponse {
  const data = new Uint8Array(36);
  data[0] = 0x7f;
  return respond(command, data, (command.cdb[3]! << 8) | command.cdb[4]!);
}
