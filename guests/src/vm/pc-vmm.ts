import type { VmConfig, Vmm, VmRuntimeServices } from "@vmk/kernel";
import { PcVmRuntime } from "./pc-vm-runtime.js";

/** The guests package's virtual machine monitor: an i440FX PC with one i686 vCPU per VM. */
export class PcVmm implements Vmm {
  readonly name = "vmk PC (i440FX/PIIX3, i686)";

  createRuntime(config: VmConfig, services: VmRuntimeServices): PcVmRuntime {
    return new PcVmRuntime({ config, services });
  }
}
