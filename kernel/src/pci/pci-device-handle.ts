import type { AccessWidth, AddressSpace } from "../io/address-space.js";
import type { InterruptController } from "../irq/interrupt-controller.js";
import { DmaAllocator } from "../memory/dma-allocator.js";
import type { MachineMemory } from "../memory/machine-memory.js";
import * as R from "./config-registers.js";
import type { PciBus, PciFunction } from "./pci-bus.js";

export interface BarInfo {
  index: number;
  kind: "memory" | "io";
  /** Bus address assigned by firmware (0 if none could be assigned). */
  address: number;
  size: number;
  prefetchable: boolean;
  is64: boolean;
}

/**
 * A mapped BAR (what ioremap / pci_iomap return): accesses go through the host's address decoding,
 * so they honour the command register, widths and unclaimed-access rules exactly as a CPU access would.
 */
export class IoMapping {
  constructor(
    private readonly space: AddressSpace,
    readonly base: number,
    readonly size: number,
    readonly kind: "memory" | "io",
  ) {}

  read(offset: number, width: AccessWidth): number {
    this.check(offset, width);
    return this.space.read(this.base + offset, width);
  }
  write(offset: number, width: AccessWidth, value: number): void {
    this.check(offset, width);
    this.space.write(this.base + offset, width, value);
  }
  read8(offset: number): number {
    return this.read(offset, 1);
  }
  read16(offset: number): number {
    return this.read(offset, 2);
  }
  read32(offset: number): number {
    return this.read(offset, 4);
  }
  write8(offset: number, value: number): void {
    this.write(offset, 1, value);
  }
  write16(offset: number, value: number): void {
    this.write(offset, 2, value);
  }
  write32(offset: number, value: number): void {
    this.write(offset, 4, value);
  }

  private check(offset: number, width: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + width > this.size) {
      throw new RangeError(`I/O access at offset 0x${offset.toString(16)} (${width} bytes) is outside the ${this.size}-byte mapping`);
    }
  }
}

/**
 * The kernel's native handle on one PCI function, given to the driver bound to it. vmklinux builds
 * Linux's struct pci_dev on top of this.
 */
export class PciDeviceHandle {
  readonly dma: DmaAllocator;
  private msiVector: number | undefined;

  constructor(
    private readonly fn: PciFunction,
    private readonly bus: PciBus,
    private readonly irq: InterruptController,
    memory: MachineMemory,
    owner: string,
  ) {
    this.dma = new DmaAllocator(memory, fn.dma, `${owner}@${fn.name}`);
  }

  get address(): string {
    return this.fn.name;
  }
  get vendorId(): number {
    return this.fn.config.vendorId;
  }
  get deviceId(): number {
    return this.fn.config.deviceId;
  }
  get subsystemVendorId(): number {
    return this.fn.config.subsystemVendorId;
  }
  get subsystemId(): number {
    return this.fn.config.subsystemId;
  }
  get classCode(): number {
    return this.fn.config.classCode;
  }
  get revisionId(): number {
    return this.fn.config.revisionId;
  }
  get modelName(): string {
    return this.fn.model.modelName;
  }

  configRead(offset: number, width: AccessWidth): number {
    return this.bus.configRead(this.fn.address, offset, width);
  }

  configWrite(offset: number, width: AccessWidth, value: number): void {
    this.bus.configWrite(this.fn.address, offset, width, value);
  }

  bars(): BarInfo[] {
    return this.fn.config.bars
      .filter((bar) => bar !== undefined)
      .map((bar) => ({
        index: bar.index,
        kind: bar.kind,
        address: this.fn.config.barAddress(bar.index),
        size: bar.size,
        prefetchable: bar.prefetchable ?? false,
        is64: bar.is64 ?? false,
      }));
  }

  /** Turns on decoding for the kinds of BAR the function has (pci_enable_device). */
  enable(): void {
    let bits = 0;
    for (const bar of this.bars()) bits |= bar.kind === "io" ? R.PCI_COMMAND_IO : R.PCI_COMMAND_MEMORY;
    this.setCommandBits(bits, true);
  }

  disable(): void {
    this.setCommandBits(R.PCI_COMMAND_IO | R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_MASTER, false);
  }

  setMaster(enabled: boolean): void {
    this.setCommandBits(R.PCI_COMMAND_MASTER, enabled);
  }

  mapBar(index: number): IoMapping {
    const bar = this.bars().find((b) => b.index === index);
    if (!bar) throw new Error(`${this.address}: BAR${index} is not implemented`);
    if (bar.address === 0) throw new Error(`${this.address}: BAR${index} has no address assigned`);
    return new IoMapping(this.bus.space(bar.kind), bar.address, bar.size, bar.kind);
  }

  /** The vector of the function's INTx line, or undefined if it has no interrupt pin. */
  intxVector(): number | undefined {
    return this.fn.gsi === undefined ? undefined : this.irq.lineVector(this.fn.gsi);
  }

  get msiEnabled(): boolean {
    return this.msiVector !== undefined;
  }

  /** Allocates a vector, programs the MSI capability and masks INTx (pci_enable_msi). */
  enableMsi(): number {
    if (this.msiVector !== undefined) return this.msiVector;
    const [cap] = this.fn.config.findCapabilities(R.PCI_CAP_ID_MSI);
    if (cap === undefined) throw new Error(`${this.address}: no MSI capability`);
    const vector = this.irq.allocateMsiVector();
    const message = this.irq.msiMessageFor(vector);
    const flags = this.configRead(cap + R.PCI_MSI_FLAGS, 2);
    const is64 = (flags & R.PCI_MSI_FLAGS_64BIT) !== 0;
    this.configWrite(cap + R.PCI_MSI_ADDRESS_LO, 4, message.address >>> 0);
    if (is64) this.configWrite(cap + 8, 4, Math.floor(message.address / 2 ** 32));
    this.configWrite(cap + (is64 ? 0x0c : 0x08), 2, message.data);
    this.configWrite(cap + R.PCI_MSI_FLAGS, 2, (flags & ~R.PCI_MSI_FLAGS_QSIZE) | R.PCI_MSI_FLAGS_ENABLE);
    this.setCommandBits(R.PCI_COMMAND_INTX_DISABLE, true);
    this.msiVector = vector;
    return vector;
  }

  disableMsi(): void {
    if (this.msiVector === undefined) return;
    const [cap] = this.fn.config.findCapabilities(R.PCI_CAP_ID_MSI);
    if (cap !== undefined) this.configWrite(cap + R.PCI_MSI_FLAGS, 2, this.configRead(cap + R.PCI_MSI_FLAGS, 2) & ~R.PCI_MSI_FLAGS_ENABLE);
    this.setCommandBits(R.PCI_COMMAND_INTX_DISABLE, false);
    this.irq.freeMsiVector(this.msiVector);
    this.msiVector = undefined;
  }

  /** Releases everything the binding holds: DMA memory and mappings, MSI vector, decoding. */
  release(): void {
    this.dma.releaseAll();
    this.disableMsi();
    this.fn.quiesce();
  }

  private setCommandBits(bits: number, on: boolean): void {
    const command = this.configRead(R.PCI_COMMAND, 2);
    this.configWrite(R.PCI_COMMAND, 2, on ? command | bits : command & ~bits);
  }
}
