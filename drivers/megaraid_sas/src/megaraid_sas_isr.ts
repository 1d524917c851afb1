/**
 * Completion (megaraid_sas_base.c): the interrupt handler acknowledges the reply interrupt and
 * schedules the tasklet, which drains the reply queue from the consumer to the producer index and
 * completes each command, turning MFI status into SCSI results and sense data.
 */
import {
  DID_BAD_TARGET,
  DID_ERROR,
  DID_OK,
  DMA_FROM_DEVICE,
  IRQ_HANDLED,
  IRQ_NONE,
  SAM_STAT_CHECK_CONDITION,
  scsi_bufflen,
  scsi_dma_unmap,
  scsi_done,
  SCSI_SENSE_BUFFERSIZE,
  scsi_set_resid,
  tasklet_schedule,
  dev_err,
  dev_dbg,
} from "@vmk/vmklinux";
import {
  HDR_CMD,
  HDR_CMD_STATUS,
  HDR_DATA_XFERLEN,
  HDR_SCSI_STATUS,
  HDR_SENSE_LEN,
  MFI_CMD_ABORT,
  MFI_CMD_DCMD,
  MFI_CMD_INIT,
  MFI_CMD_LD_READ,
  MFI_CMD_LD_SCSI_IO,
  MFI_CMD_LD_WRITE,
  MFI_CMD_PD_SCSI_IO,
  MFI_CMD_SMP,
  MFI_CMD_STP,
  MFI_STAT_DEVICE_NOT_FOUND,
  MFI_STAT_INVALID_STATUS,
  MFI_STAT_LD_INIT_IN_PROGRESS,
  MFI_STAT_LD_OFFLINE,
  MFI_STAT_OK,
  MFI_STAT_SCSI_DONE_WITH_ERROR,
  MFI_STAT_SCSI_IO_FAILED,
  MFI_INTR_FLAG_FIRMWARE_STATE_CHANGE,
  MFI_INTR_FLAG_REPLY_MESSAGE,
  MFI_STATE_FAULT,
  MFI_STATE_MASK,
  type megasas_cmd,
  type megasas_instance,
} from "./megaraid_sas.js";
import { megasas_complete_int_cmd, megasas_return_cmd } from "./megaraid_sas_fw.js";

export function megasas_isr(_irq: number, instance: megasas_instance): number {
  return megasas_deplete_reply_queue(instance);
}

/**
 * Acknowledges the controller's interrupt; the replies themselves are read by the tasklet. A firmware
 * state change is only reported: a faulted firmware stops answering, and the midlayer's timeouts
 * bring the host reset that restarts it.
 */
export function megasas_deplete_reply_queue(instance: megasas_instance): number {
  const mfiStatus = instance.instancet.clear_intr(instance.reg_set);
  if (mfiStatus === 0) return IRQ_NONE;
  if (mfiStatus & MFI_INTR_FLAG_FIRMWARE_STATE_CHANGE) {
    const fw_state = (instance.instancet.read_fw_status_reg(instance.reg_set) & MFI_STATE_MASK) >>> 0;
    if (fw_state === MFI_STATE_FAULT) dev_err(instance.pdev.dev, "megasas: FW in FAULT state!!\n");
    else dev_dbg(instance.pdev.dev, "megasas: FW state changed to 0x%x\n", fw_state);
  }
  if (instance.hw_crit_error) return IRQ_HANDLED;
  if (mfiStatus & MFI_INTR_FLAG_REPLY_MESSAGE) tasklet_schedule(instance.isr_tasklet);
  return IRQ_HANDLED;
}

/** The tasklet: every context between the consumer and producer index, then the consumer index catches up. */
export function megasas_complete_cmd_dpc(instance: megasas_instance): void {
  if (instance.hw_crit_error || !instance.producer_consumer || !instance.reply_queue) return;
  const indices = instance.producer_consumer.view;
  const replies = instance.reply_queue.view;
  const entries = instance.max_fw_cmds + 1;
  const producer = indices.getUint32(instance.producer, true);
  let consumer = indices.getUint32(instance.consumer, true);
  if (producer >= entries) {
    dev_err(instance.pdev.dev, "megasas: reply queue producer index %d out of range\n", producer);
    return;
  }
  while (consumer !== producer) {
    const context = replies.getUint32(consumer * 4, true);
    const cmd = instance.cmd_list[context];
    if (cmd === undefined || cmd.free) dev_err(instance.pdev.dev, "megasas: reply for context %d, which is not outstanding\n", context);
    else megasas_complete_cmd(instance, cmd, DID_OK);
    consumer = consumer + 1 === entries ? 0 : consumer + 1;
  }
  indices.setUint32(instance.consumer, producer, true);
}

/**
 * Completes one command. `alt_status` other than DID_OK overrides the firmware's status (commands
 * flushed by a reset). A SCSI command a device reset aborted belongs to the error handler: the
 * firmware leaves its status untouched, and it goes back to the pool without a scsi_done.
 */
export function megasas_complete_cmd(instance: megasas_instance, cmd: megasas_cmd, alt_status: number): void {
  const frame = cmd.frame;
  const command = frame.getUint8(HDR_CMD);
  switch (command) {
    case MFI_CMD_PD_SCSI_IO:
    case MFI_CMD_LD_SCSI_IO:
    case MFI_CMD_LD_READ:
    case MFI_CMD_LD_WRITE: {
      const scmd = cmd.scmd;
      if (!scmd) {
        megasas_return_cmd(instance, cmd);
        return;
      }
      instance.fw_outstanding--;
      const status = frame.getUint8(HDR_CMD_STATUS);
      if (cmd.abort_requested && status === MFI_STAT_INVALID_STATUS) {
        scsi_dma_unmap(scmd);
        megasas_return_cmd(instance, cmd);
        return;
      }
      if (alt_status !== DID_OK) scmd.result = alt_status << 16;
      else megasas_scsi_result(instance, cmd, status, command);
      scsi_dma_unmap(scmd);
      megasas_return_cmd(instance, cmd);
      scsi_done(scmd);
      return;
    }
    case MFI_CMD_SMP:
    case MFI_CMD_STP:
    case MFI_CMD_DCMD:
    case MFI_CMD_ABORT:
    case MFI_CMD_INIT:
      if (cmd.sync_cmd) megasas_complete_int_cmd(instance, cmd);
      else megasas_return_cmd(instance, cmd);
      return;
    default:
      dev_err(instance.pdev.dev, "megasas: Unknown command completed! 0x%x\n", command);
      megasas_return_cmd(instance, cmd);
  }
}

function megasas_scsi_result(instance: megasas_instance, cmd: megasas_cmd, status: number, command: number): void {
  const scmd = cmd.scmd!;
  const frame = cmd.frame;
  const scsi_status = frame.getUint8(HDR_SCSI_STATUS);
  switch (status) {
    case MFI_STAT_OK:
      scmd.result = DID_OK << 16;
      break;
    case MFI_STAT_SCSI_IO_FAILED:
    case MFI_STAT_LD_INIT_IN_PROGRESS:
      scmd.result = (DID_ERROR << 16) | scsi_status;
      break;
    case MFI_STAT_SCSI_DONE_WITH_ERROR:
      scmd.result = (DID_OK << 16) | scsi_status;
      if (scsi_status === SAM_STAT_CHECK_CONDITION) {
        const length = Math.min(frame.getUint8(HDR_SENSE_LEN), SCSI_SENSE_BUFFERSIZE, cmd.sense.length);
        scmd.sense_buffer.fill(0);
        scmd.sense_buffer.set(cmd.sense.subarray(0, length));
      }
      break;
    case MFI_STAT_LD_OFFLINE:
    case MFI_STAT_DEVICE_NOT_FOUND:
      scmd.result = DID_BAD_TARGET << 16;
      break;
    default:
      dev_dbg(instance.pdev.dev, "megasas: MFI FW status %#x\n", status);
      scmd.result = DID_ERROR << 16;
  }
  // Pass-through frames come back with the bytes actually moved in data_xfer_len.
  if (command === MFI_CMD_LD_SCSI_IO || command === MFI_CMD_PD_SCSI_IO) {
    if ((status === MFI_STAT_OK || status === MFI_STAT_SCSI_DONE_WITH_ERROR) && scmd.sc_data_direction === DMA_FROM_DEVICE) {
      const moved = frame.getUint32(HDR_DATA_XFERLEN, true);
      const length = scsi_bufflen(scmd);
      if (moved < length) scsi_set_resid(scmd, length - moved);
    }
  }
}
