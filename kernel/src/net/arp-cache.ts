import type { Clock, Nanoseconds } from "../clock/clock.js";
import { copyMac } from "./packets/mac-address.js";

/** ESX's default ARP entry timeout (esxcli network ip neighbor: 1200 s). */
export const ARP_ENTRY_TIMEOUT_NS = 1200e9;

export interface ArpCacheEntry {
  ip: number;
  mac: Uint8Array;
  updatedAt: Nanoseconds;
}

/** IPv4 → MAC bindings of one vmknic, expiring on the host clock. */
export class ArpCache {
  private readonly entries = new Map<number, ArpCacheEntry>();

  constructor(
    private readonly clock: Clock,
    readonly timeoutNs: Nanoseconds = ARP_ENTRY_TIMEOUT_NS,
  ) {}

  lookup(ip: number): Uint8Array | undefined {
    const entry = this.entries.get(ip);
    if (entry === undefined) return undefined;
    if (this.clock.now() - entry.updatedAt > this.timeoutNs) {
      this.entries.delete(ip);
      return undefined;
    }
    return entry.mac;
  }

  has(ip: number): boolean {
    return this.lookup(ip) !== undefined;
  }

  update(ip: number, mac: Uint8Array): void {
    this.entries.set(ip, { ip, mac: copyMac(mac), updatedAt: this.clock.now() });
  }

  delete(ip: number): boolean {
    return this.entries.delete(ip);
  }

  /** Live entries, oldest IP first in numeric order. */
  list(): ArpCacheEntry[] {
    const now = this.clock.now();
    for (const [ip, entry] of this.entries) if (now - entry.updatedAt > this.timeoutNs) this.entries.delete(ip);
    return [...this.entries.values()].sort((a, b) => a.ip - b.ip);
  }
}
