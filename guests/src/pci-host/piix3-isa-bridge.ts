import { PCI_COMMAND_IO, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, type AccessWidth, type PciDeviceModel, type PciDevicePort } from "@vmk/kernel";
import type { IrqLine } from "../platform/irq-line.js";
import { ChipsetConfigSpace, type ChipsetRegister } from "./chipset-config-space.js";
import { i440fxPirqForSlot, type PciInterruptRouter } from "./pci-interrupt-router.js";

export const PIIX3_VENDOR_ID = 0x8086;
export const PIIX3_ISA_DEVICE_ID = 0x7000;

/** PIRQRC[A:D]: PIRQx route control, one byte each at 0x60-0x63. */
export const PIRQ_ROUTE_CONTROL = 0x60;
/** Bit 7 of a PIRQRC register: the PIRQ is not routed to any ISA IRQ. */
export const PIRQ_ROUTING_DISABLED = 0x80;
const PIRQ_IRQ_MASK = 0x0f;
/** IRQs a PIRQ may be steered to; 0, 1, 2, 8 and 13 are reserved encodings (no routing). */
const ROUTABLE_IRQS = new Set([3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15]);

/** Reset control register at I/O 0xCF9. */
export const ResetControlBit = { SystemReset: 0x02, ResetCpu: 0x04 } as const;

const pirq = (letter: string, index: number): ChipsetRegister => ({
  name: `PIRQRC${letter}`,
  offset: PIRQ_ROUTE_CONTROL + index,
  width: 1,
  resetValue: PIRQ_ROUTING_DISABLED,
  writeMask: PIRQ_ROUTING_DISABLED | PIRQ_IRQ_MASK,
});

/** 82371SB function 0 registers with the reset values of the datasheet (as QEMU's piix3 also sets them). */
const PIIX3_REGISTERS: ChipsetRegister[] = [
  { name: "IORT", offset: 0x4c, width: 1, resetValue: 0x4d, writeMask: 0xff },
  { name: "XBCS", offset: 0x4e, width: 2, resetValue: 0x0003, writeMask: 0xffff },
  pirq("A", 0),
  pirq("B", 1),
  pirq("C", 2),
  pirq("D", 3),
  { name: "TOM", offset: 0x69, width: 1, resetValue: 0x02, writeMask: 0xff },
  { name: "MSTAT", offset: 0x6a, width: 2, resetValue: 0x0000, writeMask: 0xffff },
  { name: "MBIRQ0", offset: 0x70, width: 1, resetValue: 0x80, writeMask: 0xff },
  { name: "MBIRQ1", offset: 0x71, width: 1, resetValue: 0x80, writeMask: 0xff },
  { name: "MBDMA0", offset: 0x76, width: 1, resetValue: 0x0c, writeMask: 0xff },
  { name: "MBDMA1", offset: 0x77, width: 1, resetValue: 0x0c, writeMask: 0xff },
  { name: "PCSC", offset: 0x78, width: 2, resetValue: 0x0002, writeMask: 0xffff },
  { name: "APICBASE", offset: 0x80, width: 1, resetValue: 0x00, writeMask: 0xff },
  { name: "DLC", offset: 0x82, width: 1, resetValue: 0x00, writeMask: 0xff },
  { name: "SMICNTL", offset: 0xa0, width: 1, resetValue: 0x08, writeMask: 0xff },
  { name: "SMIEN", offset: 0xa2, width: 2, resetValue: 0x0000, writeMask: 0xffff },
  { name: "SEE", offset: 0xa4, width: 4, resetValue: 0, writeMask: 0xffffffff },
  { name: "FTMR", offset: 0xa8, width: 1, resetValue: 0x0f, writeMask: 0xff },
  { name: "SMIREQ", offset: 0xaa, width: 2, resetValue: 0x0000, writeMask: 0xffff },
  { name: "CTLTMR", offset: 0xac, width: 1, resetValue: 0x00, writeMask: 0xff },
  { name: "CTHTMR", offset: 0xae, width: 1, resetValue: 0x00, writeMask: 0xff },
];

export interface Piix3Options {
  /** The wire of each ISA IRQ (the 8259 pair's `line(n)`). */
  isaIrq: (irq: number) => IrqLine;
  /** The guest wrote RCPU in the reset control register: reset the machine (hard = SRST set). */
  onResetRequest?: (hard: boolean) => void;
}

/** One PIRQ line as management and tests see it. */
export interface PirqStatus {
  pirq: "A" | "B" | "C" | "D";
  /** The ISA IRQ it is steered to, or undefined while routing is disabled. */
  irq: number | undefined;
  /** Functions holding their INTx asserted on this PIRQ. */
  assertedBy: string[];
}

const PIRQ_NAMES = ["A", "B", "C", "D"] as const;

/**
 * The 82371SB PIIX3 PCI-to-ISA bridge at 00:01.0 and the board's PCI interrupt router. Each PIRQ is a
 * wired-OR of the INTx pins the slot swizzle puts on it; PIRQRC steers it to an ISA IRQ, where the PIIX
 * inverts the active-low PCI level into the active-high request the 8259 sees. Several PIRQs steered to
 * one IRQ share it. An ISA device on the same IRQ would fight the PIRQ for the wire; firmware avoids
 * such routes, and so must whoever programs PIRQRC here.
 */
export class Piix3IsaBridge implements PciDeviceModel, PciInterruptRouter {
  readonly modelName = "Intel 82371SB PIIX3 ISA [Natoma/Triton II]";
  readonly config = new ChipsetConfigSpace(
    { vendorId: PIIX3_VENDOR_ID, deviceId: PIIX3_ISA_DEVICE_ID, classCode: 0x060100, multiFunction: true },
    PIIX3_REGISTERS,
    PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
  );
  private readonly asserting: Array<Set<string>> = [new Set(), new Set(), new Set(), new Set()];
  private readonly drivenIrqs = new Array<boolean>(16).fill(false);
  private resetControlValue = 0;

  /** The byte register at I/O 0xCF9 (decoded through the configuration address window). */
  readonly resetControl = {
    read: (): number => this.resetControlValue,
    write: (value: number): void => {
      if (value & ResetControlBit.ResetCpu) {
        this.options.onResetRequest?.((value & ResetControlBit.SystemReset) !== 0);
        return;
      }
      this.resetControlValue = value & ResetControlBit.SystemReset;
    },
  };

  constructor(private readonly options: Piix3Options) {
    this.config.onWrite((offset, width) => {
      if (offset < PIRQ_ROUTE_CONTROL + 4 && offset + width > PIRQ_ROUTE_CONTROL) this.updateIsaIrqs();
    });
  }

  barRead(_bar: number, _offset: number, width: AccessWidth): number {
    return width === 4 ? 0xffffffff : (1 << (8 * width)) - 1;
  }

  barWrite(): void {}

  attach(_port: PciDevicePort): void {}

  reset(): void {
    this.config.reset();
    this.resetControlValue = 0;
    this.updateIsaIrqs();
  }

  setIntx(source: string, device: number, pin: number, asserted: boolean): void {
    const sources = this.asserting[i440fxPirqForSlot(device, pin)]!;
    if (asserted) sources.add(source);
    else sources.delete(source);
    this.updateIsaIrqs();
  }

  /** The ISA IRQ a PIRQ (0..3 for A..D) is steered to, or undefined when disabled or a reserved encoding. */
  routedIrq(pirqIndex: number): number | undefined {
    const value = this.config.bytes[PIRQ_ROUTE_CONTROL + pirqIndex]!;
    if (value & PIRQ_ROUTING_DISABLED) return undefined;
    const irq = value & PIRQ_IRQ_MASK;
    return ROUTABLE_IRQS.has(irq) ? irq : undefined;
  }

  pirqStatus(): PirqStatus[] {
    return PIRQ_NAMES.map((name, index) => ({ pirq: name, irq: this.routedIrq(index), assertedBy: [...this.asserting[index]!].sort() }));
  }

  /** Re-drives the ISA IRQs from PIRQ levels and routes (after a restore or a route change). */
  updateIsaIrqs(): void {
    const wanted = new Array<boolean>(16).fill(false);
    for (let index = 0; index < 4; index++) {
      const irq = this.routedIrq(index);
      if (irq !== undefined && this.asserting[index]!.size > 0) wanted[irq] = true;
    }
    for (let irq = 0; irq < 16; irq++) {
      if (wanted[irq] === this.drivenIrqs[irq]) continue;
      this.drivenIrqs[irq] = wanted[irq]!;
      this.options.isaIrq(irq).setLevel(wanted[irq]!);
    }
  }
}
