/**
 * Register-stack mechanics and exception signalling shared by the x87 instructions.
 *
 * An instruction that meets an unmasked invalid-operation, denormal-operand or divide-by-zero
 * exception (and a store to memory that meets unmasked overflow or underflow) leaves its
 * destination and TOP untouched (SDM vol. 1 8.5): the instruction is then "aborted" and every
 * store helper here becomes a no-op until the next x87 instruction begins.
 */
import type { Cpu } from "./cpu.js";
import { Cr0 } from "./constants.js";
import { Vector } from "./fault.js";
import { FpuStatus } from "./fpu-state.js";

/** Exceptions after which the destination must stay unchanged when unmasked. */
const PRE_COMPUTATION = FpuStatus.IE | FpuStatus.DE | FpuStatus.ZE;

let aborted = false;

/** Starts an instruction: nothing signalled yet. */
export function beginFpuInstruction(): void {
  aborted = false;
}

/** True once an unmasked exception has suppressed the current instruction's results. */
export function fpuAborted(): boolean {
  return aborted;
}

/**
 * Sets exception flags; unmasked ones also set ES and B (reported by the next waiting
 * instruction) and, for the pre-computation exceptions, suppress the result. Returns true when
 * any of `flags` is unmasked.
 */
export function signalFpuException(cpu: Cpu, flags: number): boolean {
  const fpu = cpu.fpu;
  fpu.statusWord |= flags;
  const unmasked = flags & ~fpu.controlWord & 0x3f;
  if (unmasked === 0) return false;
  fpu.statusWord |= FpuStatus.ES | FpuStatus.B;
  if ((unmasked & PRE_COMPUTATION) !== 0) aborted = true;
  updateFerr(cpu);
  return true;
}

/** Sets flags (ES and B when unmasked) for an instruction that delivers its result regardless. */
export function signalFpuExceptionKeepingResult(cpu: Cpu, flags: number): void {
  const fpu = cpu.fpu;
  fpu.statusWord |= flags;
  if ((flags & ~fpu.controlWord & 0x3f) === 0) return;
  fpu.statusWord |= FpuStatus.ES | FpuStatus.B;
  updateFerr(cpu);
}

/** For stores to memory, unmasked #O and #U also leave the destination untouched. */
export function signalStoreException(cpu: Cpu, flags: number): void {
  if (signalFpuException(cpu, flags) && (flags & ~cpu.fpu.controlWord & (FpuStatus.OE | FpuStatus.UE)) !== 0) aborted = true;
}

/** True when the exception is masked, i.e. the masked response (a default result) applies. */
export function isMasked(cpu: Cpu, flag: number): boolean {
  return (cpu.fpu.controlWord & flag) !== 0;
}

/**
 * ES (and B, its 8087-era alias) summarise the unmasked exception flags after FLDCW, FLDENV,
 * FRSTOR and FXRSTOR: unmasking an already-flagged exception makes it pending (SDM FLDCW).
 */
export function recomputeErrorSummary(cpu: Cpu): void {
  const fpu = cpu.fpu;
  if ((fpu.statusWord & ~fpu.controlWord & 0x3f) !== 0) fpu.statusWord |= FpuStatus.ES | FpuStatus.B;
  else fpu.statusWord &= ~(FpuStatus.ES | FpuStatus.B);
  updateFerr(cpu);
}

/**
 * FERR# in MS-DOS compatibility mode (CR0.NE = 0): asserted while an unmasked exception is
 * pending (the P6 asserts it as the faulting instruction completes, SDM vol. 3 "Assertion of the
 * FERR# Pin"), released when ES clears. The board latches it onto IRQ13.
 */
export function updateFerr(cpu: Cpu): void {
  const fpu = cpu.fpu;
  const asserted = (fpu.statusWord & FpuStatus.ES) !== 0 && (cpu.cr0 & Cr0.NE) === 0;
  if (asserted === fpu.ferr) return;
  fpu.ferr = asserted;
  fpu.onFerrChange?.(asserted);
}

/**
 * Waiting instructions first report a pending unmasked exception: #MF with CR0.NE = 1. With
 * NE = 0 the report is FERR# (IRQ13 through the PIC); the P6 would freeze at this instruction
 * until that interrupt arrives, which is not modelled: the instruction proceeds, and the IRQ13
 * is taken at the next interrupt window.
 */
export function checkPendingFpuException(cpu: Cpu): void {
  if ((cpu.fpu.statusWord & FpuStatus.ES) === 0) return;
  if ((cpu.cr0 & Cr0.NE) !== 0) cpu.raise(Vector.MF);
  updateFerr(cpu);
}

/** CR0.EM / CR0.TS gate every x87 instruction with #NM. */
export function checkFpuAvailable(cpu: Cpu): void {
  if ((cpu.cr0 & (Cr0.EM | Cr0.TS)) !== 0) cpu.raise(Vector.NM);
}

/** C3/C2/C1/C0; comparisons set them even when an unmasked #IA stops the rest of the instruction. */
export function setCondition(cpu: Cpu, c3: boolean, c2: boolean, c1: boolean, c0: boolean): void {
  const fpu = cpu.fpu;
  let s = fpu.statusWord & ~FpuStatus.CONDITION;
  if (c0) s |= FpuStatus.C0;
  if (c1) s |= FpuStatus.C1;
  if (c2) s |= FpuStatus.C2;
  if (c3) s |= FpuStatus.C3;
  fpu.statusWord = s;
}

/** C1 after a rounded result: set when the magnitude was rounded up. */
export function setC1(cpu: Cpu, up: boolean): void {
  if (up) cpu.fpu.statusWord |= FpuStatus.C1;
  else cpu.fpu.statusWord &= ~FpuStatus.C1;
}

/** #IS: stack underflow clears C1, overflow sets it; both are invalid operations with SF. */
function stackFault(cpu: Cpu, overflow: boolean): void {
  setC1(cpu, overflow);
  signalFpuException(cpu, FpuStatus.IE | FpuStatus.SF);
}

/** ST(i); an empty register is a stack underflow whose masked result is the indefinite NaN. */
export function readStack(cpu: Cpu, i: number): number {
  const fpu = cpu.fpu;
  const r = (fpu.top + i) & 7;
  if (fpu.empty[r]) {
    stackFault(cpu, false);
    return NaN;
  }
  return fpu.st[r];
}

export function isStackEmpty(cpu: Cpu, i: number): boolean {
  return cpu.fpu.empty[(cpu.fpu.top + i) & 7] === 1;
}

export function writeStack(cpu: Cpu, i: number, value: number): void {
  if (aborted) return;
  const fpu = cpu.fpu;
  const r = (fpu.top + i) & 7;
  fpu.st[r] = value;
  fpu.empty[r] = 0;
}

/**
 * Checks that a push has room, before the instruction computes anything: on overflow the masked
 * response pushes the indefinite, the unmasked one aborts.
 */
export function checkPushRoom(cpu: Cpu): boolean {
  const fpu = cpu.fpu;
  if (!fpu.empty[(fpu.top - 1) & 7]) {
    stackFault(cpu, true);
    return false;
  }
  return true;
}

export function pushStack(cpu: Cpu, value: number): void {
  if (aborted) return;
  const fpu = cpu.fpu;
  const r = (fpu.top - 1) & 7;
  if (!fpu.empty[r]) {
    stackFault(cpu, true);
    if (aborted) return;
    value = NaN;
  }
  fpu.top = r;
  fpu.st[r] = value;
  fpu.empty[r] = 0;
}

export function popStack(cpu: Cpu): void {
  if (aborted) return;
  const fpu = cpu.fpu;
  fpu.empty[fpu.top] = 1;
  fpu.top = (fpu.top + 1) & 7;
}
