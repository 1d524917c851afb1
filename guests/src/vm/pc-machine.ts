import { AddressSpace, type Clock, type FaultRecord, type IoRegion, type PciDeviceModel } from "@vmk/kernel";
import { Cpu } from "../cpu/cpu.js";
import { runInstructions } from "../cpu/interpreter.js";
import { applyInitialCpuState } from "../loaders/apply-initial-cpu-state.js";
import { loadBiosRom, type BiosRomLayout } from "../loaders/bios/bios-rom.js";
import type { GuestPciFunction } from "../pci-host/guest-pci-bus.js";
import { I440fxPciHost } from "../pci-host/i440fx-pci-host.js";
import { DEFAULT_PCI_MMIO_BASE, DEFAULT_PCI_MMIO_LIMIT, SEABIOS_PIRQ_IRQS, setupPciLikeFirmware } from "../pci-host/pci-firmware-setup.js";
import type { ByteSink } from "../platform/byte-sink.js";
import { DEBUG_CONSOLE_PORT, DebugConsole } from "../platform/debug-console/debug-console.js";
import { I8042OutputPort } from "../platform/i8042/keyboard-controller.js";
import { LegacyPort, PcPlatform } from "../platform/pc-platform.js";
import type { SerialBackend } from "../platform/uart/serial-backend.js";
import type { Uart16550, UartTransmitPacing } from "../platform/uart/uart-16550.js";
import { loadBootImage, type BootImages, type LoadedBootImage } from "./boot-image.js";
import { GuestMemory } from "../cpu/guest-memory.js";
import { PcCpuBus } from "./pc-cpu-bus.js";
import { SliceClock } from "./slice-clock.js";
import { VIRTUAL_NS_PER_INSTRUCTION } from "./virtual-time-vcpu-loop.js";

export interface PcMachineOptions {
  clock: Clock;
  /** Guest RAM in bytes, mapped at guest-physical 0. */
  memoryBytes: number;
  com1?: SerialBackend;
  com2?: SerialBackend;
  /** How the UARTs' transmitters pace characters (the platform's default: "line-rate"). */
  uartTransmitPacing?: UartTransmitPacing;
  /** Where port 0xE9 output goes; without one the port is not decoded. */
  debugConsole?: ByteSink;
  /** Where the debug console decodes instead of 0xE9 (SeaBIOS logs to 0x402, as QEMU's isa-debugcon iobase). */
  debugConsolePort?: number;
  /** The date the RTC shows at power-on (ms since 1970). */
  rtcStartTime?: number;
  /** Sees every byte written to the POST code port 0x80. */
  postCodes?: (code: number) => void;
}

/** Why the machine wants its processor and devices reset; the runtime decides what a reset means. */
export type MachineResetCause = "triple-fault" | "reset-line" | "reset-control-register";

/** Something the guest asked of the machine mid-slice, handled once the slice has stopped. */
export type MachineRequest = { kind: "exit"; exitCode: number } | { kind: "reset"; cause: MachineResetCause } | { kind: "powerOff" };

/** MCR bit 4: the UART talks to itself and nothing reaches the wire. */
const UART_MCR_LOOPBACK = 0x10;
/** The i8042 command that writes its output port (A20 and the CPU reset line) from the next data byte. */
const I8042_WRITE_OUTPUT_PORT = 0xd1;
/** System control port A bit 1: how firmware opens the A20 gate before it hands over to a kernel. */
const FAST_A20 = 0x02;

/**
 * An i440FX/PIIX3 PC with one i686 processor: guest RAM (one ArrayBuffer), the legacy platform, the
 * PCI host bridge with its bus on the platform's port space, MMIO dispatch for PCI memory BARs and
 * the A20 gate applied to the processor's physical addresses. It boots kernels directly (doing what
 * firmware would first: PCI resources, interrupt routing, A20) and runs the processor in slices.
 */
export class PcMachine {
  readonly clock: Clock;
  /** What the devices read time from: the clock, moved on by the instructions of the running slice. */
  readonly deviceClock: SliceClock;
  /** Guest RAM and the processor's area beside it (see GuestMemory). */
  readonly memory: GuestMemory;
  readonly ramBytes: Uint8Array;
  readonly ramView: DataView;
  readonly faults: FaultRecord;
  readonly platform: PcPlatform;
  readonly mmio: AddressSpace;
  readonly cpu: Cpu;
  readonly pciHost: I440fxPciHost;
  /** Called when the interrupt controller raises INT towards the processor, so a halted vCPU can run. */
  onInterruptRequest: (() => void) | undefined;
  private request: MachineRequest | undefined;
  private instructionCount = 0;
  private readonly serialBackends: Array<[Uart16550, SerialBackend | undefined]>;
  /** The firmware ROM below 4 GiB, while the machine boots from one. */
  private firmwareRegion: IoRegion | undefined;

  constructor(options: PcMachineOptions) {
    const movedDebugConsole = options.debugConsole !== undefined && options.debugConsolePort !== undefined && options.debugConsolePort !== DEBUG_CONSOLE_PORT;
    this.clock = options.clock;
    this.deviceClock = new SliceClock(options.clock, () => this.cpu.instructionsRetired, VIRTUAL_NS_PER_INSTRUCTION);
    this.memory = new GuestMemory(options.memoryBytes);
    this.ramBytes = this.memory.ram;
    this.ramView = new DataView(this.ramBytes.buffer, 0, this.ramBytes.byteLength);
    this.platform = new PcPlatform({
      clock: this.deviceClock,
      ramBytes: options.memoryBytes,
      rtcStartTime: options.rtcStartTime,
      com1: options.com1,
      com2: options.com2,
      uartTransmitPacing: options.uartTransmitPacing,
      debugConsole: movedDebugConsole ? undefined : options.debugConsole,
      onExit: (exitCode) => this.requestStop({ kind: "exit", exitCode }),
      onCpuReset: () => this.requestStop({ kind: "reset", cause: "reset-line" }),
      onSoftOff: () => this.requestStop({ kind: "powerOff" }),
    });
    this.faults = this.platform.faults;
    this.platform.postCode.onCode = options.postCodes;
    if (movedDebugConsole) this.platform.ports.map("debug console", options.debugConsolePort!, 1, new DebugConsole(options.debugConsole!).ports);
    this.serialBackends = [[this.platform.com1, options.com1], [this.platform.com2, options.com2]];
    this.mmio = new AddressSpace("guest mmio", 2 ** 32, this.faults, "mmio-unclaimed");
    this.cpu = new Cpu(new PcCpuBus(this.memory, this.mmio, this.platform));
    this.cpu.interruptSource = this.platform;
    this.cpu.onTripleFault = () => this.requestStop({ kind: "reset", cause: "triple-fault" });
    this.platform.a20.onChange((enabled) => this.cpu.setA20(enabled));
    // The AT's coprocessor-error wiring (CR0.NE = 0 guests): FERR# sets a latch that drives
    // IRQ13; a write of any value to port 0xF0 clears it.
    const coprocessorError = this.platform.pic.line(13);
    this.cpu.fpu.onFerrChange = (asserted) => { if (asserted) coprocessorError.setLevel(true); };
    this.platform.ports.map("coprocessor error latch", 0xf0, 1, {
      read: () => 0xff,
      write: () => coprocessorError.setLevel(false),
    });
    this.cpu.setA20(this.platform.a20.a20Enabled);
    this.platform.pic.onInterruptRequest = (asserted) => {
      if (asserted) this.onInterruptRequest?.();
    };
    this.pciHost = new I440fxPciHost({
      ports: this.platform.ports,
      mmio: this.mmio,
      ram: this.ramBytes,
      clock: this.deviceClock,
      faults: this.faults,
      isaIrq: (irq) => this.platform.pic.line(irq),
      onResetRequest: () => this.requestStop({ kind: "reset", cause: "reset-control-register" }),
      onRamWritten: (address, length) => this.cpu.invalidateCode(address, length),
    });
  }

  get memoryBytes(): number {
    return this.ramBytes.byteLength;
  }

  /** Instructions retired since the machine was built. */
  get instructions(): number {
    return this.instructionCount;
  }

  /** Guest time (ns, one per cycle) the processor spent in stalls (PAUSE) since the machine was built. */
  get stalledNs(): number {
    return this.cpu.stallCycles;
  }

  /** Halted (HLT) and not woken by an interrupt yet. */
  get halted(): boolean {
    return this.cpu.halted;
  }

  /** Plugs a card into bus 0 at `device` (function 0); it is reset and re-enumerated with the machine. */
  attachPciDevice(device: number, model: PciDeviceModel): GuestPciFunction {
    return this.pciHost.bus.attach({ device }, model);
  }

  /**
   * Power-on or reset followed by a direct kernel boot: processor, platform and PCI functions to their
   * reset state, RAM cleared, PCI resources and interrupt routing set up as the BIOS would, its ACPI
   * tables written, the A20 gate opened, then the images loaded and the processor put in the state the
   * boot protocol specifies.
   */
  boot(images: BootImages): LoadedBootImage {
    this.powerOnReset();
    setupPciLikeFirmware(this.platform.ports, { ramBytes: this.memoryBytes, pirqIrqs: SEABIOS_PIRQ_IRQS, mmioBase: DEFAULT_PCI_MMIO_BASE, mmioLimit: DEFAULT_PCI_MMIO_LIMIT });
    this.platform.writeAcpiTables(this.ramBytes, { pirqIrqs: SEABIOS_PIRQ_IRQS, pciMemoryBase: DEFAULT_PCI_MMIO_BASE, pciMemoryLimit: DEFAULT_PCI_MMIO_LIMIT });
    this.platform.portOut(LegacyPort.SystemControlA, 1, FAST_A20);
    const loaded = loadBootImage(this.ramBytes, images);
    this.cpu.invalidateAllCode();
    applyInitialCpuState(this.cpu, loaded.cpu);
    return loaded;
  }

  /** What every power-on or reset does first: processor, platform and PCI functions reset, RAM cleared. */
  private powerOnReset(): void {
    this.request = undefined;
    this.cpu.interruptSource = this.platform;
    this.drainSerialOutput();
    this.cpu.reset();
    this.platform.reset();
    this.pciHost.reset();
    this.ramBytes.fill(0);
  }

  /**
   * Power-on or reset of a PC with firmware: processor, platform and PCI functions to their reset
   * state, RAM cleared, the ROM image at the top of 4 GiB and its tail below 1 MiB, and the processor
   * left at the reset vector F000:FFF0. Everything else (PCI resources, A20, tables) is the firmware's.
   */
  bootFirmware(rom: Uint8Array): BiosRomLayout {
    this.powerOnReset();
    // The AT's keyboard controller (and QEMU's) comes out of reset with its A20 line high; with it low
    // the reset vector's fetch 16 bytes below 4 GiB would land at 0xFFEFFFF0 instead.
    this.platform.portOut(LegacyPort.KeyboardCommand, 1, I8042_WRITE_OUTPUT_PORT);
    this.platform.portOut(LegacyPort.KeyboardData, 1, I8042OutputPort.ResetInactive | I8042OutputPort.A20);
    const { layout, highRom } = loadBiosRom(this.ramBytes, rom);
    if (this.firmwareRegion) this.mmio.unmap(this.firmwareRegion);
    this.firmwareRegion = this.mmio.map("BIOS ROM", layout.highBase, layout.romBytes, highRom);
    this.cpu.invalidateAllCode();
    return layout;
  }

  /**
   * Runs up to `budget` cycles. `guestTimeNs` is the time since power-on the slice starts at:
   * the time-stamp counter is moved up to it (never back), so RDTSC and the PIT/RTC agree on time.
   * Returns the guest time it ran in processor cycles (nanoseconds): the instructions retired and
   * the cycles of the stalls among them (PAUSE); fewer than `budget` when the processor halted or
   * the guest asked for something (`takeRequest`).
   */
  runSlice(budget: number, guestTimeNs: number): number {
    const cpu = this.cpu;
    const tsc = cpu.tscBase + cpu.instructionsRetired;
    if (guestTimeNs > tsc) cpu.tscBase += guestTimeNs - tsc;
    this.deviceClock.beginSlice();
    const stalledBefore = cpu.stallCycles;
    let executed: number;
    try {
      executed = runInstructions(cpu, budget);
    } finally {
      this.deviceClock.endSlice();
    }
    this.instructionCount += executed - (cpu.stallCycles - stalledBefore);
    if (this.request !== undefined) cpu.interruptSource = this.platform;
    return executed;
  }

  /**
   * Hands the host every character the UARTs accepted but have not shifted out yet. A guest that
   * prints its last words and resets or exits at once would otherwise lose them: the machine stops
   * before their character times have passed.
   */
  drainSerialOutput(): void {
    for (const [uart, backend] of this.serialBackends) {
      if (!backend) continue;
      const state = uart.saveState();
      if (state.mcr & UART_MCR_LOOPBACK) continue;
      if (state.shifting !== null) backend.transmit(state.shifting);
      for (const byte of state.transmitFifo) backend.transmit(byte);
      uart.reset();
    }
  }

  /**
   * Power is gone: the UARTs' last characters go out, then every device goes to its reset state, which
   * cancels their timers (a powered-off VM must not keep the host clock busy).
   */
  powerDown(): void {
    this.drainSerialOutput();
    this.platform.reset();
    this.pciHost.reset();
    this.cpu.halted = true;
  }

  /** The exit or reset the guest asked for during the last slice, once. */
  takeRequest(): MachineRequest | undefined {
    const request = this.request;
    this.request = undefined;
    return request;
  }

  /**
   * Guest requests arrive in the middle of an instruction (an OUT, a fault). The slice must end right
   * there, so the processor is parked: halted, with its interrupt source detached until the slice
   * returns. The first request of a slice wins.
   */
  private requestStop(request: MachineRequest): void {
    if (this.request === undefined) this.request = request;
    this.cpu.halted = true;
    this.cpu.interruptSource = null;
  }
}
