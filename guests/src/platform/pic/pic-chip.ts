/** Where the chip is in its ICW1..ICW4 initialization sequence. */
export const enum PicInitStep {
  Ready = 0,
  ExpectIcw2 = 1,
  ExpectIcw3 = 2,
  ExpectIcw4 = 3,
}

const ICW1_NEEDS_ICW4 = 0x01;
const ICW1_SINGLE = 0x02;
const ICW1_LEVEL_TRIGGERED = 0x08;
const ICW1_MARKER = 0x10;
const OCW3_MARKER = 0x08;
const ICW4_X86_MODE = 0x01;
const ICW4_AUTO_EOI = 0x02;
const ICW4_SPECIAL_FULLY_NESTED = 0x10;
const OCW3_SPECIAL_MASK_ENABLE = 0x40;
const OCW3_SPECIAL_MASK_SET = 0x20;
const OCW3_POLL = 0x04;
const OCW3_READ_REGISTER = 0x02;
const OCW3_READ_ISR = 0x01;
/** The level a request that vanished before INTA is reported at (the "default IR7"). */
export const SPURIOUS_LEVEL = 7;

/** One 8259A, as plain data. Bit n of each mask is IRn. */
export interface PicChipState {
  /** Input levels on IR0-IR7 as the devices drive them. */
  lines: number;
  /** Rising edges seen on edge-sensitive inputs and not yet acknowledged (the edge-sense latches). */
  edgeLatches: number;
  isr: number;
  imr: number;
  /** Inputs the PIIX ELCR makes level-sensitive. */
  elcr: number;
  initStep: PicInitStep;
  icw1: number;
  /** ICW2: T7-T3 of the vector. */
  vectorBase: number;
  /** ICW3: on a master the IRs with a slave, on a slave its ID. */
  cascade: number;
  icw4: number;
  readIsr: boolean;
  pollNext: boolean;
  specialMask: boolean;
  rotateOnAutoEoi: boolean;
  /** The IR with the lowest priority; the one after it has the highest. */
  lowestPriority: number;
}

export function powerOnPicChip(): PicChipState {
  return {
    lines: 0,
    edgeLatches: 0,
    isr: 0,
    imr: 0,
    elcr: 0,
    initStep: PicInitStep.Ready,
    icw1: 0,
    vectorBase: 0,
    cascade: 0,
    icw4: 0,
    readIsr: false,
    pollNext: false,
    specialMask: false,
    rotateOnAutoEoi: false,
    lowestPriority: 7,
  };
}

/** OCW2's R/SL/EOI field (bits 7:5) selects one of these. */
const OCW2_COMMANDS: readonly ((chip: PicChip, level: number) => void)[] = [
  /* 000 */ (chip) => (chip.state.rotateOnAutoEoi = false),
  /* 001 */ (chip) => chip.endOfInterrupt(undefined, false),
  /* 010 */ () => {},
  /* 011 */ (chip, level) => chip.endOfInterrupt(level, false),
  /* 100 */ (chip) => (chip.state.rotateOnAutoEoi = true),
  /* 101 */ (chip) => chip.endOfInterrupt(undefined, true),
  /* 110 */ (chip, level) => (chip.state.lowestPriority = level),
  /* 111 */ (chip, level) => chip.endOfInterrupt(level, true),
];

/**
 * One Intel 8259A programmable interrupt controller: request register with edge-sense latches, mask,
 * priority resolver with rotation and special mask mode, in-service register, poll and auto-EOI.
 */
export class PicChip {
  state: PicChipState = powerOnPicChip();

  constructor(
    readonly name: string,
    /** The master honours special fully nested mode for the IRs its ICW3 marks as cascaded. */
    readonly isMaster: boolean,
  ) {}

  get levelSensitive(): number {
    return this.state.icw1 & ICW1_LEVEL_TRIGGERED ? 0xff : this.state.elcr;
  }

  /** The request register: latched edges whose input is still high, and high level-sensitive inputs. */
  get irr(): number {
    const s = this.state;
    const level = this.levelSensitive;
    return ((s.edgeLatches & ~level) | level) & s.lines;
  }

  get cascadeLines(): number {
    return this.isMaster && !(this.state.icw1 & ICW1_SINGLE) ? this.state.cascade : 0;
  }

  setLine(irq: number, high: boolean): void {
    const bit = 1 << irq;
    const s = this.state;
    if (high && !(s.lines & bit)) s.edgeLatches |= bit;
    s.lines = high ? s.lines | bit : s.lines & ~bit;
  }

  /** The IR the chip would present on INT now, or -1. */
  highestRequest(): number {
    const s = this.state;
    const candidate = this.highestPriorityIn(this.irr & ~s.imr);
    if (candidate < 0) return -1;
    const inService = this.highestPriorityIn(s.specialMask ? s.isr & ~s.imr : s.isr);
    if (inService < 0) return candidate;
    if (this.rank(candidate) < this.rank(inService)) return candidate;
    // Special fully nested mode lets a slave's higher-priority request through while its cascade IR is in service.
    const fullyNested = (s.icw4 & ICW4_SPECIAL_FULLY_NESTED) !== 0 && (this.cascadeLines & (1 << candidate)) !== 0;
    return fullyNested && candidate === inService ? candidate : -1;
  }

  /**
   * The INTA sequence: the highest request goes in service (unless auto-EOI) and its edge latch is
   * cleared. With no request left the chip answers with IR7 and sets no ISR bit.
   */
  acknowledge(): { level: number; spurious: boolean } {
    const level = this.highestRequest();
    if (level < 0) return { level: SPURIOUS_LEVEL, spurious: true };
    const bit = 1 << level;
    const s = this.state;
    s.edgeLatches &= ~bit;
    if (s.icw4 & ICW4_AUTO_EOI) {
      if (s.rotateOnAutoEoi) s.lowestPriority = level;
    } else {
      s.isr |= bit;
    }
    return { level, spurious: false };
  }

  /** EOI: a specific level, or the highest-priority in-service level; optionally rotating priorities. */
  endOfInterrupt(level: number | undefined, rotate: boolean): void {
    const s = this.state;
    const target = level ?? this.highestPriorityIn(s.isr);
    if (target < 0) return;
    s.isr &= ~(1 << target);
    if (rotate) s.lowestPriority = target;
  }

  /** A0 = 0 writes: ICW1, OCW2 or OCW3. */
  writeCommand(value: number): void {
    if (value & ICW1_MARKER) this.startInitialization(value);
    else if (value & OCW3_MARKER) this.operationCommand3(value);
    else OCW2_COMMANDS[value >> 5]!(this, value & 7);
  }

  /** A0 = 1 writes: the rest of the initialization sequence, then OCW1 (the mask). */
  writeData(value: number): void {
    const s = this.state;
    switch (s.initStep) {
      case PicInitStep.ExpectIcw2:
        s.vectorBase = value & 0xf8;
        s.initStep = s.icw1 & ICW1_SINGLE ? this.afterIcw3() : PicInitStep.ExpectIcw3;
        return;
      case PicInitStep.ExpectIcw3:
        s.cascade = value;
        s.initStep = this.afterIcw3();
        return;
      case PicInitStep.ExpectIcw4:
        s.icw4 = value & 0x1f;
        s.initStep = PicInitStep.Ready;
        return;
      case PicInitStep.Ready:
        s.imr = value;
        return;
    }
  }

  /** A0 = 0 reads: the poll word after a poll command, else IRR or ISR as OCW3 selected. */
  readCommand(): number {
    const s = this.state;
    if (s.pollNext) {
      s.pollNext = false;
      const level = this.highestRequest();
      if (level < 0) return 0;
      this.acknowledge();
      return 0x80 | level;
    }
    return s.readIsr ? s.isr : this.irr;
  }

  readData(): number {
    return this.state.imr;
  }

  /** The x86 vector for a level (ICW4 µPM=1); the 8080 CALL format has no meaning to an x86 CPU. */
  vectorFor(level: number): number {
    return (this.state.vectorBase | level) & 0xff;
  }

  get inX86Mode(): boolean {
    return (this.state.icw4 & ICW4_X86_MODE) !== 0;
  }

  private startInitialization(icw1: number): void {
    const s = this.state;
    s.icw1 = icw1;
    s.initStep = PicInitStep.ExpectIcw2;
    // The edge-sense circuit is reset: an input already high must go low and high again to request.
    s.edgeLatches = 0;
    s.imr = 0;
    s.isr = 0;
    s.specialMask = false;
    s.readIsr = false;
    s.pollNext = false;
    s.rotateOnAutoEoi = false;
    s.lowestPriority = 7;
    if (!(icw1 & ICW1_NEEDS_ICW4)) s.icw4 = 0;
  }

  private afterIcw3(): PicInitStep {
    return this.state.icw1 & ICW1_NEEDS_ICW4 ? PicInitStep.ExpectIcw4 : PicInitStep.Ready;
  }

  private operationCommand3(value: number): void {
    const s = this.state;
    if (value & OCW3_SPECIAL_MASK_ENABLE) s.specialMask = (value & OCW3_SPECIAL_MASK_SET) !== 0;
    if (value & OCW3_READ_REGISTER) s.readIsr = (value & OCW3_READ_ISR) !== 0;
    s.pollNext = (value & OCW3_POLL) !== 0;
  }

  /** 0 is the highest priority. */
  private rank(level: number): number {
    return (level - this.state.lowestPriority - 1) & 7;
  }

  private highestPriorityIn(mask: number): number {
    if (!(mask & 0xff)) return -1;
    const first = (this.state.lowestPriority + 1) & 7;
    for (let i = 0; i < 8; i++) {
      const level = (first + i) & 7;
      if (mask & (1 << level)) return level;
    }
    return -1;
  }
}
