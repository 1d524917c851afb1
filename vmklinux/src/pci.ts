import { PCI_ANY_ID, type BarInfo, type PciDeviceHandle, type PciDeviceId } from "@vmk/kernel";
import { device } from "./device.js";
import { EBUSY, EINVAL } from "./errno.js";
import { iomem } from "./io.js";
import type { Linux } from "./linux.js";

export { PCI_ANY_ID };

export const IORESOURCE_IO = 0x00000100;
export const IORESOURCE_MEM = 0x00000200;
export const IORESOURCE_PREFETCH = 0x00002000;
export const IORESOURCE_MEM_64 = 0x00100000;

export const PCI_VENDOR_ID_INTEL = 0x8086;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_INVALIDATE = 0x10;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
export const PCI_STATUS_CAP_LIST = 0x10;
export const PCI_CAP_ID_PM = 0x01;
export const PCI_CAP_ID_PCIX = 0x07;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_EXP = 0x10;

/** struct pci_device_id: PCI_ANY_ID in a field matches anything; class is compared under class_mask. */
export interface pci_device_id {
  vendor: number;
  device: number;
  subvendor?: number;
  subdevice?: number;
  class?: number;
  class_mask?: number;
  driver_data?: number;
}

export function PCI_DEVICE(vendor: number, device: number, driver_data = 0): pci_device_id {
  return { vendor, device, subvendor: PCI_ANY_ID, subdevice: PCI_ANY_ID, driver_data };
}
export function PCI_DEVICE_SUB(vendor: number, device: number, subvendor: number, subdevice: number, driver_data = 0): pci_device_id {
  return { vendor, device, subvendor, subdevice, driver_data };
}
export function PCI_DEVICE_CLASS(dev_class: number, dev_class_mask: number): pci_device_id {
  return { vendor: PCI_ANY_ID, device: PCI_ANY_ID, subvendor: PCI_ANY_ID, subdevice: PCI_ANY_ID, class: dev_class, class_mask: dev_class_mask };
}

/** struct pci_driver. probe returns 0 when it took the device, a negative errno when it declines. */
export interface pci_driver {
  name: string;
  id_table: readonly pci_device_id[];
  probe(pdev: pci_dev, ent: pci_device_id): number | Promise<number>;
  remove(pdev: pci_dev): void | Promise<void>;
  shutdown?(pdev: pci_dev): void;
}

/** struct pci_dev over the kernel's native device handle. */
export class pci_dev {
  readonly dev: device;
  readonly vendor: number;
  readonly device: number;
  readonly subsystem_vendor: number;
  readonly subsystem_device: number;
  readonly class: number;
  readonly revision: number;
  /** Interrupt vector for request_irq: the INTx line's, or the MSI vector once pci_enable_msi succeeded; 0 for none. */
  irq: number;
  msi_enabled = false;
  driver: pci_driver | null = null;
  /** pci_enable_device nesting count. */
  enable_cnt = 0;
  /** BARs claimed with pci_request_region(s), with the name they were claimed under. */
  readonly regions = new Map<number, string>();
  readonly iomaps = new Set<iomem>();

  constructor(
    readonly linux: Linux,
    readonly handle: PciDeviceHandle,
  ) {
    this.dev = new device(linux, handle.address, handle.dma);
    this.vendor = handle.vendorId;
    this.device = handle.deviceId;
    this.subsystem_vendor = handle.subsystemVendorId;
    this.subsystem_device = handle.subsystemId;
    this.class = handle.classCode;
    this.revision = handle.revisionId;
    this.irq = handle.intxVector() ?? 0;
  }
}

/** The kernel's form of a Linux ID-table line. */
export function to_kernel_id(id: pci_device_id): PciDeviceId {
  const anyToUndefined = (v: number | undefined) => (v === undefined || v === PCI_ANY_ID ? undefined : v);
  const classMask = id.class_mask ?? 0;
  return {
    vendor: id.vendor,
    device: id.device,
    subvendor: anyToUndefined(id.subvendor),
    subdevice: anyToUndefined(id.subdevice),
    class: classMask !== 0 ? id.class : undefined,
    classMask: classMask !== 0 ? classMask : undefined,
    driverData: id.driver_data,
  };
}

export function pci_name(pdev: pci_dev): string {
  return pdev.handle.address;
}
export function pci_set_drvdata(pdev: pci_dev, data: unknown): void {
  pdev.dev.driver_data = data;
}
export function pci_get_drvdata<T>(pdev: pci_dev): T {
  return pdev.dev.driver_data as T;
}
/** container_of(dev, struct pci_dev, dev) */
export function to_pci_dev(dev: device): pci_dev {
  const pdev = dev.linux.pci_dev_of(dev);
  if (!pdev) throw new Error(`to_pci_dev: ${dev.name} is not a PCI device`);
  return pdev;
}

export function pci_enable_device(pdev: pci_dev): number {
  if (pdev.enable_cnt++ === 0) pdev.handle.enable();
  return 0;
}
export const pci_enable_device_mem = pci_enable_device;

export function pci_disable_device(pdev: pci_dev): void {
  if (pdev.enable_cnt === 0) return;
  if (--pdev.enable_cnt === 0) pdev.handle.disable();
}
export function pci_is_enabled(pdev: pci_dev): boolean {
  return pdev.enable_cnt > 0;
}
export function pci_set_master(pdev: pci_dev): void {
  pdev.handle.setMaster(true);
}
export function pci_clear_master(pdev: pci_dev): void {
  pdev.handle.setMaster(false);
}

function bar(pdev: pci_dev, index: number): BarInfo | undefined {
  return pdev.handle.bars().find((b) => b.index === index);
}

export function pci_resource_start(pdev: pci_dev, index: number): number {
  return bar(pdev, index)?.address ?? 0;
}
export function pci_resource_len(pdev: pci_dev, index: number): number {
  const b = bar(pdev, index);
  return b && b.address !== 0 ? b.size : 0;
}
export function pci_resource_end(pdev: pci_dev, index: number): number {
  const len = pci_resource_len(pdev, index);
  return len === 0 ? 0 : pci_resource_start(pdev, index) + len - 1;
}
export function pci_resource_flags(pdev: pci_dev, index: number): number {
  const b = bar(pdev, index);
  if (!b) return 0;
  if (b.kind === "io") return IORESOURCE_IO;
  return IORESOURCE_MEM | (b.prefetchable ? IORESOURCE_PREFETCH : 0) | (b.is64 ? IORESOURCE_MEM_64 : 0);
}
/** Bit mask of the BARs whose flags include any of `flags`. */
export function pci_select_bars(pdev: pci_dev, flags: number): number {
  let bars = 0;
  for (const b of pdev.handle.bars()) if (pci_resource_flags(pdev, b.index) & flags) bars |= 1 << b.index;
  return bars;
}

export function pci_request_region(pdev: pci_dev, index: number, name: string): number {
  const b = bar(pdev, index);
  if (!b || b.address === 0) return 0;
  if (pdev.regions.has(index)) return -EBUSY;
  pdev.regions.set(index, name);
  if (b.kind === "io") pdev.linux.claim_ports(pdev, b);
  return 0;
}
export function pci_release_region(pdev: pci_dev, index: number): void {
  if (!pdev.regions.delete(index)) return;
  pdev.linux.release_ports(pdev, index);
}
export function pci_request_selected_regions(pdev: pci_dev, bars: number, name: string): number {
  for (let i = 0; i < 6; i++) {
    if (!(bars & (1 << i))) continue;
    const rc = pci_request_region(pdev, i, name);
    if (rc) {
      for (let j = 0; j < i; j++) if (bars & (1 << j)) pci_release_region(pdev, j);
      return rc;
    }
  }
  return 0;
}
export function pci_release_selected_regions(pdev: pci_dev, bars: number): void {
  for (let i = 0; i < 6; i++) if (bars & (1 << i)) pci_release_region(pdev, i);
}
export function pci_request_regions(pdev: pci_dev, name: string): number {
  return pci_request_selected_regions(pdev, 0x3f, name);
}
export function pci_release_regions(pdev: pci_dev): void {
  pci_release_selected_regions(pdev, 0x3f);
}

/** Maps (the first `maxlen` bytes of) a BAR, memory or I/O; null if it has no address. */
export function pci_iomap(pdev: pci_dev, index: number, maxlen = 0): iomem | null {
  const b = bar(pdev, index);
  if (!b || b.address === 0) return null;
  const mapping = pdev.handle.mapBar(index);
  const io = new iomem(mapping, 0, maxlen > 0 ? Math.min(maxlen, b.size) : b.size);
  pdev.iomaps.add(io);
  return io;
}
export function pci_ioremap_bar(pdev: pci_dev, index: number): iomem | null {
  const b = bar(pdev, index);
  if (!b || b.kind !== "memory") return null;
  return pci_iomap(pdev, index);
}
export function pci_iounmap(_pdev: pci_dev, addr: iomem): void {
  iounmap(addr);
}
export function iounmap(addr: iomem | null): void {
  if (addr) addr.unmapped = true;
}

function checkConfig(where: number, width: number): void {
  if (!Number.isInteger(where) || where < 0 || where + width > 256 || where % width !== 0) throw new RangeError(`PCI config access of ${width} bytes at 0x${where.toString(16)} is out of range or unaligned`);
}
/** Config reads return the value (Linux's u32 *val out-parameter). */
export function pci_read_config_byte(pdev: pci_dev, where: number): number {
  checkConfig(where, 1);
  return pdev.handle.configRead(where, 1);
}
export function pci_read_config_word(pdev: pci_dev, where: number): number {
  checkConfig(where, 2);
  return pdev.handle.configRead(where, 2);
}
export function pci_read_config_dword(pdev: pci_dev, where: number): number {
  checkConfig(where, 4);
  return pdev.handle.configRead(where, 4) >>> 0;
}
export function pci_write_config_byte(pdev: pci_dev, where: number, val: number): number {
  checkConfig(where, 1);
  pdev.handle.configWrite(where, 1, val & 0xff);
  return 0;
}
export function pci_write_config_word(pdev: pci_dev, where: number, val: number): number {
  checkConfig(where, 2);
  pdev.handle.configWrite(where, 2, val & 0xffff);
  return 0;
}
export function pci_write_config_dword(pdev: pci_dev, where: number, val: number): number {
  checkConfig(where, 4);
  pdev.handle.configWrite(where, 4, val >>> 0);
  return 0;
}

/** Offset of capability `cap` in config space, or 0. */
export function pci_find_capability(pdev: pci_dev, cap: number): number {
  if (!(pci_read_config_word(pdev, PCI_STATUS) & PCI_STATUS_CAP_LIST)) return 0;
  let pos = pci_read_config_byte(pdev, PCI_CAPABILITY_LIST) & 0xfc;
  for (let ttl = 48; pos >= 0x40 && ttl > 0; ttl--) {
    if (pci_read_config_byte(pdev, pos) === cap) return pos;
    pos = pci_read_config_byte(pdev, pos + 1) & 0xfc;
  }
  return 0;
}

export function pci_enable_msi(pdev: pci_dev): number {
  if (pdev.msi_enabled) return 0;
  if (!pci_find_capability(pdev, PCI_CAP_ID_MSI)) return -EINVAL;
  pdev.irq = pdev.handle.enableMsi();
  pdev.msi_enabled = true;
  return 0;
}
export function pci_disable_msi(pdev: pci_dev): void {
  if (!pdev.msi_enabled) return;
  pdev.handle.disableMsi();
  pdev.msi_enabled = false;
  pdev.irq = pdev.handle.intxVector() ?? 0;
}

/** pci_dev_present-style check used by probe paths: the function still answers config cycles. */
export function pci_device_is_present(pdev: pci_dev): boolean {
  return pci_read_config_dword(pdev, 0) !== 0xffffffff;
}
