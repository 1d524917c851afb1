/**
 * String instructions. A REP-prefixed instruction commits ECX/ESI/EDI after every element, so a
 * fault restarts it exactly where it stopped; long runs yield after a batch by re-executing the
 * same instruction, which lets interrupts in between.
 */
import type { Cpu } from "./cpu.js";
import { Flag, Reg, Seg } from "./constants.js";
import { alu, AluOp } from "./alu.js";
import type { DecodedInstruction } from "./instruction.js";
import { Prefix } from "./instruction.js";
import { portRead, portWrite, checkIoPermission } from "./io.js";
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
  let budget = BATCH;
  while (remaining !== 0 && budget-- > 0) {
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
        advance(cpu, Reg.EDI, step, addr32);
        break;
      }
      default: // OUTS
        portWrite(cpu, regs[Reg.EDX], size, readSized(cpu, sourceSeg, regs[Reg.ESI] & mask, size));
        advance(cpu, Reg.ESI, step, addr32);
        break;
    }
    remaining = (remaining - 1) & mask;
    if (repeat) regs[Reg.ECX] = addr32 ? remaining : (regs[Reg.ECX] & ~0xffff) | remaining;
  }
  if (repeat && remaining !== 0) cpu.eip = cpu.instructionStart;
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
