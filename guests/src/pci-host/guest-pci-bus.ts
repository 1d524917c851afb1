import {
  BarDecoder,
  PCI_CONFIG_HEADER_END,
  formatPciAddress,
  toPciAddress,
  type AccessWidth,
  type AddressSpace,
  type Clock,
  type FaultRecord,
  type IoRegion,
  type PciAddress,
  type PciConfigSnapshot,
  type PciDeviceModel,
  type PciDevicePort,
} from "@vmk/kernel";
import { GuestDmaPort } from "./guest-dma-port.js";
import type { PciInterruptRouter } from "./pci-interrupt-router.js";

export const GUEST_PCI_BUS_STATE_VERSION = 1;

export interface GuestPciBusOptions {
  /** The guest's I/O port space: I/O BARs decode here. */
  ports: AddressSpace;
  /** The guest's memory-mapped I/O space (32-bit physical): memory BARs decode here. */
  mmio: AddressSpace;
  /** Guest RAM at guest-physical 0, for bus-master DMA. */
  ram: Uint8Array;
  clock: Clock;
  faults: FaultRecord;
  /** Where INTx pins go (the PIIX3's PIRQ router on an i440FX board). */
  interruptRouter: PciInterruptRouter;
  /** Called after DMA writes guest RAM, so the CPU can invalidate decoded code there. */
  onRamWritten?: (address: number, length: number) => void;
}

export interface GuestPciSlot {
  device: number;
  function?: number;
}

export interface GuestPciBusState {
  version: typeof GUEST_PCI_BUS_STATE_VERSION;
  functions: Array<{ address: string; config: PciConfigSnapshot }>;
}

const FOUR_GIB = 2 ** 32;

/** One function on the guest's bus 0: its model, the BAR windows it decodes now, its INTx level. */
export class GuestPciFunction {
  readonly name: string;
  readonly dma: GuestDmaPort;
  private readonly bars: BarDecoder;
  private intxRequested = false;
  private intxDriven = false;

  constructor(
    readonly address: PciAddress,
    readonly model: PciDeviceModel,
    private readonly bus: GuestPciBus,
    private readonly options: GuestPciBusOptions,
  ) {
    this.name = formatPciAddress(address);
    this.dma = new GuestDmaPort({
      requester: this.name,
      ram: options.ram,
      faults: options.faults,
      busMasterEnabled: () => model.config.busMasterEnabled,
      onRamWritten: options.onRamWritten,
    });
    // A memory BAR below the top of RAM is shadowed by RAM on the i440FX (DRAM wins below TOM); one
    // with upper 32 bits set is beyond a 32-bit guest's reach.
    this.bars = new BarDecoder(this.name, model, {
      space: (kind) => (kind === "io" ? options.ports : options.mmio),
      reachable: (bar, base) => (bar.kind === "io" ? base + bar.size <= options.ports.limit : base >= options.ram.byteLength && base + bar.size <= FOUR_GIB),
      decodeFailed: (bar, base, reason) =>
        options.faults.record({ kind: "device-error", address: base, length: bar.size, write: true, requester: this.name, detail: `BAR${bar.index} not decoded: ${reason}` }),
    });
  }

  get config() {
    return this.model.config;
  }

  /** The BAR windows decoded right now, by BAR index. */
  decodedRegions(): ReadonlyMap<number, IoRegion> {
    return this.bars.regions();
  }

  /** Follows the command register and BAR addresses after a configuration write. */
  updateDecoding(): void {
    this.bars.update();
    this.driveIntx();
  }

  setInterrupt(asserted: boolean): void {
    const msi = this.config.msi();
    if (msi?.enabled) {
      // The i440FX/PIIX3 board has no local APIC bus to take a message; the write goes nowhere.
      if (asserted) this.options.faults.record({ kind: "device-error", address: msi.address, length: 4, write: true, requester: this.name, detail: "MSI on a board without an APIC" });
      return;
    }
    this.intxRequested = asserted;
    this.driveIntx();
  }

  /** Drops the function's decode windows and interrupt (unplug). */
  release(): void {
    this.bars.release();
    this.intxRequested = false;
    this.driveIntx();
  }

  private driveIntx(): void {
    const pin = this.config.interruptPin;
    this.config.setInterruptStatus(this.intxRequested);
    const level = this.intxRequested && !this.config.intxDisabled;
    if (pin === 0 || level === this.intxDriven) return;
    this.intxDriven = level;
    this.bus.interruptRouter.setIntx(this.name, this.address.device, pin, level);
  }
}

/**
 * Bus 0 behind a guest's host bridge: configuration cycles by device/function (empty slots master-abort
 * and read all-ones), BARs decoded into the guest's port and MMIO spaces while the command register
 * enables them, bus-master DMA into guest RAM and INTx pins handed to the board's interrupt router.
 * Device models are the kernel's `PciDeviceModel`s, so a hardware/ card plugs into a VM as into a host.
 */
export class GuestPciBus {
  readonly interruptRouter: PciInterruptRouter;
  private readonly functions = new Map<string, GuestPciFunction>();

  constructor(private readonly options: GuestPciBusOptions) {
    this.interruptRouter = options.interruptRouter;
  }

  attach(slot: GuestPciSlot, model: PciDeviceModel): GuestPciFunction {
    const address = toPciAddress({ device: slot.device, function: slot.function ?? 0 });
    const name = formatPciAddress(address);
    const occupant = this.functions.get(name);
    if (occupant) throw new Error(`PCI slot ${name} is already occupied by ${occupant.model.modelName}`);
    const fn = new GuestPciFunction(address, model, this, this.options);
    model.config.onWrite((offset) => {
      if (offset < PCI_CONFIG_HEADER_END) fn.updateDecoding();
    });
    this.functions.set(name, fn);
    const port: PciDevicePort = {
      address: name,
      clock: this.options.clock,
      dma: fn.dma,
      setInterrupt: (asserted) => fn.setInterrupt(asserted),
      reportError: (detail) => this.options.faults.record({ kind: "device-error", address: 0, length: 0, write: false, requester: name, detail }),
    };
    model.attach(port);
    fn.updateDecoding();
    return fn;
  }

  detach(name: string): void {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`no PCI function at ${name}`);
    fn.release();
    fn.model.detach?.();
    this.functions.delete(name);
  }

  get(slot: GuestPciSlot): GuestPciFunction | undefined {
    return this.functions.get(formatPciAddress(toPciAddress({ device: slot.device, function: slot.function ?? 0 })));
  }

  /** Functions in device/function order. */
  list(): GuestPciFunction[] {
    return [...this.functions.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A type-0 configuration read on bus 0; an absent function master-aborts and reads all-ones. */
  configRead(device: number, func: number, offset: number, width: AccessWidth): number {
    const fn = this.functionAt(device, func);
    if (!fn) return width === 4 ? 0xffffffff : (1 << (8 * width)) - 1;
    return fn.config.read(offset, width);
  }

  configWrite(device: number, func: number, offset: number, width: AccessWidth, value: number): void {
    this.functionAt(device, func)?.config.write(offset, width, value);
  }

  /** PCI reset (RST#): every function to its power-on state, decoding off, interrupts released. */
  reset(): void {
    for (const fn of this.list()) {
      fn.model.reset();
      fn.config.reset();
      fn.setInterrupt(false);
      fn.updateDecoding();
    }
  }

  saveState(): GuestPciBusState {
    return { version: GUEST_PCI_BUS_STATE_VERSION, functions: this.list().map((fn) => ({ address: fn.name, config: fn.config.snapshot() })) };
  }

  /** Restores configuration spaces (device models restore their own state) and re-decodes BARs. */
  restoreState(state: GuestPciBusState): void {
    if (state.version !== GUEST_PCI_BUS_STATE_VERSION) throw new Error(`guest PCI bus state version ${state.version} is not ${GUEST_PCI_BUS_STATE_VERSION}`);
    for (const saved of state.functions) {
      const fn = this.functions.get(saved.address);
      if (!fn) throw new Error(`saved state has a PCI function at ${saved.address}, this VM has none there`);
      fn.config.restore(saved.config);
    }
    for (const fn of this.functions.values()) fn.updateDecoding();
  }

  private functionAt(device: number, func: number): GuestPciFunction | undefined {
    if (!(device >= 0 && device < 32 && func >= 0 && func < 8)) return undefined;
    return this.functions.get(formatPciAddress({ segment: 0, bus: 0, device, function: func }));
  }
}
