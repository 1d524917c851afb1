export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

export interface PageRun {
  /** Machine (host-physical) address of the first page. */
  readonly address: number;
  readonly pages: number;
  readonly owner: string;
}

/**
 * The host's machine memory: one ArrayBuffer, handed out in page runs. Drivers see it through DMA
 * buffers (a CPU view plus a bus address); device models reach it only through their DMA port, which
 * checks the mapping.
 */
export class MachineMemory {
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly pageCount: number;
  /** Owner index + 1 per page; 0 = free. Page 0 is reserved so that bus address 0 is never valid. */
  private readonly pageOwner: Uint16Array;
  private readonly owners: string[] = [];
  private readonly runs = new Map<number, PageRun>();
  private searchHint = 1;
  private freePages: number;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 2 * PAGE_SIZE || size % PAGE_SIZE !== 0) {
      throw new RangeError(`machine memory size must be a multiple of ${PAGE_SIZE} bytes and at least two pages`);
    }
    this.buffer = new ArrayBuffer(size);
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
    this.pageCount = size / PAGE_SIZE;
    this.pageOwner = new Uint16Array(this.pageCount);
    this.pageOwner[0] = this.ownerIndex("reserved") + 1;
    this.freePages = this.pageCount - 1;
  }

  get free(): number {
    return this.freePages * PAGE_SIZE;
  }

  /** Allocates `pages` contiguous zeroed pages below `limit` (a DMA mask + 1), or throws when none fit. */
  allocPages(pages: number, owner: string, limit = this.size): PageRun {
    if (!Number.isInteger(pages) || pages <= 0) throw new RangeError(`page count must be a positive integer (got ${pages})`);
    const lastPage = Math.min(this.pageCount, Math.floor(limit / PAGE_SIZE));
    const start = this.findFreeRun(pages, lastPage, this.searchHint) ?? this.findFreeRun(pages, lastPage, 1);
    if (start === undefined) throw new Error(`out of machine memory: no ${pages} contiguous free pages below 0x${limit.toString(16)} for ${owner}`);
    const tag = this.ownerIndex(owner) + 1;
    this.pageOwner.fill(tag, start, start + pages);
    this.bytes.fill(0, start * PAGE_SIZE, (start + pages) * PAGE_SIZE);
    this.freePages -= pages;
    this.searchHint = start + pages < this.pageCount ? start + pages : 1;
    const run: PageRun = { address: start * PAGE_SIZE, pages, owner };
    this.runs.set(run.address, run);
    return run;
  }

  freeRun(address: number): void {
    const run = this.runs.get(address);
    if (!run) throw new Error(`free of 0x${address.toString(16)}: not the start of an allocated page run`);
    this.runs.delete(address);
    const first = address / PAGE_SIZE;
    this.pageOwner.fill(0, first, first + run.pages);
    this.freePages += run.pages;
  }

  /** Frees every run allocated for `owner`; returns the number of pages released. */
  freeOwner(owner: string): number {
    let released = 0;
    for (const run of [...this.runs.values()]) {
      if (run.owner !== owner) continue;
      this.freeRun(run.address);
      released += run.pages;
    }
    return released;
  }

  isAllocated(address: number, length = 1): boolean {
    if (address < 0 || length <= 0 || address + length > this.size) return false;
    const last = Math.floor((address + length - 1) / PAGE_SIZE);
    for (let page = Math.floor(address / PAGE_SIZE); page <= last; page++) {
      if (this.pageOwner[page] === 0) return false;
    }
    return true;
  }

  allocations(): PageRun[] {
    return [...this.runs.values()];
  }

  usageByOwner(): Map<string, number> {
    const usage = new Map<string, number>();
    for (const run of this.runs.values()) usage.set(run.owner, (usage.get(run.owner) ?? 0) + run.pages * PAGE_SIZE);
    return usage;
  }

  private findFreeRun(pages: number, lastPage: number, from: number): number | undefined {
    let runStart = from;
    let runLength = 0;
    for (let page = from; page < lastPage; page++) {
      if (this.pageOwner[page] !== 0) {
        runLength = 0;
        runStart = page + 1;
        continue;
      }
      if (++runLength === pages) return runStart;
    }
    return undefined;
  }

  private ownerIndex(owner: string): number {
    let index = this.owners.indexOf(owner);
    if (index < 0) {
      index = this.owners.length;
      this.owners.push(owner);
    }
    return index;
  }
}
