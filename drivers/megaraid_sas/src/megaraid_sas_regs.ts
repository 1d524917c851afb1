/**
 * Register access per chip (megasas_instance_template_xscale / _ppc): where the firmware status word
 * lives, how a frame address is posted, how the reply interrupt is enabled, masked and acknowledged.
 */
import { readl, writel, type iomem } from "@vmk/vmklinux";
import {
  MFI_ADP_RESET,
  MFI_G2_OUTBOUND_DOORBELL_CHANGE_INTERRUPT,
  MFI_INTR_FLAG_FIRMWARE_STATE_CHANGE,
  MFI_INTR_FLAG_REPLY_MESSAGE,
  MFI_XSCALE_OMR0_CHANGE_INTERRUPT,
  MFI_INBOUND_DOORBELL,
  MFI_INBOUND_QUEUE_PORT,
  MFI_OB_INTR_STATUS_MASK,
  MFI_OUTBOUND_DOORBELL_CLEAR,
  MFI_OUTBOUND_INTR_MASK,
  MFI_OUTBOUND_INTR_STATUS,
  MFI_OUTBOUND_MSG_0,
  MFI_OUTBOUND_SCRATCH_PAD,
  MFI_REPLY_1078_MESSAGE_INTERRUPT,
  type megasas_instance,
  type megasas_instance_template,
} from "./megaraid_sas.js";

// ---- xscale (IOP333: SAS1064R, PERC 5) ----

/** The frame address goes in as (address >> 3) | extra frames, so frames are 64-byte aligned. */
function megasas_fire_cmd_xscale(_instance: megasas_instance, frame_phys_addr: number, frame_count: number, regs: iomem): void {
  writel((frame_phys_addr / 8) | frame_count, regs, MFI_INBOUND_QUEUE_PORT);
}

function megasas_enable_intr_xscale(regs: iomem): void {
  writel(0, regs, MFI_OUTBOUND_INTR_MASK);
  readl(regs, MFI_OUTBOUND_INTR_MASK);
}

function megasas_disable_intr_xscale(regs: iomem): void {
  writel(0x1f, regs, MFI_OUTBOUND_INTR_MASK);
  readl(regs, MFI_OUTBOUND_INTR_MASK);
}

function megasas_clear_intr_xscale(regs: iomem): number {
  const status = readl(regs, MFI_OUTBOUND_INTR_STATUS);
  let mfiStatus = 0;
  if (status & MFI_OB_INTR_STATUS_MASK) mfiStatus = MFI_INTR_FLAG_REPLY_MESSAGE;
  if (status & MFI_XSCALE_OMR0_CHANGE_INTERRUPT) mfiStatus |= MFI_INTR_FLAG_FIRMWARE_STATE_CHANGE;
  // Write-one-to-clear: writing the status back acknowledges exactly what was seen.
  if (mfiStatus) writel(status, regs, MFI_OUTBOUND_INTR_STATUS);
  readl(regs, MFI_OUTBOUND_INTR_STATUS);
  return mfiStatus;
}

function megasas_read_fw_status_reg_xscale(regs: iomem): number {
  return readl(regs, MFI_OUTBOUND_MSG_0);
}

function megasas_adp_reset_xscale(_instance: megasas_instance, regs: iomem): number {
  writel(MFI_ADP_RESET, regs, MFI_INBOUND_DOORBELL);
  readl(regs, MFI_INBOUND_DOORBELL);
  return 0;
}

export const megasas_instance_template_xscale: megasas_instance_template = {
  fire_cmd: megasas_fire_cmd_xscale,
  enable_intr: megasas_enable_intr_xscale,
  disable_intr: megasas_disable_intr_xscale,
  clear_intr: megasas_clear_intr_xscale,
  read_fw_status_reg: megasas_read_fw_status_reg_xscale,
  adp_reset: megasas_adp_reset_xscale,
};

// ---- ppc (SAS1078) ----

/** Frames are 32-byte aligned: the address keeps its low bits for (extra frames << 1) | 1. */
function megasas_fire_cmd_ppc(_instance: megasas_instance, frame_phys_addr: number, frame_count: number, regs: iomem): void {
  writel((frame_phys_addr | (frame_count << 1) | 1) >>> 0, regs, MFI_INBOUND_QUEUE_PORT);
}

function megasas_enable_intr_ppc(regs: iomem): void {
  writel(0xffffffff, regs, MFI_OUTBOUND_DOORBELL_CLEAR);
  writel(~MFI_REPLY_1078_MESSAGE_INTERRUPT >>> 0, regs, MFI_OUTBOUND_INTR_MASK);
  readl(regs, MFI_OUTBOUND_INTR_MASK);
}

function megasas_disable_intr_ppc(regs: iomem): void {
  writel(0xffffffff, regs, MFI_OUTBOUND_INTR_MASK);
  readl(regs, MFI_OUTBOUND_INTR_MASK);
}

function megasas_clear_intr_ppc(regs: iomem): number {
  const status = readl(regs, MFI_OUTBOUND_INTR_STATUS);
  let mfiStatus = 0;
  if (status & MFI_REPLY_1078_MESSAGE_INTERRUPT) mfiStatus = MFI_INTR_FLAG_REPLY_MESSAGE;
  if (status & MFI_G2_OUTBOUND_DOORBELL_CHANGE_INTERRUPT) mfiStatus |= MFI_INTR_FLAG_FIRMWARE_STATE_CHANGE;
  if (mfiStatus) writel(status, regs, MFI_OUTBOUND_DOORBELL_CLEAR);
  readl(regs, MFI_OUTBOUND_DOORBELL_CLEAR);
  return mfiStatus;
}

function megasas_read_fw_status_reg_ppc(regs: iomem): number {
  return readl(regs, MFI_OUTBOUND_SCRATCH_PAD);
}

export const megasas_instance_template_ppc: megasas_instance_template = {
  fire_cmd: megasas_fire_cmd_ppc,
  enable_intr: megasas_enable_intr_ppc,
  disable_intr: megasas_disable_intr_ppc,
  clear_intr: megasas_clear_intr_ppc,
  read_fw_status_reg: megasas_read_fw_status_reg_ppc,
  adp_reset: megasas_adp_reset_xscale,
};
