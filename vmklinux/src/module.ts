import type { ModuleContext, VmkModule } from "@vmk/kernel";
import { LinuxError } from "./errno.js";
import { Linux } from "./linux.js";

export interface linux_module_spec {
  /** module_init: returns 0 or a negative errno (or nothing). */
  init(linux: Linux): number | void | Promise<number | void>;
  /** module_exit */
  exit?(linux: Linux): void | Promise<void>;
}

/**
 * Makes a kernel module out of a Linux driver's module_init/module_exit:
 *
 *     export default linux_module({
 *       init: (linux) => linux.pci_register_driver(e1000_driver),
 *       exit: (linux) => linux.pci_unregister_driver(e1000_driver),
 *     });
 *
 * Each load on each host gets its own Linux instance; a failing init (negative errno) fails the load.
 */
export function linux_module(spec: linux_module_spec): VmkModule {
  const instances = new WeakMap<ModuleContext, Linux>();
  return {
    async init(context: ModuleContext): Promise<void> {
      const linux = new Linux(context);
      instances.set(context, linux);
      let rc: number | void;
      try {
        rc = await spec.init(linux);
      } catch (error) {
        throw linux.driver_fault(error, "module_init");
      }
      if (typeof rc === "number" && rc < 0) {
        linux.shutdown();
        instances.delete(context);
        throw new LinuxError(rc, `${context.name}: module_init failed`);
      }
    },
    async exit(context: ModuleContext): Promise<void> {
      const linux = instances.get(context);
      if (!linux) return;
      instances.delete(context);
      try {
        await spec.exit?.(linux);
      } catch (error) {
        throw linux.driver_fault(error, "module_exit");
      }
      linux.shutdown();
    },
  };
}
