import { loadLinuxKernel } from "../loaders/linux/linux-loader.js";
import { loadMultibootKernel } from "../loaders/multiboot/multiboot-loader.js";
import type { InitialCpuState } from "../loaders/initial-cpu-state.js";

/** What a VM boots directly, without firmware: a kernel image, optionally an initrd, a command line. */
export interface BootImages {
  kernel: Uint8Array;
  initrd?: Uint8Array;
  commandLine?: string;
}

export interface LoadedBootImage {
  protocol: "linux" | "multiboot";
  cpu: InitialCpuState;
  /** One line for the VM's log ("Linux boot protocol 2.15, initrd 1.0 MiB at 0x0ff00000"). */
  description: string;
  /** Requests of the image the loader could not honour without stopping the boot. */
  warnings: string[];
}

const LINUX_HEADER_MAGIC_OFFSET = 0x202;
const LINUX_HEADER_MAGIC = "HdrS";

/** A bzImage carries "HdrS" in its setup header; anything else must be a multiboot kernel. */
export function isLinuxBzImage(kernel: Uint8Array): boolean {
  if (kernel.length < LINUX_HEADER_MAGIC_OFFSET + 4) return false;
  return String.fromCharCode(...kernel.subarray(LINUX_HEADER_MAGIC_OFFSET, LINUX_HEADER_MAGIC_OFFSET + 4)) === LINUX_HEADER_MAGIC;
}

/**
 * Loads the images into guest RAM as the boot loader the protocol expects would (the Linux 32-bit
 * boot protocol for a bzImage, GRUB-style multiboot otherwise, the initrd as its first module).
 */
export function loadBootImage(ram: Uint8Array, images: BootImages): LoadedBootImage {
  const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
  if (isLinuxBzImage(images.kernel)) {
    const boot = loadLinuxKernel({ ram, kernel: images.kernel, initrd: images.initrd, commandLine: images.commandLine });
    const version = boot.header.version;
    const initrd = boot.layout.initrd ? `, initrd ${boot.layout.initrd.end - boot.layout.initrd.start} bytes at ${hex(boot.layout.initrd.start)}` : "";
    const kernelVersion = boot.header.kernelVersion ? ` (${boot.header.kernelVersion})` : "";
    return {
      protocol: "linux",
      cpu: boot.cpu,
      description: `Linux boot protocol ${version >> 8}.${(version & 0xff).toString().padStart(2, "0")}${kernelVersion}, kernel at ${hex(boot.layout.kernel.start)}${initrd}`,
      warnings: [],
    };
  }
  const boot = loadMultibootKernel({
    ram,
    image: images.kernel,
    commandLine: images.commandLine,
    modules: images.initrd ? [{ data: images.initrd, commandLine: "initrd" }] : [],
  });
  return {
    protocol: "multiboot",
    cpu: boot.cpu,
    description: `multiboot (${boot.format}), entry ${hex(boot.entry)}, ${boot.modules.length} module(s)`,
    warnings: boot.warnings,
  };
}
