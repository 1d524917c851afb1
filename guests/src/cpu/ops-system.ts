/**
 * System and privileged instructions: flags access, interrupts on/off, HLT, I/O, control and
 * debug registers, descriptor-table registers, LLDT/LTR/LAR/LSL/VERR/VERW/ARPL, CPUID, MSRs,
 * SYSENTER/SYSEXIT, software interrupts and the far control transfers.
 */
import { isPerformanceMsr, readCounter, readPerformanceMsr, writePerformanceMsr } from "./performance-counters.js";
import type { Cpu } from "./cpu.js";
import { Cr0, Cr4, Flag, Msr, Reg, Seg } from "./constants.js";
import { cpuid } from "./cpuid.js";
import { refreshBreakpoints } from "./debug-registers.js";
import { effectiveAddress } from "./decoder.js";
import { Descriptor, fetchDescriptor, fetchDescriptorOrFault } from "./descriptors.js";
import { farCall, farJump, farReturn, interruptReturn, writeFlagsForReturn } from "./far-transfer.js";
import { Vector } from "./fault.js";
import { getOF, materializeFlags, writeArithFlags } from "./flags.js";
import type { DecodedInstruction } from "./instruction.js";
import { deliverInterrupt, InterruptKind } from "./interrupts.js";
import { portAccessCycles, portRead, portWrite } from "./io.js";
import { operandBits, readReg, readRm, readRmForUpdate, writeReg, writeRm, writeRmAfterUpdate } from "./operands.js";

const scratch = new Descriptor();

function requireCpl0(cpu: Cpu): void {
  if (cpu.cpl !== 0) cpu.raise(Vector.GP, 0);
}

function requireProtectedNotV86(cpu: Cpu): void {
  if (!cpu.protectedMode || (cpu.eflags & Flag.VM) !== 0) cpu.raise(Vector.UD);
}

function iopl(cpu: Cpu): number {
  return (cpu.eflags >> 12) & 3;
}

// ---- Flags ----------------------------------------------------------------------------------

/** 9C PUSHF: the image never shows VM or RF. */
export function pushFlags(cpu: Cpu, insn: DecodedInstruction): void {
  if ((cpu.eflags & Flag.VM) !== 0 && iopl(cpu) < 3) cpu.raise(Vector.GP, 0);
  const flags = materializeFlags(cpu) & ~(Flag.VM | Flag.RF);
  cpu.pushOperand(flags, insn.opSize32);
}

/** 9D POPF with the privilege rules for IOPL and IF. */
export function popFlags(cpu: Cpu, insn: DecodedInstruction): void {
  const v86 = (cpu.eflags & Flag.VM) !== 0;
  if (v86 && iopl(cpu) < 3) cpu.raise(Vector.GP, 0);
  const value = cpu.peekStack(0, insn.opSize32);
  let mask = insn.opSize32 ? 0x3f7fd5 & ~(Flag.VM | Flag.VIF | Flag.VIP | Flag.RF) : 0x7fd5;
  if (cpu.protectedMode) {
    if (cpu.cpl > 0 || v86) mask &= ~Flag.IOPL;
    if (cpu.cpl > iopl(cpu) && !v86) mask &= ~Flag.IF;
  }
  cpu.adjustStackPointer(insn.opSize32 ? 4 : 2);
  const wasIf = cpu.eflags & Flag.IF;
  writeFlagsForReturn(cpu, value, mask);
  if (!wasIf && (cpu.eflags & Flag.IF)) cpu.interruptShadow = 0;
}

/** 9E SAHF. */
export function storeAhToFlags(cpu: Cpu): void {
  writeArithFlags(cpu, 0xd5, (cpu.regs[0] >> 8) & 0xd5);
}

/** 9F LAHF. */
export function loadAhFromFlags(cpu: Cpu): void {
  const f = (materializeFlags(cpu) & 0xd5) | 0x2;
  cpu.regs[0] = (cpu.regs[0] & ~0xff00) | (f << 8);
}

/** FA CLI / FB STI. STI delays interrupts until after the next instruction. */
export function interruptFlagOps(cpu: Cpu, insn: DecodedInstruction): void {
  if (cpu.protectedMode && iopl(cpu) < ((cpu.eflags & Flag.VM) !== 0 ? 3 : cpu.cpl)) cpu.raise(Vector.GP, 0);
  if (insn.opcode === 0xfa) {
    cpu.eflags &= ~Flag.IF;
  } else {
    if ((cpu.eflags & Flag.IF) === 0) cpu.interruptShadow = 1;
    cpu.eflags |= Flag.IF;
  }
}

/** FC CLD / FD STD. */
export function directionFlagOps(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.opcode === 0xfc) cpu.eflags &= ~Flag.DF;
  else cpu.eflags |= Flag.DF;
}

// ---- Halting, I/O ---------------------------------------------------------------------------

/** F4 HLT. */
export function halt(cpu: Cpu): void {
  requireCpl0(cpu);
  cpu.halted = true;
}

/** E4..E7 (imm8 port) and EC..EF (DX port): IN and OUT; the access's stall is added by the run loop, as PAUSE's. */
export function portIo(cpu: Cpu, insn: DecodedInstruction): void {
  const size = (insn.opcode & 1) === 0 ? 1 : insn.opSize32 ? 4 : 2;
  const port = insn.opcode < 0xe8 ? insn.imm & 0xff : cpu.regs[Reg.EDX] & 0xffff;
  if ((insn.opcode & 2) === 0) {
    const v = portRead(cpu, port, size);
    writeReg(cpu, 0, size * 8, v);
  } else {
    portWrite(cpu, port, size, cpu.regs[0]);
  }
  cpu.stallPending += portAccessCycles(port);
}

// ---- Software interrupts and far transfers --------------------------------------------------

/** CC INT3, CD INT n, CE INTO, F1 INT1 (ICEBP). */
export function softwareInterrupt(cpu: Cpu, insn: DecodedInstruction): void {
  switch (insn.opcode) {
    case 0xcc: deliverInterrupt(cpu, Vector.BP, -1, InterruptKind.SOFTWARE, insn.nextEip); return;
    case 0xcd: deliverInterrupt(cpu, insn.imm & 0xff, -1, InterruptKind.SOFTWARE, insn.nextEip); return;
    case 0xce: if (getOF(cpu)) deliverInterrupt(cpu, Vector.OF, -1, InterruptKind.SOFTWARE, insn.nextEip); return;
    default: deliverInterrupt(cpu, Vector.DB, -1, InterruptKind.EXCEPTION, insn.nextEip);
  }
}

/** CF IRET/IRETD. */
export function iret(cpu: Cpu, insn: DecodedInstruction): void {
  interruptReturn(cpu, insn.opSize32, insn.nextEip);
  cpu.interruptShadow = 0;
  cpu.nmiBlocked = false;
}

/** 9A CALL ptr16:16/32. */
export function callFarDirect(cpu: Cpu, insn: DecodedInstruction): void {
  farCall(cpu, insn.imm2, insn.imm, insn.opSize32, insn.nextEip);
}

/** EA JMP ptr16:16/32. */
export function jumpFarDirect(cpu: Cpu, insn: DecodedInstruction): void {
  farJump(cpu, insn.imm2, insn.imm, insn.opSize32, insn.nextEip);
}

/** FF /3 CALL m16:16/32 and /5 JMP m16:16/32. */
export function farIndirect(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.mod === 3) cpu.raise(Vector.UD);
  const offsetAddress = effectiveAddress(cpu, insn);
  const offset = insn.opSize32 ? cpu.read32(insn.segment, offsetAddress) : cpu.read16(insn.segment, offsetAddress);
  const selectorAddress = insn.addrSize32 ? (offsetAddress + (insn.opSize32 ? 4 : 2)) | 0 : (offsetAddress + (insn.opSize32 ? 4 : 2)) & 0xffff;
  const selector = cpu.read16(insn.segment, selectorAddress);
  if (insn.reg === 3) farCall(cpu, selector, offset, insn.opSize32, insn.nextEip);
  else farJump(cpu, selector, offset, insn.opSize32, insn.nextEip);
}

/** CA/CB RETF. */
export function returnFar(cpu: Cpu, insn: DecodedInstruction): void {
  farReturn(cpu, insn.opSize32, insn.opcode === 0xca ? insn.imm : 0);
}

// ---- Control and debug registers ------------------------------------------------------------

export function writeCr0(cpu: Cpu, value: number): void {
  value = (value | Cr0.ET) & (Cr0.PE | Cr0.MP | Cr0.EM | Cr0.TS | Cr0.ET | Cr0.NE | Cr0.WP | Cr0.AM | Cr0.NW | Cr0.CD | Cr0.PG);
  if ((value & Cr0.PG) !== 0 && (value & Cr0.PE) === 0) cpu.raise(Vector.GP, 0);
  if ((value & Cr0.NW) !== 0 && (value & Cr0.CD) === 0) cpu.raise(Vector.GP, 0);
  const changed = cpu.cr0 ^ value;
  cpu.cr0 = value;
  if (changed & (Cr0.PG | Cr0.WP | Cr0.PE)) cpu.flushTlb(true);
  if (changed & Cr0.PE) {
    cpu.refreshSegmentRights();
    if ((value & Cr0.PE) === 0) cpu.setCpl(0);
  }
}

/** 0F 20..23: MOV r32,CRn / MOV CRn,r32 / MOV r32,DRn / MOV DRn,r32 (always register operands). */
export function moveControlRegister(cpu: Cpu, insn: DecodedInstruction): void {
  requireCpl0(cpu);
  const n = insn.reg;
  const toRegister = (insn.opcode & 2) === 0;
  if (insn.opcode <= 0x121) {
    if (insn.opcode === 0x120 || insn.opcode === 0x122) {
      if (n === 1 || n > 4) cpu.raise(Vector.UD);
      if (toRegister) {
        cpu.regs[insn.rm] = n === 0 ? cpu.cr0 : n === 2 ? cpu.cr2 : n === 3 ? cpu.cr3 : cpu.cr4;
      }
      return;
    }
    // MOV r32, DRn
    cpu.regs[insn.rm] = readDebugRegister(cpu, n);
    return;
  }
  const value = cpu.regs[insn.rm];
  if (insn.opcode === 0x122) {
    switch (n) {
      case 0: writeCr0(cpu, value); return;
      case 2: cpu.cr2 = value; return;
      case 3: cpu.cr3 = value & ~0xfe7; cpu.flushTlb(false); return;
      case 4:
        // Only the features CPUID reports may be enabled (no VME, PVI or DE).
        if (value & ~(Cr4.TSD | Cr4.PSE | Cr4.PGE | Cr4.PCE | Cr4.OSFXSR)) cpu.raise(Vector.GP, 0);
        if ((cpu.cr4 ^ value) & (Cr4.PSE | Cr4.PGE)) cpu.flushTlb(true);
        cpu.cr4 = value;
        return;
      default: cpu.raise(Vector.UD);
    }
  }
  writeDebugRegister(cpu, n, value);
}

function readDebugRegister(cpu: Cpu, n: number): number {
  if (n === 4 || n === 5) {
    if (cpu.cr4 & Cr4.DE) cpu.raise(Vector.UD);
    n += 2;
  }
  return cpu.dr[n];
}

function writeDebugRegister(cpu: Cpu, n: number, value: number): void {
  if (n === 4 || n === 5) {
    if (cpu.cr4 & Cr4.DE) cpu.raise(Vector.UD);
    n += 2;
  }
  if (n === 6) value = (value & 0xe00f) | (0xffff0ff0 | 0);
  else if (n === 7) value = (value & ~0xd800) | 0x400;
  cpu.dr[n] = value;
  refreshBreakpoints(cpu);
}

/** 0F 06 CLTS. */
export function clearTaskSwitched(cpu: Cpu): void {
  requireCpl0(cpu);
  cpu.cr0 &= ~Cr0.TS;
}

/** 0F 08 INVD, 0F 09 WBINVD: caches are not modelled. */
export function cacheControl(cpu: Cpu): void {
  requireCpl0(cpu);
}

// ---- Descriptor tables ----------------------------------------------------------------------

/** 0F 01 group 7: SGDT SIDT LGDT LIDT SMSW - LMSW INVLPG. */
export function group7(cpu: Cpu, insn: DecodedInstruction): void {
  const reg = insn.reg;
  if (reg === 4) { // SMSW
    if (insn.mod === 3) writeReg(cpu, insn.rm, operandBits(insn), cpu.cr0);
    else writeRm(cpu, insn, 16, cpu.cr0);
    return;
  }
  if (reg === 6) { // LMSW: can set PE but never clear it
    requireCpl0(cpu);
    const v = readRm(cpu, insn, 16);
    writeCr0(cpu, (cpu.cr0 & ~0xe) | (v & 0xf) | (cpu.cr0 & Cr0.PE));
    return;
  }
  if (insn.mod === 3 || reg === 5) cpu.raise(Vector.UD);
  const offset = effectiveAddress(cpu, insn);
  const seg = insn.segment;
  const next = insn.addrSize32 ? (offset + 2) | 0 : (offset + 2) & 0xffff;
  switch (reg) {
    case 0: case 1: {
      const base = reg === 0 ? cpu.gdtrBase : cpu.idtrBase;
      const limit = reg === 0 ? cpu.gdtrLimit : cpu.idtrLimit;
      cpu.linear(seg, offset, 6, true);
      cpu.write16(seg, offset, limit);
      cpu.write32(seg, next, insn.opSize32 ? base : base & 0xffffff);
      return;
    }
    case 2: case 3: {
      requireCpl0(cpu);
      const limit = cpu.read16(seg, offset);
      let base = cpu.read32(seg, next);
      if (!insn.opSize32) base &= 0xffffff;
      if (reg === 2) { cpu.gdtrBase = base; cpu.gdtrLimit = limit; }
      else { cpu.idtrBase = base; cpu.idtrLimit = limit; }
      return;
    }
    default: // INVLPG
      requireCpl0(cpu);
      cpu.invalidatePage((cpu.segBase[seg] + offset) | 0);
  }
}

/** 0F 00 group 6: SLDT STR LLDT LTR VERR VERW. */
export function group6(cpu: Cpu, insn: DecodedInstruction): void {
  requireProtectedNotV86(cpu);
  const reg = insn.reg;
  switch (reg) {
    case 0: case 1: {
      const selector = cpu.segSel[reg === 0 ? Seg.LDTR : Seg.TR];
      if (insn.mod === 3) writeReg(cpu, insn.rm, operandBits(insn), selector);
      else writeRm(cpu, insn, 16, selector);
      return;
    }
    case 2: {
      requireCpl0(cpu);
      const selector = readRm(cpu, insn, 16);
      if ((selector & 0xfffc) === 0) { cpu.setSegmentCache(Seg.LDTR, selector, 0, 0, 0); return; }
      if (selector & 4) cpu.raise(Vector.GP, selector & 0xfffc);
      fetchDescriptorOrFault(cpu, selector, scratch);
      if (scratch.isCodeOrData || scratch.type !== 2) cpu.raise(Vector.GP, selector & 0xfffc);
      if (!scratch.present) cpu.raise(Vector.NP, selector & 0xfffc);
      cpu.setSegmentCache(Seg.LDTR, selector, scratch.base, scratch.limit, scratch.attr);
      return;
    }
    case 3: {
      requireCpl0(cpu);
      const selector = readRm(cpu, insn, 16);
      if ((selector & 0xfffc) === 0 || (selector & 4)) cpu.raise(Vector.GP, selector & 0xfffc);
      fetchDescriptorOrFault(cpu, selector, scratch);
      if (scratch.isCodeOrData || (scratch.type !== 1 && scratch.type !== 9)) cpu.raise(Vector.GP, selector & 0xfffc);
      if (!scratch.present) cpu.raise(Vector.NP, selector & 0xfffc);
      scratch.high |= 0x200;
      cpu.writeSystem8((scratch.address + 5) | 0, (scratch.high >> 8) & 0xff);
      cpu.setSegmentCache(Seg.TR, selector, scratch.base, scratch.limit, scratch.attr);
      return;
    }
    case 4: case 5: {
      const selector = readRm(cpu, insn, 16);
      let ok = false;
      if ((selector & 0xfffc) !== 0 && fetchDescriptor(cpu, selector, scratch) && scratch.isCodeOrData) {
        const visible = scratch.isConforming || (scratch.dpl >= cpu.cpl && scratch.dpl >= (selector & 3));
        ok = visible && (reg === 4 ? scratch.isReadable : scratch.isWritableData);
      }
      writeArithFlags(cpu, Flag.ZF, ok ? Flag.ZF : 0);
      return;
    }
    default: cpu.raise(Vector.UD);
  }
}

/** 0F 02 LAR, 0F 03 LSL. */
export function loadAccessOrLimit(cpu: Cpu, insn: DecodedInstruction): void {
  requireProtectedNotV86(cpu);
  const selector = readRm(cpu, insn, 16);
  const lar = insn.opcode === 0x102;
  let ok = false;
  if ((selector & 0xfffc) !== 0 && fetchDescriptor(cpu, selector, scratch)) {
    const d = scratch;
    let validType: boolean;
    if (d.isCodeOrData) validType = true;
    else {
      const t = d.type;
      validType = lar ? [1, 2, 3, 4, 5, 9, 0xb, 0xc].includes(t) : [1, 2, 3, 9, 0xb].includes(t);
    }
    const privileged = d.isConforming || (d.dpl >= cpu.cpl && d.dpl >= (selector & 3));
    ok = validType && privileged;
    if (ok) {
      const bits = operandBits(insn);
      writeReg(cpu, insn.reg, bits, lar ? d.high & 0x00f0ff00 : d.limit);
    }
  }
  writeArithFlags(cpu, Flag.ZF, ok ? Flag.ZF : 0);
}

/** 63 ARPL. */
export function adjustRpl(cpu: Cpu, insn: DecodedInstruction): void {
  requireProtectedNotV86(cpu);
  const dest = readRmForUpdate(cpu, insn, 16);
  const src = readReg(cpu, insn.reg, 16);
  if ((dest & 3) < (src & 3)) {
    writeRmAfterUpdate(cpu, insn, 16, (dest & ~3) | (src & 3));
    writeArithFlags(cpu, Flag.ZF, Flag.ZF);
  } else {
    writeArithFlags(cpu, Flag.ZF, 0);
  }
}

// ---- Identification, time, MSRs, fast system calls ------------------------------------------

export function cpuIdentification(cpu: Cpu): void {
  cpuid(cpu);
}

/**
 * Time units (nanoseconds: the processor's nominal 1 GHz, one unit per instruction) a PAUSE
 * takes: 140 cycles, the latency Intel gives for Skylake and later. A spin-wait loop is timed by
 * the clock, not by its instruction count, so a delay loop (Linux's udelay polls RDTSC with a
 * PAUSE each turn) turns some seven times fewer times for the same delay than with PAUSE as a NOP.
 */
export const PAUSE_STALL_CYCLES = 140;

/** F3 90 PAUSE: ends its block; the run loop adds the stall to the retired count, the clock's base. */
export function pause(cpu: Cpu): void {
  cpu.stallPending += PAUSE_STALL_CYCLES;
}

/** Whether RDTSC faults (#GP) now: CR4.TSD restricts it to CPL 0 in protected mode. */
export function timeStampDenied(cpu: Cpu): boolean {
  return (cpu.cr4 & Cr4.TSD) !== 0 && cpu.cpl !== 0 && cpu.protectedMode;
}

/** 0F 31 RDTSC. */
export function readTimeStamp(cpu: Cpu): void {
  if (timeStampDenied(cpu)) cpu.raise(Vector.GP, 0);
  const tsc = cpu.tscBase + cpu.instructionsRetired;
  cpu.regs[Reg.EAX] = tsc % 0x100000000;
  cpu.regs[Reg.EDX] = Math.floor(tsc / 0x100000000);
}

/** 0F 33 RDPMC: ECX selects PERFCTR0 or PERFCTR1 (see performance-counters.ts). */
export function readPerformanceCounter(cpu: Cpu): void {
  if ((cpu.cr4 & Cr4.PCE) === 0 && cpu.cpl !== 0 && cpu.protectedMode) cpu.raise(Vector.GP, 0);
  const index = cpu.regs[Reg.ECX] >>> 0;
  if (index > 1) cpu.raise(Vector.GP, 0);
  const value = readCounter(cpu.performanceCounters, index, cpu.instructionsRetired);
  cpu.regs[Reg.EAX] = value % 0x100000000;
  cpu.regs[Reg.EDX] = Math.floor(value / 0x100000000);
}

/** 0F 32 RDMSR. */
export function readMsr(cpu: Cpu): void {
  requireCpl0(cpu);
  const regs = cpu.regs;
  let low = 0;
  let high = 0;
  switch (regs[Reg.ECX] >>> 0) {
    case Msr.TSC: {
      const tsc = cpu.tscBase + cpu.instructionsRetired;
      low = tsc % 0x100000000; high = Math.floor(tsc / 0x100000000);
      break;
    }
    case Msr.APIC_BASE: low = cpu.apicBase; break;
    case Msr.SYSENTER_CS: low = cpu.sysenterCs; break;
    case Msr.SYSENTER_ESP: low = cpu.sysenterEsp; break;
    case Msr.SYSENTER_EIP: low = cpu.sysenterEip; break;
    case 0x8b: break; // BIOS_SIGN_ID: no microcode update loaded
    case 0x17: break; // PLATFORM_ID
    case 0x1a0: low = cpu.miscEnable; break; // MISC_ENABLE
    default: {
      const msr = regs[Reg.ECX] >>> 0;
      if (!isPerformanceMsr(msr)) cpu.raise(Vector.GP, 0);
      [low, high] = readPerformanceMsr(cpu.performanceCounters, msr, cpu.instructionsRetired);
    }
  }
  regs[Reg.EAX] = low;
  regs[Reg.EDX] = high;
}

/** 0F 30 WRMSR. */
export function writeMsr(cpu: Cpu): void {
  requireCpl0(cpu);
  const regs = cpu.regs;
  const low = regs[Reg.EAX];
  switch (regs[Reg.ECX] >>> 0) {
    case Msr.TSC: cpu.tscBase = (low >>> 0) - cpu.instructionsRetired; return; // writes clear the high half on P6
    case Msr.APIC_BASE: cpu.apicBase = low; return;
    case Msr.SYSENTER_CS: cpu.sysenterCs = low & 0xffff; return;
    case Msr.SYSENTER_ESP: cpu.sysenterEsp = low; return;
    case Msr.SYSENTER_EIP: cpu.sysenterEip = low; return;
    case 0x8b: return;
    case 0x1a0: cpu.miscEnable = low; return;
    default: {
      const msr = regs[Reg.ECX] >>> 0;
      if (!isPerformanceMsr(msr)) cpu.raise(Vector.GP, 0);
      writePerformanceMsr(cpu.performanceCounters, msr, low, cpu.instructionsRetired);
    }
  }
}

/** Flat 4 GiB segments SYSENTER/SYSEXIT load without reading descriptors. */
function loadFlatSegment(cpu: Cpu, seg: number, selector: number, dpl: number, code: boolean): void {
  const attr = 0xc090 | (dpl << 5) | (code ? 0xb : 0x3);
  cpu.setSegmentCache(seg, selector, 0, 0xffffffff | 0, attr);
}

/** 0F 34 SYSENTER. */
export function sysenter(cpu: Cpu): void {
  if (!cpu.protectedMode || (cpu.sysenterCs & 0xfffc) === 0) cpu.raise(Vector.GP, 0);
  materializeFlags(cpu);
  cpu.eflags &= ~(Flag.VM | Flag.IF | Flag.RF);
  cpu.setCpl(0);
  loadFlatSegment(cpu, Seg.CS, cpu.sysenterCs & 0xfffc, 0, true);
  loadFlatSegment(cpu, Seg.SS, (cpu.sysenterCs + 8) & 0xfffc, 0, false);
  cpu.regs[Reg.ESP] = cpu.sysenterEsp;
  cpu.eip = cpu.sysenterEip;
}

/** 0F 35 SYSEXIT. */
export function sysexit(cpu: Cpu): void {
  if (!cpu.protectedMode || cpu.cpl !== 0 || (cpu.sysenterCs & 0xfffc) === 0) cpu.raise(Vector.GP, 0);
  cpu.setCpl(3);
  loadFlatSegment(cpu, Seg.CS, ((cpu.sysenterCs + 16) & 0xfffc) | 3, 3, true);
  loadFlatSegment(cpu, Seg.SS, ((cpu.sysenterCs + 24) & 0xfffc) | 3, 3, false);
  cpu.regs[Reg.ESP] = cpu.regs[Reg.ECX];
  cpu.eip = cpu.regs[Reg.EDX];
}

/** 0F 0B UD2 and every opcode a 686 does not have. */
export function undefinedOpcode(cpu: Cpu): void {
  cpu.raise(Vector.UD);
}

/** 0F 19..1F: hint NOPs that still decode their operand. */
export function hintNop(): void {}

