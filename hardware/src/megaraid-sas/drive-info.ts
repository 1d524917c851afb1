import { LD_STATE_OPTIMAL, MAX_LOGICAL_DRIVES, PD_STATE_SYSTEM } from "./mfi-frames.js";
import type { DriveGeometry } from "./state.js";

/** struct MR_LD_LIST: count, then 64 entries of (target ID, sequence, state, size in blocks). */
export const LD_LIST_SIZE = 8 + MAX_LOGICAL_DRIVES * 16;
/** struct MR_LD_TARGETID_LIST with room for 256 target IDs (the extended form Linux allocates). */
export const LD_TARGET_ID_LIST_SIZE = 11 + 256;
/** struct mfi_ld_info. */
export const LD_INFO_SIZE = 384;
/** struct mfi_ld_props. */
export const LD_PROPERTIES_SIZE = 32;
/** struct MR_PD_ADDRESS. */
export const PD_ADDRESS_SIZE = 24;
/** struct mfi_pd_info. */
export const PD_INFO_SIZE = 512;

const NO_ENCLOSURE = 0xffff;
/** DDF PD type: interface in bits 12..15, 2 = SAS. */
const PD_TYPE_INTERFACE_SAS = 2 << 12;
/** The single-drive layout a logical drive reports: one span, 64 KiB strips (log2 of 128 blocks). */
const LD_STRIPE_SIZE = 7;

export interface LogicalDriveEntry {
  targetId: number;
  geometry: DriveGeometry | undefined;
}

export interface PhysicalDriveEntry {
  deviceId: number;
  slot: number;
  deviceType: number;
  sasAddress: [number, number];
}

export function buildLdList(drives: readonly LogicalDriveEntry[]): Uint8Array {
  const bytes = new Uint8Array(LD_LIST_SIZE);
  const view = new DataView(bytes.buffer);
  const listed = drives.slice(0, MAX_LOGICAL_DRIVES);
  view.setUint32(0, listed.length, true);
  listed.forEach((drive, i) => {
    const at = 8 + i * 16;
    bytes[at] = drive.targetId;
    bytes[at + 4] = drive.geometry ? LD_STATE_OPTIMAL : 0;
    setU64(view, at + 8, drive.geometry?.blocks ?? 0);
  });
  return bytes;
}

export function buildLdTargetIdList(targetIds: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(LD_TARGET_ID_LIST_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 11 + targetIds.length, true);
  view.setUint32(4, targetIds.length, true);
  targetIds.forEach((id, i) => (bytes[11 + i] = id));
  return bytes;
}

export function buildLdProperties(targetId: number): Uint8Array {
  const bytes = new Uint8Array(LD_PROPERTIES_SIZE);
  bytes[0] = targetId;
  // Cache policies all zero: write-through, no read-ahead, direct I/O, disk cache unchanged. The
  // firmware keeps no cache of its own; access policy 0 is read/write.
  return bytes;
}

export function buildLdInfo(targetId: number, geometry: DriveGeometry, vpdPage83: Uint8Array | undefined): Uint8Array {
  const bytes = new Uint8Array(LD_INFO_SIZE);
  const view = new DataView(bytes.buffer);
  bytes.set(buildLdProperties(targetId), 0);
  // Parameters: RAID 0 over one drive in one span, optimal, consistent.
  bytes[32] = 0;
  bytes[35] = LD_STRIPE_SIZE;
  bytes[36] = 1;
  bytes[37] = 1;
  bytes[38] = LD_STATE_OPTIMAL;
  bytes[40] = 1;
  setU64(view, 64, 0);
  setU64(view, 72, geometry.blocks);
  view.setUint16(80, targetId, true);
  setU64(view, 256, geometry.blocks);
  if (vpdPage83) bytes.set(vpdPage83.subarray(0, 64), 304);
  return bytes;
}

/** struct MR_PD_LIST: size, count, then one MR_PD_ADDRESS per drive, as many as `capacity` bytes hold. */
export function buildPdList(drives: readonly PhysicalDriveEntry[], capacity: number): Uint8Array {
  const room = Math.max(0, Math.floor((capacity - 8) / PD_ADDRESS_SIZE));
  const listed = drives.slice(0, room);
  const bytes = new Uint8Array(8 + listed.length * PD_ADDRESS_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bytes.length, true);
  view.setUint32(4, listed.length, true);
  listed.forEach((drive, i) => {
    const at = 8 + i * PD_ADDRESS_SIZE;
    view.setUint16(at, drive.deviceId, true);
    view.setUint16(at + 2, NO_ENCLOSURE, true);
    bytes[at + 5] = drive.slot;
    bytes[at + 6] = drive.deviceType;
    bytes[at + 7] = 0x01;
    view.setUint32(at + 8, drive.sasAddress[1], true);
    view.setUint32(at + 12, drive.sasAddress[0], true);
  });
  return bytes;
}

export function buildPdInfo(drive: PhysicalDriveEntry, geometry: DriveGeometry | undefined, inquiry: Uint8Array | undefined, vpdPage83: Uint8Array | undefined): Uint8Array {
  const bytes = new Uint8Array(PD_INFO_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, drive.deviceId, true);
  if (inquiry) bytes.set(inquiry.subarray(0, 96), 4);
  if (vpdPage83) bytes.set(vpdPage83.subarray(0, 64), 100);
  bytes[165] = drive.deviceType;
  bytes[166] = 0x01;
  bytes[167] = 1;
  view.setUint16(184, PD_STATE_SYSTEM, true);
  bytes[187] = 1;
  view.setUint32(188, PD_TYPE_INTERFACE_SAS, true);
  bytes[192] = 1;
  view.setUint32(200, drive.sasAddress[1], true);
  view.setUint32(204, drive.sasAddress[0], true);
  const blocks = geometry?.blocks ?? 0;
  setU64(view, 232, blocks);
  setU64(view, 240, blocks);
  setU64(view, 248, blocks);
  view.setUint16(256, NO_ENCLOSURE, true);
  bytes[259] = drive.slot;
  return bytes;
}

function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / 2 ** 32), true);
}
