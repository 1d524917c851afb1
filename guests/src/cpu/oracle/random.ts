/** A small seeded PRNG (mulberry32) so every oracle case can be regenerated from its seed. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  below(n: number): number {
    return this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
  /** A 32-bit value biased towards the boundaries where flag bugs hide. */
  interesting(): number {
    switch (this.below(8)) {
      case 0: return this.pick([0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000 | 0, 0x100, 0x10000]);
      case 1: return this.below(16);
      case 2: return -this.below(16);
      case 3: return (this.next() & 0xff) * 0x01010101;
      default: return this.next() | 0;
    }
  }
}
