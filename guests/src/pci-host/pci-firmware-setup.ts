import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MEMORY,
  PCI_DEVICE_ID,
  PCI_HEADER_TYPE,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_VENDOR_ID,
  type AccessWidth,
} from "@vmk/kernel";
import { CONFIG_ADDRESS_PORT, CONFIG_DATA_PORT } from "./config-mechanism-1.js";
import { encodeConfigAddress } from "./config-address.js";
import { PIIX3_ISA_DEVICE_ID, PIIX3_VENDOR_ID, PIRQ_ROUTE_CONTROL } from "./piix3-isa-bridge.js";
import { i440fxPirqForSlot } from "./pci-interrupt-router.js";

/** Port I/O as firmware performs it (the guest's port space, or the platform's portIn/portOut). */
export interface FirmwarePortIo {
  read(port: number, width: AccessWidth): number;
  write(port: number, width: AccessWidth, value: number): void;
}

export interface PciFirmwareSetupOptions {
  /** End of guest RAM: the MMIO window must start at or above it. */
  ramBytes: number;
  /** Start of the 32-bit PCI memory window. */
  mmioBase?: number;
  /** First address past the memory window (the IOAPIC and BIOS ROM live above). */
  mmioLimit?: number;
  ioBase?: number;
  ioLimit?: number;
  /** ISA IRQs for PIRQA..D; SeaBIOS's choice for the PIIX3 by default. */
  pirqIrqs?: readonly [number, number, number, number];
}

export interface PciBarAssignment {
  device: number;
  function: number;
  bar: number;
  kind: "io" | "memory";
  base: number;
  size: number;
}

export interface PciFirmwareSetupResult {
  bars: PciBarAssignment[];
  /** Interrupt line written per function with an interrupt pin ("dd.f" → ISA IRQ). */
  interruptLines: Map<string, number>;
}

/** Where SeaBIOS puts the PIIX3 edge/level control registers and which IRQs it gives PIRQA..D. */
const ELCR_PORT = 0x4d0;
export const SEABIOS_PIRQ_IRQS = [10, 10, 11, 11] as const;
export const DEFAULT_PCI_MMIO_BASE = 0xe000_0000;
export const DEFAULT_PCI_MMIO_LIMIT = 0xfec0_0000;
const DEFAULT_PCI_IO_BASE = 0xc000;
const DEFAULT_PCI_IO_LIMIT = 0x1_0000;

interface FoundBar {
  device: number;
  function: number;
  bar: number;
  kind: "io" | "memory";
  size: number;
  is64: boolean;
}

/**
 * What the BIOS does to the PCI bus before a direct-boot kernel starts, through configuration cycles
 * only (as SeaBIOS's pciinit does): steer PIRQA..D to ISA IRQs and make those IRQs level-triggered in
 * the ELCR, size and place every BAR in the I/O and memory windows (largest first, naturally aligned),
 * turn decoding on, and write each function's interrupt line. Linux without ACPI or a $PIR table trusts
 * the interrupt line it reads here.
 */
export function setupPciLikeFirmware(io: FirmwarePortIo, options: PciFirmwareSetupOptions): PciFirmwareSetupResult {
  const mmioBase = options.mmioBase ?? DEFAULT_PCI_MMIO_BASE;
  const mmioLimit = options.mmioLimit ?? DEFAULT_PCI_MMIO_LIMIT;
  if (mmioBase < options.ramBytes) {
    throw new RangeError(`PCI memory window at 0x${mmioBase.toString(16)} overlaps guest RAM ending at 0x${options.ramBytes.toString(16)}`);
  }
  const pirqIrqs = options.pirqIrqs ?? SEABIOS_PIRQ_IRQS;
  const config = {
    read: (device: number, func: number, offset: number, width: AccessWidth) => {
      io.write(CONFIG_ADDRESS_PORT, 4, encodeConfigAddress(0, device, func, offset));
      return io.read(CONFIG_DATA_PORT + (offset & 3), width);
    },
    write: (device: number, func: number, offset: number, width: AccessWidth, value: number) => {
      io.write(CONFIG_ADDRESS_PORT, 4, encodeConfigAddress(0, device, func, offset));
      io.write(CONFIG_DATA_PORT + (offset & 3), width, value);
    },
  };

  const functions: Array<{ device: number; function: number }> = [];
  for (let device = 0; device < 32; device++) {
    if (config.read(device, 0, PCI_VENDOR_ID, 2) === 0xffff) continue;
    const multi = (config.read(device, 0, PCI_HEADER_TYPE, 1) & 0x80) !== 0;
    for (let func = 0; func < (multi ? 8 : 1); func++) {
      if (config.read(device, func, PCI_VENDOR_ID, 2) !== 0xffff) functions.push({ device, function: func });
    }
  }

  const piix3 = functions.find((f) => config.read(f.device, f.function, PCI_VENDOR_ID, 2) === PIIX3_VENDOR_ID && config.read(f.device, f.function, PCI_DEVICE_ID, 2) === PIIX3_ISA_DEVICE_ID);
  if (piix3) {
    const elcr = [io.read(ELCR_PORT, 1), io.read(ELCR_PORT + 1, 1)];
    pirqIrqs.forEach((irq, index) => {
      elcr[irq >> 3]! |= 1 << (irq & 7);
      config.write(piix3.device, piix3.function, PIRQ_ROUTE_CONTROL + index, 1, irq);
    });
    io.write(ELCR_PORT, 1, elcr[0]!);
    io.write(ELCR_PORT + 1, 1, elcr[1]!);
  }

  const found: FoundBar[] = [];
  const originalCommands = new Map<(typeof functions)[number], number>();
  for (const fn of functions) {
    const command = config.read(fn.device, fn.function, PCI_COMMAND, 2);
    originalCommands.set(fn, command);
    config.write(fn.device, fn.function, PCI_COMMAND, 2, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    for (let bar = 0; bar < 6; bar++) {
      const offset = PCI_BASE_ADDRESS_0 + bar * 4;
      const original = config.read(fn.device, fn.function, offset, 4);
      config.write(fn.device, fn.function, offset, 4, 0xffffffff);
      const sized = config.read(fn.device, fn.function, offset, 4);
      config.write(fn.device, fn.function, offset, 4, original);
      if (sized === 0 || sized === 0xffffffff) continue;
      const isIo = (sized & PCI_BASE_ADDRESS_SPACE_IO) !== 0;
      const mask = isIo ? (sized & 0xfffffffc) | 0xffff0000 : sized & 0xfffffff0;
      const is64 = !isIo && (sized & 0x6) === PCI_BASE_ADDRESS_MEM_TYPE_64;
      found.push({ device: fn.device, function: fn.function, bar, kind: isIo ? "io" : "memory", size: (~mask >>> 0) + 1, is64 });
      if (is64) bar++;
    }
  }

  const bars: PciBarAssignment[] = [];
  const place = (kind: "io" | "memory", base: number, limit: number) => {
    let next = base;
    for (const bar of found.filter((b) => b.kind === kind).sort((a, b) => b.size - a.size)) {
      const at = Math.ceil(next / bar.size) * bar.size;
      if (at + bar.size > limit) throw new RangeError(`no room for ${kind} BAR${bar.bar} of 00:${bar.device.toString(16).padStart(2, "0")}.${bar.function} (${bar.size} bytes)`);
      const offset = PCI_BASE_ADDRESS_0 + bar.bar * 4;
      config.write(bar.device, bar.function, offset, 4, at);
      if (bar.is64) config.write(bar.device, bar.function, offset + 4, 4, 0);
      bars.push({ device: bar.device, function: bar.function, bar: bar.bar, kind, base: at, size: bar.size });
      next = at + bar.size;
    }
  };
  place("io", options.ioBase ?? DEFAULT_PCI_IO_BASE, options.ioLimit ?? DEFAULT_PCI_IO_LIMIT);
  place("memory", mmioBase, mmioLimit);

  const interruptLines = new Map<string, number>();
  for (const fn of functions) {
    const hasIo = bars.some((b) => b.device === fn.device && b.function === fn.function && b.kind === "io");
    const hasMemory = bars.some((b) => b.device === fn.device && b.function === fn.function && b.kind === "memory");
    const command = originalCommands.get(fn)!;
    config.write(fn.device, fn.function, PCI_COMMAND, 2, command | (hasIo ? PCI_COMMAND_IO : 0) | (hasMemory ? PCI_COMMAND_MEMORY : 0));
    const pin = config.read(fn.device, fn.function, PCI_INTERRUPT_PIN, 1);
    if (pin < 1 || pin > 4) continue;
    const irq = pirqIrqs[i440fxPirqForSlot(fn.device, pin)]!;
    config.write(fn.device, fn.function, PCI_INTERRUPT_LINE, 1, irq);
    interruptLines.set(`${fn.device.toString(16).padStart(2, "0")}.${fn.function}`, irq);
  }
  return { bars, interruptLines };
}
