import type { MegaRaidVariant } from "./variants.js";

/** struct megasas_ctrl_info: 2 KiB, fields at the offsets Linux and FreeBSD agree on. */
export const CONTROLLER_INFO_SIZE = 0x800;
/** struct megasas_ctrl_prop, also embedded in the controller info at 0x600. */
export const CONTROLLER_PROPERTIES_SIZE = 64;

const Offset = {
  PCI_VENDOR: 0x00,
  PCI_DEVICE: 0x02,
  PCI_SUBVENDOR: 0x04,
  PCI_SUBDEVICE: 0x06,
  HOST_TYPE: 0x20,
  HOST_PORT_COUNT: 0x27,
  HOST_PORT_ADDRESS: 0x28,
  DEVICE_TYPE: 0x68,
  DEVICE_PORT_COUNT: 0x6f,
  DEVICE_PORT_ADDRESS: 0x70,
  IMAGE_COMPONENT_COUNT: 0xb4,
  IMAGE_COMPONENT: 0xb8,
  MAX_ARMS: 0x53c,
  MAX_SPANS: 0x53d,
  MAX_ARRAYS: 0x53e,
  MAX_LDS: 0x53f,
  PRODUCT_NAME: 0x540,
  SERIAL_NUMBER: 0x590,
  HW_PRESENT: 0x5b0,
  CURRENT_FW_TIME: 0x5b4,
  MAX_COMMANDS: 0x5b8,
  MAX_SG_ELEMENTS: 0x5ba,
  MAX_REQUEST_SIZE: 0x5bc,
  LDS_PRESENT: 0x5c0,
  PD_PRESENT: 0x5c6,
  PD_DISKS_PRESENT: 0x5c8,
  NVRAM_SIZE: 0x5ce,
  MEMORY_SIZE: 0x5d0,
  FLASH_SIZE: 0x5d2,
  MAX_STRIPS_PER_IO: 0x5da,
  RAID_LEVELS: 0x5dc,
  ADAPTER_OPERATIONS: 0x5e0,
  LD_OPERATIONS: 0x5e4,
  STRIPE_SIZE_MIN: 0x5e8,
  STRIPE_SIZE_MAX: 0x5e9,
  PD_OPERATIONS: 0x5ec,
  PD_MIX_SUPPORT: 0x5f0,
  PROPERTIES: 0x600,
  PACKAGE_VERSION: 0x640,
} as const;

const HOST_TYPE_PCIE = 0x02;
const DEVICE_TYPE_SAS3G = 0x02;
const DEVICE_TYPE_SATA3G = 0x08;
const HW_PRESENT_ALARM = 0x02;
const HW_PRESENT_NVRAM = 0x04;
const HW_PRESENT_MEMORY = 0x10;
const HW_PRESENT_FLASH = 0x20;
const RAID_LEVEL_0 = 0x01;
const PD_MIX_SAS = 0x01;
const PD_MIX_SATA = 0x02;

/** The firmware this model is, named as what it is rather than as a copy of LSI's. */
export const FIRMWARE_PACKAGE_VERSION = "vmk-1.0.0";
export const FIRMWARE_APP_VERSION = "1.00.00-vmk";
const FIRMWARE_BUILD_DATE = "Jan 01 2025";
const FIRMWARE_BUILD_TIME = "00:00:00";
/** log2 of the strip size in 512-byte blocks: 8 KiB to 128 KiB, as the 1078/IOP333 firmware offers. */
export const STRIPE_SIZE_MIN = 4;
export const STRIPE_SIZE_MAX = 8;

export interface ControllerIdentity {
  serial: string;
  /** SAS address of the controller's ports, as high and low 32-bit halves. */
  sasAddress: [number, number];
}

export interface ControllerCounts {
  logicalDrives: number;
  physicalDrives: number;
}

export interface ControllerLimits {
  maxCommands: number;
  maxSge: number;
  /** Largest transfer in 512-byte sectors. */
  maxRequestSectors: number;
  maxStripsPerIo: number;
}

/**
 * CTRL_GET_INFO. It describes this model honestly: logical drives are single LUNs presented as RAID 0
 * of one span, so no rebuild, consistency check, background init, reconstruction, patrol read,
 * spares, cluster or BBU operations are advertised (adapter and PD operations are zero); LD policies
 * are fixed (LD operations zero).
 */
export function buildControllerInfo(
  variant: MegaRaidVariant,
  identity: ControllerIdentity,
  limits: ControllerLimits,
  counts: ControllerCounts,
  properties: Uint8Array,
): Uint8Array {
  const info = new Uint8Array(CONTROLLER_INFO_SIZE);
  const view = new DataView(info.buffer);
  view.setUint16(Offset.PCI_VENDOR, variant.vendorId, true);
  view.setUint16(Offset.PCI_DEVICE, variant.deviceId, true);
  view.setUint16(Offset.PCI_SUBVENDOR, variant.subsystemVendorId, true);
  view.setUint16(Offset.PCI_SUBDEVICE, variant.subsystemId, true);
  info[Offset.HOST_TYPE] = HOST_TYPE_PCIE;
  info[Offset.HOST_PORT_COUNT] = 0;
  info[Offset.DEVICE_TYPE] = DEVICE_TYPE_SAS3G | DEVICE_TYPE_SATA3G;
  info[Offset.DEVICE_PORT_COUNT] = variant.ports;
  for (let port = 0; port < Math.min(variant.ports, 8); port++) {
    view.setUint32(Offset.DEVICE_PORT_ADDRESS + port * 8, (identity.sasAddress[1] + port) >>> 0, true);
    view.setUint32(Offset.DEVICE_PORT_ADDRESS + port * 8 + 4, identity.sasAddress[0], true);
  }
  view.setUint32(Offset.IMAGE_COMPONENT_COUNT, 1, true);
  // One image component (name[8], version[32], build date[16], build time[16]): the application firmware.
  writeString(info, Offset.IMAGE_COMPONENT, 8, "APP");
  writeString(info, Offset.IMAGE_COMPONENT + 8, 32, FIRMWARE_APP_VERSION);
  writeString(info, Offset.IMAGE_COMPONENT + 40, 16, FIRMWARE_BUILD_DATE);
  writeString(info, Offset.IMAGE_COMPONENT + 56, 16, FIRMWARE_BUILD_TIME);
  info[Offset.MAX_ARMS] = 32;
  info[Offset.MAX_SPANS] = 8;
  info[Offset.MAX_ARRAYS] = 128;
  info[Offset.MAX_LDS] = 64;
  writeString(info, Offset.PRODUCT_NAME, 80, variant.productName);
  writeString(info, Offset.SERIAL_NUMBER, 32, identity.serial);
  view.setUint32(Offset.HW_PRESENT, HW_PRESENT_NVRAM | HW_PRESENT_MEMORY | HW_PRESENT_FLASH | (variant.alarm ? HW_PRESENT_ALARM : 0), true);
  view.setUint32(Offset.CURRENT_FW_TIME, 0, true);
  view.setUint16(Offset.MAX_COMMANDS, limits.maxCommands, true);
  view.setUint16(Offset.MAX_SG_ELEMENTS, limits.maxSge, true);
  view.setUint32(Offset.MAX_REQUEST_SIZE, limits.maxRequestSectors, true);
  view.setUint16(Offset.LDS_PRESENT, counts.logicalDrives, true);
  view.setUint16(Offset.PD_PRESENT, counts.physicalDrives, true);
  view.setUint16(Offset.PD_DISKS_PRESENT, counts.physicalDrives, true);
  view.setUint16(Offset.NVRAM_SIZE, 32, true);
  view.setUint16(Offset.MEMORY_SIZE, variant.memoryMiB, true);
  view.setUint16(Offset.FLASH_SIZE, 4, true);
  view.setUint16(Offset.MAX_STRIPS_PER_IO, limits.maxStripsPerIo, true);
  view.setUint32(Offset.RAID_LEVELS, RAID_LEVEL_0, true);
  view.setUint32(Offset.ADAPTER_OPERATIONS, 0, true);
  view.setUint32(Offset.LD_OPERATIONS, 0, true);
  info[Offset.STRIPE_SIZE_MIN] = STRIPE_SIZE_MIN;
  info[Offset.STRIPE_SIZE_MAX] = STRIPE_SIZE_MAX;
  view.setUint32(Offset.PD_OPERATIONS, 0, true);
  view.setUint32(Offset.PD_MIX_SUPPORT, PD_MIX_SAS | PD_MIX_SATA, true);
  info.set(properties.subarray(0, CONTROLLER_PROPERTIES_SIZE), Offset.PROPERTIES);
  writeString(info, Offset.PACKAGE_VERSION, 0x60, FIRMWARE_PACKAGE_VERSION);
  return info;
}

/** Power-on controller properties (struct megasas_ctrl_prop): the rates and intervals of LSI's defaults. */
export function defaultProperties(): Uint8Array {
  const props = new Uint8Array(CONTROLLER_PROPERTIES_SIZE);
  const view = new DataView(props.buffer);
  view.setUint16(2, 300, true); // predictive failure poll interval, seconds
  view.setUint16(4, 16, true); // interrupt throttle count
  view.setUint16(6, 50, true); // interrupt throttle timeout, us
  props.set([30, 30, 30, 30, 30], 8); // rebuild, patrol read, BGI, CC, reconstruction rates (%)
  props[13] = 4; // cache flush interval, seconds
  props[14] = 2; // drives spun up at once
  props[15] = 6; // spin-up delay, seconds
  props[21] = 15; // ECC bucket size
  view.setUint16(22, 1440, true); // ECC bucket leak rate, minutes
  return props;
}

function writeString(target: Uint8Array, offset: number, size: number, text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, size);
  target.set(bytes, offset);
}
