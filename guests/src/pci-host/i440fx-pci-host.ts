import type { AddressSpace, Clock, FaultRecord } from "@vmk/kernel";
import type { IrqLine } from "../platform/irq-line.js";
import { CONFIG_ADDRESS_PORT, CONFIG_DATA_PORT, ConfigMechanism1 } from "./config-mechanism-1.js";
import { GuestPciBus, type GuestPciBusState } from "./guest-pci-bus.js";
import { I440fxHostBridge } from "./i440fx-host-bridge.js";
import { Piix3IsaBridge } from "./piix3-isa-bridge.js";

export const I440FX_PCI_HOST_STATE_VERSION = 1;

export interface I440fxPciHostOptions {
  /** The guest's port space (the PC platform's `ports`): 0xCF8-0xCFF and I/O BARs are mapped here. */
  ports: AddressSpace;
  /** The guest's MMIO space: memory BARs are mapped here. */
  mmio: AddressSpace;
  /** Guest RAM at guest-physical 0 (DMA target; memory BARs below its end are shadowed by RAM). */
  ram: Uint8Array;
  clock: Clock;
  faults: FaultRecord;
  /** ISA IRQ wires (the 8259 pair's `line`). */
  isaIrq: (irq: number) => IrqLine;
  /** Reset control register at 0xCF9 asked for a machine reset. */
  onResetRequest?: (hard: boolean) => void;
  /** DMA wrote guest RAM: the CPU must drop decoded instructions there (`cpu.invalidateCode`). */
  onRamWritten?: (address: number, length: number) => void;
}

export interface I440fxPciHostState {
  version: typeof I440FX_PCI_HOST_STATE_VERSION;
  configAddress: number;
  bus: GuestPciBusState;
}

/** Slots the chipset occupies; add-in cards start at device 2 as on QEMU's pc machine. */
export const I440fxSlot = { HostBridge: 0, IsaBridge: 1, FirstFree: 2 } as const;

/**
 * The PCI half of an i440FX/PIIX3 PC: the host bridge at 00:00.0, the PIIX3 at 00:01.0 routing PCI
 * interrupts onto the ISA IRQs, configuration mechanism #1 at 0xCF8/0xCFC, and bus 0 where the VM's
 * virtual cards are attached.
 */
export class I440fxPciHost {
  readonly bus: GuestPciBus;
  readonly hostBridge = new I440fxHostBridge();
  readonly isaBridge: Piix3IsaBridge;
  readonly configMechanism: ConfigMechanism1;

  constructor(options: I440fxPciHostOptions) {
    this.isaBridge = new Piix3IsaBridge({ isaIrq: options.isaIrq, onResetRequest: options.onResetRequest });
    this.bus = new GuestPciBus({
      ports: options.ports,
      mmio: options.mmio,
      ram: options.ram,
      clock: options.clock,
      faults: options.faults,
      interruptRouter: this.isaBridge,
      onRamWritten: options.onRamWritten,
    });
    this.bus.attach({ device: I440fxSlot.HostBridge }, this.hostBridge);
    this.bus.attach({ device: I440fxSlot.IsaBridge }, this.isaBridge);
    this.configMechanism = new ConfigMechanism1(this.bus, this.isaBridge.resetControl);
    options.ports.map("PCI configuration address", CONFIG_ADDRESS_PORT, 4, this.configMechanism.addressPorts);
    options.ports.map("PCI configuration data", CONFIG_DATA_PORT, 4, this.configMechanism.dataPorts);
  }

  reset(): void {
    this.configMechanism.reset();
    this.bus.reset();
  }

  saveState(): I440fxPciHostState {
    return { version: I440FX_PCI_HOST_STATE_VERSION, configAddress: this.configMechanism.address, bus: this.bus.saveState() };
  }

  restoreState(state: I440fxPciHostState): void {
    if (state.version !== I440FX_PCI_HOST_STATE_VERSION) throw new Error(`i440FX PCI host state version ${state.version} is not ${I440FX_PCI_HOST_STATE_VERSION}`);
    this.configMechanism.address = state.configAddress;
    this.bus.restoreState(state.bus);
    this.isaBridge.updateIsaIrqs();
  }
}
