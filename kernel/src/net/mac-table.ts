const EMPTY = -1;
const INITIAL_CAPACITY = 64;

/**
 * An open-addressing hash table from a 64-bit key (two unsigned 32-bit halves) to a non-negative
 * integer, with a timestamp per entry. Keys are a MAC address, optionally with a VLAN ID in the high
 * half, read straight out of a frame: a lookup allocates nothing and hashes two integers.
 */
export class MacTable {
  private keysHigh: Uint32Array;
  private keysLow: Uint32Array;
  private values: Int32Array;
  private stamps: Float64Array;
  private mask: number;
  private count = 0;

  constructor(capacity = INITIAL_CAPACITY) {
    let size = INITIAL_CAPACITY;
    while (size < capacity * 2) size <<= 1;
    this.keysHigh = new Uint32Array(size);
    this.keysLow = new Uint32Array(size);
    this.values = new Int32Array(size).fill(EMPTY);
    this.stamps = new Float64Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The value stored for the key, or -1. */
  get(high: number, low: number): number {
    const mask = this.mask;
    const values = this.values;
    for (let i = slotFor(high, low, mask); ; i = (i + 1) & mask) {
      const value = values[i]!;
      if (value === EMPTY) return EMPTY;
      if (this.keysLow[i] === low && this.keysHigh[i] === high) return value;
    }
  }

  /** The timestamp stored with the key, or -1. */
  stamp(high: number, low: number): number {
    const i = this.find(high, low);
    return i < 0 ? -1 : this.stamps[i]!;
  }

  set(high: number, low: number, value: number, stamp = 0): void {
    if (value < 0) throw new RangeError("MacTable values must be non-negative");
    const mask = this.mask;
    for (let i = slotFor(high, low, mask); ; i = (i + 1) & mask) {
      if (this.values[i] === EMPTY) {
        this.keysHigh[i] = high;
        this.keysLow[i] = low;
        this.values[i] = value;
        this.stamps[i] = stamp;
        if (++this.count * 2 > this.values.length) this.grow();
        return;
      }
      if (this.keysLow[i] === low && this.keysHigh[i] === high) {
        this.values[i] = value;
        this.stamps[i] = stamp;
        return;
      }
    }
  }

  delete(high: number, low: number): boolean {
    let hole = this.find(high, low);
    if (hole < 0) return false;
    const mask = this.mask;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    for (let j = (hole + 1) & mask; this.values[j] !== EMPTY; j = (j + 1) & mask) {
      const home = slotFor(this.keysHigh[j]!, this.keysLow[j]!, mask);
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (!movable) continue;
      this.keysHigh[hole] = this.keysHigh[j]!;
      this.keysLow[hole] = this.keysLow[j]!;
      this.values[hole] = this.values[j]!;
      this.stamps[hole] = this.stamps[j]!;
      hole = j;
    }
    this.values[hole] = EMPTY;
    this.count--;
    return true;
  }

  /** Removes every entry for which `doomed` returns true. */
  deleteWhere(doomed: (high: number, low: number, value: number, stamp: number) => boolean): number {
    const victims: number[] = [];
    this.forEach((high, low, value, stamp) => {
      if (doomed(high, low, value, stamp)) victims.push(high, low);
    });
    for (let i = 0; i < victims.length; i += 2) this.delete(victims[i]!, victims[i + 1]!);
    return victims.length / 2;
  }

  forEach(visit: (high: number, low: number, value: number, stamp: number) => void): void {
    for (let i = 0; i < this.values.length; i++) {
      const value = this.values[i]!;
      if (value !== EMPTY) visit(this.keysHigh[i]!, this.keysLow[i]!, value, this.stamps[i]!);
    }
  }

  clear(): void {
    this.values.fill(EMPTY);
    this.count = 0;
  }

  private find(high: number, low: number): number {
    const mask = this.mask;
    for (let i = slotFor(high, low, mask); ; i = (i + 1) & mask) {
      if (this.values[i] === EMPTY) return -1;
      if (this.keysLow[i] === low && this.keysHigh[i] === high) return i;
    }
  }

  private grow(): void {
    const { keysHigh, keysLow, values, stamps } = this;
    const size = values.length * 2;
    this.keysHigh = new Uint32Array(size);
    this.keysLow = new Uint32Array(size);
    this.values = new Int32Array(size).fill(EMPTY);
    this.stamps = new Float64Array(size);
    this.mask = size - 1;
    this.count = 0;
    for (let i = 0; i < values.length; i++) if (values[i] !== EMPTY) this.set(keysHigh[i]!, keysLow[i]!, values[i]!, stamps[i]!);
  }
}

function slotFor(high: number, low: number, mask: number): number {
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return h & mask;
}
