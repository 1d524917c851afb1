import type { InterruptSource } from "../../cpu/bus.js";
import type { IrqLine } from "../irq-line.js";
import { PortRegisterFile, type PortRegister } from "../port-register-file.js";
import { PicChip, powerOnPicChip, type PicChipState } from "./pic-chip.js";

export const PIC_STATE_VERSION = 1;

export interface PicPairState {
  version: typeof PIC_STATE_VERSION;
  master: PicChipState;
  slave: PicChipState;
}

/** The master IR the PC wires the slave's INT to. */
export const CASCADE_IRQ = 2;
/** PIIX ELCR: IRQ0, 1, 2, 8 and 13 are always edge-triggered on a PC, their bits read as zero. */
const ELCR_WRITABLE = [0xf8, 0xde] as const;

/**
 * The PC's two cascaded 8259As (master at 0x20, slave at 0xA0 on the master's IR2) with the PIIX
 * edge/level control registers at 0x4D0/0x4D1. The CPU takes interrupts through `InterruptSource`;
 * devices drive ISA IRQ 0-15 through `setIrq` or `line(n)`.
 */
export class PicPair implements InterruptSource {
  readonly master = new PicChip("master", true);
  readonly slave = new PicChip("slave", false);
  readonly masterPorts: PortRegisterFile;
  readonly slavePorts: PortRegisterFile;
  readonly elcrPorts: PortRegisterFile;
  private outputAsserted = false;
  private readonly lines: IrqLine[];

  /** Called when INT to the CPU changes, so a halted vCPU can be woken. */
  onInterruptRequest: ((asserted: boolean) => void) | undefined;
  /** Called after an INTA cycle took a request from ISA IRQ `irq` (not for spurious answers). */
  onAcknowledge: ((irq: number) => void) | undefined;

  constructor() {
    this.masterPorts = this.chipPorts(this.master);
    this.slavePorts = this.chipPorts(this.slave);
    this.elcrPorts = PortRegisterFile.fromTable(
      [this.master, this.slave].map((chip, index): PortRegister => ({
        name: `ELCR${index + 1}`,
        read: () => chip.state.elcr,
        write: (value) => {
          chip.state.elcr = value & ELCR_WRITABLE[index]!;
          this.update();
        },
      })),
    );
    this.lines = Array.from({ length: 16 }, (_, irq) => ({ setLevel: (high: boolean) => this.setIrq(irq, high) }));
  }

  /** The wire for ISA IRQ `irq` (0-15), to hand to a device. */
  line(irq: number): IrqLine {
    const line = this.lines[irq];
    if (!line) throw new RangeError(`ISA IRQ ${irq} does not exist`);
    return line;
  }

  setIrq(irq: number, high: boolean): void {
    if (!(irq >= 0 && irq < 16)) throw new RangeError(`ISA IRQ ${irq} does not exist`);
    // The slave's INT occupies the master's IR2, so AT boards route the ISA bus's IRQ2 pin to IRQ9.
    if (irq === CASCADE_IRQ) irq = 9;
    if (irq < 8) this.master.setLine(irq, high);
    else this.slave.setLine(irq - 8, high);
    this.update();
  }

  hasPending(): boolean {
    return this.master.highestRequest() >= 0;
  }

  /** An edge on ISA IRQ `irq` (0-7) is latched and its input still high: a request nobody has taken yet. */
  edgeWaiting(irq: number): boolean {
    const bit = 1 << irq;
    const s = this.master.state;
    return (s.edgeLatches & s.lines & bit) !== 0;
  }

  /** The guest masked ISA IRQ `irq` (0-7) in the master's IMR. */
  masked(irq: number): boolean {
    return (this.master.state.imr & (1 << irq)) !== 0;
  }

  acknowledge(): number {
    const master = this.master.acknowledge();
    let vector: number;
    let taken = master.spurious ? -1 : master.level;
    if (!master.spurious && this.master.cascadeLines & (1 << master.level)) {
      // The master puts the IR on the cascade bus; only a slave whose ICW3 ID matches answers.
      if ((this.slave.state.cascade & 7) === master.level) {
        const slave = this.slave.acknowledge();
        vector = this.slave.vectorFor(slave.level);
        taken = slave.spurious ? -1 : 8 + slave.level;
      } else {
        taken = -1;
        vector = 0xff;
      }
      // The slave drops INT during INTA: a request still waiting there needs a new edge at the master.
      if (master.level === CASCADE_IRQ) this.master.setLine(CASCADE_IRQ, false);
    } else {
      vector = this.master.vectorFor(master.level);
    }
    this.update();
    if (taken >= 0) this.onAcknowledge?.(taken);
    return vector;
  }

  reset(): void {
    const masterLines = this.master.state.lines & ~(1 << CASCADE_IRQ);
    const slaveLines = this.slave.state.lines;
    this.master.state = { ...powerOnPicChip(), lines: masterLines };
    this.slave.state = { ...powerOnPicChip(), lines: slaveLines };
    this.update();
  }

  saveState(): PicPairState {
    return { version: PIC_STATE_VERSION, master: { ...this.master.state }, slave: { ...this.slave.state } };
  }

  restoreState(state: PicPairState): void {
    if (state.version !== PIC_STATE_VERSION) throw new Error(`8259A state version ${state.version} is not ${PIC_STATE_VERSION}`);
    this.master.state = { ...state.master };
    this.slave.state = { ...state.slave };
    this.update();
  }

  private chipPorts(chip: PicChip): PortRegisterFile {
    return PortRegisterFile.fromTable([
      {
        name: "ICW1/OCW2/OCW3 | IRR/ISR/poll",
        read: () => {
          const value = chip.readCommand();
          this.update();
          return value;
        },
        write: (value) => {
          chip.writeCommand(value);
          this.update();
        },
      },
      {
        name: "ICW2-4/OCW1 (IMR)",
        read: () => chip.readData(),
        write: (value) => {
          chip.writeData(value);
          this.update();
        },
      },
    ]);
  }

  /** Propagates the slave's INT to the master's cascade input, then the master's INT to the CPU. */
  private update(): void {
    this.master.setLine(CASCADE_IRQ, this.slave.highestRequest() >= 0);
    const asserted = this.master.highestRequest() >= 0;
    if (asserted !== this.outputAsserted) {
      this.outputAsserted = asserted;
      this.onInterruptRequest?.(asserted);
    }
  }
}
