/**
 * Probe, attach and detach (megaraid_sas_base.c): PCI resources, the register set of the chip, the
 * firmware brought up, the interrupt, the Scsi_Host registered with the vmkernel.
 */
import {
  dev_err,
  dev_info,
  DMA_BIT_MASK,
  dma_set_mask_and_coherent,
  ENODEV,
  iounmap,
  IORESOURCE_MEM,
  PCI_DEVICE,
  pci_disable_device,
  pci_enable_device_mem,
  pci_get_drvdata,
  pci_ioremap_bar,
  pci_release_selected_regions,
  pci_request_selected_regions,
  pci_resource_flags,
  pci_set_drvdata,
  pci_set_master,
  scsi_add_host,
  scsi_host_alloc,
  scsi_host_put,
  scsi_remove_host,
  scsi_scan_host,
  shost_priv,
  tasklet_init,
  tasklet_kill,
  IRQF_SHARED,
  type Linux,
  type pci_dev,
  type pci_device_id,
  type pci_driver,
  type Scsi_Host,
  type scsi_host_template,
} from "@vmk/vmklinux";
import {
  MEGASAS_DEFAULT_CMD_PER_LUN,
  MEGASAS_DEFAULT_INIT_ID,
  MEGASAS_INT_CMDS,
  MEGASAS_MAX_LD,
  MEGASAS_RELDATE,
  MEGASAS_VERSION,
  MFI_STATE_MAX_COMMANDS_MASK,
  MFI_STATE_MAX_SGE_MASK,
  MFI_STATE_MAX_SGE_SHIFT,
  SECTOR_SIZE,
  MR_DCMD_CTRL_SHUTDOWN,
  PCI_DEVICE_ID_DELL_PERC5,
  PCI_DEVICE_ID_LSI_SAS1064R,
  PCI_DEVICE_ID_LSI_SAS1078R,
  PCI_VENDOR_ID_DELL,
  PCI_VENDOR_ID_LSI_LOGIC,
  megasas_instance,
} from "./megaraid_sas.js";
import { megasas_reset_bus_host, megasas_reset_device, megasas_task_abort } from "./megaraid_sas_eh.js";
import {
  megasas_alloc_cmds,
  megasas_alloc_reply_queue,
  megasas_flush_cache,
  megasas_free_cmds,
  megasas_free_reply_queue,
  megasas_get_ctrl_info,
  megasas_get_ld_list,
  megasas_issue_init_mfi,
  megasas_shutdown_controller,
  megasas_transition_to_ready,
} from "./megaraid_sas_fw.js";
import { megasas_queue_command } from "./megaraid_sas_io.js";
import { megasas_complete_cmd_dpc, megasas_isr } from "./megaraid_sas_isr.js";
import { megasas_instance_template_ppc, megasas_instance_template_xscale } from "./megaraid_sas_regs.js";

export const megasas_pci_table: readonly pci_device_id[] = [
  PCI_DEVICE(PCI_VENDOR_ID_LSI_LOGIC, PCI_DEVICE_ID_LSI_SAS1064R),
  PCI_DEVICE(PCI_VENDOR_ID_LSI_LOGIC, PCI_DEVICE_ID_LSI_SAS1078R),
  PCI_DEVICE(PCI_VENDOR_ID_DELL, PCI_DEVICE_ID_DELL_PERC5),
];

function megasas_info(shost: Scsi_Host): string {
  const instance = shost_priv(shost as Scsi_Host<megasas_instance>);
  return instance.ctrl_info?.product_name || megasas_template.name;
}

export const megasas_template: scsi_host_template = {
  name: "LSI SAS based MegaRAID driver",
  proc_name: "megaraid_sas",
  info: megasas_info,
  queuecommand: megasas_queue_command,
  eh_abort_handler: megasas_task_abort,
  eh_device_reset_handler: megasas_reset_device,
  eh_bus_reset_handler: megasas_reset_bus_host,
  eh_host_reset_handler: megasas_reset_bus_host,
  can_queue: 1,
  this_id: MEGASAS_DEFAULT_INIT_ID,
  sg_tablesize: 1,
  cmd_per_lun: MEGASAS_DEFAULT_CMD_PER_LUN,
};

export const megasas_pci_driver: pci_driver = {
  name: "megaraid_sas",
  id_table: megasas_pci_table,
  probe: megasas_probe_one,
  remove: megasas_detach_one,
};

/**
 * Maps the register BAR and brings the firmware up: READY, the limits it reports, the frame pool and
 * reply queue, INIT, then the controller information and the logical drive list. Commands are polled
 * here; interrupts come later.
 */
export async function megasas_init_fw(instance: megasas_instance): Promise<number> {
  const pdev = instance.pdev;
  // The register set is the first memory BAR on every chip this driver knows.
  instance.base_bar = 0;
  instance.bars = 1 << instance.base_bar;
  if (!(pci_resource_flags(pdev, instance.base_bar) & IORESOURCE_MEM) || pci_request_selected_regions(pdev, instance.bars, "megasas: LSI")) {
    dev_err(pdev.dev, "megasas: IO memory region busy!\n");
    return -ENODEV;
  }
  const reg_set = pci_ioremap_bar(pdev, instance.base_bar);
  if (!reg_set) {
    dev_err(pdev.dev, "megasas: Failed to map IO mem\n");
    pci_release_selected_regions(pdev, instance.bars);
    return -ENODEV;
  }
  instance.reg_set = reg_set;
  const unwind = (rc: number): number => {
    megasas_free_reply_queue(instance);
    megasas_free_cmds(instance);
    iounmap(reg_set);
    pci_release_selected_regions(pdev, instance.bars);
    return rc;
  };
  instance.instancet.disable_intr(reg_set);
  let rc = await megasas_transition_to_ready(instance);
  if (rc) return unwind(rc);

  const status = instance.instancet.read_fw_status_reg(reg_set);
  // One command fewer than the firmware takes, so the reply queue (one entry more) fits its limit.
  instance.max_fw_cmds = (status & MFI_STATE_MAX_COMMANDS_MASK) - 1;
  instance.max_num_sge = (status & MFI_STATE_MAX_SGE_MASK) >>> MFI_STATE_MAX_SGE_SHIFT;
  if (instance.max_fw_cmds <= MEGASAS_INT_CMDS || instance.max_num_sge === 0) {
    dev_err(pdev.dev, "megasas: firmware reports %d commands and %d SGEs; too few\n", instance.max_fw_cmds + 1, instance.max_num_sge);
    return unwind(-ENODEV);
  }
  if ((rc = megasas_alloc_cmds(instance))) return unwind(rc);
  if ((rc = megasas_alloc_reply_queue(instance))) return unwind(rc);
  if ((rc = await megasas_issue_init_mfi(instance))) return unwind(rc);
  if ((rc = await megasas_get_ld_list(instance))) return unwind(rc);

  // Largest request: as many pages as SGEs, unless the firmware says less.
  instance.max_sectors_per_req = (instance.max_num_sge * 4096) / SECTOR_SIZE;
  if ((await megasas_get_ctrl_info(instance)) === 0 && instance.ctrl_info) {
    const info = instance.ctrl_info;
    const strip_sectors = info.max_strips_per_io * (1 << info.stripe_sz_min);
    const tmp_sectors = Math.min(info.max_request_size, strip_sectors || info.max_request_size);
    if (tmp_sectors && instance.max_sectors_per_req > tmp_sectors) instance.max_sectors_per_req = tmp_sectors;
  }
  tasklet_init(instance.linux, instance.isr_tasklet, megasas_complete_cmd_dpc, instance);
  return 0;
}

/** The midlayer's view of the adapter: limits from the firmware, then scsi_add_host. */
function megasas_io_attach(instance: megasas_instance): number {
  const host = instance.host;
  const pdev = instance.pdev;
  host.irq = pdev.irq;
  host.can_queue = instance.max_fw_cmds - MEGASAS_INT_CMDS;
  host.this_id = MEGASAS_DEFAULT_INIT_ID;
  host.sg_tablesize = instance.max_num_sge;
  host.max_sectors = instance.max_sectors_per_req;
  host.cmd_per_lun = MEGASAS_DEFAULT_CMD_PER_LUN;
  // Logical drives are single-LUN targets 0..63 on the one channel the vmkernel scans.
  host.max_channel = 0;
  host.max_id = MEGASAS_MAX_LD;
  host.max_lun = 1;
  const rc = scsi_add_host(host, pdev.dev);
  if (rc) dev_err(pdev.dev, "megasas: scsi_add_host failed\n");
  return rc;
}

export async function megasas_probe_one(pdev: pci_dev, _id: pci_device_id): Promise<number> {
  const linux: Linux = pdev.linux;
  dev_info(pdev.dev, "megasas: %s %s\n", MEGASAS_VERSION, MEGASAS_RELDATE);
  let rc = pci_enable_device_mem(pdev);
  if (rc) return rc;
  pci_set_master(pdev);
  const host = scsi_host_alloc(megasas_template, megasas_instance);
  const instance = shost_priv(host);
  instance.host = host;
  instance.pdev = pdev;
  instance.linux = linux;
  // IS_DMA64: 64-bit SGEs and sense addresses when the device may address all of memory.
  instance.dma64 = dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(64)) === 0;
  if (!instance.dma64 && dma_set_mask_and_coherent(pdev.dev, DMA_BIT_MASK(32))) {
    dev_err(pdev.dev, "megasas: 32-bit DMA mask failed\n");
    pci_disable_device(pdev);
    return -ENODEV;
  }
  switch (pdev.device) {
    case PCI_DEVICE_ID_LSI_SAS1078R:
      instance.instancet = megasas_instance_template_ppc;
      break;
    case PCI_DEVICE_ID_LSI_SAS1064R:
    case PCI_DEVICE_ID_DELL_PERC5:
      instance.instancet = megasas_instance_template_xscale;
      break;
    default:
      pci_disable_device(pdev);
      return -ENODEV;
  }
  rc = await megasas_init_fw(instance);
  if (rc) {
    dev_err(pdev.dev, "megasas: firmware initialisation failed (%d)\n", rc);
    pci_disable_device(pdev);
    return rc;
  }
  rc = linux.request_irq(pdev.irq, megasas_isr, IRQF_SHARED, "megasas", instance);
  if (rc) {
    dev_err(pdev.dev, "megasas: Failed to register IRQ\n");
    megasas_release_mfi(instance);
    pci_disable_device(pdev);
    return rc;
  }
  instance.irq_requested = true;
  instance.instancet.enable_intr(instance.reg_set);
  pci_set_drvdata(pdev, instance);
  rc = megasas_io_attach(instance);
  if (rc) {
    instance.instancet.disable_intr(instance.reg_set);
    linux.free_irq(pdev.irq, instance);
    instance.irq_requested = false;
    megasas_release_mfi(instance);
    pci_disable_device(pdev);
    return rc;
  }
  const info = instance.ctrl_info;
  dev_info(pdev.dev, "megasas: %s (serial %s, firmware %s) as %s: %d logical drive%s, %d commands, %d SGEs\n",
    info?.product_name ?? "MegaRAID SAS", info?.serial_no ?? "?", info?.package_version ?? "?", host.registration?.name ?? "scsi",
    instance.ld_ids.size, instance.ld_ids.size === 1 ? "" : "s", instance.max_fw_cmds, instance.max_num_sge);
  scsi_scan_host(host);
  return 0;
}

/** Frees what megasas_init_fw set up. */
function megasas_release_mfi(instance: megasas_instance): void {
  tasklet_kill(instance.isr_tasklet);
  megasas_free_reply_queue(instance);
  megasas_free_cmds(instance);
  iounmap(instance.reg_set);
  pci_release_selected_regions(instance.pdev, instance.bars);
}

/** The adapter leaves the midlayer, the firmware flushes and shuts down, the resources go. */
export async function megasas_detach_one(pdev: pci_dev): Promise<void> {
  const instance = pci_get_drvdata<megasas_instance>(pdev);
  instance.unload = true;
  scsi_remove_host(instance.host);
  if (!instance.hw_crit_error) {
    await megasas_flush_cache(instance);
    await megasas_shutdown_controller(instance, MR_DCMD_CTRL_SHUTDOWN);
  }
  instance.instancet.disable_intr(instance.reg_set);
  if (instance.irq_requested) instance.linux.free_irq(pdev.irq, instance);
  instance.irq_requested = false;
  megasas_release_mfi(instance);
  scsi_host_put(instance.host);
  pci_set_drvdata(pdev, null);
  pci_disable_device(pdev);
}

export function megasas_init(linux: Linux): number {
  linux.pr_info("megasas: %s %s\n", MEGASAS_VERSION, MEGASAS_RELDATE);
  return linux.pci_register_driver(megasas_pci_driver);
}

export function megasas_exit(linux: Linux): void {
  linux.pci_unregister_driver(megasas_pci_driver);
}
