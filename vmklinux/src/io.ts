import type { IoMapping } from "@vmk/kernel";

/**
 * A `void __iomem *`: a window of a mapped BAR. Linux adds offsets to the pointer (`hw_addr + E1000_CTRL`);
 * here the offset is the accessor's second argument: `readl(hw_addr, E1000_CTRL)`.
 */
export class iomem {
  unmapped = false;
  constructor(
    readonly mapping: IoMapping,
    /** Offset of this window inside the BAR mapping. */
    readonly offset: number,
    readonly size: number,
  ) {}

  get kind(): "memory" | "io" {
    return this.mapping.kind;
  }
  /** Bus address of the window (what pci_resource_start gave). */
  get phys_addr(): number {
    return this.mapping.base + this.offset;
  }
}

function at(addr: iomem, offset: number, width: number): number {
  if (addr.unmapped) throw new Error(`I/O access through an iounmap()ed mapping of 0x${addr.phys_addr.toString(16)}`);
  if (offset < 0 || offset + width > addr.size) throw new RangeError(`I/O access at offset 0x${offset.toString(16)} is outside the ${addr.size}-byte mapping`);
  return addr.offset + offset;
}

export function readl(addr: iomem, offset = 0): number {
  return addr.mapping.read(at(addr, offset, 4), 4) >>> 0;
}
export function readw(addr: iomem, offset = 0): number {
  return addr.mapping.read(at(addr, offset, 2), 2);
}
export function readb(addr: iomem, offset = 0): number {
  return addr.mapping.read(at(addr, offset, 1), 1);
}
export function writel(value: number, addr: iomem, offset = 0): void {
  addr.mapping.write(at(addr, offset, 4), 4, value >>> 0);
}
export function writew(value: number, addr: iomem, offset = 0): void {
  addr.mapping.write(at(addr, offset, 2), 2, value & 0xffff);
}
export function writeb(value: number, addr: iomem, offset = 0): void {
  addr.mapping.write(at(addr, offset, 1), 1, value & 0xff);
}
/** Relaxed accessors: there is no write buffering or reordering to relax here. */
export const readl_relaxed = readl;
export const writel_relaxed = writel;
/** ioread/iowrite work on both memory and I/O port mappings (what pci_iomap returns). */
export const ioread32 = readl;
export const ioread16 = readw;
export const ioread8 = readb;
export const iowrite32 = writel;
export const iowrite16 = writew;
export const iowrite8 = writeb;

/** Linux's barriers order CPU accesses against DMA; accesses here are sequential, so they only mark intent. */
export function wmb(): void {}
export function rmb(): void {}
export function mb(): void {}
export function dma_wmb(): void {}
export function dma_rmb(): void {}
export function smp_mb(): void {}
