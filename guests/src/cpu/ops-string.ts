/**
 * String instructions. A REP-prefixed instruction commits ECX/ESI/EDI after every element, so a
 * fault restarts it exactly where it stopped; long runs yield after a batch by re-executing the
 * same instruction, which lets interrupts in between.
 */
import type { Cpu } from "./cpu.js";
import { SegOk, Tlb } from "./cpu.js";
import { Flag, Reg, Seg } from "./constants.js";
import { alu, AluOp } from "./alu.js";
import type { DecodedInstruction } from "./instruction.js";
import { Prefix } from "./instruction.js";
import { checkIoPermission, portAccessCycles, portRead, portWrite } from "./io.js";
import { getZF } from "./flags.js";

const BATCH = 4096;

function readSized(cpu: Cpu, seg: number, offset: number, size: number): number {
  return size === 4 ? cpu.read32(seg, offset) : size === 2 ? cpu.read16(seg, offset) : cpu.read8(seg, offset);
}

function writeSized(cpu: Cpu, seg: number, offset: number, size: number, value: number): void {
  if (size === 4) cpu.write32(seg, offset, value);
  else if (size === 2) cpu.write16(seg, offset, value);
  else cpu.write8(seg, offset, value);
}

function elementSize(insn: DecodedInstruction): 1 | 2 | 4 {
  return (insn.opcode & 1) === 0 ? 1 : insn.opSize32 ? 4 : 2;
}

/** Adds `delta` to an index register honouring the address size. */
function advance(cpu: Cpu, reg: number, delta: number, addr32: boolean): void {
  const regs = cpu.regs;
  if (addr32) regs[reg] = (regs[reg] + delta) | 0;
  else regs[reg] = (regs[reg] & ~0xffff) | ((regs[reg] + delta) & 0xffff);
}

/** MOVS, STOS, LODS, INS, OUTS (no condition). */
export function stringMove(cpu: Cpu, insn: DecodedInstruction): void {
  const size = elementSize(insn);
  const addr32 = insn.addrSize32;
  const mask = addr32 ? -1 : 0xffff;
  const regs = cpu.regs;
  const step = cpu.eflags & Flag.DF ? -size : size;
  const repeat = (insn.prefixes & (Prefix.REP | Prefix.REPNE)) !== 0;
  const sourceSeg = insn.segOverride >= 0 ? insn.segOverride : Seg.DS;
  const op = insn.opcode & 0xfe;
  if ((op === 0x6c || op === 0x6e)) checkIoPermission(cpu, regs[Reg.EDX] & 0xffff, size);
  let remaining = repeat ? regs[Reg.ECX] & mask : 1;
  if (remaining === 0) return;
  // Bulk attempts interleave with single elements: an element refills a missing TLB entry.
  let bulkTries = repeat && addr32 && step > 0 && (op === 0xa4 || op === 0xaa) ? 4 : 0;
  let budget = BATCH;
  while (remaining !== 0 && budget-- > 0) {
    if (bulkTries !== 0) {
      bulkTries--;
      remaining = bulkForward(cpu, op === 0xa4, size, sourceSeg, remaining >>> 0);
      if (remaining === 0) break;
    }
    switch (op) {
      case 0xa4: // MOVS
        writeSized(cpu, Seg.ES, regs[Reg.EDI] & mask, size, readSized(cpu, sourceSeg, regs[Reg.ESI] & mask, size));
        advance(cpu, Reg.ESI, step, addr32);
        advance(cpu, Reg.EDI, step, addr32);
        break;
      case 0xaa: // STOS
        writeSized(cpu, Seg.ES, regs[Reg.EDI] & mask, size, regs[0]);
        advance(cpu, Reg.EDI, step, addr32);
        break;
      case 0xac: { // LODS
        const v = readSized(cpu, sourceSeg, regs[Reg.ESI] & mask, size);
        if (size === 4) regs[0] = v;
        else if (size === 2) regs[0] = (regs[0] & ~0xffff) | v;
        else regs[0] = (regs[0] & ~0xff) | v;
        advance(cpu, Reg.ESI, step, addr32);
        break;
      }
      case 0x6c: { // INS: the destination must be writable before the port is read
        const di = regs[Reg.EDI] & mask;
        cpu.translateForWrite(cpu.linear(Seg.ES, di, size, true), size);
        writeSized(cpu, Seg.ES, di, size, portRead(cpu, regs[Reg.EDX], size));
        cpu.stallPending += portAccessCycles(regs[Reg.EDX]);
        advance(cpu, Reg.EDI, step, addr32);
        break;
      }
      default: // OUTS
        portWrite(cpu, regs[Reg.EDX], size, readSized(cpu, sourceSeg, regs[Reg.ESI] & mask, size));
        cpu.stallPending += portAccessCycles(regs[Reg.EDX]);
        advance(cpu, Reg.ESI, step, addr32);
        break;
    }
    remaining = (remaining - 1) & mask;
    if (repeat) regs[Reg.ECX] = addr32 ? remaining : (regs[Reg.ECX] & ~0xffff) | remaining;
  }
  if (repeat && remaining !== 0) cpu.eip = cpu.instructionStart;
}

/**
 * REP MOVS / REP STOS going upwards with 32-bit addressing, done a page at a time on the RAM
 * arrays. Every chunk is checked (segment limits, page rights, dirty bits) exactly like the
 * element-wise path and committed before the next, so faults stay precise; anything unusual
 * (device memory, cached code, overlapping copies) is left to the element loop. Returns the
 * count still to do.
 */
function bulkForward(cpu: Cpu, move: boolean, size: number, sourceSeg: number, count: number): number {
  const regs = cpu.regs;
  const ram8 = cpu.ram8;
  // Alignment checks and data breakpoints are per element.
  if ((cpu.eflags & Flag.AC) !== 0 || cpu.dataBreakpointsActive) return count;
  for (let rounds = 0; rounds < 64 && count !== 0; rounds++) {
    const di = regs[Reg.EDI] >>> 0;
    const si = regs[Reg.ESI] >>> 0;
    const destLinear = (cpu.segBase[Seg.ES] + di) | 0;
    let chunk = Math.min(count, Math.floor((0x1000 - (destLinear & 0xfff)) / size));
    let sourceLinear = 0;
    if (move) {
      sourceLinear = (cpu.segBase[sourceSeg] + si) | 0;
      chunk = Math.min(chunk, Math.floor((0x1000 - (sourceLinear & 0xfff)) / size));
    }
    if (chunk < 2) return count;
    const bytes = chunk * size;
    if (di + bytes - 1 > 0xffffffff || (move && si + bytes - 1 > 0xffffffff)) return count;
    // Segment checks for the whole chunk (these raise exactly what the first bad element would not
    // necessarily raise, so bail out to the precise loop instead when they would fail).
    if (!withinSegment(cpu, Seg.ES, di, bytes, true) || (move && !withinSegment(cpu, sourceSeg, si, bytes, false))) return count;
    const destTlb = cpu.tlb[destLinear >>> 12];
    const writeNeed = cpu.writeNeed;
    if ((destTlb & (writeNeed | Tlb.MMIO | Tlb.CODE)) !== writeNeed) return count;
    const destPhys = (destTlb & ~0xfff) | (destLinear & 0xfff);
    if (move) {
      const sourceTlb = cpu.tlb[sourceLinear >>> 12];
      const readNeed = cpu.readNeed;
      if ((sourceTlb & (readNeed | Tlb.MMIO)) !== readNeed) return count;
      const sourcePhys = (sourceTlb & ~0xfff) | (sourceLinear & 0xfff);
      // Element-wise forward copying equals memmove unless the destination overlaps ahead of the source.
      if (destPhys > sourcePhys && destPhys < sourcePhys + bytes) return count;
      ram8.copyWithin(destPhys, sourcePhys, sourcePhys + bytes);
      regs[Reg.ESI] = (si + bytes) | 0;
    } else {
      const value = regs[0];
      if (size === 1) ram8.fill(value & 0xff, destPhys, destPhys + bytes);
      else if (size === 4 && (destPhys & 3) === 0) cpu.ram32.fill(value, destPhys >>> 2, (destPhys + bytes) >>> 2);
      else if (size === 2 && (destPhys & 1) === 0) cpu.ram16.fill(value & 0xffff, destPhys >>> 1, (destPhys + bytes) >>> 1);
      else return count;
    }
    regs[Reg.EDI] = (di + bytes) | 0;
    count -= chunk;
    regs[Reg.ECX] = count | 0;
  }
  return count;
}

function withinSegment(cpu: Cpu, seg: number, offset: number, bytes: number, write: boolean): boolean {
  const ok = cpu.segAccessOk[seg];
  if ((ok & (write ? SegOk.WRITE : SegOk.READ)) === 0 || (ok & SegOk.EXPAND_DOWN) !== 0) return false;
  return offset + bytes - 1 <= cpu.segLimit[seg] >>> 0;
}

/** CMPS and SCAS, with REPE/REPNE termination on ZF. */
export function stringCompare(cpu: Cpu, insn: DecodedInstruction): void {
  const size = elementSize(insn);
  const bits = size * 8;
  const addr32 = insn.addrSize32;
  const mask = addr32 ? -1 : 0xffff;
  const regs = cpu.regs;
  const step = cpu.eflags & Flag.DF ? -size : size;
  const repeatWhileEqual = (insn.prefixes & Prefix.REP) !== 0;
  const repeat = repeatWhileEqual || (insn.prefixes & Prefix.REPNE) !== 0;
  const sourceSeg = insn.segOverride >= 0 ? insn.segOverride : Seg.DS;
  const scan = (insn.opcode & 0xfe) === 0xae;
  let remaining = repeat ? regs[Reg.ECX] & mask : 1;
  if (remaining === 0) return;
  let budget = BATCH;
  while (remaining !== 0 && budget-- > 0) {
    if (scan) {
      const b = readSized(cpu, Seg.ES, regs[Reg.EDI] & mask, size);
      alu(cpu, AluOp.CMP, bits, regs[0], b);
      advance(cpu, Reg.EDI, step, addr32);
    } else {
      const a = readSized(cpu, sourceSeg, regs[Reg.ESI] & mask, size);
      const b = readSized(cpu, Seg.ES, regs[Reg.EDI] & mask, size);
      alu(cpu, AluOp.CMP, bits, a, b);
      advance(cpu, Reg.ESI, step, addr32);
      advance(cpu, Reg.EDI, step, addr32);
    }
    remaining = (remaining - 1) & mask;
    if (!repeat) return;
    regs[Reg.ECX] = addr32 ? remaining : (regs[Reg.ECX] & ~0xffff) | remaining;
    if (getZF(cpu) !== repeatWhileEqual) return;
  }
  if (remaining !== 0) cpu.eip = cpu.instructionStart;
}
