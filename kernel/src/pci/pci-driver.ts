import type { PciDeviceHandle } from "./pci-device-handle.js";

/** Matches any value in a PciDeviceId field (Linux's PCI_ANY_ID). */
export const PCI_ANY_ID = 0xffffffff;

/** One line of a driver's ID table (Linux's struct pci_device_id). */
export interface PciDeviceId {
  vendor: number;
  device: number;
  subvendor?: number;
  subdevice?: number;
  /** 24-bit class code compared under classMask. */
  class?: number;
  classMask?: number;
  /** Driver-private data (board type), handed back to probe. */
  driverData?: number;
}

export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number;
  subsystemId: number;
  classCode: number;
}

/**
 * A driver for PCI functions, as the kernel binds it. Probe returns nothing (or 0) when it took the
 * device, a negative errno when it declines; a throw is a driver bug and quarantines its module.
 */
export interface PciDriver {
  readonly name: string;
  readonly idTable: readonly PciDeviceId[];
  probe(device: PciDeviceHandle, id: PciDeviceId): void | number | Promise<void | number>;
  remove(device: PciDeviceHandle): void | Promise<void>;
}

export function pciIdMatches(id: PciDeviceId, dev: PciIdentity): boolean {
  const any = (field: number | undefined, value: number) => field === undefined || field === PCI_ANY_ID || field === value;
  return (
    any(id.vendor, dev.vendorId) &&
    any(id.device, dev.deviceId) &&
    any(id.subvendor, dev.subsystemVendorId) &&
    any(id.subdevice, dev.subsystemId) &&
    (id.class === undefined || ((id.class ^ dev.classCode) & (id.classMask ?? 0xffffff)) === 0)
  );
}

/** How specific an ID is, so that a driver naming the exact subsystem wins over a generic one. */
export function pciIdSpecificity(id: PciDeviceId): number {
  const set = (field: number | undefined) => (field !== undefined && field !== PCI_ANY_ID ? 1 : 0);
  return set(id.vendor) * 8 + set(id.device) * 4 + (set(id.subvendor) + set(id.subdevice)) * 2 + (id.class !== undefined ? 1 : 0);
}

export function matchPciId(table: readonly PciDeviceId[], dev: PciIdentity): PciDeviceId | undefined {
  return table.find((id) => pciIdMatches(id, dev));
}
