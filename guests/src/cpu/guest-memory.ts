/**
 * A guest's RAM and the processor state that compiled code reads, in one WebAssembly memory, so
 * that code compiled to WebAssembly (the next JIT tier) reaches RAM, the TLB and the registers
 * with plain loads and stores. RAM is at offset 0 (guest-physical address = memory offset); the
 * processor's area follows it. Only `ram`, a view of exactly the RAM, is handed to loaders, DMA
 * and devices: nothing outside the processor can reach its area.
 */

/** One entry per 4 KiB linear page (see Cpu.tlb). */
export const TLB_ENTRIES = 1 << 20;
/** Entries of the WebAssembly tier's chain table (wasm/wasm-tier.ts), 16 bytes each. */
export const CHAIN_ENTRIES = 4096;
const PAGE_BYTES = 65536;

/** Byte offsets inside the processor's area (from GuestMemory.cpuArea). */
export const enum CpuArea {
  TLB = 0,
  /** EAX..EDI, as Int32. */
  REGS = TLB_ENTRIES * 4,
  /** The lazy flag record and EFLAGS, handed between the JavaScript and WebAssembly tiers. */
  FLAGS = REGS + 32,
  /** The exit record of WebAssembly translations, 16 words (wasm/wasm-emitter.ts EXIT_EIP...). */
  EXIT = FLAGS + 32,
  /** Segment bases, limits and derived rights (Cpu.segBase, segLimit, segAccessOk), 8 words each. */
  SEG_BASE = EXIT + 64,
  SEG_LIMIT = SEG_BASE + 32,
  SEG_OK = SEG_LIMIT + 32,
  /** Where WebAssembly regions lead to one another without the dispatcher (wasm/wasm-tier.ts). */
  CHAIN = SEG_OK + 32,
  BYTES = CHAIN + CHAIN_ENTRIES * 16,
}

export class GuestMemory {
  readonly memory: WebAssembly.Memory;
  /** Guest RAM, mapped at guest-physical 0. */
  readonly ram: Uint8Array;
  /** Where the processor's area starts in `memory`. */
  readonly cpuArea: number;

  constructor(ramBytes: number) {
    if (!Number.isInteger(ramBytes) || ramBytes <= 0) throw new RangeError(`guest RAM must be a positive number of bytes, not ${ramBytes}`);
    this.cpuArea = Math.ceil(ramBytes / 4096) * 4096;
    const pages = Math.ceil((this.cpuArea + CpuArea.BYTES) / PAGE_BYTES);
    // A fixed size: growing would detach every view of the buffer.
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.ram = new Uint8Array(this.memory.buffer, 0, ramBytes);
  }

  /** An Int32Array over `count` words of the processor's area at `offset`. */
  cpuWords(offset: number, count: number): Int32Array {
    return new Int32Array(this.memory.buffer, this.cpuArea + offset, count);
  }
}
