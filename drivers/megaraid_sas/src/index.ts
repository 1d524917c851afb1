/** The megaraid_sas kernel module: module_init registers the PCI driver, module_exit unregisters it. */
import { linux_module } from "@vmk/vmklinux";
import { megasas_exit, megasas_init } from "./megaraid_sas_base.js";

export { megasas_pci_driver, megasas_pci_table, megasas_template } from "./megaraid_sas_base.js";
export type { megasas_instance } from "./megaraid_sas.js";

export default linux_module({
  init: megasas_init,
  exit: megasas_exit,
});
