import type { Cpu } from "../cpu/cpu.js";
import { Reg, Seg } from "../cpu/constants.js";
import { LazyOp } from "../cpu/flags.js";
import type { InitialCpuState } from "./initial-cpu-state.js";

const SEGMENTS = [
  ["es", Seg.ES],
  ["cs", Seg.CS],
  ["ss", Seg.SS],
  ["ds", Seg.DS],
  ["fs", Seg.FS],
  ["gs", Seg.GS],
] as const;

/**
 * Loads a boot protocol's entry state into the CPU, as a boot loader's final far jump would leave it.
 * CR0 goes first: the segment caches derive their access rights from the mode. The platform's own A20
 * gate is the caller's to open; this sets the CPU's address mask to match the state.
 */
export function applyInitialCpuState(cpu: Cpu, state: InitialCpuState): void {
  cpu.cr0 = state.cr0;
  cpu.eflags = state.eflags;
  cpu.lazyOp = LazyOp.NONE;
  const r = state.registers;
  cpu.regs[Reg.EAX] = r.eax;
  cpu.regs[Reg.ECX] = r.ecx;
  cpu.regs[Reg.EDX] = r.edx;
  cpu.regs[Reg.EBX] = r.ebx;
  cpu.regs[Reg.ESP] = r.esp;
  cpu.regs[Reg.EBP] = r.ebp;
  cpu.regs[Reg.ESI] = r.esi;
  cpu.regs[Reg.EDI] = r.edi;
  cpu.gdtrBase = state.gdtr.base;
  cpu.gdtrLimit = state.gdtr.limit;
  cpu.idtrBase = state.idtr.base;
  cpu.idtrLimit = state.idtr.limit;
  cpu.setCpl(0);
  for (const [name, seg] of SEGMENTS) {
    const s = state.segments[name];
    cpu.setSegmentCache(seg, s.selector, s.base, s.limit, s.attributes);
  }
  cpu.eip = state.eip;
  cpu.halted = false;
  cpu.interruptShadow = 0;
  cpu.setA20(state.a20Enabled);
  cpu.flushTlb(true);
}
