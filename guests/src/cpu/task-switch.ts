/**
 * Hardware task switching through TSS descriptors and task gates (32-bit TSS; a 16-bit TSS is
 * handled for the register image but without I/O bitmap or CR3).
 */
import type { Cpu } from "./cpu.js";
import { Cr0, Flag, Seg } from "./constants.js";
import { Descriptor, fetchDescriptor } from "./descriptors.js";
import { Vector } from "./fault.js";
import { materializeFlags } from "./flags.js";

export const enum TaskSwitchReason { JUMP = 0, CALL = 1, IRET = 2, INTERRUPT = 3 }

const tssDescriptor = new Descriptor();
const oldTssDescriptor = new Descriptor();
const segmentDescriptor = new Descriptor();
const loaded = new Int32Array(18);

/**
 * Switches to the task whose TSS (or task gate) `selector` names. `returnEip` is saved as the
 * outgoing task's EIP.
 */
export function switchTask(cpu: Cpu, selector: number, reason: TaskSwitchReason, returnEip: number, ext: number): void {
  let tssSelector = selector;
  const d = tssDescriptor;
  if (!fetchDescriptor(cpu, tssSelector, d)) cpu.raise(reason === TaskSwitchReason.IRET ? Vector.TS : Vector.GP, (tssSelector & 0xfffc) + ext);
  if (!d.isCodeOrData && d.type === 5) {
    // Task gate: the TSS it names is what we switch to.
    tssSelector = d.gateSelector;
    if (!fetchDescriptor(cpu, tssSelector, d)) cpu.raise(Vector.GP, (tssSelector & 0xfffc) + ext);
  }
  const error = (tssSelector & 0xfffc) + ext;
  if (tssSelector & 4) cpu.raise(Vector.GP, error);
  const type = d.type;
  const busyExpected = reason === TaskSwitchReason.IRET;
  if (d.isCodeOrData || (type & 5) !== 1 || ((type & 2) !== 0) !== busyExpected) {
    cpu.raise(busyExpected ? Vector.TS : Vector.GP, error);
  }
  if (!d.present) cpu.raise(Vector.NP, error);
  const newTss32 = (type & 8) !== 0;
  const newLimit = d.limit >>> 0;
  if (newLimit < (newTss32 ? 0x67 : 0x2b)) cpu.raise(Vector.TS, error);

  // Save the outgoing task.
  const oldBase = cpu.segBase[Seg.TR];
  const oldTss32 = (cpu.segAttr[Seg.TR] & 0x8) !== 0;
  let flags = materializeFlags(cpu);
  if (reason === TaskSwitchReason.IRET) flags &= ~Flag.NT;
  const regs = cpu.regs;
  if (oldTss32) {
    cpu.writeSystem32((oldBase + 0x20) | 0, returnEip);
    cpu.writeSystem32((oldBase + 0x24) | 0, flags);
    for (let r = 0; r < 8; r++) cpu.writeSystem32((oldBase + 0x28 + r * 4) | 0, regs[r]);
    for (let s = 0; s < 6; s++) cpu.writeSystem16((oldBase + 0x48 + s * 4) | 0, cpu.segSel[s]);
  } else {
    cpu.writeSystem16((oldBase + 0x0e) | 0, returnEip);
    cpu.writeSystem16((oldBase + 0x10) | 0, flags);
    for (let r = 0; r < 8; r++) cpu.writeSystem16((oldBase + 0x12 + r * 2) | 0, regs[r]);
    for (let s = 0; s < 4; s++) cpu.writeSystem16((oldBase + 0x22 + s * 2) | 0, cpu.segSel[s]);
  }
  if (reason === TaskSwitchReason.JUMP || reason === TaskSwitchReason.IRET) {
    if (fetchDescriptor(cpu, cpu.segSel[Seg.TR], oldTssDescriptor)) {
      cpu.writeSystem8((oldTssDescriptor.address + 5) | 0, (oldTssDescriptor.high >> 8) & ~0x2 & 0xff);
    }
  }

  // Read the incoming task's image before committing anything.
  const base = d.base;
  if (newTss32) {
    loaded[0] = cpu.readSystem32((base + 0x1c) | 0); // CR3
    loaded[1] = cpu.readSystem32((base + 0x20) | 0); // EIP
    loaded[2] = cpu.readSystem32((base + 0x24) | 0); // EFLAGS
    for (let r = 0; r < 8; r++) loaded[3 + r] = cpu.readSystem32((base + 0x28 + r * 4) | 0);
    for (let s = 0; s < 6; s++) loaded[11 + s] = cpu.readSystem16((base + 0x48 + s * 4) | 0);
    loaded[17] = cpu.readSystem16((base + 0x60) | 0);
  } else {
    loaded[0] = cpu.cr3;
    loaded[1] = cpu.readSystem16((base + 0x0e) | 0);
    loaded[2] = cpu.readSystem16((base + 0x10) | 0) | (flags & 0xffff0000);
    for (let r = 0; r < 8; r++) loaded[3 + r] = cpu.readSystem16((base + 0x12 + r * 2) | 0) | (regs[r] & 0xffff0000);
    for (let s = 0; s < 4; s++) loaded[11 + s] = cpu.readSystem16((base + 0x22 + s * 2) | 0);
    loaded[15] = 0; loaded[16] = 0;
    loaded[17] = cpu.readSystem16((base + 0x2a) | 0);
  }
  if (reason === TaskSwitchReason.CALL || reason === TaskSwitchReason.INTERRUPT) {
    cpu.writeSystem16(base, cpu.segSel[Seg.TR]);
    loaded[2] |= Flag.NT;
  }
  if (reason !== TaskSwitchReason.IRET) {
    d.high |= 0x200;
    cpu.writeSystem8((d.address + 5) | 0, (d.high >> 8) & 0xff);
  }

  // Commit point: from here on faults belong to the new task.
  cpu.taskSwitchCommitted = true;
  cpu.setSegmentCache(Seg.TR, tssSelector, base, d.limit, d.attr | 0x2);
  cpu.cr0 |= Cr0.TS;
  if (newTss32 && (cpu.cr0 & Cr0.PG) !== 0 && loaded[0] !== cpu.cr3) {
    cpu.cr3 = loaded[0];
    cpu.flushTlb(false);
  }
  cpu.eip = loaded[1];
  cpu.eflags = (loaded[2] & 0x3f7fd7) | 0x2;
  cpu.lazyOp = 0;
  for (let r = 0; r < 8; r++) regs[r] = loaded[3 + r];
  const v86 = (cpu.eflags & Flag.VM) !== 0;
  // Selectors go in first (unusable) so a fault while validating leaves them visible to the handler.
  for (let s = 0; s < 6; s++) cpu.setSegmentCache(s, loaded[11 + s], 0, 0, 0);
  const newCpl = v86 ? 3 : loaded[11 + Seg.CS] & 3;
  cpu.setCpl(newCpl);
  // Faults from here on are the new task's: they must restart at its EIP, not the old one's.
  cpu.instructionStart = cpu.eip;
  loadTaskLdt(cpu, loaded[17]);
  if (v86) {
    for (let s = 0; s < 6; s++) cpu.setSegmentCache(s, loaded[11 + s], loaded[11 + s] << 4, 0xffff, 0xf3);
    return;
  }
  loadTaskCodeSegment(cpu, loaded[11 + Seg.CS]);
  loadTaskDataSegment(cpu, Seg.SS, loaded[11 + Seg.SS]);
  for (const s of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) loadTaskDataSegment(cpu, s, loaded[11 + s]);
  if ((cpu.eip >>> 0) > (cpu.segLimit[Seg.CS] >>> 0)) cpu.raise(Vector.GP, 0);
}

function loadTaskLdt(cpu: Cpu, selector: number): void {
  if ((selector & 0xfffc) === 0) { cpu.setSegmentCache(Seg.LDTR, 0, 0, 0, 0); return; }
  const d = segmentDescriptor;
  if ((selector & 4) || !fetchDescriptor(cpu, selector, d) || d.isCodeOrData || d.type !== 2) cpu.raise(Vector.TS, selector & 0xfffc);
  if (!d.present) cpu.raise(Vector.TS, selector & 0xfffc);
  cpu.setSegmentCache(Seg.LDTR, selector, d.base, d.limit, d.attr);
}

function loadTaskCodeSegment(cpu: Cpu, selector: number): void {
  const d = segmentDescriptor;
  const error = selector & 0xfffc;
  if (error === 0 || !fetchDescriptor(cpu, selector, d) || !d.isCode) cpu.raise(Vector.TS, error);
  const rpl = selector & 3;
  if (d.isConforming ? d.dpl > rpl : d.dpl !== rpl) cpu.raise(Vector.TS, error);
  if (!d.present) cpu.raise(Vector.NP, error);
  cpu.setSegmentCache(Seg.CS, selector, d.base, d.limit, d.attr);
}

function loadTaskDataSegment(cpu: Cpu, seg: number, selector: number): void {
  const d = segmentDescriptor;
  const error = selector & 0xfffc;
  if (error === 0) {
    if (seg === Seg.SS) cpu.raise(Vector.TS, 0);
    cpu.setSegmentCache(seg, selector, 0, 0, 0);
    return;
  }
  if (!fetchDescriptor(cpu, selector, d)) cpu.raise(Vector.TS, error);
  if (seg === Seg.SS) {
    if (!d.isWritableData || d.dpl !== cpu.cpl || (selector & 3) !== cpu.cpl) cpu.raise(Vector.TS, error);
    if (!d.present) cpu.raise(Vector.SS, error);
  } else {
    if (!d.isReadable) cpu.raise(Vector.TS, error);
    if (!d.isConforming && ((selector & 3) > d.dpl || cpu.cpl > d.dpl)) cpu.raise(Vector.TS, error);
    if (!d.present) cpu.raise(Vector.NP, error);
  }
  cpu.setSegmentCache(seg, selector, d.base, d.limit, d.attr);
}

