import { DmaDirection, DmaMappingError, type DmaAllocator } from "@vmk/kernel";
import { dev_err, type device } from "./device.js";
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, type dma_addr_t } from "./dma.js";

/**
 * struct scatterlist: one segment of a transfer. Linux names a segment by page and offset; here a
 * segment is its machine address (`phys`, what dma_map_sg maps) and the CPU's view of the same bytes
 * (`sg_virt`). dma_map_sg fills dma_address and dma_length.
 */
export class scatterlist {
  /** Machine address of the segment's first byte. */
  phys = 0;
  length = 0;
  /** Offset inside the first page, as Linux keeps it (phys & (PAGE_SIZE - 1)). */
  offset = 0;
  dma_address: dma_addr_t = 0;
  dma_length = 0;
  /** The CPU's view of the segment. */
  buf: Uint8Array = EMPTY;
}

const EMPTY = new Uint8Array(0);
const PAGE_MASK = 4095;

export function sg_init_table(sgl: scatterlist[], nents: number): void {
  sgl.length = nents;
  for (let i = 0; i < nents; i++) {
    const sg = (sgl[i] ??= new scatterlist());
    sg.phys = 0;
    sg.length = 0;
    sg.offset = 0;
    sg.dma_address = 0;
    sg.dma_length = 0;
    sg.buf = EMPTY;
  }
}

/** sg_set_buf: `buf` is the CPU view of `buflen` bytes of machine memory at `phys`. */
export function sg_set_buf(sg: scatterlist, phys: number, buf: Uint8Array, buflen: number): void {
  sg.phys = phys;
  sg.buf = buf.length === buflen ? buf : buf.subarray(0, buflen);
  sg.length = buflen;
  sg.offset = phys & PAGE_MASK;
}

export function sg_virt(sg: scatterlist): Uint8Array {
  return sg.buf;
}
export function sg_phys(sg: scatterlist): number {
  return sg.phys;
}
export function sg_dma_address(sg: scatterlist): dma_addr_t {
  return sg.dma_address;
}
export function sg_dma_len(sg: scatterlist): number {
  return sg.dma_length;
}

const DIRECTIONS: Record<number, DmaDirection> = {
  [DMA_BIDIRECTIONAL]: DmaDirection.Bidirectional,
  [DMA_TO_DEVICE]: DmaDirection.ToDevice,
  [DMA_FROM_DEVICE]: DmaDirection.FromDevice,
};

function allocator(dev: device): DmaAllocator {
  for (let d: device | null = dev; d; d = d.parent) if (d.dma) return d.dma;
  throw new Error(`${dev.name}: not a DMA-capable device (pass &pdev->dev)`);
}

/**
 * Maps the first `nents` segments for one transfer; returns the number of DMA segments (segments are
 * never merged here, so `nents`), or 0 when any segment cannot be mapped, as Linux does. A failed
 * call leaves nothing mapped.
 */
export function dma_map_sg(dev: device, sgl: readonly scatterlist[], nents: number, dir: number): number {
  const direction = DIRECTIONS[dir];
  if (direction === undefined) throw new RangeError(`dma_map_sg: direction ${dir} is not DMA_BIDIRECTIONAL, DMA_TO_DEVICE or DMA_FROM_DEVICE`);
  const dma = allocator(dev);
  for (let i = 0; i < nents; i++) {
    const sg = sgl[i]!;
    try {
      sg.dma_address = dma.mapSingle(sg.phys, sg.length, direction);
      sg.dma_length = sg.length;
    } catch (error) {
      if (!(error instanceof DmaMappingError)) throw error;
      for (let j = 0; j < i; j++) dma.unmapSingle(sgl[j]!.dma_address, sgl[j]!.dma_length, direction);
      return 0;
    }
  }
  return nents;
}

/** Unmaps what dma_map_sg mapped; `nents` is the count passed to dma_map_sg, as in Linux. */
export function dma_unmap_sg(dev: device, sgl: readonly scatterlist[], nents: number, dir: number): void {
  const direction = DIRECTIONS[dir];
  if (direction === undefined) throw new RangeError(`dma_unmap_sg: direction ${dir} is not DMA_BIDIRECTIONAL, DMA_TO_DEVICE or DMA_FROM_DEVICE`);
  const dma = allocator(dev);
  for (let i = 0; i < nents; i++) {
    const sg = sgl[i]!;
    try {
      dma.unmapSingle(sg.dma_address, sg.dma_length, direction);
    } catch (error) {
      if (!(error instanceof DmaMappingError)) throw error;
      dev_err(dev, "DMA-API: device driver unmaps a scatterlist it has not mapped: %s\n", error.message);
    }
    sg.dma_address = 0;
    sg.dma_length = 0;
  }
}
