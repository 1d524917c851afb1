/**
 * Error handling (megaraid_sas_base.c). MFI firmware has no task abort for a single SCSI command
 * (Linux answers FAILED for these chips), so the midlayer escalates: the device reset aborts every
 * outstanding command of the logical drive with MFI ABORT frames and waits for them to come back; the
 * host reset resets the controller (online controller reset), brings the firmware back to READY and
 * hands it the reply queue again.
 */
import {
  FAILED,
  schedule_timeout_uninterruptible,
  scsi_dma_unmap,
  sdev_printk,
  shost_priv,
  SUCCESS,
  type scsi_cmnd,
  type Scsi_Host,
} from "@vmk/vmklinux";
import {
  ABORT_CONTEXT,
  ABORT_MFI_PHYS_ADDR_HI,
  ABORT_MFI_PHYS_ADDR_LO,
  HDR_CMD,
  HDR_CMD_STATUS,
  HDR_CONTEXT,
  MEGASAS_ABORT_WAIT_SECS,
  MEGASAS_INTERNAL_CMD_WAIT_TIME,
  MFI_CMD_ABORT,
  MFI_STAT_OK,
  MFI_STAT_NOT_FOUND,
  type megasas_cmd,
  type megasas_instance,
} from "./megaraid_sas.js";
import {
  frame_clear,
  megasas_get_cmd,
  megasas_issue_blocked_cmd,
  megasas_issue_init_mfi,
  megasas_return_cmd,
  megasas_transition_to_ready,
  set_u64,
} from "./megaraid_sas_fw.js";

function instance_of(scmd: scsi_cmnd): megasas_instance {
  return shost_priv(scmd.device.host as Scsi_Host<megasas_instance>);
}

/** eh_abort_handler: MFI has no per-command task abort the host may rely on. */
export function megasas_task_abort(scmd: scsi_cmnd): number {
  sdev_printk(5, scmd.device, "TASK ABORT not supported\n");
  return FAILED;
}

/** MFI_CMD_ABORT for one outstanding frame, waited for through the reply queue. */
export async function megasas_issue_blocked_abort_cmd(instance: megasas_instance, cmd_to_abort: megasas_cmd): Promise<number> {
  const cmd = megasas_get_cmd(instance);
  if (!cmd) return -1;
  frame_clear(cmd);
  const frame = cmd.frame;
  frame.setUint8(HDR_CMD, MFI_CMD_ABORT);
  frame.setUint32(HDR_CONTEXT, cmd.index, true);
  frame.setUint32(ABORT_CONTEXT, cmd_to_abort.index, true);
  frame.setUint32(ABORT_MFI_PHYS_ADDR_LO, cmd_to_abort.frame_phys_addr >>> 0, true);
  frame.setUint32(ABORT_MFI_PHYS_ADDR_HI, Math.floor(cmd_to_abort.frame_phys_addr / 2 ** 32), true);
  cmd.frame_count = 0;
  cmd_to_abort.abort_requested = true;
  const rc = await megasas_issue_blocked_cmd(instance, cmd, MEGASAS_INTERNAL_CMD_WAIT_TIME);
  const status = frame.getUint8(HDR_CMD_STATUS);
  if (rc === 0) megasas_return_cmd(instance, cmd);
  if (rc < 0) return rc;
  // NOT_FOUND: the command completed before the abort reached it, which is as good.
  return status === MFI_STAT_OK || status === MFI_STAT_NOT_FOUND ? 0 : -status;
}

/** eh_device_reset_handler: aborts the logical drive's outstanding commands and waits for them to come back. */
export async function megasas_reset_device(scmd: scsi_cmnd): Promise<number> {
  const instance = instance_of(scmd);
  const sdev = scmd.device;
  sdev_printk(5, sdev, "megasas: RESET cmd=%x retries=%x\n", scmd.cmnd[0], scmd.retries);
  if (instance.hw_crit_error) {
    sdev_printk(3, sdev, "megasas: cannot recover from previous reset failures\n");
    return FAILED;
  }
  const victims: { cmd: megasas_cmd; scmd: scsi_cmnd }[] = [];
  for (const cmd of instance.cmd_list) {
    const owner = cmd.scmd;
    if (!cmd.free && owner && owner.device === sdev) victims.push({ cmd, scmd: owner });
  }
  for (const victim of victims) {
    if (victim.cmd.free || victim.cmd.scmd !== victim.scmd) continue;
    const rc = await megasas_issue_blocked_abort_cmd(instance, victim.cmd);
    if (rc < 0) {
      sdev_printk(3, sdev, "megasas: abort of outstanding command %d failed (%d)\n", victim.cmd.index, rc);
      return FAILED;
    }
  }
  const linux = instance.linux;
  const gone = () => victims.every(({ cmd, scmd: owner }) => cmd.free || cmd.scmd !== owner);
  for (let i = 0; i < MEGASAS_ABORT_WAIT_SECS * linux.HZ && !gone(); i++) await schedule_timeout_uninterruptible(linux, 1);
  if (!gone()) {
    sdev_printk(3, sdev, "megasas: %d aborted commands did not come back\n", victims.filter(({ cmd, scmd: owner }) => !cmd.free && cmd.scmd === owner).length);
    return FAILED;
  }
  sdev_printk(5, sdev, "megasas: reset successful (%d commands aborted)\n", victims.length);
  return SUCCESS;
}

/**
 * eh_host_reset_handler: with nothing outstanding the controller is fine; otherwise the firmware is
 * reset and initialised again, and every command it held is dropped (the midlayer retries them).
 */
export async function megasas_reset_bus_host(scmd: scsi_cmnd): Promise<number> {
  const instance = instance_of(scmd);
  if (instance.hw_crit_error) return FAILED;
  const busy = instance.cmd_list.filter((cmd) => !cmd.free && cmd.scmd !== null);
  if (busy.length === 0) return SUCCESS;
  sdev_printk(4, scmd.device, "megasas: resetting the controller (%d commands outstanding)\n", busy.length);
  instance.adprecovery = true;
  const t = instance.instancet;
  t.disable_intr(instance.reg_set);
  t.adp_reset(instance, instance.reg_set);
  // The firmware forgot every frame; the driver forgets them too.
  for (const cmd of instance.cmd_list) {
    if (cmd.free) continue;
    if (cmd.scmd) {
      scsi_dma_unmap(cmd.scmd);
      instance.fw_outstanding--;
    }
    megasas_return_cmd(instance, cmd);
  }
  instance.fw_outstanding = 0;
  let rc = await megasas_transition_to_ready(instance);
  if (rc === 0) rc = await megasas_issue_init_mfi(instance);
  if (rc < 0) {
    instance.hw_crit_error = true;
    instance.adprecovery = false;
    sdev_printk(3, scmd.device, "megasas: controller reset failed (%d); the adapter is dead\n", rc);
    return FAILED;
  }
  t.enable_intr(instance.reg_set);
  instance.adprecovery = false;
  sdev_printk(5, scmd.device, "megasas: reset successful\n");
  return SUCCESS;
}
