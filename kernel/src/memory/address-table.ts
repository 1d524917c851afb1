const EMPTY_KEY = -1;
const INITIAL_CAPACITY = 256;

/**
 * An open-addressing hash table from a machine address to a number, in typed arrays: setting and
 * deleting allocate nothing (a Map churned once per packet keeps reallocating its backing store).
 * Keys are non-negative integers below 2^53; values any number.
 */
export class AddressTable {
  private keys: Float64Array;
  private values: Float64Array;
  private mask: number;
  private count = 0;

  constructor() {
    this.keys = new Float64Array(INITIAL_CAPACITY).fill(EMPTY_KEY);
    this.values = new Float64Array(INITIAL_CAPACITY);
    this.mask = INITIAL_CAPACITY - 1;
  }

  get size(): number {
    return this.count;
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  /** The value stored for `key`, or undefined. */
  get(key: number): number | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.values[i]!;
  }

  /** Stores `value` under `key` unless the key is present; false when it was (nothing changed). */
  add(key: number, value: number): boolean {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = slotFor(key, mask); ; i = (i + 1) & mask) {
      const stored = keys[i]!;
      if (stored === key) return false;
      if (stored === EMPTY_KEY) {
        keys[i] = key;
        this.values[i] = value;
        if (++this.count * 2 > keys.length) this.grow();
        return true;
      }
    }
  }

  set(key: number, value: number): void {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = slotFor(key, mask); ; i = (i + 1) & mask) {
      const stored = keys[i]!;
      if (stored === key) {
        this.values[i] = value;
        return;
      }
      if (stored === EMPTY_KEY) {
        keys[i] = key;
        this.values[i] = value;
        if (++this.count * 2 > keys.length) this.grow();
        return;
      }
    }
  }

  delete(key: number): boolean {
    const at = this.find(key);
    if (at < 0) return false;
    this.deleteAt(at);
    return true;
  }

  /** Deletes `key` only if it holds `value`; false (nothing changed) otherwise. */
  deleteIfValue(key: number, value: number): boolean {
    const at = this.find(key);
    if (at < 0 || this.values[at] !== value) return false;
    this.deleteAt(at);
    return true;
  }

  clear(): void {
    this.keys.fill(EMPTY_KEY);
    this.count = 0;
  }

  private deleteAt(at: number): void {
    let hole = at;
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    for (let j = (hole + 1) & mask; keys[j] !== EMPTY_KEY; j = (j + 1) & mask) {
      const home = slotFor(keys[j]!, mask);
      const movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
      if (!movable) continue;
      keys[hole] = keys[j]!;
      values[hole] = values[j]!;
      hole = j;
    }
    keys[hole] = EMPTY_KEY;
    this.count--;
  }

  private find(key: number): number {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = slotFor(key, mask); ; i = (i + 1) & mask) {
      const stored = keys[i]!;
      if (stored === key) return i;
      if (stored === EMPTY_KEY) return -1;
    }
  }

  private grow(): void {
    const { keys, values } = this;
    const size = keys.length * 2;
    this.keys = new Float64Array(size).fill(EMPTY_KEY);
    this.values = new Float64Array(size);
    this.mask = size - 1;
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY_KEY) this.set(keys[i]!, values[i]!);
  }
}

function slotFor(key: number, mask: number): number {
  const high = (key / 0x100000000) | 0;
  let h = Math.imul((key | 0) ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return h & mask;
}
