import { DmaDirection, DmaMappingError, type CoherentBuffer, type DmaAllocator } from "@vmk/kernel";
import type { device } from "./device.js";
import { dev_err } from "./device.js";

export type dma_addr_t = number;

/** enum dma_data_direction, with Linux's values. */
export const DMA_BIDIRECTIONAL = 0;
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
export const DMA_NONE = 3;

/** Linux's ~(dma_addr_t)0: no bus address is ever negative. */
export const DMA_MAPPING_ERROR = -1;

export const GFP_KERNEL = 0xcc0;
export const GFP_ATOMIC = 0x820;

export function DMA_BIT_MASK(n: number): number {
  return n >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** n - 1;
}

const DIRECTIONS: readonly DmaDirection[] = [DmaDirection.Bidirectional, DmaDirection.ToDevice, DmaDirection.FromDevice];

function direction(dir: number): DmaDirection {
  const d = DIRECTIONS[dir];
  if (d === undefined) throw new RangeError(`DMA direction ${dir} is not one of DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE`);
  return d;
}

function allocator(dev: device): DmaAllocator {
  for (let d: device | null = dev; d; d = d.parent) if (d.dma) return d.dma;
  throw new Error(`${dev.name}: not a DMA-capable device (pass &pdev->dev)`);
}

export function dma_set_mask(dev: device, mask: number): number {
  allocator(dev).mask = Math.min(mask, Number.MAX_SAFE_INTEGER);
  return 0;
}
export const dma_set_coherent_mask = dma_set_mask;
export const dma_set_mask_and_coherent = dma_set_mask;

/** Memory the CPU and the device share for the mapping's life (descriptor rings). */
export class dma_coherent {
  constructor(
    private readonly buffer: CoherentBuffer,
    /** The CPU's view (Linux's returned `void *`). */
    readonly vaddr: Uint8Array,
    readonly view: DataView,
    readonly dma_handle: dma_addr_t,
    readonly size: number,
  ) {}
  free(): void {
    this.buffer.free();
  }
}

/** Returns null when no memory fits under the device's mask, as Linux returns NULL. */
export function dma_alloc_coherent(dev: device, size: number, _gfp: number = GFP_KERNEL): dma_coherent | null {
  let buffer: CoherentBuffer;
  try {
    buffer = allocator(dev).allocCoherent(size);
  } catch (error) {
    if (error instanceof RangeError) throw error;
    return null;
  }
  return new dma_coherent(buffer, buffer.bytes, buffer.view, buffer.busAddress, size);
}
export const dma_zalloc_coherent = dma_alloc_coherent;

export function dma_free_coherent(_dev: device, _size: number, cpu_addr: dma_coherent, _dma_handle: dma_addr_t): void {
  cpu_addr.free();
}

/**
 * Maps `size` bytes at machine address `ptr` (an sk_buff's data, kmalloc memory) for one transfer.
 * A failure is the value DMA_MAPPING_ERROR, which dma_mapping_error() recognises, as in Linux.
 */
export function dma_map_single(dev: device, ptr: number, size: number, dir: number): dma_addr_t {
  try {
    return allocator(dev).mapSingle(ptr, size, direction(dir));
  } catch (error) {
    if (error instanceof DmaMappingError) return DMA_MAPPING_ERROR;
    throw error;
  }
}

export function dma_mapping_error(_dev: device, addr: dma_addr_t): number {
  return addr === DMA_MAPPING_ERROR ? 1 : 0;
}

/** An unmap that matches no mapping is a driver bug that Linux's DMA debugging reports and survives. */
export function dma_unmap_single(dev: device, addr: dma_addr_t, size: number, dir: number): void {
  try {
    allocator(dev).unmapSingle(addr, size, direction(dir));
  } catch (error) {
    if (!(error instanceof DmaMappingError)) throw error;
    dev_err(dev, "DMA-API: device driver frees DMA memory it has not allocated: %s\n", error.message);
  }
}
