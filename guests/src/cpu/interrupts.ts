/**
 * Delivering interrupts and exceptions: the real-mode IVT and the protected-mode IDT with
 * interrupt/trap/task gates, stack switches to inner rings and out of virtual-8086 mode.
 */
import type { Cpu } from "./cpu.js";
import { Flag, Reg, Seg } from "./constants.js";
import { ControlSnapshot } from "./control-snapshot.js";
import { Descriptor, fetchDescriptor } from "./descriptors.js";
import { FAULT_SIGNAL, NO_ERROR_CODE, Vector } from "./fault.js";
import { materializeFlags } from "./flags.js";
import { loadCodeSegment, loadStackSegmentFor } from "./segmentation.js";
import { TaskSwitchReason, switchTask } from "./task-switch.js";
import { readInnerStack, StackPointer } from "./tss.js";

export const enum InterruptKind { EXCEPTION = 0, SOFTWARE = 1, EXTERNAL = 2 }

const gate = new Descriptor();
const target = new Descriptor();
const innerStack = new StackPointer();
const snapshot = new ControlSnapshot();

/**
 * Transfers control to the handler for `vector`. `returnEip` is what the handler's IRET resumes
 * (the faulting instruction for faults, the next one for traps and INT n). On failure the old
 * context is restored and the new fault is thrown.
 */
export function deliverInterrupt(cpu: Cpu, vector: number, errorCode: number, kind: InterruptKind, returnEip: number): void {
  snapshot.save(cpu);
  cpu.eip = returnEip;
  try {
    if (!cpu.protectedMode) deliverReal(cpu, vector);
    else deliverProtected(cpu, vector, errorCode, kind);
  } catch (e) {
    if (e === FAULT_SIGNAL) snapshot.restore(cpu);
    throw e;
  }
}

function deliverReal(cpu: Cpu, vector: number): void {
  if (vector * 4 + 3 > cpu.idtrLimit) cpu.raise(Vector.GP, vector * 8 + 2);
  const entry = cpu.readSystem32((cpu.idtrBase + vector * 4) | 0);
  const flags = materializeFlags(cpu);
  cpu.push16(flags);
  cpu.push16(cpu.segSel[Seg.CS]);
  cpu.push16(cpu.eip);
  cpu.eflags &= ~(Flag.IF | Flag.TF | Flag.AC | Flag.RF);
  const selector = entry >>> 16;
  cpu.setSegmentCache(Seg.CS, selector, selector << 4, cpu.segLimit[Seg.CS], cpu.segAttr[Seg.CS]);
  cpu.eip = entry & 0xffff;
}

function deliverProtected(cpu: Cpu, vector: number, errorCode: number, kind: InterruptKind): void {
  const ext = kind === InterruptKind.SOFTWARE ? 0 : 1;
  const idtError = vector * 8 + 2 + ext;
  const v86 = (cpu.eflags & Flag.VM) !== 0;
  if (v86 && kind === InterruptKind.SOFTWARE && ((cpu.eflags >> 12) & 3) < 3) cpu.raise(Vector.GP, 0);
  if (vector * 8 + 7 > cpu.idtrLimit) cpu.raise(Vector.GP, idtError);
  gate.address = (cpu.idtrBase + vector * 8) | 0;
  gate.low = cpu.readSystem32(gate.address);
  gate.high = cpu.readSystem32((gate.address + 4) | 0);
  const type = gate.type;
  if (gate.isCodeOrData || (type !== 5 && type !== 6 && type !== 7 && type !== 0xe && type !== 0xf)) cpu.raise(Vector.GP, idtError);
  if (kind === InterruptKind.SOFTWARE && gate.dpl < cpu.cpl) cpu.raise(Vector.GP, idtError);
  if (!gate.present) cpu.raise(Vector.NP, idtError);

  if (type === 5) {
    switchTask(cpu, gate.gateSelector, TaskSwitchReason.INTERRUPT, cpu.eip, ext);
    if (errorCode !== NO_ERROR_CODE) pushErrorCode(cpu, errorCode);
    return;
  }
  const gate32 = (type & 8) !== 0;
  const trapGate = (type & 1) !== 0;
  const selector = gate.gateSelector;
  let offset = gate.gateOffset;
  if (!gate32) offset &= 0xffff;
  if ((selector & 0xfffc) === 0) cpu.raise(Vector.GP, ext);
  if (!fetchDescriptor(cpu, selector, target)) cpu.raise(Vector.GP, (selector & 0xfffc) + ext);
  if (!target.isCode || target.dpl > cpu.cpl) cpu.raise(Vector.GP, (selector & 0xfffc) + ext);
  if (!target.present) cpu.raise(Vector.NP, (selector & 0xfffc) + ext);
  if ((offset >>> 0) > (target.limit >>> 0)) cpu.raise(Vector.GP, ext);

  const flags = materializeFlags(cpu);
  const oldCs = cpu.segSel[Seg.CS];
  const oldEip = cpu.eip;
  const toInner = !target.isConforming && target.dpl < cpu.cpl;
  if (toInner) {
    if (v86 && target.dpl !== 0) cpu.raise(Vector.GP, (selector & 0xfffc) + ext);
    const newCpl = target.dpl;
    readInnerStack(cpu, newCpl, innerStack);
    const oldSs = cpu.segSel[Seg.SS];
    const oldEsp = cpu.regs[Reg.ESP];
    const oldEs = cpu.segSel[Seg.ES], oldDs = cpu.segSel[Seg.DS], oldFs = cpu.segSel[Seg.FS], oldGs = cpu.segSel[Seg.GS];
    // The new SS is validated against the target level before anything is pushed.
    cpu.setCpl(newCpl);
    if (v86) {
      cpu.eflags &= ~Flag.VM;
      cpu.refreshSegmentRights();
    }
    loadStackSegmentFor(cpu, innerStack.selector, newCpl, Vector.TS);
    cpu.regs[Reg.ESP] = innerStack.offset;
    if (v86) {
      pushSlot(cpu, gate32, oldGs);
      pushSlot(cpu, gate32, oldFs);
      pushSlot(cpu, gate32, oldDs);
      pushSlot(cpu, gate32, oldEs);
    }
    pushSlot(cpu, gate32, oldSs);
    pushSlot(cpu, gate32, oldEsp);
    pushSlot(cpu, gate32, flags);
    pushSlot(cpu, gate32, oldCs);
    pushSlot(cpu, gate32, oldEip);
    if (errorCode !== NO_ERROR_CODE) pushSlot(cpu, gate32, errorCode);
    if (v86) for (const s of [Seg.ES, Seg.DS, Seg.FS, Seg.GS]) cpu.setSegmentCache(s, 0, 0, 0, 0);
    loadCodeSegment(cpu, selector, target, newCpl);
  } else {
    if (v86) cpu.raise(Vector.GP, (selector & 0xfffc) + ext);
    if (!target.isConforming && target.dpl !== cpu.cpl) cpu.raise(Vector.GP, (selector & 0xfffc) + ext);
    pushSlot(cpu, gate32, flags);
    pushSlot(cpu, gate32, oldCs);
    pushSlot(cpu, gate32, oldEip);
    if (errorCode !== NO_ERROR_CODE) pushSlot(cpu, gate32, errorCode);
    loadCodeSegment(cpu, selector, target, cpu.cpl);
  }
  cpu.eip = offset;
  cpu.eflags &= ~(Flag.TF | Flag.NT | Flag.RF | Flag.VM);
  if (!trapGate) cpu.eflags &= ~Flag.IF;
}

function pushSlot(cpu: Cpu, size32: boolean, value: number): void {
  if (size32) cpu.push32(value);
  else cpu.push16(value);
}

/** After a task switch through a gate, the error code goes on the new task's stack. */
function pushErrorCode(cpu: Cpu, errorCode: number): void {
  const tss32 = (cpu.segAttr[Seg.TR] & 0x8) !== 0;
  pushSlot(cpu, tss32, errorCode);
}

/** Exceptions that push an error code. */
export function exceptionHasErrorCode(vector: number): boolean {
  return vector === Vector.DF || (vector >= Vector.TS && vector <= Vector.PF) || vector === Vector.AC;
}
