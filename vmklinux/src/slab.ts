import { PAGE_SIZE, type ModulePages } from "@vmk/kernel";

const SIZE_CLASSES = [128, 256, 512, 1024, 2048, 4096] as const;
/** Pages fetched from the module's machine memory each time a size class runs dry. */
const CHUNK_PAGES = 16;
/** Below 4 GiB so that any 32-bit DMA mask reaches it (kmalloc's ZONE_DMA32 role). */
const DMA32_LIMIT = 2 ** 32;

/**
 * kmalloc's slab: machine memory carved into power-of-two slots. Slots are identified by small integers
 * with their address and CPU view kept in parallel arrays, so allocation and free on the packet path
 * are an array pop and push. Chunks are kept for reuse while the module lives; the kernel frees them
 * with the module. Objects above 4 KiB get their own page run.
 */
export class kmem_slab {
  readonly slot_address: number[] = [];
  readonly slot_view: Uint8Array[] = [];
  /** Size class index, or -1 for a slot with its own page run. */
  private readonly slot_class: number[] = [];
  private readonly free_slots: number[][] = SIZE_CLASSES.map(() => []);
  private readonly chunks: number[] = [];
  private large_free: number[] = [];
  in_use = 0;

  constructor(private readonly pages: ModulePages) {}

  /** Usable bytes of the slot kmalloc(size) would hand out. */
  static slot_size(size: number): number {
    for (const c of SIZE_CLASSES) if (size <= c) return c;
    return Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
  }

  /** A slot of at least `size` bytes, or -1 when machine memory is exhausted (kmalloc's NULL). */
  alloc(size: number): number {
    let cls = 0;
    while (cls < SIZE_CLASSES.length && size > SIZE_CLASSES[cls]!) cls++;
    if (cls === SIZE_CLASSES.length) return this.alloc_large(size);
    const list = this.free_slots[cls]!;
    if (list.length === 0 && !this.grow(cls)) return -1;
    this.in_use++;
    return list.pop()!;
  }

  free(slot: number): void {
    const cls = this.slot_class[slot];
    if (cls === undefined) throw new Error(`kfree: ${slot} is not a slab slot`);
    this.in_use--;
    if (cls >= 0) {
      this.free_slots[cls]!.push(slot);
      return;
    }
    this.pages.free(this.slot_address[slot]!);
    this.slot_class[slot] = -2;
    this.large_free.push(slot);
  }

  size_of(slot: number): number {
    return this.slot_view[slot]!.length;
  }

  /** Returns every chunk to the module's page allocator (module exit). */
  destroy(): void {
    for (const address of this.chunks) this.pages.free(address);
    this.chunks.length = 0;
    for (let slot = 0; slot < this.slot_class.length; slot++) if (this.slot_class[slot] === -1) this.pages.free(this.slot_address[slot]!);
    for (const list of this.free_slots) list.length = 0;
    this.slot_address.length = 0;
    this.slot_view.length = 0;
    this.slot_class.length = 0;
    this.large_free = [];
    this.in_use = 0;
  }

  private grow(cls: number): boolean {
    let run;
    try {
      run = this.pages.alloc(CHUNK_PAGES, DMA32_LIMIT);
    } catch {
      return false;
    }
    this.chunks.push(run.address);
    const size = SIZE_CLASSES[cls]!;
    const list = this.free_slots[cls]!;
    for (let offset = run.bytes.length - size; offset >= 0; offset -= size) {
      const slot = this.slot_address.length;
      this.slot_address.push(run.address + offset);
      this.slot_view.push(run.bytes.subarray(offset, offset + size));
      this.slot_class.push(cls);
      list.push(slot);
    }
    return true;
  }

  private alloc_large(size: number): number {
    let run;
    try {
      run = this.pages.alloc(Math.ceil(size / PAGE_SIZE), DMA32_LIMIT);
    } catch {
      return -1;
    }
    const reuse = this.large_free.pop();
    const slot = reuse ?? this.slot_address.length;
    this.slot_address[slot] = run.address;
    this.slot_view[slot] = run.bytes;
    this.slot_class[slot] = -1;
    this.in_use++;
    return slot;
  }
}
