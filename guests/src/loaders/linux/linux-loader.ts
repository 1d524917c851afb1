import { BootMemory, type MemoryRange } from "../boot-memory-layout.js";
import { alignDown, alignUp, hex, mebibytes, PAGE_SIZE } from "../address-arithmetic.js";
import { writeBootGdt } from "../boot-gdt.js";
import { buildE820Map, isUsableRam, legacyMemorySizes, usableRamEndBelow4G, type E820Entry } from "../e820.js";
import { GuestRamWriter } from "../guest-ram-writer.js";
import { flatProtectedModeState, type InitialCpuState } from "../initial-cpu-state.js";
import { buildBootParams } from "./boot-params.js";
import { BzImageError, parseSetupHeader, type SetupHeader } from "./setup-header.js";

export interface LinuxBootOptions {
  /** Guest RAM, mapped at guest-physical 0. */
  ram: ArrayBuffer | Uint8Array;
  /** The bzImage file (vmlinuz). */
  kernel: Uint8Array;
  initrd?: Uint8Array;
  commandLine?: string;
  /** The memory map to report; the standard PC map for the RAM size by default. */
  e820?: readonly E820Entry[];
}

export interface LinuxBootLayout {
  /** The protected-mode kernel as loaded (at 1 MiB). */
  kernel: MemoryRange;
  /** Where the kernel decompresses and runs during boot: [run address, run address + init_size). */
  runtime: MemoryRange;
  initrd: MemoryRange | undefined;
  bootParams: number;
  commandLine: number;
  gdt: number;
}

export interface LinuxBoot {
  header: SetupHeader;
  layout: LinuxBootLayout;
  e820: readonly E820Entry[];
  cpu: InitialCpuState;
}

/**
 * Loads a bzImage, initrd and command line into guest RAM by the Linux x86 32-bit boot protocol and
 * returns the CPU state to start it in. Mirrors what a boot loader does for a kernel entered at
 * code32_start: the protected-mode kernel at 1 MiB, boot_params and the command line in conventional
 * memory, the initrd as high as initrd_addr_max and RAM allow (page-aligned, clear of everything the
 * kernel occupies while it decompresses).
 */
export function loadLinuxKernel(options: LinuxBootOptions): LinuxBoot {
  const ram = new GuestRamWriter(options.ram);
  const header = parseSetupHeader(options.kernel);
  const e820 = options.e820 ?? buildE820Map({ ramBytes: ram.size });
  const commandLine = options.commandLine ?? "";
  const commandLineBytes = new TextEncoder().encode(commandLine).length;
  if (commandLineBytes > header.cmdlineSize) {
    throw new BzImageError(`command line is ${commandLineBytes} bytes; this kernel accepts at most ${header.cmdlineSize}`);
  }
  if (BootMemory.CommandLine + commandLineBytes + 1 > BootMemory.BootDataEnd) {
    throw new BzImageError(`command line is ${commandLineBytes} bytes; vmk has room for ${BootMemory.BootDataEnd - BootMemory.CommandLine - 1}`);
  }

  const kernel: MemoryRange = { start: BootMemory.HighMemory, end: BootMemory.HighMemory + header.protectedModeSize };
  const runtime = runtimeRange(header, kernel);
  const occupiedEnd = Math.max(kernel.end, runtime.end);
  if (!isUsableRam(e820, kernel.start, occupiedEnd - kernel.start)) {
    throw new BzImageError(
      `too little memory: the kernel needs RAM up to ${hex(occupiedEnd)} (${mebibytes(occupiedEnd)}) while it boots; ` +
        `this VM's RAM ends at ${hex(usableRamEndBelow4G(e820))} (${mebibytes(usableRamEndBelow4G(e820))})`,
    );
  }
  const initrd = options.initrd ? placeInitrd(options.initrd.length, header, e820, occupiedEnd) : undefined;

  ram.write(kernel.start, options.kernel.subarray(header.protectedModeOffset));
  if (options.initrd && initrd) ram.write(initrd.start, options.initrd);
  ram.fill(BootMemory.CommandLine, commandLineBytes + 1, 0);
  ram.writeCString(BootMemory.CommandLine, commandLine);
  ram.write(
    BootMemory.BootParams,
    buildBootParams({
      image: options.kernel,
      headerEnd: header.headerEnd,
      commandLineAddress: BootMemory.CommandLine,
      ramdisk: initrd && { address: initrd.start, size: initrd.end - initrd.start },
      code32Start: kernel.start,
      e820,
      extendedMemoryKiB: legacyMemorySizes(e820).upperKiB,
    }),
  );
  const gdt = writeBootGdt(ram);
  const cpu = flatProtectedModeState({
    eip: kernel.start,
    gdtBase: gdt.base,
    gdtLimit: gdt.limit,
    registers: { esi: BootMemory.BootParams, esp: BootMemory.StackTop },
  });
  return {
    header,
    layout: { kernel, runtime, initrd, bootParams: BootMemory.BootParams, commandLine: BootMemory.CommandLine, gdt: gdt.base },
    e820,
    cpu,
  };
}

/**
 * Where the decompressor puts the kernel: a relocatable kernel runs at its load address rounded up to
 * kernel_alignment, but never below pref_address (LOAD_PHYSICAL_ADDR); a fixed one at pref_address
 * (arch/x86/boot/compressed/head_32.S).
 * It needs init_size bytes from there. Kernels before protocol 2.10 do not say, so only the image counts.
 */
function runtimeRange(header: SetupHeader, kernel: MemoryRange): MemoryRange {
  if (header.initSize === undefined) return kernel;
  const aligned = header.relocatable && header.kernelAlignment > 0 ? alignUp(kernel.start, header.kernelAlignment) : kernel.start;
  const start = header.relocatable ? Math.max(aligned, header.prefAddress) : header.prefAddress;
  return { start, end: start + header.initSize };
}

/**
 * The initrd goes as high as possible: its last byte at or below initrd_addr_max and inside the highest
 * RAM range, page-aligned, and above everything the kernel occupies while it boots.
 */
function placeInitrd(size: number, header: SetupHeader, e820: readonly E820Entry[], occupiedEnd: number): MemoryRange {
  const ramEnd = usableRamEndBelow4G(e820);
  const limitedByHeader = header.initrdAddrMax + 1 < ramEnd;
  const ceiling = Math.min(header.initrdAddrMax + 1, ramEnd);
  const start = alignDown(ceiling - size, PAGE_SIZE);
  const range = { start, end: start + size };
  if (start >= occupiedEnd && isUsableRam(e820, start, size)) return range;
  const needed = alignUp(occupiedEnd, PAGE_SIZE) + size;
  if (limitedByHeader) {
    throw new BzImageError(
      `the initrd (${mebibytes(size)}) does not fit below initrd_addr_max ${hex(header.initrdAddrMax)} above the kernel, which occupies memory up to ${hex(occupiedEnd)}`,
    );
  }
  throw new BzImageError(
    `too little memory for kernel + initrd: they need ${hex(needed)} (${mebibytes(needed)}) of RAM; this VM's RAM ends at ${hex(ramEnd)} (${mebibytes(ramEnd)})`,
  );
}
