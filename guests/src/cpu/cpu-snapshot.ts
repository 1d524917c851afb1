/**
 * Saving and restoring the complete CPU state as plain, JSON-safe data (for VM snapshots and
 * migration). The TLB and fetch caches are not state: they are rebuilt after a restore.
 */
import type { PerformanceCounterState } from "./performance-counters.js";
import type { Cpu } from "./cpu.js";
import { materializeFlags } from "./flags.js";
import { refreshBreakpoints } from "./debug-registers.js";

export const CPU_STATE_VERSION = 1;

export interface SegmentState {
  selector: number;
  base: number;
  limit: number;
  attributes: number;
}

export interface FpuSnapshot {
  registers: number[];
  controlWord: number;
  statusWord: number;
  tagWord: number;
  top: number;
  lastIp: number;
  lastCs: number;
  lastOpcode: number;
  lastDataPointer: number;
  lastDataSelector: number;
}

export interface CpuState {
  version: number;
  registers: number[];
  eip: number;
  eflags: number;
  /** ES CS SS DS FS GS LDTR TR. */
  segments: SegmentState[];
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  debugRegisters: number[];
  cpl: number;
  msrs: { sysenterCs: number; sysenterEsp: number; sysenterEip: number; apicBase: number; tscBase: number; miscEnable: number };
  performanceCounters: PerformanceCounterState;
  instructionsRetired: number;
  halted: boolean;
  interruptShadow: number;
  nmiPending: boolean;
  nmiBlocked: boolean;
  a20Enabled: boolean;
  fpu: FpuSnapshot;
}

export function saveCpuState(cpu: Cpu): CpuState {
  const segments: SegmentState[] = [];
  for (let s = 0; s < 8; s++) {
    segments.push({ selector: cpu.segSel[s], base: cpu.segBase[s], limit: cpu.segLimit[s], attributes: cpu.segAttr[s] });
  }
  const f = cpu.fpu;
  return {
    version: CPU_STATE_VERSION,
    registers: Array.from(cpu.regs),
    eip: cpu.eip,
    eflags: materializeFlags(cpu),
    segments,
    gdtr: { base: cpu.gdtrBase, limit: cpu.gdtrLimit },
    idtr: { base: cpu.idtrBase, limit: cpu.idtrLimit },
    cr0: cpu.cr0,
    cr2: cpu.cr2,
    cr3: cpu.cr3,
    cr4: cpu.cr4,
    debugRegisters: Array.from(cpu.dr),
    cpl: cpu.cpl,
    msrs: { sysenterCs: cpu.sysenterCs, sysenterEsp: cpu.sysenterEsp, sysenterEip: cpu.sysenterEip, apicBase: cpu.apicBase, tscBase: cpu.tscBase, miscEnable: cpu.miscEnable },
    performanceCounters: structuredClone(cpu.performanceCounters),
    instructionsRetired: cpu.instructionsRetired,
    halted: cpu.halted,
    interruptShadow: cpu.interruptShadow,
    nmiPending: cpu.nmiPending,
    nmiBlocked: cpu.nmiBlocked,
    a20Enabled: cpu.a20Mask === -1,
    fpu: {
      registers: Array.from(f.st),
      controlWord: f.controlWord,
      statusWord: f.statusWord,
      tagWord: f.tagWord,
      top: f.top,
      lastIp: f.lastIp,
      lastCs: f.lastCs,
      lastOpcode: f.lastOpcode,
      lastDataPointer: f.lastDataPointer,
      lastDataSelector: f.lastDataSelector,
    },
  };
}

export function restoreCpuState(cpu: Cpu, state: CpuState): void {
  if (state.version !== CPU_STATE_VERSION) throw new Error(`unsupported CPU state version ${state.version}`);
  cpu.regs.set(state.registers);
  cpu.eip = state.eip;
  cpu.cr0 = state.cr0;
  cpu.cr2 = state.cr2;
  cpu.cr3 = state.cr3;
  cpu.cr4 = state.cr4;
  cpu.eflags = state.eflags;
  cpu.lazyOp = 0;
  // Segment rights depend on CR0.PE and EFLAGS.VM, so those go first.
  state.segments.forEach((s, i) => cpu.setSegmentCache(i, s.selector, s.base, s.limit, s.attributes));
  cpu.gdtrBase = state.gdtr.base;
  cpu.gdtrLimit = state.gdtr.limit;
  cpu.idtrBase = state.idtr.base;
  cpu.idtrLimit = state.idtr.limit;
  cpu.dr.set(state.debugRegisters);
  refreshBreakpoints(cpu);
  cpu.setCpl(state.cpl);
  cpu.sysenterCs = state.msrs.sysenterCs;
  cpu.sysenterEsp = state.msrs.sysenterEsp;
  cpu.sysenterEip = state.msrs.sysenterEip;
  cpu.apicBase = state.msrs.apicBase;
  cpu.tscBase = state.msrs.tscBase;
  cpu.miscEnable = state.msrs.miscEnable;
  cpu.performanceCounters = structuredClone(state.performanceCounters);
  cpu.instructionsRetired = state.instructionsRetired;
  cpu.halted = state.halted;
  cpu.interruptShadow = state.interruptShadow;
  cpu.nmiPending = state.nmiPending;
  cpu.nmiBlocked = state.nmiBlocked;
  cpu.setA20(state.a20Enabled);
  const f = cpu.fpu;
  f.st.set(state.fpu.registers);
  f.controlWord = state.fpu.controlWord;
  f.statusWord = state.fpu.statusWord;
  f.tagWord = state.fpu.tagWord;
  f.top = state.fpu.top;
  f.lastIp = state.fpu.lastIp;
  f.lastCs = state.fpu.lastCs;
  f.lastOpcode = state.fpu.lastOpcode;
  f.lastDataPointer = state.fpu.lastDataPointer;
  f.lastDataSelector = state.fpu.lastDataSelector;
  cpu.invalidateAllCode();
}
