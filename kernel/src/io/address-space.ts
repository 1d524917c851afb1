import type { FaultKind, FaultRecord } from "./fault-record.js";

export type AccessWidth = 1 | 2 | 4;

/** A device's decoder for one window of an address space (a BAR, a legacy port range). */
export interface IoRegionHandler {
  /** `offset` is relative to the region base; reads return the value zero-extended to `width` bytes. */
  read(offset: number, width: AccessWidth): number;
  write(offset: number, width: AccessWidth, value: number): void;
}

export interface IoRegion {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly handler: IoRegionHandler;
  /**
   * Access widths the device decodes (bit set of 1/2/4). Narrower reads are widened to the smallest
   * supported width and the wanted bytes extracted; narrower writes are dropped and recorded, as on a
   * device that ignores partial byte enables.
   */
  readonly widths: number;
  /** The requester for fault records (PCI address of the device). */
  readonly owner?: string;
}

export interface RegionOptions {
  widths?: AccessWidth[];
  owner?: string;
}

const ALL_ONES: Record<AccessWidth, number> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };

function widthMask(widths: AccessWidth[]): number {
  let mask = 0;
  for (const w of widths) mask |= w;
  return mask;
}

/**
 * Address decoding for one space (memory-mapped or port I/O). Regions never overlap; an access that
 * no region claims reads as all-ones and is recorded, like a PCI master abort. Accesses that are not
 * naturally aligned, or that straddle a region end, are split into byte accesses as a CPU's bus
 * interface would do.
 */
export class AddressSpace {
  private regions: IoRegion[] = [];
  private lastHit: IoRegion | undefined;

  constructor(
    readonly name: string,
    readonly limit: number,
    private readonly faults: FaultRecord,
    private readonly unclaimedKind: FaultKind,
  ) {}

  map(name: string, base: number, size: number, handler: IoRegionHandler, options: RegionOptions = {}): IoRegion {
    if (!Number.isInteger(base) || !Number.isInteger(size) || size <= 0 || base < 0 || base + size > this.limit) {
      throw new RangeError(`${this.name}: region ${name} [${hex(base)}, +${hex(size)}) is outside the address space`);
    }
    const clash = this.regions.find((r) => base < r.base + r.size && r.base < base + size);
    if (clash) throw new Error(`${this.name}: region ${name} at ${hex(base)} overlaps ${clash.name} at ${hex(clash.base)}`);
    const region: IoRegion = { name, base, size, handler, widths: widthMask(options.widths ?? [1, 2, 4]), owner: options.owner };
    this.regions.push(region);
    this.regions.sort((a, b) => a.base - b.base);
    return region;
  }

  unmap(region: IoRegion): void {
    this.regions = this.regions.filter((r) => r !== region);
    if (this.lastHit === region) this.lastHit = undefined;
  }

  list(): readonly IoRegion[] {
    return this.regions;
  }

  find(address: number): IoRegion | undefined {
    const hit = this.lastHit;
    if (hit && address >= hit.base && address < hit.base + hit.size) return hit;
    let lo = 0;
    let hi = this.regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.regions[mid]!;
      if (address < r.base) hi = mid - 1;
      else if (address >= r.base + r.size) lo = mid + 1;
      else return (this.lastHit = r);
    }
    return undefined;
  }

  read(address: number, width: AccessWidth): number {
    const region = this.find(address);
    if (region && (address & (width - 1)) === 0 && address + width <= region.base + region.size) {
      return this.readRegion(region, address - region.base, width);
    }
    if (!region && (address & (width - 1)) === 0) {
      this.faults.record({ kind: this.unclaimedKind, address, length: width, write: false });
      return ALL_ONES[width];
    }
    let value = 0;
    for (let i = width - 1; i >= 0; i--) value = (value << 8) | this.read(address + i, 1);
    return value >>> 0;
  }

  write(address: number, width: AccessWidth, value: number): void {
    const region = this.find(address);
    if (region && (address & (width - 1)) === 0 && address + width <= region.base + region.size) {
      this.writeRegion(region, address - region.base, width, value);
      return;
    }
    if (!region && (address & (width - 1)) === 0) {
      this.faults.record({ kind: this.unclaimedKind, address, length: width, write: true });
      return;
    }
    for (let i = 0; i < width; i++) this.write(address + i, 1, (value >>> (8 * i)) & 0xff);
  }

  private readRegion(region: IoRegion, offset: number, width: AccessWidth): number {
    if (region.widths & width) return region.handler.read(offset, width) >>> 0;
    const wider = (region.widths & 4 ? 4 : 2) as AccessWidth;
    const alignedOffset = offset & ~(wider - 1);
    const container = region.handler.read(alignedOffset, wider) >>> 0;
    const shift = (offset - alignedOffset) * 8;
    return (container >>> shift) & ALL_ONES[width];
  }

  private writeRegion(region: IoRegion, offset: number, width: AccessWidth, value: number): void {
    if (region.widths & width) {
      region.handler.write(offset, width, (value & ALL_ONES[width]) >>> 0);
      return;
    }
    this.faults.record({
      kind: "access-width",
      address: region.base + offset,
      length: width,
      write: true,
      requester: region.owner,
      detail: `${region.name} does not decode ${width}-byte writes`,
    });
  }
}

export function hex(value: number, digits = 0): string {
  return "0x" + value.toString(16).padStart(digits, "0");
}
