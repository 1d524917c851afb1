import type { Clock } from "../clock/clock.js";
import type { AccessWidth } from "../io/address-space.js";
import type { DmaPort } from "../memory/dma.js";
import type { PciConfigSpace } from "./config-space.js";

/**
 * What a PCI function's hardware model implements (hardware/ packages). The bus owns decoding: the
 * model only sees accesses to its own BARs, already offset and width-checked, and only while the
 * corresponding decode bit is set in its command register.
 */
export interface PciDeviceModel {
  /** Human-readable model name for inventories ("Intel 82540EM Gigabit Ethernet Controller"). */
  readonly modelName: string;
  readonly config: PciConfigSpace;
  barRead(bar: number, offset: number, width: AccessWidth): number;
  barWrite(bar: number, offset: number, width: AccessWidth, value: number): void;
  /** Access widths a BAR decodes; all of 1/2/4 when omitted. */
  barAccessWidths?(bar: number): AccessWidth[];
  /** Called when the function is plugged into a bus: the model's connection to the rest of the machine. */
  attach(port: PciDevicePort): void;
  /** Called when unplugged; the model stops its timers. */
  detach?(): void;
  /** Device (function-level) reset: registers back to power-on values, DMA and interrupts stop. */
  reset(): void;
}

/** The machine as one PCI function sees it: bus-mastered memory, its interrupt, and time. */
export interface PciDevicePort {
  /** "0000:00:03.0" */
  readonly address: string;
  readonly clock: Clock;
  /** DMA by bus address; gated by the bus master bit and the function's IOMMU domain. */
  readonly dma: DmaPort;
  /**
   * Drives the function's interrupt. Level semantics for INTx (held until deasserted, honouring the
   * INTx-disable bit); with MSI enabled a rising edge sends the programmed message instead.
   */
  setInterrupt(asserted: boolean, msiVector?: number): void;
  /** Reports a device-internal error condition for the fault record (never thrown). */
  reportError(detail: string): void;
}
