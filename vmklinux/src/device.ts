import type { DmaAllocator } from "@vmk/kernel";
import type { Linux } from "./linux.js";
import { vsprintf } from "./printk.js";

/** struct device: the node a pci_dev and a net_device hang off, carrying logging identity and DMA. */
export class device {
  parent: device | null = null;
  driver_data: unknown = null;
  /** Driver name shown by dev_printk ("e1000"). */
  driver_name = "";
  constructor(
    readonly linux: Linux,
    public name: string,
    /** The DMA allocator of the bus device; set only on pci_dev's device. */
    readonly dma: DmaAllocator | null = null,
  ) {}
}

export function dev_name(dev: device): string {
  return dev.name;
}
export function dev_set_drvdata(dev: device, data: unknown): void {
  dev.driver_data = data;
}
export function dev_get_drvdata<T>(dev: device): T {
  return dev.driver_data as T;
}

function dev_printk(level: number, dev: device, format: string, args: readonly unknown[]): void {
  const driver = dev.driver_name || findDriverName(dev);
  dev.linux.log_line(level, `${driver ? driver + " " : ""}${dev.name}: ${vsprintf(format, args)}`);
}

function findDriverName(dev: device): string {
  for (let d = dev.parent; d; d = d.parent) if (d.driver_name) return d.driver_name;
  return "";
}

export function dev_emerg(dev: device, format: string, ...args: unknown[]): void {
  dev_printk(0, dev, format, args);
}
export function dev_crit(dev: device, format: string, ...args: unknown[]): void {
  dev_printk(2, dev, format, args);
}
export function dev_err(dev: device, format: string, ...args: unknown[]): void {
  dev_printk(3, dev, format, args);
}
export function dev_warn(dev: device, format: string, ...args: unknown[]): void {
  dev_printk(4, dev, format, args);
}
export function dev_notice(dev: device, format: string, ...args: unknown[]): void {
  dev_printk(5, dev, format, args);
}
export function dev_info(dev: device, format: string, ...args: unknown[]): void {
  dev_printk(6, dev, format, args);
}
export function dev_dbg(dev: device, format: string, ...args: unknown[]): void {
  dev_printk(7, dev, format, args);
}
