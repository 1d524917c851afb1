/**
 * Reading and decoding GDT/LDT/IDT descriptors. Results go into a reusable scratch record so the
 * protected-mode paths allocate nothing.
 */
import type { Cpu } from "./cpu.js";
import { Seg } from "./constants.js";
import { Vector } from "./fault.js";

export class Descriptor {
  low = 0;
  high = 0;
  /** Linear address the descriptor was read from (for setting the accessed/busy bits). */
  address = 0;

  get present(): boolean { return (this.high & 0x8000) !== 0; }
  get dpl(): number { return (this.high >> 13) & 3; }
  /** S bit: code/data rather than system. */
  get isCodeOrData(): boolean { return (this.high & 0x1000) !== 0; }
  /** Type nibble (with S=0 the system type; with S=1 bit 3 = code). */
  get type(): number { return (this.high >> 8) & 0xf; }
  get isCode(): boolean { return (this.high & 0x1800) === 0x1800; }
  get isConforming(): boolean { return (this.high & 0x1c00) === 0x1c00; }
  get isReadable(): boolean { return (this.high & 0x1a00) === 0x1a00 || (this.high & 0x1800) === 0x1000; }
  get isWritableData(): boolean { return (this.high & 0x1a00) === 0x1200; }
  get base(): number { return ((this.low >>> 16) | ((this.high & 0xff) << 16) | (this.high & 0xff000000)) | 0; }
  get limit(): number {
    const raw = (this.low & 0xffff) | (this.high & 0xf0000);
    return this.high & 0x800000 ? ((raw << 12) | 0xfff) | 0 : raw;
  }
  /** Attribute bits as the segment cache stores them (descriptor bits 8..23). */
  get attr(): number { return (this.high >> 8) & 0xffff; }
  /** Gate fields. */
  get gateSelector(): number { return this.low >>> 16; }
  get gateOffset(): number { return ((this.low & 0xffff) | (this.high & 0xffff0000)) | 0; }
  get gateParamCount(): number { return this.high & 0x1f; }
}

/**
 * Loads the descriptor `selector` names into `out`. Returns false when the selector lies beyond
 * its table's limit (callers decide which exception that is).
 */
export function fetchDescriptor(cpu: Cpu, selector: number, out: Descriptor): boolean {
  const index = selector & 0xfff8;
  let base: number;
  let limit: number;
  if (selector & 4) {
    if ((cpu.segAttr[Seg.LDTR] & 0x80) === 0 || cpu.segSel[Seg.LDTR] === 0) return false;
    base = cpu.segBase[Seg.LDTR];
    limit = cpu.segLimit[Seg.LDTR] >>> 0;
  } else {
    base = cpu.gdtrBase;
    limit = cpu.gdtrLimit;
  }
  if (index + 7 > limit) return false;
  out.address = (base + index) | 0;
  out.low = cpu.readSystem32(out.address);
  out.high = cpu.readSystem32((out.address + 4) | 0);
  return true;
}

/** Sets the accessed bit of a code/data descriptor if it is clear. */
export function markAccessed(cpu: Cpu, d: Descriptor): void {
  if ((d.high & 0x100) === 0) {
    d.high |= 0x100;
    cpu.writeSystem8((d.address + 5) | 0, (d.high >> 8) & 0xff);
  }
}

/** Loads the descriptor or raises #GP(selector) when it is outside the table. */
export function fetchDescriptorOrFault(cpu: Cpu, selector: number, out: Descriptor, vector: number = Vector.GP): void {
  if (!fetchDescriptor(cpu, selector, out)) cpu.raise(vector, selector & 0xfffc);
}
