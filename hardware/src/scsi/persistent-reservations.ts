import { getBe16, getBe32, putBe16, putBe32 } from "./big-endian.js";
import type { InitiatorId } from "./scsi-command.js";
import { Asc, CheckCondition, SenseKey, type AdditionalSense } from "./sense.js";

/** PERSISTENT RESERVE OUT service actions (SPC-3 6.12.2). */
export const PrOutAction = {
  REGISTER: 0x00,
  RESERVE: 0x01,
  RELEASE: 0x02,
  CLEAR: 0x03,
  PREEMPT: 0x04,
  PREEMPT_AND_ABORT: 0x05,
  REGISTER_AND_IGNORE_EXISTING_KEY: 0x06,
} as const;

/** PERSISTENT RESERVE IN service actions (SPC-3 6.11.1). */
export const PrInAction = {
  READ_KEYS: 0x00,
  READ_RESERVATION: 0x01,
  REPORT_CAPABILITIES: 0x02,
} as const;

/** Persistent reservation types (SPC-3 6.11.3.4). */
export const PrType = {
  WRITE_EXCLUSIVE: 0x1,
  EXCLUSIVE_ACCESS: 0x3,
  WRITE_EXCLUSIVE_REGISTRANTS_ONLY: 0x5,
  EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: 0x6,
  WRITE_EXCLUSIVE_ALL_REGISTRANTS: 0x7,
  EXCLUSIVE_ACCESS_ALL_REGISTRANTS: 0x8,
} as const;
export type PrType = (typeof PrType)[keyof typeof PrType];

const VALID_TYPES = new Set<number>(Object.values(PrType));
const REGISTRANTS_ONLY = new Set<number>([PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY]);
const ALL_REGISTRANTS = new Set<number>([PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS, PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS]);

/** Reservation keys are 8 bytes; held as 16 hex digits so state stays plain JSON. */
export type ReservationKey = string;
const NO_KEY: ReservationKey = "0000000000000000";

export interface PersistentReservationState {
  generation: number;
  /** Registered I_T nexus → its reservation key. */
  registrations: Record<InitiatorId, ReservationKey>;
  reservation: { holder: InitiatorId; type: PrType } | null;
}

/** How a command touches the medium, for deciding conflicts with a reservation it does not hold. */
export type MediumAccess = "read" | "write";

/** Unit attention conditions the reservation rules post to individual nexuses. */
export type PostUnitAttention = (initiator: InitiatorId, condition: AdditionalSense) => void;

/** The PERSISTENT RESERVE OUT outcome that is not a CHECK CONDITION. */
export type PrOutcome = "good" | "conflict";

/** The basic PERSISTENT RESERVE OUT parameter list is 24 bytes (SPC-3 6.12.3). */
const PR_OUT_PARAMETER_LENGTH = 24;

/**
 * SCSI-3 persistent reservations of one logical unit (SPC-3 5.6): registrations per I_T nexus, at most
 * one reservation of LU scope, and the access rules that follow. Keys survive LU resets; the unit
 * does not offer persistence through power loss (PTPL_C is 0).
 */
export class PersistentReservations {
  private generation = 0;
  private readonly registrations = new Map<InitiatorId, ReservationKey>();
  private reservation: { holder: InitiatorId; type: PrType } | null = null;

  constructor(private readonly postUnitAttention: PostUnitAttention) {}

  get hasRegistrations(): boolean {
    return this.registrations.size > 0;
  }

  /** True when a command from `initiator` touching the medium this way must get RESERVATION CONFLICT (SPC-3 table 31). */
  conflicts(initiator: InitiatorId, access: MediumAccess): boolean {
    const reservation = this.reservation;
    if (reservation === null || this.isHolder(initiator)) return false;
    switch (reservation.type) {
      case PrType.WRITE_EXCLUSIVE:
        return access === "write";
      case PrType.EXCLUSIVE_ACCESS:
        return true;
      case PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY:
      case PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS:
        return access === "write" && !this.registrations.has(initiator);
      default:
        return !this.registrations.has(initiator);
    }
  }

  /** PERSISTENT RESERVE IN data for the CDB's service action. */
  reserveIn(cdb: Uint8Array): Uint8Array {
    switch (cdb[1]! & 0x1f) {
      case PrInAction.READ_KEYS: {
        const keys = [...this.registrations.values()];
        const data = new Uint8Array(8 + 8 * keys.length);
        putBe32(data, 0, this.generation);
        putBe32(data, 4, 8 * keys.length);
        keys.forEach((key, i) => data.set(Buffer.from(key, "hex"), 8 + 8 * i));
        return data;
      }
      case PrInAction.READ_RESERVATION: {
        const reservation = this.reservation;
        const data = new Uint8Array(reservation ? 24 : 8);
        putBe32(data, 0, this.generation);
        if (reservation) {
          putBe32(data, 4, 16);
          // All-registrants reservations have no single holder: their key reads as zero.
          const key = ALL_REGISTRANTS.has(reservation.type) ? NO_KEY : this.registrations.get(reservation.holder)!;
          data.set(Buffer.from(key, "hex"), 8);
          data[21] = reservation.type; // SCOPE 0h: logical unit
        }
        return data;
      }
      case PrInAction.REPORT_CAPABILITIES: {
        const data = new Uint8Array(8);
        putBe16(data, 0, 8);
        // CRH, SIP_C, ATP_C and PTPL_C clear. TMV set, ALLOW COMMANDS 001b.
        data[3] = 0x80 | 0x10;
        data[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02; // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX
        data[5] = 0x01; // EX_AC_AR
        return data;
      }
      default:
        throw CheckCondition.invalidCdbField(1, 4);
    }
  }

  /** PERSISTENT RESERVE OUT with its parameter list. */
  reserveOut(initiator: InitiatorId, cdb: Uint8Array, parameters: Uint8Array | undefined): PrOutcome {
    const action = cdb[1]! & 0x1f;
    if (action > PrOutAction.REGISTER_AND_IGNORE_EXISTING_KEY) throw CheckCondition.invalidCdbField(1, 4);
    const listLength = getBe32(cdb, 5);
    if (listLength !== PR_OUT_PARAMETER_LENGTH) throw CheckCondition.illegalRequest(Asc.PARAMETER_LIST_LENGTH_ERROR);
    if (parameters === undefined || parameters.length < PR_OUT_PARAMETER_LENGTH) throw CheckCondition.invalidCdbField(5);
    const key = hexKey(parameters, 0);
    const serviceActionKey = hexKey(parameters, 8);
    // SPEC_I_PT and ALL_TG_PT are not offered (SIP_C, ATP_C clear), nor APTPL (PTPL_C clear).
    if ((parameters[20]! & 0x0d) !== 0) throw CheckCondition.invalidParameterField(20);
    const registered = this.registrations.get(initiator);

    if (action === PrOutAction.REGISTER || action === PrOutAction.REGISTER_AND_IGNORE_EXISTING_KEY) {
      if (action === PrOutAction.REGISTER && (registered ?? NO_KEY) !== key) return "conflict";
      this.register(initiator, registered, serviceActionKey);
      return "good";
    }
    if (registered === undefined || registered !== key) return "conflict";
    const type = cdb[2]! & 0x0f;
    const needsType = action !== PrOutAction.CLEAR;
    if (needsType && (cdb[2]! & 0xf0) !== 0) throw CheckCondition.invalidCdbField(2, 7); // only LU scope
    if (needsType && action !== PrOutAction.RELEASE && !VALID_TYPES.has(type)) throw CheckCondition.invalidCdbField(2, 3);

    switch (action) {
      case PrOutAction.RESERVE:
        if (this.reservation === null) {
          this.reservation = { holder: initiator, type: type as PrType };
          return "good";
        }
        return this.isHolder(initiator) && this.reservation.type === type ? "good" : "conflict";
      case PrOutAction.RELEASE:
        if (this.reservation === null || !this.isHolder(initiator)) return "good";
        if (this.reservation.type !== type) {
          throw new CheckCondition({ key: SenseKey.ILLEGAL_REQUEST, code: Asc.INVALID_RELEASE_OF_PERSISTENT_RESERVATION });
        }
        this.releaseReservation(initiator);
        return "good";
      case PrOutAction.CLEAR:
        for (const other of this.registrations.keys()) if (other !== initiator) this.postUnitAttention(other, Asc.RESERVATIONS_PREEMPTED);
        this.registrations.clear();
        this.reservation = null;
        this.generation = (this.generation + 1) >>> 0;
        return "good";
      default:
        return this.preempt(initiator, serviceActionKey, type as PrType);
    }
  }

  save(): PersistentReservationState {
    return {
      generation: this.generation,
      registrations: Object.fromEntries(this.registrations),
      reservation: this.reservation ? { ...this.reservation } : null,
    };
  }

  restore(state: PersistentReservationState): void {
    this.generation = state.generation;
    this.registrations.clear();
    for (const [initiator, key] of Object.entries(state.registrations)) this.registrations.set(initiator, key);
    this.reservation = state.reservation ? { ...state.reservation } : null;
  }

  /** A power loss: without PTPL everything is forgotten. */
  powerLoss(): void {
    this.registrations.clear();
    this.reservation = null;
    this.generation = 0;
  }

  private isHolder(initiator: InitiatorId): boolean {
    const reservation = this.reservation;
    if (reservation === null) return false;
    return ALL_REGISTRANTS.has(reservation.type) ? this.registrations.has(initiator) : reservation.holder === initiator;
  }

  private register(initiator: InitiatorId, registered: ReservationKey | undefined, newKey: ReservationKey): void {
    if (newKey === NO_KEY) {
      if (registered === undefined) return; // unregistering an unregistered nexus changes nothing
      const holder = this.isHolder(initiator);
      this.registrations.delete(initiator);
      if (holder) this.releaseAfterUnregister(initiator);
    } else {
      this.registrations.set(initiator, newKey);
    }
    this.generation = (this.generation + 1) >>> 0;
  }

  /** The holder leaving drops its reservation; an all-registrants one lasts while any registrant is left. */
  private releaseAfterUnregister(initiator: InitiatorId): void {
    const reservation = this.reservation!;
    if (ALL_REGISTRANTS.has(reservation.type)) {
      if (this.registrations.size === 0) this.reservation = null;
      else if (reservation.holder === initiator) reservation.holder = this.registrations.keys().next().value!;
      return;
    }
    this.reservation = null;
    if (REGISTRANTS_ONLY.has(reservation.type)) {
      for (const other of this.registrations.keys()) this.postUnitAttention(other, Asc.RESERVATIONS_RELEASED);
    }
  }

  private releaseReservation(initiator: InitiatorId): void {
    const type = this.reservation!.type;
    this.reservation = null;
    if (REGISTRANTS_ONLY.has(type) || ALL_REGISTRANTS.has(type)) {
      for (const other of this.registrations.keys()) if (other !== initiator) this.postUnitAttention(other, Asc.RESERVATIONS_RELEASED);
    }
  }

  /** PREEMPT (SPC-3 5.6.10.4): removes the registrations holding `victimKey`, taking over the reservation if it was theirs. */
  private preempt(initiator: InitiatorId, victimKey: ReservationKey, type: PrType): PrOutcome {
    const reservation = this.reservation;
    const takesAllRegistrants = reservation !== null && ALL_REGISTRANTS.has(reservation.type) && victimKey === NO_KEY;
    if (victimKey === NO_KEY && !takesAllRegistrants) throw CheckCondition.invalidParameterField(8);
    const holderKey = reservation && !ALL_REGISTRANTS.has(reservation.type) ? this.registrations.get(reservation.holder) : undefined;
    const takesReservation = takesAllRegistrants || (holderKey !== undefined && holderKey === victimKey);

    const victims = [...this.registrations].filter(([other, otherKey]) => other !== initiator && (takesAllRegistrants || otherKey === victimKey)).map(([other]) => other);
    if (victims.length === 0 && !takesReservation) return "conflict";
    for (const victim of victims) {
      this.registrations.delete(victim);
      this.postUnitAttention(victim, Asc.REGISTRATIONS_PREEMPTED);
    }
    if (takesReservation) this.reservation = { holder: initiator, type };
    this.generation = (this.generation + 1) >>> 0;
    return "good";
  }
}

/** The PERSISTENT RESERVE IN allocation length (bytes 7–8). */
export function persistentReserveInAllocationLength(cdb: Uint8Array): number {
  return getBe16(cdb, 7);
}

function hexKey(bytes: Uint8Array, offset: number): ReservationKey {
  return Buffer.from(bytes.buffer, bytes.byteOffset + offset, 8).toString("hex");
}
