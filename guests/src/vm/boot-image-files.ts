import { readFileSync } from "node:fs";
import type { VmBootConfig } from "@vmk/kernel";
import type { BootImages } from "./boot-image.js";

/** Reads the kernel and initrd a VM's configuration names (vmk.kernel, vmk.initrd, vmk.cmdline). */
export function readBootImages(boot: VmBootConfig): BootImages {
  if (!boot.kernel) throw new Error("nothing to boot: the VM has no vmk.kernel (vmk boots kernels directly; there is no BIOS yet)");
  const read = (what: string, path: string) => {
    try {
      return new Uint8Array(readFileSync(path));
    } catch (error) {
      throw new Error(`cannot read the ${what} ${path}: ${(error as Error).message}`);
    }
  };
  return {
    kernel: read("kernel", boot.kernel),
    ...(boot.initrd ? { initrd: read("initrd", boot.initrd) } : {}),
    commandLine: boot.cmdline,
  };
}
