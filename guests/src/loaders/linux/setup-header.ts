import { hex } from "../address-arithmetic.js";

/**
 * Offsets of the real-mode kernel header ("setup header") in a bzImage file, which are also its offsets
 * in struct boot_params (Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header").
 */
export const SetupHeaderOffset = {
  SetupSects: 0x1f1,
  RootFlags: 0x1f2,
  Syssize: 0x1f4,
  VidMode: 0x1fa,
  RootDev: 0x1fc,
  BootFlag: 0x1fe,
  Jump: 0x200,
  Header: 0x202,
  Version: 0x206,
  KernelVersion: 0x20e,
  TypeOfLoader: 0x210,
  Loadflags: 0x211,
  Code32Start: 0x214,
  RamdiskImage: 0x218,
  RamdiskSize: 0x21c,
  HeapEndPtr: 0x224,
  CmdLinePtr: 0x228,
  InitrdAddrMax: 0x22c,
  KernelAlignment: 0x230,
  RelocatableKernel: 0x234,
  MinAlignment: 0x235,
  Xloadflags: 0x236,
  CmdlineSize: 0x238,
  HardwareSubarch: 0x23c,
  PayloadOffset: 0x248,
  PayloadLength: 0x24c,
  PrefAddress: 0x258,
  InitSize: 0x260,
  HandoverOffset: 0x264,
  KernelInfoOffset: 0x268,
} as const;

export const BOOT_FLAG = 0xaa55;
/** "HdrS" read as a little-endian dword. */
export const SETUP_HEADER_MAGIC = 0x53726448;
export const LoadFlag = { LoadedHigh: 0x01, KaslrFlag: 0x02, QuietFlag: 0x20, KeepSegments: 0x40, CanUseHeap: 0x80 } as const;
/** The oldest protocol with a 32-bit entry point vmk supports: 2.04 (syssize became 32 bits wide). */
export const MINIMUM_BOOT_PROTOCOL = 0x0204;
const SECTOR = 512;
/** Values the header does not carry in older protocol versions, as boot.rst gives them. */
const DEFAULT_INITRD_ADDR_MAX = 0x37ffffff;
const DEFAULT_CMDLINE_SIZE = 255;

export interface SetupHeader {
  /** Number of 512-byte setup sectors after the boot sector (a stored 0 means 4). */
  setupSects: number;
  /** Size of the protected-mode code, from syssize (in 16-byte paragraphs). */
  syssizeBytes: number;
  bootFlag: number;
  /** Protocol version, 0x020f for 2.15. */
  version: number;
  /** The kernel's own version string ("6.1.0-28-686 (debian-kernel@...) #1 SMP ..."), if present. */
  kernelVersion: string | undefined;
  loadflags: number;
  code32Start: number;
  /** Highest address the initrd may occupy (its last byte). */
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  xloadflags: number;
  /** Maximum command line length, not counting the terminating NUL. */
  cmdlineSize: number;
  /** Where the kernel prefers to run (protocol 2.10+), else the 1 MiB load address. */
  prefAddress: number;
  /** Bytes of linear memory the kernel needs from its run address during boot (2.10+), or undefined. */
  initSize: number | undefined;
  /** Offset in the file where the protected-mode kernel begins: (setup_sects + 1) * 512. */
  protectedModeOffset: number;
  /** Bytes of protected-mode kernel in the file. */
  protectedModeSize: number;
  /** One past the last setup header byte (0x202 + the jump's displacement byte at 0x201). */
  headerEnd: number;
}

export class BzImageError extends Error {
  override name = "BzImageError";
}

/** Reads and checks the setup header of a bzImage; throws BzImageError with the reason when it cannot be booted. */
export function parseSetupHeader(image: Uint8Array): SetupHeader {
  if (image.length < SetupHeaderOffset.KernelInfoOffset + 4) {
    throw new BzImageError(`not a bzImage: ${image.length} bytes is too short to hold a setup header`);
  }
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const u8 = (at: number) => view.getUint8(at);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const bootFlag = u16(SetupHeaderOffset.BootFlag);
  if (bootFlag !== BOOT_FLAG) throw new BzImageError(`not a bzImage: boot flag at 0x1FE is ${hex(bootFlag)}, expected 0xaa55`);
  if (u32(SetupHeaderOffset.Header) !== SETUP_HEADER_MAGIC) {
    throw new BzImageError(`not a bzImage: no "HdrS" magic at 0x202 (a pre-2.00 zImage, or not a Linux kernel)`);
  }
  const version = u16(SetupHeaderOffset.Version);
  if (version < MINIMUM_BOOT_PROTOCOL) {
    throw new BzImageError(`Linux boot protocol ${formatProtocol(version)} is too old: vmk needs ${formatProtocol(MINIMUM_BOOT_PROTOCOL)} or newer`);
  }
  const loadflags = u8(SetupHeaderOffset.Loadflags);
  if ((loadflags & LoadFlag.LoadedHigh) === 0) {
    throw new BzImageError("kernel is a zImage (LOADED_HIGH clear: its protected-mode code wants 0x10000); vmk loads only bzImages at 1 MiB");
  }
  const storedSetupSects = u8(SetupHeaderOffset.SetupSects);
  const setupSects = storedSetupSects === 0 ? 4 : storedSetupSects;
  const protectedModeOffset = (setupSects + 1) * SECTOR;
  if (protectedModeOffset >= image.length) {
    throw new BzImageError(`not a bzImage: ${setupSects} setup sectors reach past the end of the ${image.length}-byte file`);
  }
  const syssizeBytes = u32(SetupHeaderOffset.Syssize) * 16;
  const protectedModeSize = image.length - protectedModeOffset;
  // syssize is rounded up to whole paragraphs and the build tool does not pad the file to match.
  if (syssizeBytes > protectedModeSize + 15) {
    throw new BzImageError(`bzImage is truncated: its header announces ${syssizeBytes} bytes of protected-mode kernel, the file holds ${protectedModeSize}`);
  }
  const atLeast = (minimum: number) => version >= minimum;
  const kernelVersionPointer = u16(SetupHeaderOffset.KernelVersion);
  const prefAddress = atLeast(0x020a) ? u32(SetupHeaderOffset.PrefAddress) + u32(SetupHeaderOffset.PrefAddress + 4) * 2 ** 32 : 0x100000;
  return {
    setupSects,
    syssizeBytes,
    bootFlag,
    version,
    kernelVersion: kernelVersionPointer !== 0 ? readCString(image, kernelVersionPointer + 0x200, protectedModeOffset) : undefined,
    loadflags,
    code32Start: u32(SetupHeaderOffset.Code32Start),
    initrdAddrMax: atLeast(0x0203) ? u32(SetupHeaderOffset.InitrdAddrMax) : DEFAULT_INITRD_ADDR_MAX,
    kernelAlignment: atLeast(0x0205) ? u32(SetupHeaderOffset.KernelAlignment) : 0,
    relocatable: atLeast(0x0205) && u8(SetupHeaderOffset.RelocatableKernel) !== 0,
    xloadflags: atLeast(0x020c) ? u16(SetupHeaderOffset.Xloadflags) : 0,
    cmdlineSize: atLeast(0x0206) ? u32(SetupHeaderOffset.CmdlineSize) : DEFAULT_CMDLINE_SIZE,
    prefAddress,
    initSize: atLeast(0x020a) ? u32(SetupHeaderOffset.InitSize) : undefined,
    protectedModeOffset,
    protectedModeSize,
    headerEnd: SetupHeaderOffset.Header + u8(SetupHeaderOffset.Jump + 1),
  };
}

export function formatProtocol(version: number): string {
  return `${version >>> 8}.${(version & 0xff).toString().padStart(2, "0")}`;
}

function readCString(bytes: Uint8Array, start: number, limit: number): string | undefined {
  if (start >= limit) return undefined;
  let end = start;
  while (end < limit && bytes[end] !== 0) end++;
  return new TextDecoder("latin1").decode(bytes.subarray(start, end));
}
