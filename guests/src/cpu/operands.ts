/**
 * Reading and writing instruction operands: registers by width and the ModRM r/m operand.
 * Read-modify-write operands are checked for writability before the read, so an instruction
 * that faults has changed nothing.
 */
import type { Cpu } from "./cpu.js";
import { effectiveAddress } from "./decoder.js";
import type { DecodedInstruction } from "./instruction.js";

export function readReg8(cpu: Cpu, r: number): number {
  return r < 4 ? cpu.regs[r] & 0xff : (cpu.regs[r - 4] >> 8) & 0xff;
}

export function writeReg8(cpu: Cpu, r: number, value: number): void {
  if (r < 4) cpu.regs[r] = (cpu.regs[r] & ~0xff) | (value & 0xff);
  else cpu.regs[r - 4] = (cpu.regs[r - 4] & ~0xff00) | ((value & 0xff) << 8);
}

export function readReg16(cpu: Cpu, r: number): number {
  return cpu.regs[r] & 0xffff;
}

export function writeReg16(cpu: Cpu, r: number, value: number): void {
  cpu.regs[r] = (cpu.regs[r] & ~0xffff) | (value & 0xffff);
}

export function readReg(cpu: Cpu, r: number, bits: number): number {
  return bits === 32 ? cpu.regs[r] >>> 0 : bits === 16 ? cpu.regs[r] & 0xffff : readReg8(cpu, r);
}

export function writeReg(cpu: Cpu, r: number, bits: number, value: number): void {
  if (bits === 32) cpu.regs[r] = value;
  else if (bits === 16) cpu.regs[r] = (cpu.regs[r] & ~0xffff) | (value & 0xffff);
  else writeReg8(cpu, r, value);
}

/** Reads the r/m operand, zero-extended (32-bit values come back unsigned). */
export function readRm(cpu: Cpu, insn: DecodedInstruction, bits: number): number {
  if (insn.mod === 3) return readReg(cpu, insn.rm, bits);
  const offset = effectiveAddress(cpu, insn);
  if (bits === 32) return cpu.read32(insn.segment, offset) >>> 0;
  if (bits === 16) return cpu.read16(insn.segment, offset);
  return cpu.read8(insn.segment, offset);
}

export function writeRm(cpu: Cpu, insn: DecodedInstruction, bits: number, value: number): void {
  if (insn.mod === 3) {
    writeReg(cpu, insn.rm, bits, value);
    return;
  }
  const offset = effectiveAddress(cpu, insn);
  if (bits === 32) cpu.write32(insn.segment, offset, value);
  else if (bits === 16) cpu.write16(insn.segment, offset, value);
  else cpu.write8(insn.segment, offset, value);
}

/** Linear address of the r/m operand being updated; valid between readRmForUpdate and writeRmAfterUpdate. */
let updateLinear = 0;

/** Reads an operand that will be written back, after proving the write cannot fault. */
export function readRmForUpdate(cpu: Cpu, insn: DecodedInstruction, bits: number): number {
  if (insn.mod === 3) return readReg(cpu, insn.rm, bits);
  const lin = cpu.checkWritable(insn.segment, effectiveAddress(cpu, insn), bits >> 3);
  updateLinear = lin;
  if (bits === 32) return cpu.readLinear32(lin) >>> 0;
  if (bits === 16) return cpu.readLinear16(lin);
  return cpu.readLinear8(lin);
}

export function writeRmAfterUpdate(cpu: Cpu, insn: DecodedInstruction, bits: number, value: number): void {
  if (insn.mod === 3) {
    writeReg(cpu, insn.rm, bits, value);
    return;
  }
  if (bits === 32) cpu.writeLinear32(updateLinear, value);
  else if (bits === 16) cpu.writeLinear16(updateLinear, value);
  else cpu.writeLinear8(updateLinear, value);
}

/** Operand width of an instruction whose low opcode bit selects byte vs word/dword. */
export function widthOf(insn: DecodedInstruction): number {
  return (insn.opcode & 1) === 0 ? 8 : insn.opSize32 ? 32 : 16;
}

export function operandBits(insn: DecodedInstruction): number {
  return insn.opSize32 ? 32 : 16;
}
