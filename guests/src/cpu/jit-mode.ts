/**
 * The CPU-mode bits a translation is specialised for, beyond what its decoded instructions already
 * fix (code size, CS base, start EIP): which segments are flat (base 0, 4 GiB, readable and
 * writable, expand-up), the stack size and whether the code runs at CPL 3. A translation only runs
 * when the current mode equals the one it was made for.
 */
import type { Cpu } from "./cpu.js";
import { Cr0, Flag } from "./constants.js";

export const enum JitMode {
  /** Bit `seg` set: that segment is flat (bits 0..5 for ES CS SS DS FS GS). */
  FLAT_SEGMENTS = 0x3f,
  STACK32 = 0x40,
  USER = 0x80,
  /** CPL 3 with CR0.AM and EFLAGS.AC: every access is checked, so no segment counts as flat. */
  ALIGNMENT_CHECK = 0x100,
}

export function currentJitMode(cpu: Cpu): number {
  let mode = cpu.segFlatMask;
  if (cpu.stack32) mode |= JitMode.STACK32;
  if (cpu.cpl === 3) {
    mode |= JitMode.USER;
    if ((cpu.eflags & Flag.AC) !== 0 && (cpu.cr0 & Cr0.AM) !== 0) mode = (mode & ~JitMode.FLAT_SEGMENTS) | JitMode.ALIGNMENT_CHECK;
  }
  return mode;
}
