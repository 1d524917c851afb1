import type { Clock } from "@vmk/kernel";
import { getBe16, getBe32, getBe64, putBe32, putBe64 } from "./big-endian.js";
import { decodeReadWrite, decodeTenOrSixteen, forceUnitAccess, rejectProtection, type BlockRange } from "./block-cdb.js";
import { standardInquiry, vpdPage, type BlockLimits, type InquiryProfile } from "./inquiry-data.js";
import { LbaRangeLock, type RangeLease } from "./lba-range-lock.js";
import { formatNaa, resolveIdentity, type LogicalUnitIdentity, type ResolvedIdentity } from "./lu-identity.js";
import { emptyStatistics, LOGICAL_UNIT_STATE_VERSION, type LogicalUnitState, type LogicalUnitStatistics } from "./logical-unit-state.js";
import { LunFaults } from "./lun-faults.js";
import { isOutOfSpace, type LunStore } from "./lun-store.js";
import { modeSense, modeSenseAllocationLength } from "./mode-pages.js";
import { PersistentReservations, persistentReserveInAllocationLength, type MediumAccess } from "./persistent-reservations.js";
import { completeWithData, expectedTransfer } from "./data-in.js";
import { cdbLengthOfOpcode, ScsiOpcode, ServiceActionIn16 } from "./opcodes.js";
import { ScsiStatus, ScsiTaskAbortedError, ScsiTransportError, type InitiatorId, type ScsiCommand, type ScsiCommandTarget, type ScsiResponse } from "./scsi-command.js";
import { Asc, buildFixedSense, CheckCondition, FIXED_SENSE_LENGTH, SenseKey, type AdditionalSense, type SenseDetail } from "./sense.js";
import { UnitAttentions } from "./unit-attentions.js";

export type LogicalBlockSize = 512 | 4096;

export interface LogicalUnitOptions {
  store: LunStore;
  identity: LogicalUnitIdentity;
  /** Bytes per logical block; the store's size must be a multiple of it. */
  blockSize?: LogicalBlockSize;
  /** Needed for delay faults. */
  clock?: Clock;
  limits?: Partial<BlockLimits>;
  /** Medium rotation rate (VPD B1h): 1 is a solid-state medium. */
  rotationRate?: number;
}

const MIB = 1 << 20;

function defaultLimits(blockSize: number): BlockLimits {
  return {
    maxTransferBlocks: (32 * MIB) / blockSize,
    optimalTransferBlocks: MIB / blockSize,
    maxCompareAndWriteBlocks: 1,
    maxUnmapBlocks: (256 * MIB) / blockSize,
    maxUnmapDescriptors: 64,
    maxWriteSameBlocks: (256 * MIB) / blockSize,
  };
}

/** How a command interacts with the logical unit's conditions (SPC-3 5.6, 5.9; SBC-3 4.x). */
interface CommandSpec {
  run(lu: LogicalUnit, command: ScsiCommand): Promise<ScsiResponse> | ScsiResponse;
  /** Runs without reporting or clearing a pending unit attention (INQUIRY, REPORT LUNS, REQUEST SENSE). */
  ignoresUnitAttention?: boolean;
  /** Allowed to every nexus while another holds a SCSI-2 reservation. */
  allowedUnderReservation?: boolean;
  /** Fails with NOT READY while the unit is stopped. */
  needsMedium?: boolean;
  /** How it touches the medium, for persistent reservation conflicts; absent for commands every nexus may issue. */
  access?: MediumAccess;
}

/** VERIFY and WRITE SAME go through the medium in pieces of this size, whatever the command's length. */
const CHUNK_BYTES = MIB;

/**
 * A direct-access logical unit: an SBC-3 device server over a `LunStore`. Commands from any number of
 * I_T nexuses (HBAs, hosts sharing the LU on a SAN) run concurrently; media access is ordered per
 * block range, so reads and writes on disjoint blocks overlap and COMPARE AND WRITE is atomic.
 */
export class LogicalUnit implements ScsiCommandTarget {
  readonly blockSize: LogicalBlockSize;
  readonly identity: ResolvedIdentity;
  readonly limits: BlockLimits;
  readonly faults: LunFaults;
  readonly statistics: LogicalUnitStatistics = emptyStatistics();
  private readonly store: LunStore;
  private readonly profile: InquiryProfile;
  private readonly unitAttentions = new UnitAttentions();
  private readonly media = new LbaRangeLock();
  private capacity: number;
  private started = true;
  private writeCacheEnabled = true;
  private reservationHolder: InitiatorId | null = null;
  private readonly persistent = new PersistentReservations((initiator, condition) => this.unitAttentions.post(initiator, condition));

  constructor(options: LogicalUnitOptions) {
    this.blockSize = options.blockSize ?? 512;
    if (this.blockSize !== 512 && this.blockSize !== 4096) throw new RangeError(`unsupported logical block size ${String(this.blockSize)}`);
    this.store = options.store;
    if (this.store.byteLength % this.blockSize !== 0) {
      throw new RangeError(`store size ${this.store.byteLength} is not a multiple of the ${this.blockSize}-byte block`);
    }
    this.capacity = this.store.byteLength / this.blockSize;
    this.identity = resolveIdentity(options.identity);
    this.limits = { ...defaultLimits(this.blockSize), ...options.limits };
    if (this.limits.maxCompareAndWriteBlocks > 255) throw new RangeError("COMPARE AND WRITE is limited to 255 blocks by its CDB");
    this.profile = { identity: this.identity, limits: this.limits, rotationRate: options.rotationRate ?? 1 };
    this.faults = new LunFaults(options.clock);
  }

  get capacityBlocks(): number {
    return this.capacity;
  }

  /** The NAA designator as hosts name the device ("naa.6000c29…"). */
  get naaName(): string {
    return formatNaa(this.identity.naa);
  }

  get reservedBy(): InitiatorId | null {
    return this.reservationHolder;
  }

  execute(command: ScsiCommand): Promise<ScsiResponse> {
    if (command.signal?.aborted) return Promise.reject(new ScsiTaskAbortedError("abort-task"));
    if (command.dataInBuffer && command.dataInLength !== undefined && command.dataInBuffer.length < command.dataInLength) {
      return Promise.reject(new RangeError(`dataInBuffer holds ${command.dataInBuffer.length} bytes, less than dataInLength ${command.dataInLength}`));
    }
    // A healthy unit hands the command straight on: one async frame less per I/O.
    return this.faults.active ? this.executeUnderFaults(command) : this.run(command);
  }

  private async executeUnderFaults(command: ScsiCommand): Promise<ScsiResponse> {
    const status = await this.faults.admit(command);
    if (status !== undefined) return { status, residual: expectedTransfer(command) };
    const response = await this.run(command);
    // A path lost while the command was at the medium loses its completion too.
    if (this.faults.active && this.faults.pathLost(command.initiator)) throw new ScsiTransportError(command.initiator, "path-lost");
    return response;
  }

  /**
   * LOGICAL UNIT RESET: held commands are aborted, the SCSI-2 reservation is released, every nexus gets
   * a unit attention. Persistent reservations survive, as they are meant to.
   */
  reset(): void {
    this.faults.abortHeld();
    this.reservationHolder = null;
    this.unitAttentions.broadcast(Asc.LOGICAL_UNIT_RESET);
  }

  /** A power cycle: as reset, and the unit forgets every nexus and persistent reservation and comes back started. */
  powerCycle(): void {
    this.faults.abortHeld();
    this.reservationHolder = null;
    this.unitAttentions.powerOn();
    this.persistent.powerLoss();
    this.started = true;
    this.writeCacheEnabled = true;
  }

  /** Grows or shrinks the medium (an array-side LUN resize); every nexus is told CAPACITY DATA HAS CHANGED. */
  async resize(capacityBlocks: number): Promise<void> {
    if (!Number.isSafeInteger(capacityBlocks) || capacityBlocks < 0) throw new RangeError(`invalid capacity ${capacityBlocks}`);
    const lease = this.media.acquire(0, Number.POSITIVE_INFINITY, true);
    if (lease.granted) await lease.granted;
    try {
      await this.store.resize(capacityBlocks * this.blockSize);
      this.capacity = capacityBlocks;
    } finally {
      this.media.release(lease);
    }
    this.unitAttentions.broadcast(Asc.CAPACITY_DATA_HAS_CHANGED);
  }

  save(): LogicalUnitState {
    return {
      version: LOGICAL_UNIT_STATE_VERSION,
      capacityBlocks: this.capacity,
      started: this.started,
      writeCacheEnabled: this.writeCacheEnabled,
      reservationHolder: this.reservationHolder,
      persistentReservations: this.persistent.save(),
      unitAttentions: this.unitAttentions.save(),
      faults: this.faults.save(),
    };
  }

  restore(state: LogicalUnitState): void {
    if (state.version !== LOGICAL_UNIT_STATE_VERSION) throw new Error(`logical unit state version ${String(state.version)} is not ${LOGICAL_UNIT_STATE_VERSION}`);
    if (state.capacityBlocks * this.blockSize !== this.store.byteLength) {
      throw new Error(`saved capacity ${state.capacityBlocks} blocks does not match the store (${this.store.byteLength / this.blockSize} blocks)`);
    }
    this.capacity = state.capacityBlocks;
    this.started = state.started;
    this.writeCacheEnabled = state.writeCacheEnabled;
    this.reservationHolder = state.reservationHolder;
    this.persistent.restore(state.persistentReservations);
    this.unitAttentions.restore(state.unitAttentions);
    this.faults.restore(state.faults);
  }

  async close(): Promise<void> {
    this.faults.abortHeld();
    await this.store.close();
  }

  private async run(command: ScsiCommand): Promise<ScsiResponse> {
    const cdb = command.cdb;
    this.statistics.commands++;
    try {
      if (cdb.length === 0) throw CheckCondition.illegalRequest(Asc.INVALID_COMMAND_OPERATION_CODE);
      const opcode = cdb[0]!;
      const spec = LogicalUnit.commandTable[opcode];
      if (spec?.ignoresUnitAttention !== true) {
        const attention = this.unitAttentions.take(command.initiator);
        if (attention !== undefined) throw new CheckCondition({ key: SenseKey.UNIT_ATTENTION, code: attention });
      }
      if (this.reservationHolder !== null && this.reservationHolder !== command.initiator && spec?.allowedUnderReservation !== true) {
        this.statistics.reservationConflicts++;
        return { status: ScsiStatus.RESERVATION_CONFLICT, residual: expectedTransfer(command) };
      }
      if (spec?.access !== undefined && this.persistent.conflicts(command.initiator, spec.access)) {
        this.statistics.reservationConflicts++;
        return { status: ScsiStatus.RESERVATION_CONFLICT, residual: expectedTransfer(command) };
      }
      if (spec === undefined) throw CheckCondition.illegalRequest(Asc.INVALID_COMMAND_OPERATION_CODE, { inCdb: true, byte: 0 });
      const length = cdbLengthOfOpcode(opcode);
      if (cdb.length < length) throw CheckCondition.invalidCdbField(0);
      // NACA (CONTROL byte bit 2) asks for ACA handling, which this unit does not offer (NormACA is 0).
      if ((cdb[length - 1]! & 0x04) !== 0) throw CheckCondition.invalidCdbField(length - 1, 2);
      if (spec.needsMedium === true && !this.started) {
        throw new CheckCondition({ key: SenseKey.NOT_READY, code: Asc.NOT_READY_INITIALIZING_COMMAND_REQUIRED });
      }
      return await spec.run(this, command);
    } catch (error) {
      if (!(error instanceof CheckCondition)) throw error;
      this.statistics.checkConditions++;
      return { status: ScsiStatus.CHECK_CONDITION, sense: buildFixedSense(error.detail), residual: expectedTransfer(command) };
    }
  }

  // ---- media access -------------------------------------------------------------------------------

  private async read(command: ScsiCommand): Promise<ScsiResponse> {
    const cdb = command.cdb;
    if (cdb[0] !== ScsiOpcode.READ_6) rejectProtection(cdb);
    const range = decodeReadWrite(cdb);
    this.checkTransfer(range);
    this.statistics.readCommands++;
    const bytes = range.blocks * this.blockSize;
    const expected = command.dataInLength ?? command.dataInBuffer?.length;
    // Straight into the initiator's buffer when it is big enough, which is every well-formed command.
    const fits = expected === undefined || expected >= bytes;
    const given = command.dataInBuffer;
    const target = fits && given ? (given.length === bytes ? given : given.subarray(0, bytes)) : new Uint8Array(bytes);
    if (range.blocks > 0) {
      this.injectedMediumError(command.initiator, range.lba, range.blocks, "read");
      const lease = this.media.acquire(range.lba, range.lba + range.blocks, false);
      if (lease.granted) await lease.granted;
      try {
        await this.store.read(target, range.lba * this.blockSize);
      } catch {
        throw this.mediumError(Asc.UNRECOVERED_READ_ERROR, range.lba);
      } finally {
        this.media.release(lease);
      }
      this.statistics.blocksRead += range.blocks;
    }
    if (fits) return { status: ScsiStatus.GOOD, dataIn: target, residual: expected === undefined ? 0 : expected - bytes };
    return completeWithData(command, target, bytes);
  }

  private async write(command: ScsiCommand): Promise<ScsiResponse> {
    const cdb = command.cdb;
    if (cdb[0] !== ScsiOpcode.WRITE_6) rejectProtection(cdb);
    const range = decodeReadWrite(cdb);
    this.checkTransfer(range);
    this.statistics.writeCommands++;
    const bytes = range.blocks * this.blockSize;
    const source = this.dataOutOf(command, bytes, range.lengthField);
    if (range.blocks > 0) {
      this.injectedMediumError(command.initiator, range.lba, range.blocks, "write");
      const lease = this.media.acquire(range.lba, range.lba + range.blocks, true);
      if (lease.granted) await lease.granted;
      try {
        await this.writeBlocks(source, range.lba);
      } finally {
        this.media.release(lease);
      }
      if (forceUnitAccess(cdb) || !this.writeCacheEnabled) await this.flushOrFail(range.lba);
      this.statistics.blocksWritten += range.blocks;
    }
    return { status: ScsiStatus.GOOD, residual: (command.dataOut?.length ?? 0) - bytes };
  }

  /** COMPARE AND WRITE (SBC-3 5.2): the VMFS atomic test-and-set. */
  private async compareAndWrite(command: ScsiCommand): Promise<ScsiResponse> {
    const cdb = command.cdb;
    rejectProtection(cdb);
    const lba = getBe64(cdb, 2);
    const blocks = cdb[13]!;
    if (blocks > this.limits.maxCompareAndWriteBlocks) throw CheckCondition.invalidCdbField(13);
    this.checkRange(lba, blocks);
    const half = blocks * this.blockSize;
    const data = this.dataOutOf(command, 2 * half, 13);
    if (blocks === 0) return { status: ScsiStatus.GOOD, residual: command.dataOut?.length ?? 0 };
    this.injectedMediumError(command.initiator, lba, blocks, "read");
    const current = new Uint8Array(half);
    const lease = this.media.acquire(lba, lba + blocks, true);
    if (lease.granted) await lease.granted;
    try {
      try {
        await this.store.read(current, lba * this.blockSize);
      } catch {
        throw this.mediumError(Asc.UNRECOVERED_READ_ERROR, lba);
      }
      const offset = firstDifference(current, data.subarray(0, half));
      if (offset >= 0) {
        this.statistics.compareAndWriteMiscompares++;
        throw new CheckCondition({ key: SenseKey.MISCOMPARE, code: Asc.MISCOMPARE_DURING_VERIFY, information: offset });
      }
      this.injectedMediumError(command.initiator, lba, blocks, "write");
      await this.writeBlocks(data.subarray(half), lba);
    } finally {
      this.media.release(lease);
    }
    if (forceUnitAccess(cdb) || !this.writeCacheEnabled) await this.flushOrFail(lba);
    this.statistics.blocksWritten += blocks;
    return { status: ScsiStatus.GOOD, residual: (command.dataOut?.length ?? 0) - 2 * half };
  }

  /** VERIFY (10, 16), SBC-3 5.33: BYTCHK 00b checks the medium reads, 01b compares data-out, 11b compares one block against each. */
  private async verify(command: ScsiCommand): Promise<ScsiResponse> {
    const cdb = command.cdb;
    rejectProtection(cdb);
    const byteCheck = (cdb[1]! >> 1) & 0x3;
    if (byteCheck === 0b10) throw CheckCondition.invalidCdbField(1, 2);
    const range = decodeTenOrSixteen(cdb);
    this.checkTransfer(range);
    const bytes = range.blocks * this.blockSize;
    const expectedOut = byteCheck === 0b01 ? bytes : byteCheck === 0b11 ? this.blockSize : 0;
    const compareWith = expectedOut > 0 ? this.dataOutOf(command, expectedOut, range.lengthField) : undefined;
    if (range.blocks === 0) return { status: ScsiStatus.GOOD, residual: command.dataOut?.length ?? 0 };
    this.injectedMediumError(command.initiator, range.lba, range.blocks, "read");
    const lease = this.media.acquire(range.lba, range.lba + range.blocks, false);
    if (lease.granted) await lease.granted;
    try {
      const chunkBlocks = Math.max(1, Math.floor(CHUNK_BYTES / this.blockSize));
      const chunk = new Uint8Array(Math.min(range.blocks, chunkBlocks) * this.blockSize);
      for (let done = 0; done < range.blocks; done += chunkBlocks) {
        const count = Math.min(chunkBlocks, range.blocks - done);
        const piece = chunk.subarray(0, count * this.blockSize);
        try {
          await this.store.read(piece, (range.lba + done) * this.blockSize);
        } catch {
          throw this.mediumError(Asc.UNRECOVERED_READ_ERROR, range.lba + done);
        }
        if (compareWith === undefined) continue;
        for (let block = 0; block < count; block++) {
          const actual = piece.subarray(block * this.blockSize, (block + 1) * this.blockSize);
          const offsetInData = byteCheck === 0b01 ? (done + block) * this.blockSize : 0;
          const difference = firstDifference(actual, compareWith.subarray(offsetInData, offsetInData + this.blockSize));
          if (difference >= 0) {
            throw new CheckCondition({ key: SenseKey.MISCOMPARE, code: Asc.MISCOMPARE_DURING_VERIFY, information: (done + block) * this.blockSize + difference });
          }
        }
      }
    } finally {
      this.media.release(lease);
    }
    return { status: ScsiStatus.GOOD, residual: (command.dataOut?.length ?? 0) - expectedOut };
  }

  /** SYNCHRONIZE CACHE (10, 16): the whole store is made durable whatever the range; IMMED returns before it is. */
  private async synchronizeCache(command: ScsiCommand): Promise<ScsiResponse> {
    const range = decodeTenOrSixteen(command.cdb);
    this.checkRange(range.lba, range.blocks);
    const flushed = this.flushOrFail(range.lba);
    if ((command.cdb[1]! & 0x02) !== 0) {
      flushed.catch(() => undefined);
      return { status: ScsiStatus.GOOD, residual: 0 };
    }
    await flushed;
    return { status: ScsiStatus.GOOD, residual: 0 };
  }

  /** UNMAP (SBC-3 5.28): the blocks are discarded and read back as zeros. */
  private async unmap(command: ScsiCommand): Promise<ScsiResponse> {
    const cdb = command.cdb;
    if (this.limits.maxUnmapBlocks === 0) throw CheckCondition.illegalRequest(Asc.INVALID_COMMAND_OPERATION_CODE, { inCdb: true, byte: 0 });
    if ((cdb[1]! & 0x01) !== 0) throw CheckCondition.invalidCdbField(1, 0); // ANCHOR: anchored blocks are not offered
    const listLength = getBe16(cdb, 7);
    if (listLength === 0) return { status: ScsiStatus.GOOD, residual: command.dataOut?.length ?? 0 };
    if (listLength < 8) throw CheckCondition.illegalRequest(Asc.PARAMETER_LIST_LENGTH_ERROR);
    const list = this.dataOutOf(command, listLength, 7);
    const descriptorBytes = Math.min(getBe16(list, 2), listLength - 8);
    const count = Math.floor(descriptorBytes / 16);
    if (count > this.limits.maxUnmapDescriptors) throw CheckCondition.invalidParameterField(2);
    const extents: Array<{ lba: number; blocks: number }> = [];
    let total = 0;
    let spanStart = Number.POSITIVE_INFINITY;
    let spanEnd = 0;
    for (let i = 0; i < count; i++) {
      const at = 8 + 16 * i;
      const lba = getBe64(list, at);
      const blocks = getBe32(list, at + 8);
      if (blocks === 0) continue;
      this.checkRange(lba, blocks);
      total += blocks;
      if (total > this.limits.maxUnmapBlocks) throw CheckCondition.invalidParameterField(at + 8);
      extents.push({ lba, blocks });
      spanStart = Math.min(spanStart, lba);
      spanEnd = Math.max(spanEnd, lba + blocks);
    }
    if (extents.length > 0) {
      const lease = this.media.acquire(spanStart, spanEnd, true);
      if (lease.granted) await lease.granted;
      try {
        for (const extent of extents) {
          try {
            await this.store.discard(extent.lba * this.blockSize, extent.blocks * this.blockSize);
          } catch {
            throw this.mediumError(Asc.WRITE_ERROR, extent.lba);
          }
        }
      } finally {
        this.media.release(lease);
      }
    }
    return { status: ScsiStatus.GOOD, residual: (command.dataOut?.length ?? 0) - listLength };
  }

  /**
   * WRITE SAME (10, 16), SBC-3 5.40: one block of data-out repeated over the range. With UNMAP and a
   * zero block the range is discarded instead (how hosts zero or reclaim space without sending it).
   */
  private async writeSame(command: ScsiCommand): Promise<ScsiResponse> {
    const cdb = command.cdb;
    if (this.limits.maxWriteSameBlocks === 0) throw CheckCondition.illegalRequest(Asc.INVALID_COMMAND_OPERATION_CODE, { inCdb: true, byte: 0 });
    rejectProtection(cdb);
    if ((cdb[1]! & 0x10) !== 0) throw CheckCondition.invalidCdbField(1, 4); // ANCHOR
    const unmapRequested = (cdb[1]! & 0x08) !== 0;
    const noDataOut = cdb[0] === ScsiOpcode.WRITE_SAME_16 && (cdb[1]! & 0x01) !== 0; // NDOB: a block of zeros
    if (unmapRequested && this.limits.maxUnmapBlocks === 0) throw CheckCondition.invalidCdbField(1, 3);
    const range = decodeTenOrSixteen(cdb);
    // WSNZ is 0: a NUMBER OF LOGICAL BLOCKS of 0 means through the last block.
    const blocks = range.blocks === 0 && range.lba < this.capacity ? this.capacity - range.lba : range.blocks;
    if (blocks > this.limits.maxWriteSameBlocks) throw CheckCondition.invalidCdbField(range.lengthField);
    this.checkRange(range.lba, blocks);
    const block = noDataOut ? new Uint8Array(this.blockSize) : this.dataOutOf(command, this.blockSize, range.lengthField);
    const residual = (command.dataOut?.length ?? 0) - (noDataOut ? 0 : this.blockSize);
    if (blocks === 0) return { status: ScsiStatus.GOOD, residual };
    this.injectedMediumError(command.initiator, range.lba, blocks, "write");
    const discard = unmapRequested && block.every((byte) => byte === 0);
    const lease = this.media.acquire(range.lba, range.lba + blocks, true);
    if (lease.granted) await lease.granted;
    try {
      if (discard) {
        try {
          await this.store.discard(range.lba * this.blockSize, blocks * this.blockSize);
        } catch {
          throw this.mediumError(Asc.WRITE_ERROR, range.lba);
        }
      } else {
        const chunkBlocks = Math.min(blocks, Math.max(1, Math.floor(CHUNK_BYTES / this.blockSize)));
        const chunk = new Uint8Array(chunkBlocks * this.blockSize);
        for (let i = 0; i < chunkBlocks; i++) chunk.set(block, i * this.blockSize);
        for (let done = 0; done < blocks; done += chunkBlocks) {
          const count = Math.min(chunkBlocks, blocks - done);
          await this.writeBlocks(chunk.subarray(0, count * this.blockSize), range.lba + done);
        }
      }
    } finally {
      this.media.release(lease);
    }
    if (!this.writeCacheEnabled) await this.flushOrFail(range.lba);
    this.statistics.blocksWritten += blocks;
    return { status: ScsiStatus.GOOD, residual };
  }

  // ---- device state -------------------------------------------------------------------------------

  private testUnitReady(): ScsiResponse {
    return { status: ScsiStatus.GOOD, residual: 0 };
  }

  private startStopUnit(command: ScsiCommand): ScsiResponse {
    const cdb = command.cdb;
    // A POWER CONDITION other than 0 asks for a power state; there are none to enter, and START is then ignored.
    if (cdb[4]! >> 4 === 0) this.started = (cdb[4]! & 0x01) !== 0;
    return { status: ScsiStatus.GOOD, residual: 0 };
  }

  private reserve(command: ScsiCommand): ScsiResponse {
    // Third-party and extent reservations (byte 1) are not offered; a conflicting holder was turned away already.
    if ((command.cdb[1]! & 0x1f) !== 0) throw CheckCondition.invalidCdbField(1);
    // Without compatible reservation handling (CRH 0), SCSI-2 reservations conflict once anyone has registered.
    if (this.persistent.hasRegistrations) return { status: ScsiStatus.RESERVATION_CONFLICT, residual: expectedTransfer(command) };
    this.reservationHolder = command.initiator;
    return { status: ScsiStatus.GOOD, residual: expectedTransfer(command) };
  }

  /** RELEASE from a nexus that does not hold the reservation succeeds and changes nothing (SPC-2 7.17). */
  private release(command: ScsiCommand): ScsiResponse {
    if ((command.cdb[1]! & 0x1f) !== 0) throw CheckCondition.invalidCdbField(1);
    if (this.persistent.hasRegistrations) return { status: ScsiStatus.RESERVATION_CONFLICT, residual: expectedTransfer(command) };
    if (this.reservationHolder === command.initiator) this.reservationHolder = null;
    return { status: ScsiStatus.GOOD, residual: expectedTransfer(command) };
  }

  private persistentReserveIn(command: ScsiCommand): ScsiResponse {
    return completeWithData(command, this.persistent.reserveIn(command.cdb), persistentReserveInAllocationLength(command.cdb));
  }

  private persistentReserveOut(command: ScsiCommand): ScsiResponse {
    const outcome = this.persistent.reserveOut(command.initiator, command.cdb, command.dataOut);
    const status = outcome === "good" ? ScsiStatus.GOOD : ScsiStatus.RESERVATION_CONFLICT;
    return { status, residual: (command.dataOut?.length ?? 0) - (outcome === "good" ? 24 : 0) };
  }

  // ---- data-in commands ---------------------------------------------------------------------------

  private inquiry(command: ScsiCommand): ScsiResponse {
    const cdb = command.cdb;
    if ((cdb[1]! & 0x02) !== 0) throw CheckCondition.invalidCdbField(1, 1); // CMDDT is obsolete
    const allocation = getBe16(cdb, 3);
    if ((cdb[1]! & 0x01) === 0) {
      if (cdb[2] !== 0) throw CheckCondition.invalidCdbField(2);
      return completeWithData(command, standardInquiry(this.profile), allocation);
    }
    const page = vpdPage(this.profile, cdb[2]!);
    if (page === undefined) throw CheckCondition.invalidCdbField(2);
    return completeWithData(command, page, allocation);
  }

  private readCapacity10(command: ScsiCommand): ScsiResponse {
    const cdb = command.cdb;
    if ((cdb[8]! & 0x01) === 0 && getBe32(cdb, 2) !== 0) throw CheckCondition.invalidCdbField(2);
    const data = new Uint8Array(8);
    // A capacity beyond 32 bits reads as FFFFFFFFh, telling the host to use READ CAPACITY(16).
    putBe32(data, 0, Math.min(this.capacity - 1, 0xffffffff) >>> 0);
    putBe32(data, 4, this.blockSize);
    return completeWithData(command, data, data.length);
  }

  private serviceActionIn16(command: ScsiCommand): ScsiResponse {
    const cdb = command.cdb;
    if ((cdb[1]! & 0x1f) !== ServiceActionIn16.READ_CAPACITY_16) throw CheckCondition.invalidCdbField(1, 4);
    const data = new Uint8Array(32);
    putBe64(data, 0, this.capacity - 1);
    putBe32(data, 8, this.blockSize);
    if (this.limits.maxUnmapBlocks > 0) data[14] = 0x80 | 0x40; // LBPME, LBPRZ
    return completeWithData(command, data, getBe32(cdb, 10));
  }

  private modeSense(command: ScsiCommand): ScsiResponse {
    const data = modeSense(command.cdb, { writeCacheEnabled: this.writeCacheEnabled, capacityBlocks: this.capacity, blockSize: this.blockSize });
    return completeWithData(command, data, modeSenseAllocationLength(command.cdb));
  }

  /** REQUEST SENSE (SPC-3 6.27): reports, and so clears, a pending unit attention; otherwise the unit's readiness. */
  private requestSense(command: ScsiCommand): ScsiResponse {
    const cdb = command.cdb;
    if ((cdb[1]! & 0x01) !== 0) throw CheckCondition.invalidCdbField(1, 0); // DESC: only fixed-format sense
    const attention = this.unitAttentions.take(command.initiator);
    let detail: SenseDetail;
    if (attention !== undefined) detail = { key: SenseKey.UNIT_ATTENTION, code: attention };
    else if (!this.started) detail = { key: SenseKey.NOT_READY, code: Asc.NOT_READY_INITIALIZING_COMMAND_REQUIRED };
    else detail = { key: SenseKey.NO_SENSE, code: Asc.NO_ADDITIONAL_SENSE };
    return completeWithData(command, buildFixedSense(detail), Math.min(cdb[4]!, FIXED_SENSE_LENGTH));
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private checkRange(lba: number, blocks: number): void {
    if (lba >= this.capacity || blocks > this.capacity - lba) throw CheckCondition.lbaOutOfRange();
  }

  private checkTransfer(range: BlockRange): void {
    if (range.blocks > this.limits.maxTransferBlocks) throw CheckCondition.invalidCdbField(range.lengthField);
    this.checkRange(range.lba, range.blocks);
  }

  /**
   * The data-out the command needs. An initiator offering less than the CDB asks for is rejected
   * before anything is written, as Linux's target core does.
   */
  private dataOutOf(command: ScsiCommand, bytes: number, lengthField: number): Uint8Array {
    const dataOut = command.dataOut;
    if (bytes === 0) return dataOut?.subarray(0, 0) ?? new Uint8Array(0);
    if (dataOut === undefined || dataOut.length < bytes) throw CheckCondition.invalidCdbField(lengthField);
    return dataOut.length === bytes ? dataOut : dataOut.subarray(0, bytes);
  }

  private injectedMediumError(initiator: InitiatorId, lba: number, blocks: number, access: "read" | "write"): void {
    if (!this.faults.active) return;
    const bad = this.faults.firstBadBlock(initiator, lba, blocks, access);
    if (bad >= 0) throw this.mediumError(access === "read" ? Asc.UNRECOVERED_READ_ERROR : Asc.WRITE_ERROR, bad);
  }

  private mediumError(code: AdditionalSense, lba: number): CheckCondition {
    this.statistics.mediumErrors++;
    return new CheckCondition({ key: SenseKey.MEDIUM_ERROR, code, information: lba });
  }

  private async writeBlocks(source: Uint8Array, lba: number): Promise<void> {
    try {
      await this.store.write(source, lba * this.blockSize);
    } catch (error) {
      if (isOutOfSpace(error)) throw new CheckCondition({ key: SenseKey.DATA_PROTECT, code: Asc.SPACE_ALLOCATION_FAILED_WRITE_PROTECT, information: lba });
      throw this.mediumError(Asc.WRITE_ERROR, lba);
    }
  }

  private async flushOrFail(lba: number): Promise<void> {
    try {
      await this.store.flush();
    } catch {
      throw this.mediumError(Asc.WRITE_ERROR, lba);
    }
  }

  /** Opcode → handler and conditions; undefined entries are INVALID COMMAND OPERATION CODE. */
  private static readonly commandTable: ReadonlyArray<CommandSpec | undefined> = (() => {
    const table: Array<CommandSpec | undefined> = new Array<CommandSpec | undefined>(256).fill(undefined);
    const define = (opcodes: number[], spec: CommandSpec): void => {
      for (const opcode of opcodes) table[opcode] = spec;
    };
    const O = ScsiOpcode;
    define([O.TEST_UNIT_READY], { run: (lu) => lu.testUnitReady(), needsMedium: true });
    define([O.REQUEST_SENSE], { run: (lu, c) => lu.requestSense(c), ignoresUnitAttention: true, allowedUnderReservation: true });
    define([O.INQUIRY], { run: (lu, c) => lu.inquiry(c), ignoresUnitAttention: true, allowedUnderReservation: true });
    define([O.READ_6, O.READ_10, O.READ_12, O.READ_16], { run: (lu, c) => lu.read(c), needsMedium: true, access: "read" });
    define([O.WRITE_6, O.WRITE_10, O.WRITE_12, O.WRITE_16], { run: (lu, c) => lu.write(c), needsMedium: true, access: "write" });
    define([O.COMPARE_AND_WRITE], { run: (lu, c) => lu.compareAndWrite(c), needsMedium: true, access: "write" });
    define([O.VERIFY_10, O.VERIFY_16], { run: (lu, c) => lu.verify(c), needsMedium: true, access: "read" });
    define([O.SYNCHRONIZE_CACHE_10, O.SYNCHRONIZE_CACHE_16], { run: (lu, c) => lu.synchronizeCache(c), needsMedium: true, access: "write" });
    define([O.WRITE_SAME_10, O.WRITE_SAME_16], { run: (lu, c) => lu.writeSame(c), needsMedium: true, access: "write" });
    define([O.UNMAP], { run: (lu, c) => lu.unmap(c), needsMedium: true, access: "write" });
    define([O.READ_CAPACITY_10], { run: (lu, c) => lu.readCapacity10(c), needsMedium: true });
    define([O.SERVICE_ACTION_IN_16], { run: (lu, c) => lu.serviceActionIn16(c), needsMedium: true });
    define([O.MODE_SENSE_6, O.MODE_SENSE_10], { run: (lu, c) => lu.modeSense(c) });
    define([O.START_STOP_UNIT], { run: (lu, c) => lu.startStopUnit(c), access: "write" });
    define([O.RESERVE_6, O.RESERVE_10], { run: (lu, c) => lu.reserve(c) });
    define([O.PERSISTENT_RESERVE_IN], { run: (lu, c) => lu.persistentReserveIn(c) });
    define([O.PERSISTENT_RESERVE_OUT], { run: (lu, c) => lu.persistentReserveOut(c) });
    define([O.RELEASE_6, O.RELEASE_10], { run: (lu, c) => lu.release(c), allowedUnderReservation: true });
    return table;
  })();
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
