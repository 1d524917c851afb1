import { BootMemory, type MemoryRange } from "../boot-memory-layout.js";
import { alignUp, hex, mebibytes, PAGE_SIZE } from "../address-arithmetic.js";
import { writeBootGdt } from "../boot-gdt.js";
import { buildE820Map, isUsableRam, legacyMemorySizes, usableRamEndBelow4G, writeU64, type E820Entry } from "../e820.js";
import { GuestRamWriter } from "../guest-ram-writer.js";
import { flatProtectedModeState, type InitialCpuState } from "../initial-cpu-state.js";
import { isElf, parseElf32Executable, PT_LOAD } from "./elf32.js";
import { findMultibootHeader, MultibootError, MultibootHeaderFlag, type MultibootAddressFields, type MultibootHeader } from "./multiboot-header.js";
import {
  MULTIBOOT_BOOTLOADER_MAGIC,
  MULTIBOOT_INFO_SIZE,
  MULTIBOOT_MMAP_ENTRY_SIZE,
  MULTIBOOT_MODULE_SIZE,
  MultibootInfoFlag,
  MultibootInfoOffset,
} from "./multiboot-info.js";

export interface MultibootModuleInput {
  data: Uint8Array;
  /** The module's string (conventionally its path and arguments). */
  commandLine?: string;
}

export interface MultibootOptions {
  /** Guest RAM, mapped at guest-physical 0. */
  ram: ArrayBuffer | Uint8Array;
  image: Uint8Array;
  commandLine?: string;
  modules?: readonly MultibootModuleInput[];
  e820?: readonly E820Entry[];
  bootLoaderName?: string;
}

export interface LoadedModule extends MemoryRange {
  commandLine: string;
}

export interface MultibootBoot {
  header: MultibootHeader;
  format: "elf" | "a.out kludge";
  entry: number;
  /** From the lowest loaded byte to the end of the bss. */
  kernel: MemoryRange;
  modules: LoadedModule[];
  /** Guest-physical address of struct multiboot_info (EBX at entry). */
  infoAddress: number;
  e820: readonly E820Entry[];
  cpu: InitialCpuState;
  /** Requests the loader could not honour but that do not stop the boot. */
  warnings: string[];
}

interface Segment {
  address: number;
  data: Uint8Array;
  /** Bytes zeroed after the data (bss). */
  zeroBytes: number;
}

const BOOT_DATA: MemoryRange = { start: BootMemory.Gdt, end: BootMemory.BootDataEnd };

/**
 * Loads a Multiboot (v1) kernel and its modules into guest RAM and builds the multiboot information
 * for it, as GRUB legacy would: ELF PT_LOAD segments at their physical addresses (or the header's
 * address fields, which win when flag 16 is set), bss zeroed, modules page-aligned after the kernel,
 * the information structure, strings and memory map in conventional memory.
 */
export function loadMultibootKernel(options: MultibootOptions): MultibootBoot {
  const ram = new GuestRamWriter(options.ram);
  const image = options.image;
  const header = findMultibootHeader(image);
  const e820 = options.e820 ?? buildE820Map({ ramBytes: ram.size });
  const { segments, entry, format } = header.addressFields ? aoutKludgeSegments(image, header.offset, header.addressFields) : elfSegments(image);
  const warnings: string[] = [];
  if (header.flags & MultibootHeaderFlag.VideoMode) warnings.push("the kernel asked for a video mode; vmk leaves the display in text mode and passes no video information");

  const ramEnd = usableRamEndBelow4G(e820);
  for (const segment of segments) {
    const end = segment.address + segment.data.length + segment.zeroBytes;
    if (!isUsableRam(e820, segment.address, end - segment.address)) {
      throw new MultibootError(`kernel segment [${hex(segment.address)}, ${hex(end)}) is not in guest RAM (RAM ends at ${hex(ramEnd)}, ${mebibytes(ramEnd)})`);
    }
    if (segment.address < BOOT_DATA.end && BOOT_DATA.start < end) {
      throw new MultibootError(`kernel segment [${hex(segment.address)}, ${hex(end)}) overlaps the boot data area [${hex(BOOT_DATA.start)}, ${hex(BOOT_DATA.end)})`);
    }
  }
  const kernel: MemoryRange = {
    start: Math.min(...segments.map((s) => s.address)),
    end: Math.max(...segments.map((s) => s.address + s.data.length + s.zeroBytes)),
  };

  const modules: LoadedModule[] = [];
  let cursor = alignUp(kernel.end, PAGE_SIZE);
  (options.modules ?? []).forEach((module, index) => {
    const range = { start: cursor, end: cursor + module.data.length, commandLine: module.commandLine ?? "" };
    if (!isUsableRam(e820, range.start, Math.max(1, module.data.length))) {
      throw new MultibootError(`too little memory for module ${index} (${mebibytes(module.data.length)}): it would end at ${hex(range.end)}, RAM ends at ${hex(ramEnd)}`);
    }
    if (range.start < BOOT_DATA.end && BOOT_DATA.start < range.end) {
      throw new MultibootError(`module ${index} at [${hex(range.start)}, ${hex(range.end)}) would overlap the boot data area [${hex(BOOT_DATA.start)}, ${hex(BOOT_DATA.end)})`);
    }
    modules.push(range);
    cursor = alignUp(range.end, PAGE_SIZE);
  });

  for (const segment of segments) {
    ram.write(segment.address, segment.data);
    ram.fill(segment.address + segment.data.length, segment.zeroBytes, 0);
  }
  (options.modules ?? []).forEach((module, index) => ram.write(modules[index]!.start, module.data));

  const arena = new BootDataArena(ram);
  const infoAddress = arena.allocate(MULTIBOOT_INFO_SIZE, 4);
  const commandLineAddress = arena.string(options.commandLine ?? "");
  const loaderNameAddress = arena.string(options.bootLoaderName ?? "vmk");
  const moduleTable = arena.allocate(Math.max(1, modules.length) * MULTIBOOT_MODULE_SIZE, 4);
  modules.forEach((module, index) => {
    const at = moduleTable + index * MULTIBOOT_MODULE_SIZE;
    ram.writeU32(at, module.start);
    ram.writeU32(at + 4, module.end);
    ram.writeU32(at + 8, arena.string(module.commandLine));
    ram.writeU32(at + 12, 0);
  });
  const mmapLength = e820.length * MULTIBOOT_MMAP_ENTRY_SIZE;
  const mmapAddress = arena.allocate(mmapLength, 4);
  const mmap = ram.viewAt(mmapAddress, mmapLength);
  e820.forEach((region, index) => {
    const at = index * MULTIBOOT_MMAP_ENTRY_SIZE;
    mmap.setUint32(at, MULTIBOOT_MMAP_ENTRY_SIZE - 4, true);
    writeU64(mmap, at + 4, region.address);
    writeU64(mmap, at + 12, region.size);
    mmap.setUint32(at + 20, region.type, true);
  });

  const memory = legacyMemorySizes(e820);
  const info = (offset: number, value: number) => ram.writeU32(infoAddress + offset, value);
  info(MultibootInfoOffset.Flags, MultibootInfoFlag.Memory | MultibootInfoFlag.Cmdline | MultibootInfoFlag.Modules | MultibootInfoFlag.MemoryMap | MultibootInfoFlag.BootLoaderName);
  info(MultibootInfoOffset.MemLower, memory.lowerKiB);
  info(MultibootInfoOffset.MemUpper, memory.upperKiB);
  info(MultibootInfoOffset.Cmdline, commandLineAddress);
  info(MultibootInfoOffset.ModsCount, modules.length);
  info(MultibootInfoOffset.ModsAddr, moduleTable);
  info(MultibootInfoOffset.MmapLength, mmapLength);
  info(MultibootInfoOffset.MmapAddr, mmapAddress);
  info(MultibootInfoOffset.BootLoaderName, loaderNameAddress);

  const gdt = writeBootGdt(ram);
  const cpu = flatProtectedModeState({
    eip: entry,
    gdtBase: gdt.base,
    gdtLimit: gdt.limit,
    registers: { eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: infoAddress, esp: BootMemory.StackTop },
  });
  return { header, format, entry, kernel, modules, infoAddress, e820, cpu, warnings };
}

function elfSegments(image: Uint8Array): { segments: Segment[]; entry: number; format: "elf" } {
  if (!isElf(image)) throw new MultibootError("not an ELF executable, and the multiboot header has no address fields (flag 16)");
  let elf;
  try {
    elf = parseElf32Executable(image);
  } catch (error) {
    throw new MultibootError(`cannot load the kernel: ${(error as Error).message}`);
  }
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD && p.memorySize > 0);
  if (loads.length === 0) throw new MultibootError("the ELF kernel has no loadable segments");
  const segments = loads.map((p) => ({
    address: p.physicalAddress,
    data: image.subarray(p.offset, p.offset + p.fileSize),
    zeroBytes: p.memorySize - p.fileSize,
  }));
  // Higher-half kernels link e_entry at its virtual address; the CPU starts with paging off.
  const holder = loads.find((p) => elf.entry >= p.virtualAddress && elf.entry < p.virtualAddress + p.memorySize);
  const entry = holder ? elf.entry - holder.virtualAddress + holder.physicalAddress : elf.entry;
  return { segments, entry, format: "elf" };
}

function aoutKludgeSegments(image: Uint8Array, headerOffset: number, fields: MultibootAddressFields): { segments: Segment[]; entry: number; format: "a.out kludge" } {
  const { headerAddress, loadAddress, loadEndAddress, bssEndAddress, entryAddress } = fields;
  if (headerAddress < loadAddress) throw new MultibootError(`header_addr ${hex(headerAddress)} lies below load_addr ${hex(loadAddress)}`);
  const fileOffset = headerOffset - (headerAddress - loadAddress);
  if (fileOffset < 0) throw new MultibootError(`load_addr ${hex(loadAddress)} would start ${-fileOffset} bytes before the beginning of the file`);
  const available = image.length - fileOffset;
  const loadSize = loadEndAddress === 0 ? available : loadEndAddress - loadAddress;
  if (loadSize <= 0 || loadSize > available) {
    throw new MultibootError(`load_end_addr ${hex(loadEndAddress)} asks for ${loadSize} bytes from file offset ${hex(fileOffset)}; the file has ${available}`);
  }
  const loadEnd = loadAddress + loadSize;
  if (bssEndAddress !== 0 && bssEndAddress < loadEnd) throw new MultibootError(`bss_end_addr ${hex(bssEndAddress)} lies below the end of the loaded image ${hex(loadEnd)}`);
  return {
    segments: [{ address: loadAddress, data: image.subarray(fileOffset, fileOffset + loadSize), zeroBytes: bssEndAddress === 0 ? 0 : bssEndAddress - loadEnd }],
    entry: entryAddress,
    format: "a.out kludge",
  };
}

/** Bump allocation of the boot information in conventional memory after the GDT and stack. */
class BootDataArena {
  private next: number = BootMemory.BootDataStart;

  constructor(private readonly ram: GuestRamWriter) {}

  allocate(size: number, alignment: number): number {
    const address = alignUp(this.next, alignment);
    if (address + size > BootMemory.BootDataEnd) {
      throw new MultibootError(`the boot information (command lines, module table, memory map) does not fit below ${hex(BootMemory.BootDataEnd)}`);
    }
    this.ram.fill(address, size, 0);
    this.next = address + size;
    return address;
  }

  string(text: string): number {
    const bytes = new TextEncoder().encode(text);
    const address = this.allocate(bytes.length + 1, 1);
    this.ram.writeCString(address, text);
    return address;
  }
}
