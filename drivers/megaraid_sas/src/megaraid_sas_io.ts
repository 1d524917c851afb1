/**
 * The I/O path (megaraid_sas_base.c): queuecommand, LD_READ/LD_WRITE frames for block commands on
 * logical drives, LD_SCSI_IO pass-through frames for every other CDB, 32- and 64-bit SGLs.
 */
import {
  DID_BAD_TARGET,
  DID_ERROR,
  DID_OK,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  READ_10,
  READ_12,
  READ_16,
  READ_6,
  SCSI_MLQUEUE_HOST_BUSY,
  scsi_bufflen,
  scsi_dma_map,
  scsi_done,
  SCSI_SENSE_BUFFERSIZE,
  scsi_sglist,
  shost_priv,
  SYNCHRONIZE_CACHE,
  WRITE_10,
  WRITE_12,
  WRITE_16,
  WRITE_6,
  type scsi_cmnd,
  type Scsi_Host,
} from "@vmk/vmklinux";
import {
  HDR_CDB_LEN,
  HDR_CMD,
  HDR_CMD_STATUS,
  HDR_CONTEXT,
  HDR_DATA_XFERLEN,
  HDR_FLAGS,
  HDR_LUN,
  HDR_SCSI_STATUS,
  HDR_SENSE_LEN,
  HDR_SGE_COUNT,
  HDR_TARGET_ID,
  HDR_TIMEOUT,
  IO_ACCESS_BYTE,
  IO_LBA_COUNT,
  IO_SENSE_BUF_PHYS_ADDR_HI,
  IO_SENSE_BUF_PHYS_ADDR_LO,
  IO_SGL,
  IO_START_LBA_HI,
  IO_START_LBA_LO,
  MEGAMFI_FRAME_SIZE,
  MEGASAS_MAX_LD,
  MEGASAS_SGE32_SIZE,
  MEGASAS_SGE64_SIZE,
  MFI_CMD_LD_READ,
  MFI_CMD_LD_SCSI_IO,
  MFI_CMD_LD_WRITE,
  MFI_FRAME_DIR_NONE,
  MFI_FRAME_DIR_READ,
  MFI_FRAME_DIR_WRITE,
  MFI_FRAME_SGL64,
  MFI_STAT_INVALID_STATUS,
  PTHRU_CDB,
  PTHRU_SENSE_BUF_PHYS_ADDR_HI,
  PTHRU_SENSE_BUF_PHYS_ADDR_LO,
  PTHRU_SGL,
  type megasas_cmd,
  type megasas_instance,
} from "./megaraid_sas.js";
import { frame_clear, megasas_get_cmd, megasas_return_cmd } from "./megaraid_sas_fw.js";

const HI = 2 ** 32;
const MAX_CDB_LEN = 16;
/** The firmware takes at most 8 frames (the main one and 7 chained) per command. */
const MAX_FRAME_COUNT = 8;

function be32(cdb: Uint8Array, at: number): number {
  return ((cdb[at]! << 24) | (cdb[at + 1]! << 16) | (cdb[at + 2]! << 8) | cdb[at + 3]!) >>> 0;
}

/** Logical drives only: the vmkernel scans one channel, and this driver exposes its logical drives there. */
function megasas_ld_present(instance: megasas_instance, scmd: scsi_cmnd): boolean {
  const sdev = scmd.device;
  return sdev.lun === 0 && sdev.id < MEGASAS_MAX_LD && instance.ld_ids.has(sdev.id);
}

export function megasas_is_ldio(cmd: scsi_cmnd): boolean {
  switch (cmd.cmnd[0]) {
    case READ_10:
    case WRITE_10:
    case READ_12:
    case WRITE_12:
    case READ_6:
    case WRITE_6:
    case READ_16:
    case WRITE_16:
      return true;
    default:
      return false;
  }
}

function megasas_data_flags(scp: scsi_cmnd): number {
  if (scp.sc_data_direction === DMA_TO_DEVICE) return MFI_FRAME_DIR_WRITE;
  if (scp.sc_data_direction === DMA_FROM_DEVICE) return MFI_FRAME_DIR_READ;
  return MFI_FRAME_DIR_NONE;
}

/** Writes the scatterlist as 32-bit SGEs at `offset`; the SGE count, or -1 when it cannot be DMA-mapped. */
function megasas_make_sgl32(scp: scsi_cmnd, frame: DataView, offset: number): number {
  const sge_count = scsi_dma_map(scp);
  if (sge_count < 0) return -1;
  const sgl = scsi_sglist(scp);
  for (let i = 0; i < sge_count; i++) {
    const sg = sgl[i]!;
    frame.setUint32(offset + i * MEGASAS_SGE32_SIZE, sg.dma_address, true);
    frame.setUint32(offset + i * MEGASAS_SGE32_SIZE + 4, sg.dma_length, true);
  }
  return sge_count;
}

function megasas_make_sgl64(scp: scsi_cmnd, frame: DataView, offset: number): number {
  const sge_count = scsi_dma_map(scp);
  if (sge_count < 0) return -1;
  const sgl = scsi_sglist(scp);
  for (let i = 0; i < sge_count; i++) {
    const sg = sgl[i]!;
    const at = offset + i * MEGASAS_SGE64_SIZE;
    frame.setUint32(at, sg.dma_address >>> 0, true);
    frame.setUint32(at + 4, Math.floor(sg.dma_address / HI), true);
    frame.setUint32(at + 8, sg.dma_length, true);
  }
  return sge_count;
}

/** Frames the command occupies: the main frame and those its SGL spills into. */
function megasas_get_frame_count(instance: megasas_instance, sge_count: number, sgl_offset: number): number {
  const sge_sz = instance.dma64 ? MEGASAS_SGE64_SIZE : MEGASAS_SGE32_SIZE;
  return Math.min(MAX_FRAME_COUNT, Math.max(1, Math.ceil((sgl_offset + sge_count * sge_sz) / MEGAMFI_FRAME_SIZE)));
}

/** The SGL of an I/O or pass-through frame; false when the data cannot be mapped. */
function megasas_build_sgl(instance: megasas_instance, scp: scsi_cmnd, cmd: megasas_cmd, sgl_offset: number, flags: number): boolean {
  const frame = cmd.frame;
  let sge_count: number;
  if (instance.dma64) {
    flags |= MFI_FRAME_SGL64;
    sge_count = megasas_make_sgl64(scp, frame, sgl_offset);
  } else {
    sge_count = megasas_make_sgl32(scp, frame, sgl_offset);
  }
  if (sge_count < 0) return false;
  frame.setUint16(HDR_FLAGS, flags, true);
  frame.setUint8(HDR_SGE_COUNT, sge_count);
  cmd.frame_count = megasas_get_frame_count(instance, sge_count, sgl_offset);
  return true;
}

/**
 * LD_READ / LD_WRITE: the firmware's block I/O on a logical drive. The CDB's LBA and block count go
 * into the frame (the count in blocks); CDB byte 1 (FUA, DPO) travels as the access byte.
 */
export function megasas_build_ldio(instance: megasas_instance, scp: scsi_cmnd, cmd: megasas_cmd): number {
  const cdb = scp.cmnd;
  const frame = cmd.frame;
  frame_clear(cmd);
  frame.setUint8(HDR_CMD, cdb[0]! & 0x02 ? MFI_CMD_LD_WRITE : MFI_CMD_LD_READ);
  frame.setUint8(HDR_CMD_STATUS, MFI_STAT_INVALID_STATUS);
  frame.setUint8(HDR_TARGET_ID, scp.device.id);
  frame.setUint8(IO_ACCESS_BYTE, scp.cmd_len !== 6 ? cdb[1]! : 0);
  frame.setUint32(HDR_CONTEXT, cmd.index, true);
  frame.setUint16(HDR_TIMEOUT, 0, true);
  let lba_lo = 0;
  let lba_hi = 0;
  let count = 0;
  switch (scp.cmd_len) {
    case 6:
      count = cdb[4]! === 0 ? 256 : cdb[4]!;
      lba_lo = ((cdb[1]! << 16) | (cdb[2]! << 8) | cdb[3]!) & 0x1fffff;
      break;
    case 10:
      count = (cdb[7]! << 8) | cdb[8]!;
      lba_lo = be32(cdb, 2);
      break;
    case 12:
      count = be32(cdb, 6);
      lba_lo = be32(cdb, 2);
      break;
    case 16:
      count = be32(cdb, 10);
      lba_lo = be32(cdb, 6);
      lba_hi = be32(cdb, 2);
      break;
    default:
      return 0;
  }
  frame.setUint32(IO_LBA_COUNT, count, true);
  frame.setUint32(IO_START_LBA_LO, lba_lo, true);
  frame.setUint32(IO_START_LBA_HI, lba_hi, true);
  frame.setUint8(HDR_SENSE_LEN, SCSI_SENSE_BUFFERSIZE);
  frame.setUint32(IO_SENSE_BUF_PHYS_ADDR_LO, cmd.sense_phys_addr >>> 0, true);
  frame.setUint32(IO_SENSE_BUF_PHYS_ADDR_HI, Math.floor(cmd.sense_phys_addr / HI), true);
  if (!megasas_build_sgl(instance, scp, cmd, IO_SGL, megasas_data_flags(scp))) return 0;
  return cmd.frame_count;
}

/** LD_SCSI_IO: any other CDB, passed to the logical drive's LUN as it is. */
export function megasas_build_dcdb(instance: megasas_instance, scp: scsi_cmnd, cmd: megasas_cmd): number {
  if (scp.cmd_len > MAX_CDB_LEN) return 0;
  const frame = cmd.frame;
  frame_clear(cmd);
  frame.setUint8(HDR_CMD, MFI_CMD_LD_SCSI_IO);
  frame.setUint8(HDR_CMD_STATUS, MFI_STAT_INVALID_STATUS);
  frame.setUint8(HDR_SCSI_STATUS, 0);
  frame.setUint8(HDR_TARGET_ID, scp.device.id);
  frame.setUint8(HDR_LUN, scp.device.lun);
  frame.setUint8(HDR_CDB_LEN, scp.cmd_len);
  frame.setUint32(HDR_CONTEXT, cmd.index, true);
  frame.setUint16(HDR_TIMEOUT, 0, true);
  cmd.frame_bytes.set(scp.cmnd.subarray(0, scp.cmd_len), PTHRU_CDB);
  frame.setUint8(HDR_SENSE_LEN, SCSI_SENSE_BUFFERSIZE);
  frame.setUint32(PTHRU_SENSE_BUF_PHYS_ADDR_LO, cmd.sense_phys_addr >>> 0, true);
  frame.setUint32(PTHRU_SENSE_BUF_PHYS_ADDR_HI, Math.floor(cmd.sense_phys_addr / HI), true);
  frame.setUint32(HDR_DATA_XFERLEN, scsi_bufflen(scp), true);
  if (!megasas_build_sgl(instance, scp, cmd, PTHRU_SGL, megasas_data_flags(scp))) return 0;
  return cmd.frame_count;
}

/**
 * queuecommand. Commands for drives the firmware did not report end here with DID_BAD_TARGET;
 * SYNCHRONIZE CACHE completes at once (the firmware manages the logical drives' cache itself and
 * flushes it at shutdown); the rest become frames fired at the inbound queue port.
 */
export function megasas_queue_command(shost: Scsi_Host, scmd: scsi_cmnd): number {
  const instance = shost_priv(shost as Scsi_Host<megasas_instance>);
  if (instance.adprecovery) return SCSI_MLQUEUE_HOST_BUSY;
  scmd.result = 0;
  if (instance.hw_crit_error) {
    scmd.result = DID_ERROR << 16;
    scsi_done(scmd);
    return 0;
  }
  if (!megasas_ld_present(instance, scmd)) {
    scmd.result = DID_BAD_TARGET << 16;
    scsi_done(scmd);
    return 0;
  }
  if (scmd.cmnd[0] === SYNCHRONIZE_CACHE) {
    scmd.result = DID_OK << 16;
    scsi_done(scmd);
    return 0;
  }
  const cmd = megasas_get_cmd(instance);
  if (!cmd) return SCSI_MLQUEUE_HOST_BUSY;
  const frame_count = megasas_is_ldio(scmd) ? megasas_build_ldio(instance, scmd, cmd) : megasas_build_dcdb(instance, scmd, cmd);
  if (!frame_count) {
    megasas_return_cmd(instance, cmd);
    scmd.result = DID_ERROR << 16;
    scsi_done(scmd);
    return 0;
  }
  cmd.scmd = scmd;
  scmd.host_scribble = cmd;
  instance.fw_outstanding++;
  instance.instancet.fire_cmd(instance, cmd.frame_phys_addr, cmd.frame_count - 1, instance.reg_set);
  return 0;
}
