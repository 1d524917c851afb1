/**
 * DR0–DR3 breakpoints under DR7: instruction breakpoints (faults, suppressed for one instruction
 * by EFLAGS.RF) and data write / read-write breakpoints (traps after the access). While any is
 * enabled the interpreter runs instructions one at a time through runWithBreakpoints.
 */
import type { Cpu } from "./cpu.js";

/** Recomputes cpu.breakpointsActive / cpu.dataBreakpointsActive after DR7 or a DRn changed. */
export function refreshBreakpoints(cpu: Cpu): void {
  const dr7 = cpu.dr[7];
  let any = false;
  let data = false;
  for (let i = 0; i < 4; i++) {
    if (((dr7 >> (2 * i)) & 3) === 0) continue;
    const kind = (dr7 >>> (16 + 4 * i)) & 3;
    if (kind === 2) continue; // I/O breakpoints need CR4.DE, which CPUID does not offer
    any = true;
    if (kind !== 0) data = true;
  }
  cpu.breakpointsActive = any;
  cpu.dataBreakpointsActive = data;
}

function breakpointLength(dr7: number, i: number): number {
  const len = (dr7 >>> (18 + 4 * i)) & 3;
  return len === 0 ? 1 : len === 1 ? 2 : 4;
}

/** DR6 bits (B0–B3) of enabled execute breakpoints at linear address `lin`. */
export function instructionBreakpointHits(cpu: Cpu, lin: number): number {
  const dr7 = cpu.dr[7];
  let hits = 0;
  for (let i = 0; i < 4; i++) {
    if (((dr7 >> (2 * i)) & 3) === 0 || ((dr7 >>> (16 + 4 * i)) & 3) !== 0) continue;
    if ((cpu.dr[i] | 0) === (lin | 0)) hits |= 1 << i;
  }
  return hits;
}

/** Records data breakpoint hits for an access of `size` bytes at `lin` (called from Cpu.linear). */
export function noteDataAccess(cpu: Cpu, lin: number, size: number, write: boolean): void {
  const dr7 = cpu.dr[7];
  for (let i = 0; i < 4; i++) {
    if (((dr7 >> (2 * i)) & 3) === 0) continue;
    const kind = (dr7 >>> (16 + 4 * i)) & 3;
    if (kind === 0 || kind === 2 || (kind === 1 && !write)) continue;
    const length = breakpointLength(dr7, i);
    const start = (cpu.dr[i] & ~(length - 1)) >>> 0;
    const first = lin >>> 0;
    if (first <= start + length - 1 && start <= first + size - 1) cpu.pendingDataBreakpoints |= 1 << i;
  }
}
