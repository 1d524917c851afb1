import { putBe16, putBe32, putBe64 } from "./big-endian.js";
import type { ResolvedIdentity } from "./lu-identity.js";

/** Peripheral device type 0: direct-access block device (SBC). */
export const PERIPHERAL_DIRECT_ACCESS = 0x00;
/** Peripheral qualifier 011b with type 1Fh: no logical unit is, or can be, at this LUN. */
export const PERIPHERAL_NO_LOGICAL_UNIT = 0x7f;

export const VpdPage = {
  SUPPORTED_PAGES: 0x00,
  UNIT_SERIAL_NUMBER: 0x80,
  DEVICE_IDENTIFICATION: 0x83,
  BLOCK_LIMITS: 0xb0,
  BLOCK_DEVICE_CHARACTERISTICS: 0xb1,
  LOGICAL_BLOCK_PROVISIONING: 0xb2,
} as const;

const SUPPORTED_VPD_PAGES = [
  VpdPage.SUPPORTED_PAGES,
  VpdPage.UNIT_SERIAL_NUMBER,
  VpdPage.DEVICE_IDENTIFICATION,
  VpdPage.BLOCK_LIMITS,
  VpdPage.BLOCK_DEVICE_CHARACTERISTICS,
  VpdPage.LOGICAL_BLOCK_PROVISIONING,
];

/** Transfer and UNMAP limits a logical unit advertises (Block Limits VPD page) and enforces. All counts are in blocks. */
export interface BlockLimits {
  maxTransferBlocks: number;
  optimalTransferBlocks: number;
  /** 0 means COMPARE AND WRITE is not supported; at most 255. */
  maxCompareAndWriteBlocks: number;
  /** 0 means UNMAP is not supported. */
  maxUnmapBlocks: number;
  maxUnmapDescriptors: number;
  /** 0 means WRITE SAME is not supported. */
  maxWriteSameBlocks: number;
}

export interface InquiryProfile {
  identity: ResolvedIdentity;
  limits: BlockLimits;
  /** Medium rotation rate for VPD B1h: 1 for a solid-state medium, else revolutions per minute. */
  rotationRate: number;
}

// Version descriptors (SPC-3 table 86): SAM-3, SPC-3 and SBC-3, no particular revision claimed.
const VERSION_DESCRIPTORS = [0x0060, 0x0300, 0x04c0];
const STANDARD_INQUIRY_LENGTH = 96;

/** Standard INQUIRY data (SPC-3 6.4.2). */
export function standardInquiry(profile: InquiryProfile, peripheral = PERIPHERAL_DIRECT_ACCESS): Uint8Array {
  const data = new Uint8Array(STANDARD_INQUIRY_LENGTH);
  data[0] = peripheral;
  data[2] = 0x05; // VERSION: SPC-3
  data[3] = 0x10 | 0x02; // HISUP, RESPONSE DATA FORMAT 2
  data[4] = STANDARD_INQUIRY_LENGTH - 5;
  data[7] = 0x02; // CMDQUE: full task management model
  putAscii(data, 8, 8, profile.identity.vendor);
  putAscii(data, 16, 16, profile.identity.product);
  putAscii(data, 32, 4, profile.identity.revision);
  VERSION_DESCRIPTORS.forEach((descriptor, i) => putBe16(data, 58 + 2 * i, descriptor));
  return data;
}

/** INQUIRY data for a LUN with no logical unit behind it: qualifier 011b, type 1Fh, nothing else. */
export function absentLogicalUnitInquiry(profile: InquiryProfile): Uint8Array {
  return standardInquiry(profile, PERIPHERAL_NO_LOGICAL_UNIT);
}

/** The VPD page, or undefined when the page is not supported. */
export function vpdPage(profile: InquiryProfile, page: number): Uint8Array | undefined {
  switch (page) {
    case VpdPage.SUPPORTED_PAGES:
      return vpd(page, Uint8Array.from(SUPPORTED_VPD_PAGES));
    case VpdPage.UNIT_SERIAL_NUMBER:
      return vpd(page, ascii(profile.identity.serial));
    case VpdPage.DEVICE_IDENTIFICATION:
      return vpd(page, deviceIdentification(profile.identity));
    case VpdPage.BLOCK_LIMITS:
      return vpd(page, blockLimits(profile.limits));
    case VpdPage.BLOCK_DEVICE_CHARACTERISTICS:
      return vpd(page, blockDeviceCharacteristics(profile.rotationRate));
    case VpdPage.LOGICAL_BLOCK_PROVISIONING:
      return vpd(page, logicalBlockProvisioning(profile.limits));
    default:
      return undefined;
  }
}

function vpd(page: number, body: Uint8Array): Uint8Array {
  const data = new Uint8Array(4 + body.length);
  data[0] = PERIPHERAL_DIRECT_ACCESS;
  data[1] = page;
  putBe16(data, 2, body.length);
  data.set(body, 4);
  return data;
}

const CODE_SET_BINARY = 0x1;
const CODE_SET_ASCII = 0x2;
const DESIGNATOR_T10_VENDOR_ID = 0x1;
const DESIGNATOR_NAA = 0x3;

/** Designation descriptors (SPC-3 7.6.3), all with logical-unit association. */
function deviceIdentification(identity: ResolvedIdentity): Uint8Array {
  const t10 = new Uint8Array(8 + identity.serial.length);
  putAscii(t10, 0, 8, identity.vendor);
  putAscii(t10, 8, identity.serial.length, identity.serial);
  return concat([designator(CODE_SET_BINARY, DESIGNATOR_NAA, identity.naa), designator(CODE_SET_ASCII, DESIGNATOR_T10_VENDOR_ID, t10)]);
}

function designator(codeSet: number, type: number, value: Uint8Array): Uint8Array {
  const descriptor = new Uint8Array(4 + value.length);
  descriptor[0] = codeSet; // PROTOCOL IDENTIFIER 0: not tied to a transport (PIV is clear)
  descriptor[1] = type; // ASSOCIATION 00b: the logical unit
  descriptor[3] = value.length;
  descriptor.set(value, 4);
  return descriptor;
}

/** Block Limits (SBC-3 6.5.3); the page length is 3Ch. */
function blockLimits(limits: BlockLimits): Uint8Array {
  const body = new Uint8Array(0x3c);
  body[1] = limits.maxCompareAndWriteBlocks;
  putBe16(body, 2, 1); // OPTIMAL TRANSFER LENGTH GRANULARITY: any whole block
  putBe32(body, 4, limits.maxTransferBlocks);
  putBe32(body, 8, limits.optimalTransferBlocks);
  putBe32(body, 16, limits.maxUnmapBlocks);
  putBe32(body, 20, limits.maxUnmapDescriptors);
  if (limits.maxUnmapBlocks > 0) putBe32(body, 24, 1); // OPTIMAL UNMAP GRANULARITY: one block
  putBe64(body, 32, limits.maxWriteSameBlocks);
  return body;
}

/** Block Device Characteristics (SBC-3 6.5.2); the page length is 3Ch. */
function blockDeviceCharacteristics(rotationRate: number): Uint8Array {
  const body = new Uint8Array(0x3c);
  putBe16(body, 0, rotationRate);
  return body;
}

/** Logical Block Provisioning (SBC-3 6.5.4), without a provisioning group descriptor. */
function logicalBlockProvisioning(limits: BlockLimits): Uint8Array {
  const body = new Uint8Array(4);
  if (limits.maxUnmapBlocks > 0) {
    // LBPU: UNMAP works; LBPWS/LBPWS10: so does WRITE SAME with UNMAP; LBPRZ: unmapped blocks read as zeros.
    body[1] = 0x80 | (limits.maxWriteSameBlocks > 0 ? 0x40 | 0x20 : 0) | 0x04;
    body[2] = 0x02; // PROVISIONING TYPE: thin
  }
  return body;
}

/** Writes `text` as ASCII into a fixed field, space-padded (SPC-3 4.4.1) and truncated to `length`. */
function putAscii(target: Uint8Array, offset: number, length: number, text: string): void {
  for (let i = 0; i < length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0x20;
    target[offset + i] = code >= 0x20 && code < 0x7f ? code : 0x20;
  }
}

function ascii(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  putAscii(bytes, 0, text.length, text);
  return bytes;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    data.set(part, offset);
    offset += part.length;
  }
  return data;
}
