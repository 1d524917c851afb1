/** Register-stack mechanics and exception signalling shared by the x87 instructions. */
import type { Cpu } from "./cpu.js";
import { Cr0 } from "./constants.js";
import { Vector } from "./fault.js";
import { FpuStatus } from "./fpu-state.js";

/** Sets exception flags; unmasked ones also set ES and B (reported by the next waiting instruction). */
export function signalFpuException(cpu: Cpu, flags: number): void {
  const fpu = cpu.fpu;
  fpu.statusWord |= flags;
  if ((flags & ~fpu.controlWord & 0x3f) !== 0) fpu.statusWord |= FpuStatus.ES | FpuStatus.B;
}

/** True when the exception is masked, i.e. the masked response (a default result) applies. */
export function isMasked(cpu: Cpu, flag: number): boolean {
  return (cpu.fpu.controlWord & flag) !== 0;
}

/** Waiting instructions first report a pending unmasked exception as #MF. */
export function checkPendingFpuException(cpu: Cpu): void {
  if ((cpu.fpu.statusWord & FpuStatus.ES) !== 0) cpu.raise(Vector.MF);
}

/** CR0.EM / CR0.TS gate every x87 instruction with #NM. */
export function checkFpuAvailable(cpu: Cpu): void {
  if ((cpu.cr0 & (Cr0.EM | Cr0.TS)) !== 0) cpu.raise(Vector.NM);
}

export function setCondition(cpu: Cpu, c3: boolean, c2: boolean, c1: boolean, c0: boolean): void {
  const fpu = cpu.fpu;
  let s = fpu.statusWord & ~FpuStatus.CONDITION;
  if (c0) s |= FpuStatus.C0;
  if (c1) s |= FpuStatus.C1;
  if (c2) s |= FpuStatus.C2;
  if (c3) s |= FpuStatus.C3;
  fpu.statusWord = s;
}

function stackUnderflow(cpu: Cpu): void {
  cpu.fpu.statusWord &= ~FpuStatus.C1;
  signalFpuException(cpu, FpuStatus.IE | FpuStatus.SF);
}

/** ST(i); an empty register is a stack underflow whose masked result is the indefinite NaN. */
export function readStack(cpu: Cpu, i: number): number {
  const fpu = cpu.fpu;
  const r = (fpu.top + i) & 7;
  if (fpu.empty[r]) {
    stackUnderflow(cpu);
    return NaN;
  }
  return fpu.st[r];
}

export function isStackEmpty(cpu: Cpu, i: number): boolean {
  return cpu.fpu.empty[(cpu.fpu.top + i) & 7] === 1;
}

export function writeStack(cpu: Cpu, i: number, value: number): void {
  const fpu = cpu.fpu;
  const r = (fpu.top + i) & 7;
  fpu.st[r] = value;
  fpu.empty[r] = 0;
}

export function pushStack(cpu: Cpu, value: number): void {
  const fpu = cpu.fpu;
  const r = (fpu.top - 1) & 7;
  if (!fpu.empty[r]) {
    fpu.statusWord |= FpuStatus.C1;
    signalFpuException(cpu, FpuStatus.IE | FpuStatus.SF);
    value = NaN;
  }
  fpu.top = r;
  fpu.st[r] = value;
  fpu.empty[r] = 0;
}

export function popStack(cpu: Cpu): void {
  const fpu = cpu.fpu;
  fpu.empty[fpu.top] = 1;
  fpu.top = (fpu.top + 1) & 7;
}

/** Flags an arithmetic result: invalid for NaN from non-NaN inputs, divide-by-zero, overflow. */
export function checkResult(cpu: Cpu, result: number, a: number, b: number): void {
  if (Number.isNaN(result) && !Number.isNaN(a) && !Number.isNaN(b)) signalFpuException(cpu, FpuStatus.IE);
  else if (!Number.isFinite(result) && Number.isFinite(a) && Number.isFinite(b)) signalFpuException(cpu, FpuStatus.OE | FpuStatus.PE);
}
