import { hex } from "../address-arithmetic.js";

/** Multiboot Specification 0.6.96, section 3.1 "OS image format". */
export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
/** The header must lie, 32-bit aligned, within the image's first 8192 bytes. */
export const MULTIBOOT_SEARCH_LIMIT = 8192;

export const MultibootHeaderFlag = {
  /** Boot modules must be page-aligned. */
  PageAlignModules: 1 << 0,
  /** mem_* (and mmap_*, if available) must be passed. */
  MemoryInfo: 1 << 1,
  /** Video mode information must be passed. */
  VideoMode: 1 << 2,
  /** The address fields at offsets 12..28 are valid (the "a.out kludge"). */
  AddressFields: 1 << 16,
} as const;

/** Requirement bits (0-15) this loader can satisfy; any other requirement means refusing the image. */
const SATISFIABLE_REQUIREMENTS = MultibootHeaderFlag.PageAlignModules | MultibootHeaderFlag.MemoryInfo | MultibootHeaderFlag.VideoMode;

export interface MultibootAddressFields {
  headerAddress: number;
  loadAddress: number;
  /** 0: load to the end of the file. */
  loadEndAddress: number;
  /** 0: no bss. */
  bssEndAddress: number;
  entryAddress: number;
}

export interface MultibootHeader {
  /** Offset of the header in the image file. */
  offset: number;
  flags: number;
  addressFields: MultibootAddressFields | undefined;
  /** mode_type, width, height, depth when VideoMode is requested. */
  video: { modeType: number; width: number; height: number; depth: number } | undefined;
}

export class MultibootError extends Error {
  override name = "MultibootError";
}

/** Finds and checks the multiboot header; throws MultibootError when the image cannot be booted. */
export function findMultibootHeader(image: Uint8Array): MultibootHeader {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const limit = Math.min(image.length, MULTIBOOT_SEARCH_LIMIT) - 12;
  for (let offset = 0; offset <= limit; offset += 4) {
    if (view.getUint32(offset, true) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = view.getUint32(offset + 4, true);
    const checksum = view.getUint32(offset + 8, true);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) !== 0) continue;
    const unsupported = flags & 0xffff & ~SATISFIABLE_REQUIREMENTS;
    if (unsupported !== 0) throw new MultibootError(`the multiboot header requires features ${hex(unsupported)} that vmk's loader does not provide`);
    const field = (index: number) => {
      const at = offset + 12 + index * 4;
      if (at + 4 > image.length) throw new MultibootError(`multiboot header at ${hex(offset)} is cut off by the end of the image`);
      return view.getUint32(at, true);
    };
    return {
      offset,
      flags,
      addressFields:
        flags & MultibootHeaderFlag.AddressFields
          ? { headerAddress: field(0), loadAddress: field(1), loadEndAddress: field(2), bssEndAddress: field(3), entryAddress: field(4) }
          : undefined,
      video: flags & MultibootHeaderFlag.VideoMode ? { modeType: field(5), width: field(6), height: field(7), depth: field(8) } : undefined,
    };
  }
  throw new MultibootError("not a multiboot image: no header with magic 0x1badb002 and a valid checksum in the first 8 KiB");
}
