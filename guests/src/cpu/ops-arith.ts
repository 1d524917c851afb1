/**
 * Handlers for the integer arithmetic, logic, shift, bit-test and BCD instructions. LOCK validity
 * is settled by the decoder (decoder.ts lockAllowed).
 */
import type { Cpu } from "./cpu.js";
import { Flag } from "./constants.js";
import { alu, AluOp, bcdFlags, decrement, divideAccumulator, doubleShift, increment, multiplyAccumulator, multiplySigned, shiftRotate } from "./alu.js";
import { effectiveAddress } from "./decoder.js";
import { Vector } from "./fault.js";
import { getAF, getCF, LazyOp, materializeFlags, setLazy, writeArithFlags } from "./flags.js";
import type { DecodedInstruction } from "./instruction.js";
import { operandBits, readReg, readRm, readRmForUpdate, widthOf, writeReg, writeRmAfterUpdate } from "./operands.js";

/** 00..3D: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz with op = opcode bits 5:3. */
export function aluClassic(cpu: Cpu, insn: DecodedInstruction): void {
  const op = (insn.opcode >> 3) & 7;
  if (insn.opSize32 && insn.mod === 3 && (insn.opcode & 5) === 1) {
    // Register-to-register 32-bit forms (01/03 column): no memory, no width dispatch.
    const regs = cpu.regs;
    const dest = insn.opcode & 2 ? insn.reg : insn.rm;
    const src = insn.opcode & 2 ? insn.rm : insn.reg;
    const r = alu(cpu, op, 32, regs[dest], regs[src]);
    if (op !== AluOp.CMP) regs[dest] = r;
    return;
  }
  const bits = widthOf(insn);
  switch (insn.opcode & 7) {
    case 0: case 1: {
      if (op === AluOp.CMP) { alu(cpu, op, bits, readRm(cpu, insn, bits), readReg(cpu, insn.reg, bits)); return; }
      const a = readRmForUpdate(cpu, insn, bits);
      writeRmAfterUpdate(cpu, insn, bits, alu(cpu, op, bits, a, readReg(cpu, insn.reg, bits)));
      return;
    }
    case 2: case 3: {
      const r = alu(cpu, op, bits, readReg(cpu, insn.reg, bits), readRm(cpu, insn, bits));
      if (op !== AluOp.CMP) writeReg(cpu, insn.reg, bits, r);
      return;
    }
    default: {
      const r = alu(cpu, op, bits, readReg(cpu, 0, bits), insn.imm);
      if (op !== AluOp.CMP) writeReg(cpu, 0, bits, r);
    }
  }
}

/** 80..83: group 1, op Eb/Ev with an immediate. */
export function aluGroup1(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = insn.opcode === 0x80 || insn.opcode === 0x82 ? 8 : operandBits(insn);
  const op = insn.reg;
  if (op === AluOp.CMP) { alu(cpu, op, bits, readRm(cpu, insn, bits), insn.imm); return; }
  const a = readRmForUpdate(cpu, insn, bits);
  writeRmAfterUpdate(cpu, insn, bits, alu(cpu, op, bits, a, insn.imm));
}

/** 84/85 TEST E,G and A8/A9 TEST acc,imm. */
export function testForms(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = widthOf(insn);
  if (insn.opcode >= 0xa8) alu(cpu, AluOp.AND, bits, readReg(cpu, 0, bits), insn.imm);
  else alu(cpu, AluOp.AND, bits, readRm(cpu, insn, bits), readReg(cpu, insn.reg, bits));
}

/** 40..4F INC/DEC r16/r32. */
export function incDecRegister(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = operandBits(insn);
  const r = insn.opcode & 7;
  const v = readReg(cpu, r, bits);
  writeReg(cpu, r, bits, insn.opcode < 0x48 ? increment(cpu, bits, v) : decrement(cpu, bits, v));
}

/** FE group 4 (INC/DEC Eb) and FF /0 /1. */
export function incDecRm(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = insn.opcode === 0xfe ? 8 : operandBits(insn);
  const v = readRmForUpdate(cpu, insn, bits);
  writeRmAfterUpdate(cpu, insn, bits, insn.reg === 0 ? increment(cpu, bits, v) : decrement(cpu, bits, v));
}

/** F6/F7 group 3: TEST NOT NEG MUL IMUL DIV IDIV. */
export function group3(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = widthOf(insn);
  switch (insn.reg) {
    case 0: case 1:
      alu(cpu, AluOp.AND, bits, readRm(cpu, insn, bits), insn.imm);
      return;
    case 2: {
          const v = readRmForUpdate(cpu, insn, bits);
      writeRmAfterUpdate(cpu, insn, bits, ~v);
      return;
    }
    case 3: {
          const v = readRmForUpdate(cpu, insn, bits);
      writeRmAfterUpdate(cpu, insn, bits, alu(cpu, AluOp.SUB, bits, 0, v));
      return;
    }
    case 4: case 5:
      multiplyAccumulator(cpu, bits, readRm(cpu, insn, bits), insn.reg === 5);
      return;
    default:
      divideAccumulator(cpu, bits, readRm(cpu, insn, bits), insn.reg === 7);
  }
}

/** 69/6B IMUL Gv,Ev,imm and 0F AF IMUL Gv,Ev. */
export function imulForms(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = operandBits(insn);
  const b = insn.opcode === 0x1af ? readReg(cpu, insn.reg, bits) : insn.imm;
  writeReg(cpu, insn.reg, bits, multiplySigned(cpu, bits, readRm(cpu, insn, bits), b));
}

/** C0/C1 (imm8), D0/D1 (by 1), D2/D3 (by CL): group 2 shifts and rotates. */
export function group2(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = widthOf(insn);
  const op = insn.opcode;
  const count = op <= 0xc1 ? insn.imm : op <= 0xd1 ? 1 : cpu.regs[1] & 0xff;
  if ((count & 0x1f) === 0) {
    // Still validate the operand so a bad address faults like the real CPU.
    if (insn.mod !== 3) readRmForUpdate(cpu, insn, bits);
    return;
  }
  const v = readRmForUpdate(cpu, insn, bits);
  writeRmAfterUpdate(cpu, insn, bits, shiftRotate(cpu, insn.reg, bits, v, count));
}

/** 0F A4/A5 SHLD, 0F AC/AD SHRD. */
export function shiftDouble(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = operandBits(insn);
  const count = (insn.opcode & 1) === 0 ? insn.imm : cpu.regs[1] & 0xff;
  const v = readRmForUpdate(cpu, insn, bits);
  if ((count & 0x1f) === 0) { writeRmAfterUpdate(cpu, insn, bits, v); return; }
  writeRmAfterUpdate(cpu, insn, bits, doubleShift(cpu, insn.opcode < 0x1a8, bits, v, readReg(cpu, insn.reg, bits), count));
}

/**
 * BT/BTS/BTR/BTC. With a register bit offset and a memory operand the offset is signed and
 * may select a word far from the addressed one. op: 0 BT, 1 BTS, 2 BTR, 3 BTC.
 */
function bitTest(cpu: Cpu, insn: DecodedInstruction, op: number, bitOffset: number, fromRegister: boolean): void {
  const bits = operandBits(insn);
  let value: number;
  let bit: number;
  if (insn.mod === 3) {
    bit = bitOffset & (bits - 1);
    value = readReg(cpu, insn.rm, bits);
    setBitFlag(cpu, value, bit);
    if (op !== 0) writeReg(cpu, insn.rm, bits, applyBitOp(op, value, bit));
    return;
  }
  let offset = effectiveAddress(cpu, insn);
  if (fromRegister) {
    const signedOffset = bits === 16 ? (bitOffset << 16) >> 16 : bitOffset | 0;
    const unitShift = bits === 16 ? 4 : 5;
    offset = offset + ((signedOffset >> unitShift) * (bits >> 3));
    offset = insn.addrSize32 ? offset | 0 : offset & 0xffff;
  }
  bit = bitOffset & (bits - 1);
  if (op === 0) {
    value = bits === 32 ? cpu.read32(insn.segment, offset) : cpu.read16(insn.segment, offset);
    setBitFlag(cpu, value, bit);
    return;
  }
  const lin = cpu.checkWritable(insn.segment, offset, bits >> 3);
  value = bits === 32 ? cpu.readLinear32(lin) : cpu.readLinear16(lin);
  const updated = applyBitOp(op, value, bit);
  if (bits === 32) cpu.writeLinear32(lin, updated);
  else cpu.writeLinear16(lin, updated);
  setBitFlag(cpu, value, bit);
}

function applyBitOp(op: number, value: number, bit: number): number {
  return op === 1 ? value | (1 << bit) : op === 2 ? value & ~(1 << bit) : value ^ (1 << bit);
}

function setBitFlag(cpu: Cpu, value: number, bit: number): void {
  writeArithFlags(cpu, Flag.CF, (value >>> bit) & 1);
}

/** 0F A3/AB/B3/BB: BT/BTS/BTR/BTC Ev,Gv. */
export function bitTestRegister(cpu: Cpu, insn: DecodedInstruction): void {
  const op = insn.opcode === 0x1a3 ? 0 : insn.opcode === 0x1ab ? 1 : insn.opcode === 0x1b3 ? 2 : 3;
  bitTest(cpu, insn, op, cpu.regs[insn.reg], true);
}

/** 0F BA group 8: BT/BTS/BTR/BTC Ev,Ib (reg 4..7). */
export function bitTestImmediate(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.reg < 4) cpu.raise(Vector.UD);
  bitTest(cpu, insn, insn.reg - 4, insn.imm, false);
}

/** 0F BC/BD: BSF/BSR. A zero source sets ZF and leaves the destination alone. */
export function bitScan(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = operandBits(insn);
  const v = readRm(cpu, insn, bits);
  materializeFlags(cpu);
  if (v === 0) { cpu.eflags |= Flag.ZF; return; }
  cpu.eflags &= ~Flag.ZF;
  const index = insn.opcode === 0x1bc ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
  writeReg(cpu, insn.reg, bits, index);
}

/** 0F B0/B1 CMPXCHG. The destination is always written, as the locked bus cycle does. */
export function compareExchange(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = insn.opcode === 0x1b0 ? 8 : operandBits(insn);
  const dest = readRmForUpdate(cpu, insn, bits);
  const acc = readReg(cpu, 0, bits);
  alu(cpu, AluOp.CMP, bits, acc, dest);
  if (acc === dest) {
    writeRmAfterUpdate(cpu, insn, bits, readReg(cpu, insn.reg, bits));
  } else {
    writeRmAfterUpdate(cpu, insn, bits, dest);
    writeReg(cpu, 0, bits, dest);
  }
}

/** 0F C0/C1 XADD. */
export function exchangeAdd(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = insn.opcode === 0x1c0 ? 8 : operandBits(insn);
  const dest = readRmForUpdate(cpu, insn, bits);
  const src = readReg(cpu, insn.reg, bits);
  const sum = alu(cpu, AluOp.ADD, bits, dest, src);
  writeReg(cpu, insn.reg, bits, dest);
  writeRmAfterUpdate(cpu, insn, bits, sum);
}

/** 0F C7 /1 CMPXCHG8B m64. */
export function compareExchange8(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.reg !== 1 || insn.mod === 3) cpu.raise(Vector.UD);
  const offset = effectiveAddress(cpu, insn);
  const lin = cpu.checkWritable(insn.segment, offset, 8);
  const linHigh = (lin + 4) | 0;
  const low = cpu.readLinear32(lin);
  const high = cpu.readLinear32(linHigh);
  const regs = cpu.regs;
  materializeFlags(cpu);
  if (low === regs[0] && high === regs[2]) {
    cpu.writeLinear32(lin, regs[3]);
    cpu.writeLinear32(linHigh, regs[1]);
    cpu.eflags |= Flag.ZF;
  } else {
    cpu.writeLinear32(lin, low);
    cpu.writeLinear32(linHigh, high);
    regs[0] = low;
    regs[2] = high;
    cpu.eflags &= ~Flag.ZF;
  }
}

/** 27 DAA / 2F DAS. */
export function decimalAdjust(cpu: Cpu, insn: DecodedInstruction): void {
  const oldAl = cpu.regs[0] & 0xff;
  const oldCf = getCF(cpu);
  const subtract = insn.opcode === 0x2f;
  let al = oldAl;
  let cf = false;
  let af = false;
  if ((al & 0x0f) > 9 || getAF(cpu)) {
    const adjusted = subtract ? al - 6 : al + 6;
    cf = oldCf || adjusted < 0 || adjusted > 0xff;
    al = adjusted & 0xff;
    af = true;
  }
  if (oldAl > 0x99 || oldCf) {
    al = (subtract ? al - 0x60 : al + 0x60) & 0xff;
    cf = true;
  }
  cpu.regs[0] = (cpu.regs[0] & ~0xff) | al;
  bcdFlags(cpu, al, cf, af);
}

/** 37 AAA / 3F AAS. */
export function asciiAdjust(cpu: Cpu, insn: DecodedInstruction): void {
  const subtract = insn.opcode === 0x3f;
  let ax = cpu.regs[0] & 0xffff;
  const adjust = (ax & 0x0f) > 9 || getAF(cpu);
  if (adjust) {
    if (subtract) {
      const al = ((ax & 0xff) - 6) & 0xff;
      const ah = ((ax >> 8) - 1 - ((ax & 0xff) < 6 ? 1 : 0)) & 0xff;
      ax = (ah << 8) | al;
    } else {
      ax = (ax + 0x106) & 0xffff;
    }
  }
  ax &= 0xff0f;
  cpu.regs[0] = (cpu.regs[0] & ~0xffff) | ax;
  bcdFlags(cpu, ax & 0xff, adjust, adjust);
}

/** D4 AAM imm8. */
export function asciiAdjustMultiply(cpu: Cpu, insn: DecodedInstruction): void {
  const base = insn.imm & 0xff;
  if (base === 0) cpu.raise(Vector.DE);
  const al = cpu.regs[0] & 0xff;
  const result = (Math.floor(al / base) << 8) | (al % base);
  cpu.regs[0] = (cpu.regs[0] & ~0xffff) | result;
  setLazy(cpu, LazyOp.LOGIC, 8, 0, 0, result & 0xff);
}

/** D5 AAD imm8. */
export function asciiAdjustDivide(cpu: Cpu, insn: DecodedInstruction): void {
  const ax = cpu.regs[0];
  const al = (ax & 0xff) + ((ax >> 8) & 0xff) * (insn.imm & 0xff);
  cpu.regs[0] = (ax & ~0xffff) | (al & 0xff);
  alu(cpu, AluOp.ADD, 8, ax & 0xff, (((ax >> 8) & 0xff) * (insn.imm & 0xff)) & 0xff);
}

/** D6 SALC (undocumented but present on every Intel part): AL = CF ? FF : 00. */
export function setAlFromCarry(cpu: Cpu): void {
  cpu.regs[0] = (cpu.regs[0] & ~0xff) | (getCF(cpu) ? 0xff : 0);
}

/** F5 CMC, F8 CLC, F9 STC. */
export function carryFlagOps(cpu: Cpu, insn: DecodedInstruction): void {
  const cf = insn.opcode === 0xf5 ? !getCF(cpu) : insn.opcode === 0xf9;
  writeArithFlags(cpu, Flag.CF, cf ? Flag.CF : 0);
}

