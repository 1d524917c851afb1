import { SetupHeaderOffset, SETUP_HEADER_MAGIC, LoadFlag } from "./setup-header.js";

export interface SyntheticBzImageOptions {
  /** The protected-mode kernel (what lands at 1 MiB). */
  payload: Uint8Array;
  version?: number;
  /** The stored value; 0 means 4 sectors to the loader. */
  setupSects?: number;
  loadflags?: number;
  bootFlag?: number;
  magic?: number;
  initrdAddrMax?: number;
  cmdlineSize?: number;
  kernelAlignment?: number;
  relocatable?: boolean;
  prefAddress?: number;
  initSize?: number;
  kernelVersion?: string;
  /** syssize in bytes (rounded up to paragraphs); the payload length by default. */
  syssizeBytes?: number;
}

/** Bytes from 0x202 to the end of the 2.15 setup header: the displacement of the jump at 0x200. */
const HEADER_SPAN = 0x26c - 0x202;
const KERNEL_VERSION_AT = 0x300;

/**
 * A bzImage-shaped file for tests: a boot sector with the setup header the way arch/x86/boot/header.S
 * lays it out, empty setup sectors, then the given protected-mode payload.
 */
export function buildSyntheticBzImage(options: SyntheticBzImageOptions): Uint8Array {
  const storedSetupSects = options.setupSects ?? 4;
  const setupSects = storedSetupSects === 0 ? 4 : storedSetupSects;
  const setupBytes = (setupSects + 1) * 512;
  const image = new Uint8Array(setupBytes + options.payload.length);
  const view = new DataView(image.buffer);
  view.setUint8(SetupHeaderOffset.SetupSects, storedSetupSects);
  view.setUint32(SetupHeaderOffset.Syssize, Math.ceil((options.syssizeBytes ?? options.payload.length) / 16), true);
  view.setUint16(SetupHeaderOffset.VidMode, 0xffff, true);
  view.setUint16(SetupHeaderOffset.BootFlag, options.bootFlag ?? 0xaa55, true);
  view.setUint8(SetupHeaderOffset.Jump, 0xeb);
  view.setUint8(SetupHeaderOffset.Jump + 1, HEADER_SPAN);
  view.setUint32(SetupHeaderOffset.Header, options.magic ?? SETUP_HEADER_MAGIC, true);
  view.setUint16(SetupHeaderOffset.Version, options.version ?? 0x020f, true);
  if (options.kernelVersion !== undefined) {
    view.setUint16(SetupHeaderOffset.KernelVersion, KERNEL_VERSION_AT - 0x200, true);
    image.set(new TextEncoder().encode(options.kernelVersion + "\0"), KERNEL_VERSION_AT);
  }
  view.setUint8(SetupHeaderOffset.Loadflags, options.loadflags ?? LoadFlag.LoadedHigh);
  view.setUint32(SetupHeaderOffset.Code32Start, 0x100000, true);
  view.setUint32(SetupHeaderOffset.InitrdAddrMax, options.initrdAddrMax ?? 0x7fffffff, true);
  view.setUint32(SetupHeaderOffset.KernelAlignment, options.kernelAlignment ?? 0x200000, true);
  view.setUint8(SetupHeaderOffset.RelocatableKernel, options.relocatable === false ? 0 : 1);
  view.setUint8(SetupHeaderOffset.MinAlignment, 21);
  view.setUint32(SetupHeaderOffset.CmdlineSize, options.cmdlineSize ?? 2047, true);
  view.setUint32(SetupHeaderOffset.PrefAddress, options.prefAddress ?? 0x100000, true);
  view.setUint32(SetupHeaderOffset.InitSize, options.initSize ?? 0x200000, true);
  image.set(options.payload, setupBytes);
  return image;
}
