import { be32, be64 } from "./scsi-cdb.js";

/** Parsers for the data-in of the commands the midlayer issues while scanning. */

export interface StandardInquiry {
  /** 0: connected, 1: supported but not connected now, 3: no logical unit at this LUN. */
  peripheralQualifier: number;
  /** 0x00 is a direct-access block device. */
  deviceType: number;
  vendor: string;
  model: string;
  revision: string;
  /** SPC version claimed (byte 2). */
  scsiLevel: number;
}

export const PERIPHERAL_DIRECT_ACCESS = 0x00;
export const STANDARD_INQUIRY_ALLOCATION = 96;

export function parseStandardInquiry(data: Uint8Array): StandardInquiry | undefined {
  if (data.length < 1) return undefined;
  return {
    peripheralQualifier: data[0]! >>> 5,
    deviceType: data[0]! & 0x1f,
    scsiLevel: data[2] ?? 0,
    vendor: ascii(data, 8, 8),
    model: ascii(data, 16, 16),
    revision: ascii(data, 32, 4),
  };
}

/** The designators of VPD page 83h the device naming uses (SPC-4 7.8.6). */
export interface DeviceIdentifiers {
  /** NAA designator associated with the logical unit (8 or 16 bytes), as lower-case hex. */
  naa?: string;
  /** EUI-64 based designator (8, 12 or 16 bytes), as lower-case hex. */
  eui?: string;
  /** T10 vendor ID based designator, as ASCII. */
  t10?: string;
}

const DESIGNATOR_T10 = 1;
const DESIGNATOR_EUI64 = 2;
const DESIGNATOR_NAA = 3;
const ASSOCIATION_LOGICAL_UNIT = 0;

export function parseDeviceIdentification(data: Uint8Array): DeviceIdentifiers {
  const ids: DeviceIdentifiers = {};
  if (data.length < 4 || data[1] !== 0x83) return ids;
  const end = Math.min(data.length, 4 + ((data[2]! << 8) | data[3]!));
  for (let offset = 4; offset + 4 <= end; ) {
    const length = data[offset + 3]!;
    const body = data.subarray(offset + 4, Math.min(end, offset + 4 + length));
    const association = (data[offset + 1]! >>> 4) & 0x3;
    const type = data[offset + 1]! & 0x0f;
    if (association === ASSOCIATION_LOGICAL_UNIT && body.length === length) {
      if (type === DESIGNATOR_NAA && ids.naa === undefined && (length === 8 || length === 16)) ids.naa = hex(body);
      else if (type === DESIGNATOR_EUI64 && ids.eui === undefined) ids.eui = hex(body);
      else if (type === DESIGNATOR_T10 && ids.t10 === undefined) ids.t10 = ascii(body, 0, body.length);
    }
    offset += 4 + length;
  }
  return ids;
}

/** REPORT LUNS parameter data: the LUNs (single-level, peripheral or flat addressing) and the full list length. */
export interface ReportedLuns {
  luns: number[];
  /** Bytes of LUN list the target has; more than was transferred means the allocation was too small. */
  listLength: number;
}

export function parseReportLuns(data: Uint8Array): ReportedLuns {
  if (data.length < 8) return { luns: [], listLength: 0 };
  const listLength = be32(data, 0);
  const luns: number[] = [];
  const end = Math.min(data.length, 8 + listLength);
  for (let offset = 8; offset + 8 <= end; offset += 8) {
    const lun = decodeLun(data, offset);
    if (lun !== undefined) luns.push(lun);
  }
  return { luns, listLength };
}

/** SAM-5 single-level LUN: peripheral device addressing (00b) or flat space addressing (01b); others are skipped. */
function decodeLun(data: Uint8Array, offset: number): number | undefined {
  const method = data[offset]! >>> 6;
  const high = data[offset]! & 0x3f;
  for (let i = 2; i < 8; i++) if (data[offset + i] !== 0) return undefined;
  if (method === 0 && high === 0) return data[offset + 1]!;
  if (method === 1) return (high << 8) | data[offset + 1]!;
  return undefined;
}

export interface Capacity {
  /** Number of logical blocks (last LBA + 1). */
  blocks: number;
  blockSize: number;
}

export function parseReadCapacity10(data: Uint8Array): Capacity | undefined {
  if (data.length < 8) return undefined;
  return { blocks: be32(data, 0) + 1, blockSize: be32(data, 4) };
}

export function parseReadCapacity16(data: Uint8Array): Capacity | undefined {
  if (data.length < 12) return undefined;
  return { blocks: be64(data, 0) + 1, blockSize: be32(data, 8) };
}

/** READ CAPACITY(10)'s RETURNED LOGICAL BLOCK ADDRESS when the medium is too large for it. */
export const CAPACITY_10_OVERFLOW = 0x1_0000_0000;

function ascii(data: Uint8Array, offset: number, length: number): string {
  let text = "";
  for (let i = offset; i < Math.min(data.length, offset + length); i++) {
    const c = data[i]!;
    text += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : " ";
  }
  return text.trim();
}

function hex(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += b.toString(16).padStart(2, "0");
  return text;
}
