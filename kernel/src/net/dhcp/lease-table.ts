import type { Nanoseconds } from "../../clock/clock.js";
import { formatIpv4 } from "../packets/ipv4-address.js";
import type { DhcpPool } from "./dhcp-settings.js";

export type LeaseState = "offered" | "bound" | "released" | "expired";

/** One client's claim on one address. A client is known by its client identifier, else by its MAC. */
export interface LeaseRecord {
  key: string;
  mac: string;
  clientId: string | undefined;
  ip: number;
  state: "offered" | "bound" | "released";
  /** Offer hold or lease end on the host clock. */
  expiresAt: Nanoseconds;
  /** When the lease was last granted or renewed. */
  boundAt: Nanoseconds | undefined;
  /** Option 12 as the client sent it. */
  clientHostName: string | undefined;
  /** The Ethernet source of the DISCOVER that got the last offer (chaddr is the client's claim, this is the port's). */
  offeredVia: string | undefined;
}

export interface LeaseView {
  ipAddress: string;
  mac: string;
  clientId?: string;
  hostName?: string;
  state: LeaseState;
  /** Seconds left of the lease or of the offer; 0 once expired or released. */
  remainingS: number;
}

/**
 * Leases of one pool. At most one record per address, so however many client identities a hostile
 * guest invents, the table never outgrows its range. Expiry is evaluated against the clock when the
 * table is consulted; nothing needs a timer.
 */
export class LeaseTable {
  private readonly byKey = new Map<string, LeaseRecord>();
  private readonly byIp = new Map<number, LeaseRecord>();
  /** Addresses a client reported in use by someone else (DHCPDECLINE), unusable until the time given. */
  private readonly declined = new Map<number, Nanoseconds>();
  private readonly reservedByMac = new Map<string, number>();
  private readonly reservedIps = new Map<number, string>();

  constructor(private readonly pool: DhcpPool) {
    for (const r of pool.reservations) {
      this.reservedByMac.set(r.mac, r.ip);
      this.reservedIps.set(r.ip, r.mac);
    }
  }

  get(key: string): LeaseRecord | undefined {
    return this.byKey.get(key);
  }

  reservationFor(mac: string): number | undefined {
    return this.reservedByMac.get(mac);
  }

  /** The address to offer this client, or undefined when the pool is exhausted. */
  choose(key: string, mac: string, requested: number | undefined, now: Nanoseconds): number | undefined {
    const reserved = this.reservedByMac.get(mac);
    if (reserved !== undefined) return this.usableBy(reserved, key, mac, now) ? reserved : undefined;
    const previous = this.byKey.get(key)?.ip;
    if (previous !== undefined && this.usableBy(previous, key, mac, now)) return previous;
    if (requested !== undefined && this.usableBy(requested, key, mac, now)) return requested;
    const { rangeStart, rangeEnd } = this.pool;
    for (let ip = rangeStart; ip <= rangeEnd; ip++) if (!this.byIp.has(ip) && this.usableBy(ip, key, mac, now)) return ip;
    // Every address has been handed out once: take back the one whose last holder let go longest ago.
    let oldest: LeaseRecord | undefined;
    for (const record of this.byIp.values()) {
      if (this.isActive(record, now) || !this.usableBy(record.ip, key, mac, now)) continue;
      if (oldest === undefined || record.expiresAt < oldest.expiresAt) oldest = record;
    }
    return oldest?.ip;
  }

  /**
   * Whether this client may hold `ip`: in the range (or reserved for it), not the server's or the
   * router's, not declined, not reserved for another MAC, not held by another client.
   */
  usableBy(ip: number, key: string, mac: string, now: Nanoseconds): boolean {
    const pool = this.pool;
    const reservedFor = this.reservedIps.get(ip);
    if (reservedFor !== undefined && reservedFor !== mac) return false;
    const ownReservation = this.reservedByMac.get(mac);
    if (ownReservation !== undefined && ownReservation !== ip) return false;
    if (reservedFor === undefined && (ip < pool.rangeStart || ip > pool.rangeEnd)) return false;
    if (ip === pool.serverAddress || ip === pool.router) return false;
    const declinedUntil = this.declined.get(ip);
    if (declinedUntil !== undefined) {
      if (now < declinedUntil) return false;
      this.declined.delete(ip);
    }
    const holder = this.byIp.get(ip);
    return holder === undefined || holder.key === key || !this.isActive(holder, now);
  }

  offer(key: string, mac: string, clientId: string | undefined, ip: number, holdUntil: Nanoseconds, clientHostName: string | undefined, via: string): LeaseRecord {
    const record = this.assign(key, mac, clientId, ip, clientHostName);
    record.offeredVia = via;
    // Offering to a client already bound to this address must not shorten its lease.
    if (!(record.state === "bound" && record.expiresAt > holdUntil)) {
      record.state = "offered";
      record.expiresAt = holdUntil;
    }
    return record;
  }

  bind(key: string, mac: string, clientId: string | undefined, ip: number, now: Nanoseconds, leaseEnd: Nanoseconds, clientHostName: string | undefined): LeaseRecord {
    const record = this.assign(key, mac, clientId, ip, clientHostName);
    record.state = "bound";
    record.boundAt = now;
    record.expiresAt = leaseEnd;
    return record;
  }

  /** Offers still held for DISCOVERs that came from this Ethernet source. */
  pendingOffersVia(via: string, now: Nanoseconds): number {
    let count = 0;
    for (const record of this.byIp.values()) if (record.state === "offered" && record.offeredVia === via && now < record.expiresAt) count++;
    return count;
  }

  /** The client chose another server: its offer is withdrawn (an existing binding stays). */
  withdrawOffer(key: string, now: Nanoseconds): boolean {
    const record = this.byKey.get(key);
    if (record?.state !== "offered") return false;
    record.expiresAt = Math.min(record.expiresAt, now);
    return true;
  }

  release(key: string, ip: number, now: Nanoseconds): boolean {
    const record = this.byKey.get(key);
    if (record === undefined || record.ip !== ip || record.state !== "bound") return false;
    record.state = "released";
    record.expiresAt = now;
    return true;
  }

  /** The client found `ip` in use: nobody gets it until `until`, and the client's claim is dropped. */
  decline(key: string, ip: number, until: Nanoseconds): boolean {
    const record = this.byKey.get(key);
    if (record === undefined || record.ip !== ip) return false;
    this.forget(record);
    this.declined.set(ip, until);
    return true;
  }

  isActive(record: LeaseRecord, now: Nanoseconds): boolean {
    return record.state !== "released" && now < record.expiresAt;
  }

  stateOf(record: LeaseRecord, now: Nanoseconds): LeaseState {
    if (record.state === "released") return "released";
    return now < record.expiresAt ? record.state : "expired";
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Leases and offers by address. */
  list(now: Nanoseconds, hostNameOf: (record: LeaseRecord) => string | undefined): LeaseView[] {
    return [...this.byIp.values()]
      .sort((a, b) => a.ip - b.ip)
      .map((record) => {
        const state = this.stateOf(record, now);
        const hostName = hostNameOf(record);
        return {
          ipAddress: formatIpv4(record.ip),
          mac: record.mac,
          ...(record.clientId !== undefined ? { clientId: record.clientId } : {}),
          ...(hostName !== undefined ? { hostName } : {}),
          state,
          remainingS: state === "offered" || state === "bound" ? Math.ceil((record.expiresAt - now) / 1e9) : 0,
        };
      });
  }

  private assign(key: string, mac: string, clientId: string | undefined, ip: number, clientHostName: string | undefined): LeaseRecord {
    let record = this.byKey.get(key);
    const previousHolder = this.byIp.get(ip);
    // The address's last holder (whose claim has lapsed, or usableBy would have refused) forgets it.
    if (previousHolder !== undefined && previousHolder !== record) this.forget(previousHolder);
    if (record === undefined) {
      record = { key, mac, clientId, ip, state: "offered", expiresAt: 0, boundAt: undefined, clientHostName, offeredVia: undefined };
      this.byKey.set(key, record);
    } else if (record.ip !== ip) {
      if (this.byIp.get(record.ip) === record) this.byIp.delete(record.ip);
      record.ip = ip;
    }
    record.mac = mac;
    record.clientId = clientId;
    if (clientHostName !== undefined) record.clientHostName = clientHostName;
    this.byIp.set(ip, record);
    return record;
  }

  private forget(record: LeaseRecord): void {
    this.byKey.delete(record.key);
    if (this.byIp.get(record.ip) === record) this.byIp.delete(record.ip);
  }
}
