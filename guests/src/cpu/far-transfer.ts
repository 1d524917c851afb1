/**
 * Far JMP/CALL/RET and IRET in real, protected and virtual-8086 mode: code-segment privilege
 * rules, call gates with inner-stack switches and parameter copying, returns to outer levels,
 * and task switches reached through them.
 */
import type { Cpu } from "./cpu.js";
import { EFLAGS_FIXED_ONE, Flag, Reg, Seg } from "./constants.js";
import { ControlSnapshot } from "./control-snapshot.js";
import { Descriptor, fetchDescriptorOrFault } from "./descriptors.js";
import { FAULT_SIGNAL, Vector } from "./fault.js";
import { materializeFlags } from "./flags.js";
import { loadCodeSegment, loadStackSegmentFor, nullifyInaccessibleSegments } from "./segmentation.js";
import { switchTask, TaskSwitchReason } from "./task-switch.js";
import { readInnerStack, StackPointer } from "./tss.js";

const descriptor = new Descriptor();
const codeDescriptor = new Descriptor();
const snapshot = new ControlSnapshot();
const innerStack = new StackPointer();
const parameters = new Int32Array(32);

function realModeCs(cpu: Cpu, selector: number): void {
  selector &= 0xffff;
  const v86 = (cpu.eflags & Flag.VM) !== 0;
  cpu.setSegmentCache(Seg.CS, selector, selector << 4, v86 ? 0xffff : cpu.segLimit[Seg.CS], v86 ? 0xf3 : cpu.segAttr[Seg.CS]);
}

function checkedEip(cpu: Cpu, offset: number): number {
  if ((offset >>> 0) > (cpu.segLimit[Seg.CS] >>> 0)) cpu.raise(Vector.GP, 0);
  return offset | 0;
}

/** Undoes a partly done transfer (pushes, segment loads) when it faults, then rethrows. */
function rollBack(cpu: Cpu, e: unknown): never {
  if (e === FAULT_SIGNAL) snapshot.restore(cpu);
  throw e;
}

/** Validates a direct code-segment target for JMP/CALL and returns its CPL. */
function checkDirectCode(cpu: Cpu, selector: number, d: Descriptor): void {
  const error = selector & 0xfffc;
  if (d.isConforming) {
    if (d.dpl > cpu.cpl) cpu.raise(Vector.GP, error);
  } else if ((selector & 3) > cpu.cpl || d.dpl !== cpu.cpl) {
    cpu.raise(Vector.GP, error);
  }
  if (!d.present) cpu.raise(Vector.NP, error);
}

// ---- JMP far --------------------------------------------------------------------------------

export function farJump(cpu: Cpu, selector: number, offset: number, size32: boolean, returnEip: number): void {
  if (!size32) offset &= 0xffff;
  if (!cpu.protectedMode || (cpu.eflags & Flag.VM) !== 0) {
    realModeCs(cpu, selector);
    cpu.eip = offset;
    return;
  }
  snapshot.save(cpu);
  try {
    farJumpProtected(cpu, selector, offset, returnEip);
  } catch (e) {
    rollBack(cpu, e);
  }
}

function farJumpProtected(cpu: Cpu, selector: number, offset: number, returnEip: number): void {
  const error = selector & 0xfffc;
  if (error === 0) cpu.raise(Vector.GP, 0);
  const d = descriptor;
  fetchDescriptorOrFault(cpu, selector, d);
  if (d.isCodeOrData) {
    if (!d.isCode) cpu.raise(Vector.GP, error);
    checkDirectCode(cpu, selector, d);
    if ((offset >>> 0) > (d.limit >>> 0)) cpu.raise(Vector.GP, 0);
    loadCodeSegment(cpu, selector, d, cpu.cpl);
    cpu.eip = offset;
    return;
  }
  const type = d.type;
  if (type === 5 || type === 1 || type === 9) {
    if (d.dpl < cpu.cpl || d.dpl < (selector & 3)) cpu.raise(Vector.GP, error);
    if (!d.present) cpu.raise(Vector.NP, error);
    switchTask(cpu, selector, TaskSwitchReason.JUMP, returnEip, 0);
    return;
  }
  if (type !== 4 && type !== 0xc) cpu.raise(Vector.GP, error);
  if (d.dpl < cpu.cpl || d.dpl < (selector & 3)) cpu.raise(Vector.GP, error);
  if (!d.present) cpu.raise(Vector.NP, error);
  const targetSelector = d.gateSelector;
  const targetOffset = type === 0xc ? d.gateOffset : d.gateOffset & 0xffff;
  const c = codeDescriptor;
  if ((targetSelector & 0xfffc) === 0) cpu.raise(Vector.GP, 0);
  fetchDescriptorOrFault(cpu, targetSelector, c);
  if (!c.isCode || (c.isConforming ? c.dpl > cpu.cpl : c.dpl !== cpu.cpl)) cpu.raise(Vector.GP, targetSelector & 0xfffc);
  if (!c.present) cpu.raise(Vector.NP, targetSelector & 0xfffc);
  if ((targetOffset >>> 0) > (c.limit >>> 0)) cpu.raise(Vector.GP, 0);
  loadCodeSegment(cpu, targetSelector, c, cpu.cpl);
  cpu.eip = targetOffset;
}

// ---- CALL far -------------------------------------------------------------------------------

export function farCall(cpu: Cpu, selector: number, offset: number, size32: boolean, returnEip: number): void {
  if (!size32) offset &= 0xffff;
  if (!cpu.protectedMode || (cpu.eflags & Flag.VM) !== 0) {
    snapshot.save(cpu);
    try {
      cpu.pushOperand(cpu.segSel[Seg.CS], size32);
      cpu.pushOperand(returnEip, size32);
      realModeCs(cpu, selector);
      cpu.eip = checkedEip(cpu, offset);
    } catch (e) {
      rollBack(cpu, e);
    }
    return;
  }
  snapshot.save(cpu);
  try {
    farCallProtected(cpu, selector, offset, size32, returnEip);
  } catch (e) {
    rollBack(cpu, e);
  }
}

function farCallProtected(cpu: Cpu, selector: number, offset: number, size32: boolean, returnEip: number): void {
  const error = selector & 0xfffc;
  if (error === 0) cpu.raise(Vector.GP, 0);
  const d = descriptor;
  fetchDescriptorOrFault(cpu, selector, d);
  const oldCs = cpu.segSel[Seg.CS];
  if (d.isCodeOrData) {
    if (!d.isCode) cpu.raise(Vector.GP, error);
    checkDirectCode(cpu, selector, d);
    if ((offset >>> 0) > (d.limit >>> 0)) cpu.raise(Vector.GP, 0);
    cpu.pushOperand(oldCs, size32);
    cpu.pushOperand(returnEip, size32);
    loadCodeSegment(cpu, selector, d, cpu.cpl);
    cpu.eip = offset;
    return;
  }
  const type = d.type;
  if (type === 5 || type === 1 || type === 9) {
    if (d.dpl < cpu.cpl || d.dpl < (selector & 3)) cpu.raise(Vector.GP, error);
    if (!d.present) cpu.raise(Vector.NP, error);
    switchTask(cpu, selector, TaskSwitchReason.CALL, returnEip, 0);
    return;
  }
  if (type !== 4 && type !== 0xc) cpu.raise(Vector.GP, error);
  if (d.dpl < cpu.cpl || d.dpl < (selector & 3)) cpu.raise(Vector.GP, error);
  if (!d.present) cpu.raise(Vector.NP, error);
  const gate32 = type === 0xc;
  const targetSelector = d.gateSelector;
  const targetOffset = gate32 ? d.gateOffset : d.gateOffset & 0xffff;
  const paramCount = d.gateParamCount;
  const c = codeDescriptor;
  const targetError = targetSelector & 0xfffc;
  if (targetError === 0) cpu.raise(Vector.GP, 0);
  fetchDescriptorOrFault(cpu, targetSelector, c);
  if (!c.isCode || c.dpl > cpu.cpl) cpu.raise(Vector.GP, targetError);
  if (!c.present) cpu.raise(Vector.NP, targetError);
  if ((targetOffset >>> 0) > (c.limit >>> 0)) cpu.raise(Vector.GP, 0);

  if (!c.isConforming && c.dpl < cpu.cpl) {
    const newCpl = c.dpl;
    readInnerStack(cpu, newCpl, innerStack);
    const oldSs = cpu.segSel[Seg.SS];
    const oldEsp = cpu.regs[Reg.ESP];
    const slot = gate32 ? 4 : 2;
    for (let i = 0; i < paramCount; i++) parameters[i] = cpu.peekStack(i * slot, gate32);
    cpu.setCpl(newCpl);
    loadStackSegmentFor(cpu, innerStack.selector, newCpl, Vector.TS);
    cpu.regs[Reg.ESP] = innerStack.offset;
    cpu.pushOperand(oldSs, gate32);
    cpu.pushOperand(oldEsp, gate32);
    for (let i = paramCount - 1; i >= 0; i--) cpu.pushOperand(parameters[i], gate32);
    cpu.pushOperand(oldCs, gate32);
    cpu.pushOperand(returnEip, gate32);
    loadCodeSegment(cpu, targetSelector, c, newCpl);
  } else {
    cpu.pushOperand(oldCs, gate32);
    cpu.pushOperand(returnEip, gate32);
    loadCodeSegment(cpu, targetSelector, c, cpu.cpl);
  }
  cpu.eip = targetOffset;
}

// ---- RET far --------------------------------------------------------------------------------

export function farReturn(cpu: Cpu, size32: boolean, release: number): void {
  const slot = size32 ? 4 : 2;
  if (!cpu.protectedMode || (cpu.eflags & Flag.VM) !== 0) {
    const offset = cpu.peekStack(0, size32);
    const selector = cpu.peekStack(slot, size32) & 0xffff;
    snapshot.save(cpu);
    try {
      realModeCs(cpu, selector);
      cpu.eip = checkedEip(cpu, size32 ? offset : offset & 0xffff);
      cpu.adjustStackPointer(2 * slot + release);
    } catch (e) {
      rollBack(cpu, e);
    }
    return;
  }
  snapshot.save(cpu);
  try {
    const offset = size32 ? cpu.peekStack(0, true) : cpu.peekStack(0, false);
    const selector = cpu.peekStack(slot, size32) & 0xffff;
    returnToCode(cpu, selector, offset, size32, 2 * slot, release);
  } catch (e) {
    rollBack(cpu, e);
  }
}

/**
 * Common tail of RET far and IRET in protected mode: `popped` bytes of frame have been read,
 * `release` more are discarded (RET imm16). Handles returns to the same and to outer levels.
 */
function returnToCode(cpu: Cpu, selector: number, offset: number, size32: boolean, popped: number, release: number): void {
  const error = selector & 0xfffc;
  if (error === 0) cpu.raise(Vector.GP, 0);
  const d = descriptor;
  fetchDescriptorOrFault(cpu, selector, d);
  const rpl = selector & 3;
  if (!d.isCode || rpl < cpu.cpl) cpu.raise(Vector.GP, error);
  if (d.isConforming ? d.dpl > rpl : d.dpl !== rpl) cpu.raise(Vector.GP, error);
  if (!d.present) cpu.raise(Vector.NP, error);
  if (!size32) offset &= 0xffff;
  if (rpl === cpu.cpl) {
    if ((offset >>> 0) > (d.limit >>> 0)) cpu.raise(Vector.GP, 0);
    loadCodeSegment(cpu, selector, d, rpl);
    cpu.eip = offset;
    cpu.adjustStackPointer(popped + release);
    return;
  }
  const slot = size32 ? 4 : 2;
  const newEsp = cpu.peekStack(popped + release, size32);
  const newSs = cpu.peekStack(popped + release + slot, size32) & 0xffff;
  if ((offset >>> 0) > (d.limit >>> 0)) cpu.raise(Vector.GP, 0);
  loadCodeSegment(cpu, selector, d, rpl);
  loadStackSegmentFor(cpu, newSs, rpl, Vector.GP);
  if (size32 || cpu.stack32) cpu.regs[Reg.ESP] = size32 ? newEsp : newEsp & 0xffff;
  else cpu.regs[Reg.ESP] = (cpu.regs[Reg.ESP] & ~0xffff) | (newEsp & 0xffff);
  cpu.adjustStackPointer(release);
  cpu.eip = offset;
  nullifyInaccessibleSegments(cpu);
}

// ---- IRET -----------------------------------------------------------------------------------

export function interruptReturn(cpu: Cpu, size32: boolean, returnEip: number): void {
  const slot = size32 ? 4 : 2;
  if (!cpu.protectedMode) {
    const offset = cpu.peekStack(0, size32);
    const selector = cpu.peekStack(slot, size32) & 0xffff;
    const flags = cpu.peekStack(2 * slot, size32);
    snapshot.save(cpu);
    try {
      realModeCs(cpu, selector);
      cpu.eip = checkedEip(cpu, size32 ? offset : offset & 0xffff);
      cpu.adjustStackPointer(3 * slot);
      const mask = size32 ? 0x257fd5 : 0x7fd5;
      writeFlagsForReturn(cpu, flags, mask);
    } catch (e) {
      rollBack(cpu, e);
    }
    return;
  }
  if ((cpu.eflags & Flag.VM) !== 0) {
    if (((cpu.eflags >> 12) & 3) !== 3) cpu.raise(Vector.GP, 0);
    const offset = cpu.peekStack(0, size32);
    const selector = cpu.peekStack(slot, size32) & 0xffff;
    const flags = cpu.peekStack(2 * slot, size32);
    snapshot.save(cpu);
    try {
      realModeCs(cpu, selector);
      cpu.eip = checkedEip(cpu, size32 ? offset : offset & 0xffff);
      cpu.adjustStackPointer(3 * slot);
      // IOPL and VM stay as they are in virtual-8086 mode.
      writeFlagsForReturn(cpu, flags, size32 ? 0x244dd5 : 0x4dd5);
    } catch (e) {
      rollBack(cpu, e);
    }
    return;
  }
  if ((cpu.eflags & Flag.NT) !== 0) {
    const backlink = cpu.readSystem16(cpu.segBase[Seg.TR]);
    switchTask(cpu, backlink, TaskSwitchReason.IRET, returnEip, 0);
    return;
  }
  snapshot.save(cpu);
  try {
    const offset = cpu.peekStack(0, size32);
    const selector = cpu.peekStack(slot, size32) & 0xffff;
    const flags = cpu.peekStack(2 * slot, size32);
    if (size32 && (flags & Flag.VM) !== 0 && cpu.cpl === 0) {
      returnToVirtual8086(cpu, offset, selector, flags);
      return;
    }
    const oldCpl = cpu.cpl;
    const iopl = (cpu.eflags >> 12) & 3;
    returnToCode(cpu, selector, offset, size32, 3 * slot, 0);
    let mask = size32 ? 0x3f7fd5 & ~(Flag.VM | Flag.VIF | Flag.VIP) : 0x7fd5;
    if (oldCpl > 0) mask &= ~Flag.IOPL;
    if (oldCpl > iopl) mask &= ~Flag.IF;
    writeFlagsForReturn(cpu, flags, mask);
  } catch (e) {
    rollBack(cpu, e);
  }
}

function returnToVirtual8086(cpu: Cpu, offset: number, selector: number, flags: number): void {
  const esp = cpu.peekStack(12, true);
  const ss = cpu.peekStack(16, true) & 0xffff;
  const es = cpu.peekStack(20, true) & 0xffff;
  const ds = cpu.peekStack(24, true) & 0xffff;
  const fs = cpu.peekStack(28, true) & 0xffff;
  const gs = cpu.peekStack(32, true) & 0xffff;
  cpu.eflags = (flags & 0x3f7fd5) | EFLAGS_FIXED_ONE;
  cpu.lazyOp = 0;
  cpu.setCpl(3);
  for (const [seg, sel] of [[Seg.CS, selector], [Seg.SS, ss], [Seg.ES, es], [Seg.DS, ds], [Seg.FS, fs], [Seg.GS, gs]] as const) {
    cpu.setSegmentCache(seg, sel, sel << 4, 0xffff, 0xf3);
  }
  cpu.regs[Reg.ESP] = esp;
  cpu.eip = offset & 0xffff;
}

/** Replaces the EFLAGS bits in `mask` with those of `value` (arith flags included). */
export function writeFlagsForReturn(cpu: Cpu, value: number, mask: number): void {
  const current = materializeFlags(cpu);
  cpu.eflags = ((current & ~mask) | (value & mask) | EFLAGS_FIXED_ONE) & ~0x8028;
}

