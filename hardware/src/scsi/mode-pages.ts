import { getBe16, putBe16, putBe32, putBe64 } from "./big-endian.js";
import { ScsiOpcode } from "./opcodes.js";
import { Asc, CheckCondition, SenseKey } from "./sense.js";

export const ModePage = {
  CACHING: 0x08,
  CONTROL: 0x0a,
  ALL: 0x3f,
} as const;

const ALL_SUBPAGES = 0xff;

/** Page control field of MODE SENSE. */
const PageControl = { CURRENT: 0, CHANGEABLE: 1, DEFAULT: 2, SAVED: 3 } as const;

/** What the mode pages describe, read from the logical unit at the time of the command. */
export interface ModeParameters {
  writeCacheEnabled: boolean;
  capacityBlocks: number;
  blockSize: number;
}

/** DPOFUA in the device-specific parameter: DPO and FUA are honoured. */
const DEVICE_SPECIFIC_DPOFUA = 0x10;

/** MODE SENSE(6) and MODE SENSE(10) parameter data (SPC-3 6.9, 6.10, 7.4), before allocation-length truncation. */
export function modeSense(cdb: Uint8Array, parameters: ModeParameters): Uint8Array {
  const ten = cdb[0] === ScsiOpcode.MODE_SENSE_10;
  const disableBlockDescriptors = (cdb[1]! & 0x08) !== 0;
  const longLba = ten && (cdb[1]! & 0x10) !== 0;
  const pageControl = cdb[2]! >> 6;
  const pageCode = cdb[2]! & 0x3f;
  const subpage = cdb[3]!;

  if (pageControl === PageControl.SAVED) {
    throw new CheckCondition({ key: SenseKey.ILLEGAL_REQUEST, code: Asc.SAVING_PARAMETERS_NOT_SUPPORTED, field: { inCdb: true, byte: 2, bit: 7 } });
  }
  // None of these pages has subpages: subpage 0, or "all subpages" which then means just the page.
  if (subpage !== 0 && subpage !== ALL_SUBPAGES) throw CheckCondition.invalidCdbField(3);

  const pages: Uint8Array[] = [];
  if (pageCode === ModePage.CACHING || pageCode === ModePage.ALL) pages.push(cachingPage(pageControl, parameters));
  if (pageCode === ModePage.CONTROL || pageCode === ModePage.ALL) pages.push(controlPage(pageControl));
  if (pages.length === 0) throw CheckCondition.invalidCdbField(2, 5);

  const descriptor = disableBlockDescriptors ? new Uint8Array(0) : blockDescriptor(parameters, longLba);
  const headerLength = ten ? 8 : 4;
  const total = headerLength + descriptor.length + pages.reduce((n, p) => n + p.length, 0);
  const data = new Uint8Array(total);
  if (ten) {
    putBe16(data, 0, total - 2);
    data[3] = DEVICE_SPECIFIC_DPOFUA;
    data[4] = longLba && descriptor.length > 0 ? 0x01 : 0;
    putBe16(data, 6, descriptor.length);
  } else {
    data[0] = total - 1;
    data[2] = DEVICE_SPECIFIC_DPOFUA;
    data[3] = descriptor.length;
  }
  let offset = headerLength;
  data.set(descriptor, offset);
  offset += descriptor.length;
  for (const page of pages) {
    data.set(page, offset);
    offset += page.length;
  }
  return data;
}

/** The MODE SENSE allocation length field. */
export function modeSenseAllocationLength(cdb: Uint8Array): number {
  return cdb[0] === ScsiOpcode.MODE_SENSE_10 ? getBe16(cdb, 7) : cdb[4]!;
}

/** Short (SBC-3 6.4.2) or long (6.4.3) LBA mode parameter block descriptor. */
function blockDescriptor(parameters: ModeParameters, longLba: boolean): Uint8Array {
  if (longLba) {
    const descriptor = new Uint8Array(16);
    putBe64(descriptor, 0, parameters.capacityBlocks);
    putBe32(descriptor, 12, parameters.blockSize);
    return descriptor;
  }
  const descriptor = new Uint8Array(8);
  putBe32(descriptor, 0, Math.min(parameters.capacityBlocks, 0xffffffff));
  descriptor[5] = parameters.blockSize >>> 16;
  descriptor[6] = parameters.blockSize >>> 8;
  descriptor[7] = parameters.blockSize;
  return descriptor;
}

/** Caching mode page (SBC-3 6.4.5). MODE SELECT is not offered, so nothing is changeable. */
function cachingPage(pageControl: number, parameters: ModeParameters): Uint8Array {
  const page = new Uint8Array(20);
  page[0] = ModePage.CACHING;
  page[1] = page.length - 2;
  if (pageControl === PageControl.CURRENT) page[2] = parameters.writeCacheEnabled ? 0x04 : 0; // WCE; RCD clear
  else if (pageControl === PageControl.DEFAULT) page[2] = 0x04;
  return page;
}

/** Control mode page (SPC-3 7.4.6). */
function controlPage(pageControl: number): Uint8Array {
  const page = new Uint8Array(12);
  page[0] = ModePage.CONTROL;
  page[1] = page.length - 2;
  // TST 000b: one task set for all I_T nexuses. QUEUE ALGORITHM MODIFIER 1: commands may be reordered,
  // which is what the logical unit does with commands on disjoint blocks. QErr 00b, D_SENSE 0 (fixed sense).
  if (pageControl !== PageControl.CHANGEABLE) page[3] = 0x10;
  return page;
}
