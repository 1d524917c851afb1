/** Loading segment registers (MOV/POP Sreg, LDS & co, and the data-segment part of far transfers). */
import type { Cpu } from "./cpu.js";
import { Flag, Seg } from "./constants.js";
import { Descriptor, fetchDescriptorOrFault, markAccessed } from "./descriptors.js";
import { Vector } from "./fault.js";

const scratch = new Descriptor();

/** Real and virtual-8086 mode: the selector is the paragraph; limit and attributes stay. */
function loadRealSegment(cpu: Cpu, seg: number, selector: number): void {
  selector &= 0xffff;
  const v86 = (cpu.eflags & Flag.VM) !== 0;
  const attr = v86 ? (seg === Seg.CS ? 0xf3 : 0xf3) : cpu.segAttr[seg] | 0x80;
  cpu.setSegmentCache(seg, selector, selector << 4, v86 ? 0xffff : cpu.segLimit[seg], attr);
}

/** MOV/POP/LxS into DS, ES, FS, GS or SS with every protected-mode check. */
export function loadSegment(cpu: Cpu, seg: number, selector: number): void {
  if (!cpu.protectedMode || (cpu.eflags & Flag.VM) !== 0) {
    loadRealSegment(cpu, seg, selector);
    return;
  }
  selector &= 0xffff;
  const rpl = selector & 3;
  if ((selector & 0xfffc) === 0) {
    if (seg === Seg.SS) cpu.raise(Vector.GP, 0);
    cpu.setSegmentCache(seg, selector, 0, 0, 0);
    return;
  }
  const d = scratch;
  fetchDescriptorOrFault(cpu, selector, d);
  const error = selector & 0xfffc;
  if (seg === Seg.SS) {
    if (rpl !== cpu.cpl || !d.isWritableData || d.dpl !== cpu.cpl) cpu.raise(Vector.GP, error);
    if (!d.present) cpu.raise(Vector.SS, error);
  } else {
    if (!d.isReadable) cpu.raise(Vector.GP, error);
    if (!d.isConforming && (rpl > d.dpl || cpu.cpl > d.dpl)) cpu.raise(Vector.GP, error);
    if (!d.present) cpu.raise(Vector.NP, error);
  }
  markAccessed(cpu, d);
  cpu.setSegmentCache(seg, selector, d.base, d.limit, d.attr);
}

/** After a privilege drop, data segments the new CPL may not use become null (SDM RET/IRET). */
const DATA_SEGMENTS: readonly number[] = [Seg.ES, Seg.DS, Seg.FS, Seg.GS];

export function nullifyInaccessibleSegments(cpu: Cpu): void {
  for (const seg of DATA_SEGMENTS) {
    const attr = cpu.segAttr[seg];
    const dpl = (attr >> 5) & 3;
    const conformingCode = (attr & 0x1c) === 0x1c;
    if ((cpu.segSel[seg] & 0xfffc) === 0) continue;
    if ((attr & 0x10) === 0 || (!conformingCode && dpl < cpu.cpl)) cpu.setSegmentCache(seg, 0, 0, 0, 0);
  }
}

/** Loads CS from a descriptor already validated by the caller and switches CPL. */
export function loadCodeSegment(cpu: Cpu, selector: number, d: Descriptor, cpl: number): void {
  markAccessed(cpu, d);
  cpu.setCpl(cpl);
  cpu.setSegmentCache(Seg.CS, (selector & 0xfffc) | cpl, d.base, d.limit, d.attr);
}

/** Loads SS for a stack switch, checking it against the target privilege level. */
export function loadStackSegmentFor(cpu: Cpu, selector: number, cpl: number, faultVector: number): void {
  const d = scratch;
  const error = selector & 0xfffc;
  if (error === 0) cpu.raise(faultVector, 0);
  fetchDescriptorOrFault(cpu, selector, d, faultVector);
  if ((selector & 3) !== cpl || d.dpl !== cpl || !d.isWritableData) cpu.raise(faultVector, error);
  if (!d.present) cpu.raise(faultVector === Vector.TS ? Vector.SS : Vector.SS, error);
  markAccessed(cpu, d);
  cpu.setSegmentCache(Seg.SS, selector, d.base, d.limit, d.attr);
}
