/**
 * FSTENV/FLDENV, FSAVE/FRSTOR and FXSAVE/FXRSTOR memory images. FSTENV/FSAVE pick the layout
 * from the mode and operand size (SDM vol. 1 figures 8-9..8-12): protected mode stores the
 * pointers as offset + selector, real and virtual-8086 mode as 20/32-bit linear addresses with
 * FOP beside the instruction pointer's high bits. FXSAVE always uses its protected-mode layout.
 */
import type { Cpu } from "./cpu.js";
import { Cr0, Flag } from "./constants.js";
import { Vector } from "./fault.js";
import { doubleFromExtended, extendedFromDouble } from "./fpu-formats.js";

const ext = new Int32Array(3);
const loaded = new Float64Array(8);

function wrapOffset(size32: boolean, offset: number): number {
  return size32 ? offset | 0 : offset & 0xffff;
}

function realModeLayout(cpu: Cpu): boolean {
  return (cpu.cr0 & Cr0.PE) === 0 || (cpu.eflags & Flag.VM) !== 0;
}

/** Writes the environment (14 or 28 bytes) and returns its size. */
export function storeEnvironment(cpu: Cpu, seg: number, offset: number, size32: boolean): number {
  const f = cpu.fpu;
  if (realModeLayout(cpu)) {
    // The real-mode image holds linear addresses, as the FPU computed them from CS and DS then.
    const ip = ((f.lastCs & 0xffff) << 4) + f.lastIp;
    const dp = ((f.lastDataSelector & 0xffff) << 4) + f.lastDataPointer;
    if (size32) {
      cpu.write32(seg, offset, f.controlWord | 0xffff0000);
      cpu.write32(seg, offset + 4, f.status | 0xffff0000);
      cpu.write32(seg, offset + 8, f.tagWord | 0xffff0000);
      cpu.write32(seg, offset + 12, (ip & 0xffff) | 0xffff0000);
      cpu.write32(seg, offset + 16, ((ip >>> 16) << 12) | (f.lastOpcode & 0x7ff));
      cpu.write32(seg, offset + 20, (dp & 0xffff) | 0xffff0000);
      cpu.write32(seg, offset + 24, (dp >>> 16) << 12);
      return 28;
    }
    cpu.write16(seg, offset, f.controlWord);
    cpu.write16(seg, offset + 2, f.status);
    cpu.write16(seg, offset + 4, f.tagWord);
    cpu.write16(seg, offset + 6, ip);
    cpu.write16(seg, offset + 8, (((ip >>> 16) & 0xf) << 12) | (f.lastOpcode & 0x7ff));
    cpu.write16(seg, offset + 10, dp);
    cpu.write16(seg, offset + 12, ((dp >>> 16) & 0xf) << 12);
    return 14;
  }
  if (size32) {
    cpu.write32(seg, offset, f.controlWord | 0xffff0000);
    cpu.write32(seg, offset + 4, f.status | 0xffff0000);
    cpu.write32(seg, offset + 8, f.tagWord | 0xffff0000);
    cpu.write32(seg, offset + 12, f.lastIp);
    cpu.write32(seg, offset + 16, (f.lastCs & 0xffff) | ((f.lastOpcode & 0x7ff) << 16));
    cpu.write32(seg, offset + 20, f.lastDataPointer);
    cpu.write32(seg, offset + 24, f.lastDataSelector | 0xffff0000);
    return 28;
  }
  cpu.write16(seg, offset, f.controlWord);
  cpu.write16(seg, offset + 2, f.status);
  cpu.write16(seg, offset + 4, f.tagWord);
  cpu.write16(seg, offset + 6, f.lastIp);
  cpu.write16(seg, offset + 8, f.lastCs);
  cpu.write16(seg, offset + 10, f.lastDataPointer);
  cpu.write16(seg, offset + 12, f.lastDataSelector);
  return 14;
}

export function loadEnvironment(cpu: Cpu, seg: number, offset: number, size32: boolean): number {
  const f = cpu.fpu;
  if (realModeLayout(cpu)) {
    // Linear pointers come back with a zero selector, so storing them again reproduces them.
    f.lastCs = 0;
    f.lastDataSelector = 0;
    if (size32) {
      const cw = cpu.read16(seg, offset);
      const sw = cpu.read16(seg, offset + 4);
      const tw = cpu.read16(seg, offset + 8);
      const ipHigh = cpu.read32(seg, offset + 16);
      f.lastIp = (cpu.read16(seg, offset + 12) | ((ipHigh >>> 12) << 16)) | 0;
      f.lastOpcode = ipHigh & 0x7ff;
      f.lastDataPointer = (cpu.read16(seg, offset + 20) | ((cpu.read32(seg, offset + 24) >>> 12) << 16)) | 0;
      f.controlWord = cw | 0x40;
      f.status = sw;
      f.tagWord = tw;
      return 28;
    }
    const cw = cpu.read16(seg, offset);
    const sw = cpu.read16(seg, offset + 2);
    const tw = cpu.read16(seg, offset + 4);
    const ipHigh = cpu.read16(seg, offset + 8);
    f.lastIp = cpu.read16(seg, offset + 6) | ((ipHigh >>> 12) << 16);
    f.lastOpcode = ipHigh & 0x7ff;
    f.lastDataPointer = cpu.read16(seg, offset + 10) | ((cpu.read16(seg, offset + 12) >>> 12) << 16);
    f.controlWord = cw | 0x40;
    f.status = sw;
    f.tagWord = tw;
    return 14;
  }
  if (size32) {
    const cw = cpu.read16(seg, offset);
    const sw = cpu.read16(seg, offset + 4);
    const tw = cpu.read16(seg, offset + 8);
    f.lastIp = cpu.read32(seg, offset + 12);
    const csAndOp = cpu.read32(seg, offset + 16);
    f.lastDataPointer = cpu.read32(seg, offset + 20);
    f.lastDataSelector = cpu.read16(seg, offset + 24);
    f.lastCs = csAndOp & 0xffff;
    f.lastOpcode = (csAndOp >>> 16) & 0x7ff;
    f.controlWord = cw | 0x40;
    f.status = sw;
    f.tagWord = tw;
    return 28;
  }
  f.controlWord = cpu.read16(seg, offset) | 0x40;
  f.status = cpu.read16(seg, offset + 2);
  f.tagWord = cpu.read16(seg, offset + 4);
  f.lastIp = cpu.read16(seg, offset + 6);
  f.lastCs = cpu.read16(seg, offset + 8);
  f.lastDataPointer = cpu.read16(seg, offset + 10);
  f.lastDataSelector = cpu.read16(seg, offset + 12);
  return 14;
}

function storeExtended(cpu: Cpu, seg: number, offset: number, value: number): void {
  extendedFromDouble(value, ext);
  cpu.write32(seg, offset, ext[0]);
  cpu.write32(seg, offset + 4, ext[1]);
  cpu.write16(seg, offset + 8, ext[2]);
}

function loadExtended(cpu: Cpu, seg: number, offset: number): number {
  return doubleFromExtended(cpu.read32(seg, offset), cpu.read32(seg, offset + 4), cpu.read16(seg, offset + 8));
}

/** FNSAVE: environment + ST(0)..ST(7), then the FPU is reinitialised. */
export function saveState(cpu: Cpu, seg: number, offset: number, size32: boolean): void {
  const f = cpu.fpu;
  // Touch both ends first so a fault leaves the FPU state untouched.
  cpu.linear(seg, offset, size32 ? 108 : 94, true);
  const at = storeEnvironment(cpu, seg, offset, size32);
  for (let i = 0; i < 8; i++) storeExtended(cpu, seg, wrapOffset(size32, offset + at + i * 10), f.st[(f.top + i) & 7]);
  f.reset();
}

/** FRSTOR. */
export function restoreState(cpu: Cpu, seg: number, offset: number, size32: boolean): void {
  const f = cpu.fpu;
  cpu.linear(seg, offset, size32 ? 108 : 94, false);
  const values = loaded;
  const at = size32 ? 28 : 14;
  for (let i = 0; i < 8; i++) values[i] = loadExtended(cpu, seg, wrapOffset(size32, offset + at + i * 10));
  loadEnvironment(cpu, seg, offset, size32);
  for (let i = 0; i < 8; i++) f.st[(f.top + i) & 7] = values[i];
}

/** FXSAVE (512 bytes, 16-byte aligned; no SSE state beyond a default MXCSR). */
export function fxsave(cpu: Cpu, seg: number, offset: number): void {
  const f = cpu.fpu;
  if ((offset & 15) !== 0) cpu.raise(Vector.GP, 0);
  cpu.linear(seg, offset, 512, true);
  let abridged = 0;
  for (let r = 0; r < 8; r++) if (!f.empty[r]) abridged |= 1 << r;
  cpu.write16(seg, offset, f.controlWord);
  cpu.write16(seg, offset + 2, f.status);
  cpu.write16(seg, offset + 4, abridged);
  cpu.write16(seg, offset + 6, f.lastOpcode);
  cpu.write32(seg, offset + 8, f.lastIp);
  cpu.write32(seg, offset + 12, f.lastCs & 0xffff);
  cpu.write32(seg, offset + 16, f.lastDataPointer);
  cpu.write32(seg, offset + 20, f.lastDataSelector & 0xffff);
  cpu.write32(seg, offset + 24, 0x1f80);
  cpu.write32(seg, offset + 28, 0xffff);
  for (let i = 0; i < 8; i++) {
    storeExtended(cpu, seg, offset + 32 + i * 16, f.st[(f.top + i) & 7]);
    cpu.write16(seg, offset + 32 + i * 16 + 10, 0);
    cpu.write32(seg, offset + 32 + i * 16 + 12, 0);
  }
}

/** FXRSTOR. */
export function fxrstor(cpu: Cpu, seg: number, offset: number): void {
  const f = cpu.fpu;
  if ((offset & 15) !== 0) cpu.raise(Vector.GP, 0);
  cpu.linear(seg, offset, 512, false);
  const cw = cpu.read16(seg, offset);
  const sw = cpu.read16(seg, offset + 2);
  const abridged = cpu.read8(seg, offset + 4);
  const values = loaded;
  for (let i = 0; i < 8; i++) values[i] = loadExtended(cpu, seg, offset + 32 + i * 16);
  f.controlWord = cw | 0x40;
  f.status = sw;
  for (let r = 0; r < 8; r++) f.empty[r] = (abridged >> r) & 1 ? 0 : 1;
  f.lastOpcode = cpu.read16(seg, offset + 6) & 0x7ff;
  f.lastIp = cpu.read32(seg, offset + 8);
  f.lastCs = cpu.read16(seg, offset + 12);
  f.lastDataPointer = cpu.read32(seg, offset + 16);
  f.lastDataSelector = cpu.read16(seg, offset + 20);
  for (let i = 0; i < 8; i++) f.st[(f.top + i) & 7] = values[i];
}
