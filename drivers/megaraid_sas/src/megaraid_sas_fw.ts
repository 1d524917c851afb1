/**
 * Firmware bring-up and internal commands (megaraid_sas_base.c): the command pool, the transition to
 * READY, the INIT frame with the reply queue, polled and blocked DCMDs, controller info and the
 * logical drive list, cache flush and shutdown.
 */
import {
  complete,
  dev_err,
  dev_info,
  dma_alloc_coherent,
  dma_free_coherent,
  EINVAL,
  EIO,
  ENODEV,
  ENOMEM,
  ETIMEDOUT,
  init_completion,
  schedule_timeout_uninterruptible,
  wait_for_completion_timeout,
  writel,
  type dma_coherent,
} from "@vmk/vmklinux";
import {
  CTRL_INFO_LD_PRESENT_COUNT,
  CTRL_INFO_MAX_REQUEST_SIZE,
  CTRL_INFO_MAX_STRIPS_PER_IO,
  CTRL_INFO_PACKAGE_VERSION,
  CTRL_INFO_PRODUCT_NAME,
  CTRL_INFO_SERIAL_NO,
  CTRL_INFO_STRIPE_SZ_MIN,
  DCMD_MBOX,
  DCMD_OPCODE,
  DCMD_SGL,
  HDR_CMD,
  HDR_CMD_STATUS,
  HDR_CONTEXT,
  HDR_DATA_XFERLEN,
  HDR_FLAGS,
  HDR_SGE_COUNT,
  HDR_TIMEOUT,
  INIT_QUEUE_INFO_NEW_PHYS_ADDR_HI,
  INIT_QUEUE_INFO_NEW_PHYS_ADDR_LO,
  MEGAMFI_FRAME_ALIGN,
  MEGAMFI_FRAME_SIZE,
  MEGASAS_CTRL_INFO_SIZE,
  MEGASAS_INIT_QUEUE_INFO_SIZE,
  MEGASAS_INTERNAL_CMD_WAIT_TIME,
  MEGASAS_RESET_WAIT_TIME,
  MEGASAS_SENSE_LEN,
  MEGASAS_SGE32_SIZE,
  MEGASAS_SGE64_SIZE,
  MFI_CMD_DCMD,
  MFI_CMD_INIT,
  MFI_FRAME_DIR_READ,
  MFI_FRAME_DONT_POST_IN_REPLY_QUEUE,
  MFI_FRAME_SGL32,
  MFI_FRAME_SGL64,
  MFI_INBOUND_DOORBELL,
  MFI_INIT_CLEAR_HANDSHAKE,
  MFI_INIT_HOTPLUG,
  MFI_POLL_TIMEOUT_SECS,
  MFI_RESET_FLAGS,
  MFI_STAT_INVALID_STATUS,
  MFI_STAT_OK,
  MFI_STATE_BB_INIT,
  MFI_STATE_BOOT_MESSAGE_PENDING,
  MFI_STATE_DEVICE_SCAN,
  MFI_STATE_FAULT,
  MFI_STATE_FLUSH_CACHE,
  MFI_STATE_FW_INIT,
  MFI_STATE_FW_INIT_2,
  MFI_STATE_MASK,
  MFI_STATE_OPERATIONAL,
  MFI_STATE_READY,
  MFI_STATE_UNDEFINED,
  MFI_STATE_WAIT_HANDSHAKE,
  MR_DCMD_CTRL_CACHE_FLUSH,
  MR_DCMD_CTRL_GET_INFO,
  MR_DCMD_LD_GET_LIST,
  MR_FLUSH_CTRL_CACHE,
  MR_FLUSH_DISK_CACHE,
  MR_LD_LIST_SIZE,
  PTHRU_SGL,
  QINFO_CONSUMER_INDEX_PHYS_ADDR_HI,
  QINFO_CONSUMER_INDEX_PHYS_ADDR_LO,
  QINFO_INIT_FLAGS,
  QINFO_PRODUCER_INDEX_PHYS_ADDR_HI,
  QINFO_PRODUCER_INDEX_PHYS_ADDR_LO,
  QINFO_REPLY_QUEUE_ENTRIES,
  QINFO_REPLY_QUEUE_START_PHYS_ADDR_HI,
  QINFO_REPLY_QUEUE_START_PHYS_ADDR_LO,
  megasas_cmd,
  type megasas_ctrl_info,
  type megasas_instance,
} from "./megaraid_sas.js";

const HI = 2 ** 32;

export function frame_clear(cmd: megasas_cmd): void {
  cmd.frame_bytes.fill(0, 0, MEGAMFI_FRAME_SIZE);
}

export function set_u64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / HI), true);
}

// ---- the command pool ----

/**
 * One coherent block of frame slots, each big enough for the main frame and the chained frames of
 * the longest SGL, and one of sense buffers; the command's index is its context.
 */
export function megasas_alloc_cmds(instance: megasas_instance): number {
  const pdev = instance.pdev;
  const sge_sz = instance.dma64 ? MEGASAS_SGE64_SIZE : MEGASAS_SGE32_SIZE;
  const sgl_end = PTHRU_SGL + sge_sz * instance.max_num_sge;
  instance.frame_size = Math.ceil(sgl_end / MEGAMFI_FRAME_ALIGN) * MEGAMFI_FRAME_ALIGN;
  const count = instance.max_fw_cmds;
  const frames = dma_alloc_coherent(pdev.dev, instance.frame_size * count);
  const senses = frames && dma_alloc_coherent(pdev.dev, MEGASAS_SENSE_LEN * count);
  if (!frames || !senses) {
    if (frames) dma_free_coherent(pdev.dev, frames.size, frames, frames.dma_handle);
    dev_err(pdev.dev, "megasas: failed to allocate the frame pool\n");
    return -ENOMEM;
  }
  instance.frame_pool = frames;
  instance.sense_pool = senses;
  instance.cmd_list = [];
  instance.cmd_pool = [];
  for (let i = 0; i < count; i++) {
    const cmd = new megasas_cmd();
    const at = i * instance.frame_size;
    cmd.index = i;
    cmd.frame_bytes = frames.vaddr.subarray(at, at + instance.frame_size);
    cmd.frame = new DataView(frames.vaddr.buffer, frames.vaddr.byteOffset + at, instance.frame_size);
    cmd.frame_phys_addr = frames.dma_handle + at;
    cmd.sense = senses.vaddr.subarray(i * MEGASAS_SENSE_LEN, (i + 1) * MEGASAS_SENSE_LEN);
    cmd.sense_phys_addr = senses.dma_handle + i * MEGASAS_SENSE_LEN;
    cmd.frame.setUint32(HDR_CONTEXT, i, true);
    instance.cmd_list.push(cmd);
  }
  // Popped from the end: the lowest contexts go out first, as Linux's list order does.
  for (let i = count - 1; i >= 0; i--) instance.cmd_pool.push(instance.cmd_list[i]!);
  return 0;
}

export function megasas_free_cmds(instance: megasas_instance): void {
  const dev = instance.pdev.dev;
  if (instance.frame_pool) dma_free_coherent(dev, instance.frame_pool.size, instance.frame_pool, instance.frame_pool.dma_handle);
  if (instance.sense_pool) dma_free_coherent(dev, instance.sense_pool.size, instance.sense_pool, instance.sense_pool.dma_handle);
  instance.frame_pool = null;
  instance.sense_pool = null;
  instance.cmd_list = [];
  instance.cmd_pool = [];
}

export function megasas_get_cmd(instance: megasas_instance): megasas_cmd | null {
  const cmd = instance.cmd_pool.pop();
  if (!cmd) return null;
  cmd.free = false;
  return cmd;
}

export function megasas_return_cmd(instance: megasas_instance, cmd: megasas_cmd): void {
  if (cmd.free) return;
  cmd.scmd = null;
  cmd.sync_cmd = false;
  cmd.abort_requested = false;
  cmd.frame_count = 0;
  cmd.free = true;
  instance.cmd_pool.push(cmd);
}

// ---- firmware state ----

/**
 * Brings the firmware to READY from whatever state it is in: answers the handshake, asks an
 * operational firmware to go back to READY, and waits for booting states to pass. Each state may last
 * MEGASAS_RESET_WAIT_TIME seconds; the wait sleeps a jiffy at a time so the firmware can progress.
 */
export async function megasas_transition_to_ready(instance: megasas_instance): Promise<number> {
  const regs = instance.reg_set;
  const linux = instance.linux;
  const t = instance.instancet;
  let fw_state = (t.read_fw_status_reg(regs) & MFI_STATE_MASK) >>> 0;
  if (fw_state !== MFI_STATE_READY) dev_info(instance.pdev.dev, "megasas: Waiting for FW to come to ready state\n");
  while (fw_state !== MFI_STATE_READY) {
    const abs_state = t.read_fw_status_reg(regs);
    const max_wait = MEGASAS_RESET_WAIT_TIME;
    switch (fw_state) {
      case MFI_STATE_FAULT:
        dev_err(instance.pdev.dev, "megasas: FW in FAULT state!!\n");
        return -EIO;
      case MFI_STATE_WAIT_HANDSHAKE:
        writel(MFI_INIT_CLEAR_HANDSHAKE | MFI_INIT_HOTPLUG, regs, MFI_INBOUND_DOORBELL);
        break;
      case MFI_STATE_BOOT_MESSAGE_PENDING:
        writel(MFI_INIT_HOTPLUG, regs, MFI_INBOUND_DOORBELL);
        break;
      case MFI_STATE_OPERATIONAL:
        // The firmware kept a reply queue from before (a reload): make it forget it.
        t.disable_intr(regs);
        writel(MFI_RESET_FLAGS, regs, MFI_INBOUND_DOORBELL);
        break;
      case MFI_STATE_UNDEFINED:
      case MFI_STATE_BB_INIT:
      case MFI_STATE_FW_INIT:
      case MFI_STATE_FW_INIT_2:
      case MFI_STATE_DEVICE_SCAN:
      case MFI_STATE_FLUSH_CACHE:
        break;
      default:
        dev_err(instance.pdev.dev, "megasas: Unknown state 0x%x\n", fw_state);
        return -ENODEV;
    }
    let curr_abs_state = abs_state;
    for (let i = 0; i < max_wait * linux.HZ; i++) {
      curr_abs_state = t.read_fw_status_reg(regs);
      if (curr_abs_state !== abs_state) break;
      await schedule_timeout_uninterruptible(linux, 1);
    }
    if (curr_abs_state === abs_state) {
      dev_err(instance.pdev.dev, "megasas: FW state [%d] hasn't changed in %d secs\n", fw_state >>> 28, max_wait);
      return -ETIMEDOUT;
    }
    fw_state = (curr_abs_state & MFI_STATE_MASK) >>> 0;
  }
  dev_info(instance.pdev.dev, "megasas: FW now in Ready state\n");
  return 0;
}

// ---- issuing internal commands ----

/** Fires a frame with DONT_POST and polls its status until the firmware writes it (before interrupts are set up). */
export async function megasas_issue_polled(instance: megasas_instance, cmd: megasas_cmd): Promise<number> {
  const frame = cmd.frame;
  frame.setUint8(HDR_CMD_STATUS, MFI_STAT_INVALID_STATUS);
  frame.setUint16(HDR_FLAGS, frame.getUint16(HDR_FLAGS, true) | MFI_FRAME_DONT_POST_IN_REPLY_QUEUE, true);
  instance.instancet.fire_cmd(instance, cmd.frame_phys_addr, 0, instance.reg_set);
  const linux = instance.linux;
  for (let i = 0; i < MFI_POLL_TIMEOUT_SECS * linux.HZ && frame.getUint8(HDR_CMD_STATUS) === MFI_STAT_INVALID_STATUS; i++) {
    await schedule_timeout_uninterruptible(linux, 1);
  }
  if (frame.getUint8(HDR_CMD_STATUS) === MFI_STAT_INVALID_STATUS) return -ETIMEDOUT;
  return 0;
}

/** Fires a frame that completes through the reply queue and waits for the interrupt path to hand it back. */
export async function megasas_issue_blocked_cmd(instance: megasas_instance, cmd: megasas_cmd, timeout_secs: number): Promise<number> {
  cmd.sync_cmd = true;
  cmd.cmd_status = MFI_STAT_INVALID_STATUS;
  cmd.frame.setUint8(HDR_CMD_STATUS, MFI_STAT_INVALID_STATUS);
  init_completion(cmd.done);
  instance.instancet.fire_cmd(instance, cmd.frame_phys_addr, cmd.frame_count, instance.reg_set);
  const left = await wait_for_completion_timeout(instance.linux, cmd.done, timeout_secs * instance.linux.HZ);
  if (left === 0) return -ETIMEDOUT;
  return 0;
}

/** megasas_complete_int_cmd: the interrupt path's end of megasas_issue_blocked_cmd. */
export function megasas_complete_int_cmd(_instance: megasas_instance, cmd: megasas_cmd): void {
  cmd.cmd_status = cmd.frame.getUint8(HDR_CMD_STATUS);
  complete(cmd.done);
}

/** Internal commands use polling until interrupts are on (probe), the reply queue afterwards. */
function megasas_issue_internal(instance: megasas_instance, cmd: megasas_cmd): Promise<number> {
  return instance.irq_requested ? megasas_issue_blocked_cmd(instance, cmd, MEGASAS_INTERNAL_CMD_WAIT_TIME) : megasas_issue_polled(instance, cmd);
}

/** Builds a DCMD reading `size` bytes into `buffer`. */
function megasas_build_dcmd(instance: megasas_instance, cmd: megasas_cmd, opcode: number, buffer: dma_coherent | null, size: number, mbox?: readonly number[]): void {
  frame_clear(cmd);
  const frame = cmd.frame;
  frame.setUint8(HDR_CMD, MFI_CMD_DCMD);
  frame.setUint32(HDR_CONTEXT, cmd.index, true);
  frame.setUint16(HDR_TIMEOUT, 0, true);
  frame.setUint32(DCMD_OPCODE, opcode, true);
  mbox?.forEach((byte, i) => frame.setUint8(DCMD_MBOX + i, byte));
  if (buffer) {
    frame.setUint8(HDR_SGE_COUNT, 1);
    frame.setUint32(HDR_DATA_XFERLEN, size, true);
    if (instance.dma64) {
      frame.setUint16(HDR_FLAGS, MFI_FRAME_DIR_READ | MFI_FRAME_SGL64, true);
      set_u64(frame, DCMD_SGL, buffer.dma_handle);
      frame.setUint32(DCMD_SGL + 8, size, true);
    } else {
      frame.setUint16(HDR_FLAGS, MFI_FRAME_DIR_READ | MFI_FRAME_SGL32, true);
      frame.setUint32(DCMD_SGL, buffer.dma_handle, true);
      frame.setUint32(DCMD_SGL + 4, size, true);
    }
  }
}

/** Runs a data-in DCMD; returns the data, or a negative errno. */
async function megasas_dcmd_read(instance: megasas_instance, opcode: number, size: number, what: string): Promise<Uint8Array | number> {
  const cmd = megasas_get_cmd(instance);
  if (!cmd) return -ENOMEM;
  const buffer = dma_alloc_coherent(instance.pdev.dev, size);
  if (!buffer) {
    megasas_return_cmd(instance, cmd);
    return -ENOMEM;
  }
  megasas_build_dcmd(instance, cmd, opcode, buffer, size);
  let rc = await megasas_issue_internal(instance, cmd);
  const status = cmd.frame.getUint8(HDR_CMD_STATUS);
  const data = buffer.vaddr.slice(0, size);
  dma_free_coherent(instance.pdev.dev, size, buffer, buffer.dma_handle);
  if (rc === 0 && status !== MFI_STAT_OK) {
    dev_err(instance.pdev.dev, "megasas: %s failed with status 0x%x\n", what, status);
    rc = -EIO;
  }
  // A command that timed out may still be with the firmware: its slot is not reused.
  if (rc !== -ETIMEDOUT) megasas_return_cmd(instance, cmd);
  return rc < 0 ? rc : data;
}

// ---- firmware initialisation ----

/** INIT: hands the firmware the reply queue and its producer and consumer indices; READY → OPERATIONAL. */
export async function megasas_issue_init_mfi(instance: megasas_instance): Promise<number> {
  const pdev = instance.pdev;
  const cmd = megasas_get_cmd(instance);
  if (!cmd) return -ENOMEM;
  const qinfo = dma_alloc_coherent(pdev.dev, MEGASAS_INIT_QUEUE_INFO_SIZE);
  if (!qinfo) {
    megasas_return_cmd(instance, cmd);
    return -ENOMEM;
  }
  const reply = instance.reply_queue!;
  const indices = instance.producer_consumer!;
  indices.view.setUint32(instance.producer, 0, true);
  indices.view.setUint32(instance.consumer, 0, true);
  const q = qinfo.view;
  q.setUint32(QINFO_INIT_FLAGS, 0, true);
  q.setUint32(QINFO_REPLY_QUEUE_ENTRIES, instance.max_fw_cmds + 1, true);
  q.setUint32(QINFO_REPLY_QUEUE_START_PHYS_ADDR_LO, reply.dma_handle >>> 0, true);
  q.setUint32(QINFO_REPLY_QUEUE_START_PHYS_ADDR_HI, Math.floor(reply.dma_handle / HI), true);
  q.setUint32(QINFO_PRODUCER_INDEX_PHYS_ADDR_LO, (indices.dma_handle + instance.producer) >>> 0, true);
  q.setUint32(QINFO_PRODUCER_INDEX_PHYS_ADDR_HI, Math.floor((indices.dma_handle + instance.producer) / HI), true);
  q.setUint32(QINFO_CONSUMER_INDEX_PHYS_ADDR_LO, (indices.dma_handle + instance.consumer) >>> 0, true);
  q.setUint32(QINFO_CONSUMER_INDEX_PHYS_ADDR_HI, Math.floor((indices.dma_handle + instance.consumer) / HI), true);

  frame_clear(cmd);
  const frame = cmd.frame;
  frame.setUint8(HDR_CMD, MFI_CMD_INIT);
  frame.setUint32(HDR_CONTEXT, cmd.index, true);
  frame.setUint32(HDR_DATA_XFERLEN, MEGASAS_INIT_QUEUE_INFO_SIZE, true);
  frame.setUint32(INIT_QUEUE_INFO_NEW_PHYS_ADDR_LO, qinfo.dma_handle >>> 0, true);
  frame.setUint32(INIT_QUEUE_INFO_NEW_PHYS_ADDR_HI, Math.floor(qinfo.dma_handle / HI), true);
  let rc = await megasas_issue_polled(instance, cmd);
  const status = frame.getUint8(HDR_CMD_STATUS);
  dma_free_coherent(pdev.dev, MEGASAS_INIT_QUEUE_INFO_SIZE, qinfo, qinfo.dma_handle);
  if (rc === 0 && status !== MFI_STAT_OK) rc = -EIO;
  if (rc < 0) dev_err(pdev.dev, "megasas: Failed to init firmware (status 0x%x)\n", status);
  if (rc !== -ETIMEDOUT) megasas_return_cmd(instance, cmd);
  return rc;
}

function cstring(bytes: Uint8Array, offset: number, length: number): string {
  const field = bytes.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return String.fromCharCode(...(end < 0 ? field : field.subarray(0, end))).trim();
}

export async function megasas_get_ctrl_info(instance: megasas_instance): Promise<number> {
  const data = await megasas_dcmd_read(instance, MR_DCMD_CTRL_GET_INFO, MEGASAS_CTRL_INFO_SIZE, "CTRL_GET_INFO");
  if (typeof data === "number") return data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const info: megasas_ctrl_info = {
    product_name: cstring(data, CTRL_INFO_PRODUCT_NAME, 80),
    serial_no: cstring(data, CTRL_INFO_SERIAL_NO, 32),
    package_version: cstring(data, CTRL_INFO_PACKAGE_VERSION, 96),
    max_request_size: view.getUint32(CTRL_INFO_MAX_REQUEST_SIZE, true),
    max_strips_per_io: view.getUint16(CTRL_INFO_MAX_STRIPS_PER_IO, true),
    stripe_sz_min: data[CTRL_INFO_STRIPE_SZ_MIN]!,
    ld_present_count: view.getUint16(CTRL_INFO_LD_PRESENT_COUNT, true),
  };
  instance.ctrl_info = info;
  return 0;
}

/** MR_DCMD_LD_GET_LIST: the target IDs of the logical drives the host may address. */
export async function megasas_get_ld_list(instance: megasas_instance): Promise<number> {
  const data = await megasas_dcmd_read(instance, MR_DCMD_LD_GET_LIST, MR_LD_LIST_SIZE, "LD_GET_LIST");
  if (typeof data === "number") return data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = view.getUint32(0, true);
  if (count > 64) return -EINVAL;
  instance.ld_ids.clear();
  for (let i = 0; i < count; i++) instance.ld_ids.add(data[8 + i * 16]!);
  return 0;
}

/** MR_DCMD_CTRL_CACHE_FLUSH of the controller and disk caches (detach, shutdown). */
export async function megasas_flush_cache(instance: megasas_instance): Promise<void> {
  const cmd = megasas_get_cmd(instance);
  if (!cmd) return;
  megasas_build_dcmd(instance, cmd, MR_DCMD_CTRL_CACHE_FLUSH, null, 0, [MR_FLUSH_CTRL_CACHE | MR_FLUSH_DISK_CACHE]);
  const rc = await megasas_issue_internal(instance, cmd);
  if (rc < 0 || cmd.frame.getUint8(HDR_CMD_STATUS) !== MFI_STAT_OK) dev_err(instance.pdev.dev, "megasas: cache flush failed\n");
  if (rc !== -ETIMEDOUT) megasas_return_cmd(instance, cmd);
}

/** Tells the firmware the host is going away (MR_DCMD_CTRL_SHUTDOWN): it flushes and logs the shutdown. */
export async function megasas_shutdown_controller(instance: megasas_instance, opcode: number): Promise<void> {
  const cmd = megasas_get_cmd(instance);
  if (!cmd) return;
  megasas_build_dcmd(instance, cmd, opcode, null, 0);
  const rc = await megasas_issue_internal(instance, cmd);
  if (rc < 0 || cmd.frame.getUint8(HDR_CMD_STATUS) !== MFI_STAT_OK) dev_err(instance.pdev.dev, "megasas: controller shutdown failed\n");
  if (rc !== -ETIMEDOUT) megasas_return_cmd(instance, cmd);
}

/** The reply queue (one more entry than commands, so it never fills) and its producer/consumer words. */
export function megasas_alloc_reply_queue(instance: megasas_instance): number {
  const dev = instance.pdev.dev;
  instance.reply_queue = dma_alloc_coherent(dev, 4 * (instance.max_fw_cmds + 1));
  instance.producer_consumer = dma_alloc_coherent(dev, 128);
  if (!instance.reply_queue || !instance.producer_consumer) {
    dev_err(dev, "megasas: Out of DMA mem for reply queue\n");
    megasas_free_reply_queue(instance);
    return -ENOMEM;
  }
  return 0;
}

export function megasas_free_reply_queue(instance: megasas_instance): void {
  const dev = instance.pdev.dev;
  if (instance.reply_queue) dma_free_coherent(dev, instance.reply_queue.size, instance.reply_queue, instance.reply_queue.dma_handle);
  if (instance.producer_consumer) dma_free_coherent(dev, instance.producer_consumer.size, instance.producer_consumer, instance.producer_consumer.dma_handle);
  instance.reply_queue = null;
  instance.producer_consumer = null;
}
