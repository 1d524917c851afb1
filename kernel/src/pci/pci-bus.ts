import { inject, injectable } from "tsyringe";
import { KernelTokens, Tokens } from "../tokens.js";
import type { Clock } from "../clock/clock.js";
import type { AccessWidth, IoRegion } from "../io/address-space.js";
import type { FaultRecord } from "../io/fault-record.js";
import type { MmioSpace, PortSpace } from "../io/io-spaces.js";
import type { InterruptController } from "../irq/interrupt-controller.js";
import type { KernelLog } from "../log/kernel-log.js";
import { DmaDomain } from "../memory/dma.js";
import type { MachineMemory } from "../memory/machine-memory.js";
import * as R from "./config-registers.js";
import { BarDecoder } from "./bar-decoder.js";
import type { PciDeviceModel, PciDevicePort } from "./pci-device-model.js";
import { formatPciAddress, toPciAddress, type PciAddress, type PciSlot } from "./pci-address.js";

/** One function plugged into the bus, with everything the kernel tracks about it. */
export class PciFunction {
  readonly name: string;
  /** Global system interrupt its INTx pin is routed to (undefined without a pin). */
  gsi: number | undefined;
  private readonly bars: BarDecoder;
  private intxAsserted = false;
  private msiAsserted = new Set<number>();

  constructor(
    readonly address: PciAddress,
    readonly model: PciDeviceModel,
    readonly dma: DmaDomain,
    private readonly bus: PciBus,
  ) {
    this.name = formatPciAddress(address);
    this.bars = new BarDecoder(this.name, model, {
      space: (kind) => bus.space(kind),
      decodeFailed: (bar, base, reason) => bus.log.warn("pci", `${this.name}: BAR${bar.index} at 0x${base.toString(16)} not decoded: ${reason}`),
    });
  }

  get config() {
    return this.model.config;
  }

  /** The BAR regions currently decoded, by BAR index. */
  decodedRegions(): ReadonlyMap<number, IoRegion> {
    return this.bars.regions();
  }

  /** Re-evaluates which BARs decode after a config write (command bits, BAR addresses). */
  updateDecoding(): void {
    this.bars.update();
    this.refreshIntx();
  }

  setInterrupt(asserted: boolean, msiVector = 0): void {
    // The message is only looked up with MSI on: an INTx edge builds nothing.
    const msi = this.config.msiEnabled ? this.config.msi() : undefined;
    if (msi) {
      const vector = Math.min(msiVector, msi.vectors - 1);
      const wasAsserted = this.msiAsserted.has(vector);
      if (asserted) this.msiAsserted.add(vector);
      else this.msiAsserted.delete(vector);
      if (!asserted || wasAsserted) return;
      if ((msi.maskBits >>> vector) & 1) {
        this.config.setMsiPending(vector, true);
        return;
      }
      this.bus.sendMsi(this, msi.address, (msi.data & ~(msi.vectors - 1)) | vector);
      return;
    }
    this.intxAsserted = asserted;
    this.refreshIntx();
  }

  /** Detaches the function's bus presence: decoding off, interrupt released, DMA revoked. */
  quiesce(): void {
    this.config.write(R.PCI_COMMAND, 2, 0);
    this.dma.revokeAll();
    this.intxAsserted = false;
    this.msiAsserted.clear();
    this.refreshIntx();
  }

  private refreshIntx(): void {
    const level = this.intxAsserted && !this.config.intxDisabled && !this.config.msiEnabled;
    this.config.setInterruptStatus(this.intxAsserted);
    if (this.gsi !== undefined) this.bus.irq.setLine(this.gsi, this.name, level);
  }
}

export interface ResourceWindows {
  mmioBase: number;
  mmioLimit: number;
  ioBase: number;
  ioLimit: number;
}

const DEFAULT_WINDOWS: ResourceWindows = { mmioBase: 0xe000_0000, mmioLimit: 0xfec0_0000, ioBase: 0x1000, ioLimit: 0x10000 };

/**
 * A PCI segment as the host firmware and the vmkernel see it: configuration cycles by bus/device/function,
 * resource assignment through the BAR sizing protocol, interrupt routing, and BAR decoding into the
 * host's MMIO and port spaces.
 */
@injectable()
export class PciBus {
  private readonly functions = new Map<string, PciFunction>();
  private windows: ResourceWindows = DEFAULT_WINDOWS;

  constructor(
    @inject(KernelTokens.MmioSpace) private readonly mmio: MmioSpace,
    @inject(KernelTokens.PortSpace) private readonly ports: PortSpace,
    @inject(KernelTokens.InterruptController) readonly irq: InterruptController,
    @inject(KernelTokens.MachineMemory) private readonly memory: MachineMemory,
    @inject(KernelTokens.FaultRecord) private readonly faults: FaultRecord,
    @inject(Tokens.Clock) private readonly clock: Clock,
    @inject(KernelTokens.KernelLog) readonly log: KernelLog,
  ) {}

  space(kind: "memory" | "io") {
    return kind === "io" ? this.ports : this.mmio;
  }

  /** Plugs a device model into a slot. */
  attach(slot: PciSlot, model: PciDeviceModel): PciFunction {
    const address = toPciAddress(slot);
    const name = formatPciAddress(address);
    if (this.functions.has(name)) throw new Error(`PCI slot ${name} is already occupied by ${this.functions.get(name)!.model.modelName}`);
    const dma = new DmaDomain(name, this.memory, this.faults, model.config);
    const fn = new PciFunction(address, model, dma, this);
    model.config.onWrite((offset) => {
      if (offset < R.PCI_CONFIG_HEADER_END || model.config.findCapabilities(R.PCI_CAP_ID_MSI).length > 0) fn.updateDecoding();
    });
    if (model.config.interruptPin !== 0) fn.gsi = this.routeInterrupt(address, model.config.interruptPin);
    this.functions.set(name, fn);
    const port: PciDevicePort = {
      address: name,
      clock: this.clock,
      dma,
      setInterrupt: (asserted, msiVector) => fn.setInterrupt(asserted, msiVector),
      reportError: (detail) => this.faults.record({ kind: "device-error", address: 0, length: 0, write: false, requester: name, detail }),
    };
    model.attach(port);
    return fn;
  }

  detach(name: string): void {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`no PCI function at ${name}`);
    fn.quiesce();
    fn.model.detach?.();
    this.functions.delete(name);
  }

  get(name: string): PciFunction | undefined {
    return this.functions.get(name);
  }

  /** Functions in bus/device/function order. */
  list(): PciFunction[] {
    return [...this.functions.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A configuration read cycle. An empty slot answers all-ones (master abort), as on real buses. */
  configRead(address: PciAddress, offset: number, width: AccessWidth): number {
    const fn = this.functions.get(formatPciAddress(address));
    if (!fn) return width === 4 ? 0xffffffff : (1 << (width * 8)) - 1;
    return fn.config.read(offset, width);
  }

  configWrite(address: PciAddress, offset: number, width: AccessWidth, value: number): void {
    this.functions.get(formatPciAddress(address))?.config.write(offset, width, value);
  }

  /**
   * What host firmware does before the kernel starts: finds every function by probing vendor IDs,
   * sizes each BAR by writing all-ones and reading back the mask, assigns naturally aligned addresses
   * from the MMIO and I/O windows, and writes the interrupt line. Decoding stays off until a driver
   * enables the device.
   */
  assignResources(windows: Partial<ResourceWindows> = {}): void {
    this.windows = { ...DEFAULT_WINDOWS, ...windows };
    let nextMmio = this.windows.mmioBase;
    let nextIo = this.windows.ioBase;
    for (const fn of this.enumerate()) {
      const command = this.configRead(fn.address, R.PCI_COMMAND, 2);
      this.configWrite(fn.address, R.PCI_COMMAND, 2, command & ~(R.PCI_COMMAND_IO | R.PCI_COMMAND_MEMORY));
      for (let index = 0; index < 6; index++) {
        const offset = R.PCI_BASE_ADDRESS_0 + index * 4;
        const original = this.configRead(fn.address, offset, 4);
        this.configWrite(fn.address, offset, 4, 0xffffffff);
        const sized = this.configRead(fn.address, offset, 4);
        this.configWrite(fn.address, offset, 4, original);
        if (sized === 0 || sized === 0xffffffff) continue;
        const io = (sized & R.PCI_BASE_ADDRESS_SPACE_IO) !== 0;
        const mask = io ? sized & 0xfffffffc : sized & 0xfffffff0;
        const size = (~mask >>> 0) + 1;
        if (io) {
          const base = align(nextIo, size);
          if (base + size > this.windows.ioLimit) {
            this.log.warn("pci", `${fn.name}: no room for I/O BAR${index} (${size} bytes)`);
            continue;
          }
          this.configWrite(fn.address, offset, 4, base);
          nextIo = base + size;
        } else {
          const is64 = (sized & 0x6) === R.PCI_BASE_ADDRESS_MEM_TYPE_64;
          const base = align(nextMmio, size);
          if (base + size > this.windows.mmioLimit) {
            this.log.warn("pci", `${fn.name}: no room for memory BAR${index} (${size} bytes)`);
            continue;
          }
          this.configWrite(fn.address, offset, 4, base);
          if (is64) this.configWrite(fn.address, offset + 4, 4, 0);
          nextMmio = base + size;
          if (is64) index++;
        }
      }
      if (fn.gsi !== undefined) this.configWrite(fn.address, R.PCI_INTERRUPT_LINE, 1, fn.gsi & 0xff);
    }
  }

  /** Functions found by configuration cycles, the way an OS scans: device 0..31, function 0 first. */
  enumerate(): PciFunction[] {
    const found: PciFunction[] = [];
    const buses = new Set([...this.functions.values()].map((f) => `${f.address.segment}:${f.address.bus}`));
    for (const key of [...buses].sort()) {
      const [segment, bus] = key.split(":").map(Number) as [number, number];
      for (let device = 0; device < 32; device++) {
        const fn0 = { segment, bus, device, function: 0 };
        if (this.configRead(fn0, R.PCI_VENDOR_ID, 2) === 0xffff) continue;
        const multi = (this.configRead(fn0, R.PCI_HEADER_TYPE, 1) & 0x80) !== 0;
        for (let func = 0; func < (multi ? 8 : 1); func++) {
          const address = { segment, bus, device, function: func };
          if (this.configRead(address, R.PCI_VENDOR_ID, 2) === 0xffff) continue;
          found.push(this.functions.get(formatPciAddress(address))!);
        }
      }
    }
    return found;
  }

  /** An MSI is a memory write by the device: it needs bus mastering, then the interrupt controller takes it. */
  sendMsi(fn: PciFunction, address: number, data: number): void {
    if (!fn.config.busMasterEnabled) {
      this.faults.record({ kind: "dma-bus-master-disabled", address, length: 4, write: true, requester: fn.name, detail: "MSI write without bus mastering" });
      return;
    }
    this.irq.deliverMsi({ address, data });
  }

  /** Host platform routing: the usual PCI swizzle of INTA..INTD onto four IOAPIC inputs 16..19. */
  private routeInterrupt(address: PciAddress, pin: number): number {
    return 16 + ((address.device + pin - 1) % 4);
  }
}

function align(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
