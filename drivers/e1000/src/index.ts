/** The e1000 kernel module: module_init registers the PCI driver, module_exit unregisters it. */
import { linux_module } from "@vmk/vmklinux";
import { e1000_exit_module, e1000_init_module } from "./e1000_main.js";

export { e1000_driver, e1000_pci_tbl } from "./e1000_main.js";
export type { e1000_adapter } from "./e1000.js";

export default linux_module({
  init: e1000_init_module,
  exit: e1000_exit_module,
});
