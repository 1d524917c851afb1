/** Handlers that move data: MOV forms, XCHG, stack pushes/pops, LEA, extensions, SETcc/CMOVcc. */
import type { Cpu } from "./cpu.js";
import { Reg, Seg } from "./constants.js";
import { effectiveAddress } from "./decoder.js";
import { Vector } from "./fault.js";
import { testCondition } from "./flags.js";
import type { DecodedInstruction } from "./instruction.js";
import { operandBits, readReg, readRm, readRmForUpdate, widthOf, writeReg, writeRm, writeRmAfterUpdate } from "./operands.js";
import { loadSegment } from "./segmentation.js";

/** 88..8B MOV E,G / G,E. */
export function moveRegisterForms(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.opSize32) {
    // The 32-bit forms dominate compiled code: no width dispatch.
    const regs = cpu.regs;
    if (insn.opcode === 0x8b) {
      regs[insn.reg] = insn.mod === 3 ? regs[insn.rm] : cpu.read32(insn.segment, effectiveAddress(cpu, insn));
      return;
    }
    if (insn.opcode === 0x89) {
      if (insn.mod === 3) regs[insn.rm] = regs[insn.reg];
      else cpu.write32(insn.segment, effectiveAddress(cpu, insn), regs[insn.reg]);
      return;
    }
  }
  const bits = widthOf(insn);
  if (insn.opcode < 0x8a) writeRm(cpu, insn, bits, readReg(cpu, insn.reg, bits));
  else writeReg(cpu, insn.reg, bits, readRm(cpu, insn, bits));
}

/** C6 /0, C7 /0 MOV E,imm. */
export function moveImmediateToRm(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.reg !== 0) cpu.raise(Vector.UD);
  writeRm(cpu, insn, widthOf(insn), insn.imm);
}

/** B0..BF MOV r,imm. */
export function moveImmediateToRegister(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = insn.opcode < 0xb8 ? 8 : operandBits(insn);
  writeReg(cpu, insn.opcode & 7, bits, insn.imm);
}

/** A0..A3 MOV acc, moffs and back. */
export function moveOffset(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = widthOf(insn);
  const seg = insn.segment;
  const offset = insn.imm;
  if (insn.opcode < 0xa2) {
    writeReg(cpu, 0, bits, bits === 32 ? cpu.read32(seg, offset) : bits === 16 ? cpu.read16(seg, offset) : cpu.read8(seg, offset));
  } else {
    const v = cpu.regs[0];
    if (bits === 32) cpu.write32(seg, offset, v);
    else if (bits === 16) cpu.write16(seg, offset, v);
    else cpu.write8(seg, offset, v);
  }
}

/** 8C MOV Ev,Sreg: a register destination gets the zero-extended selector with 32-bit operands. */
export function moveFromSegment(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.reg > 5) cpu.raise(Vector.UD);
  const selector = cpu.segSel[insn.reg];
  if (insn.mod === 3) writeReg(cpu, insn.rm, operandBits(insn), selector);
  else writeRm(cpu, insn, 16, selector);
}

/** 8E MOV Sreg,Ew. Loading SS holds off interrupts for one instruction. */
export function moveToSegment(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.reg === Seg.CS || insn.reg > 5) cpu.raise(Vector.UD);
  loadSegment(cpu, insn.reg, readRm(cpu, insn, 16));
  if (insn.reg === Seg.SS) cpu.interruptShadow = 1;
}

/** 8D LEA. */
export function loadEffectiveAddress(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.mod === 3) cpu.raise(Vector.UD);
  writeReg(cpu, insn.reg, operandBits(insn), effectiveAddress(cpu, insn));
}

/** 86/87 XCHG E,G (always locked on memory). */
export function exchangeRm(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = widthOf(insn);
  const a = readRmForUpdate(cpu, insn, bits);
  const b = readReg(cpu, insn.reg, bits);
  writeRmAfterUpdate(cpu, insn, bits, b);
  writeReg(cpu, insn.reg, bits, a);
}

/** 90..97 XCHG eAX,r (90 is NOP; F3 90 PAUSE is a NOP as well). */
export function exchangeAccumulator(cpu: Cpu, insn: DecodedInstruction): void {
  const r = insn.opcode & 7;
  if (r === 0) return;
  const bits = operandBits(insn);
  const a = readReg(cpu, 0, bits);
  writeReg(cpu, 0, bits, readReg(cpu, r, bits));
  writeReg(cpu, r, bits, a);
}

/** 50..57 PUSH r (PUSH ESP pushes the value before the push). */
export function pushRegister(cpu: Cpu, insn: DecodedInstruction): void {
  const v = cpu.regs[insn.opcode & 7];
  cpu.pushOperand(v, insn.opSize32);
}

/** 58..5F POP r. */
export function popRegister(cpu: Cpu, insn: DecodedInstruction): void {
  const v = cpu.popOperand(insn.opSize32);
  writeReg(cpu, insn.opcode & 7, operandBits(insn), v);
}

/** 68/6A PUSH imm. */
export function pushImmediate(cpu: Cpu, insn: DecodedInstruction): void {
  cpu.pushOperand(insn.imm, insn.opSize32);
}

/** 8F /0 POP Ev: the address is computed with the already-incremented ESP. */
export function popRm(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.reg !== 0) cpu.raise(Vector.UD);
  const savedEsp = cpu.regs[Reg.ESP];
  const v = cpu.popOperand(insn.opSize32);
  try {
    writeRm(cpu, insn, operandBits(insn), v);
  } catch (e) {
    cpu.regs[Reg.ESP] = savedEsp; // a fault restarts the POP with the stack untouched
    throw e;
  }
}

/** 06/0E/16/1E, 0F A0/A8: PUSH Sreg (a 32-bit push writes the selector zero-extended). */
export function pushSegment(cpu: Cpu, insn: DecodedInstruction): void {
  const seg = insn.opcode === 0x1a0 ? Seg.FS : insn.opcode === 0x1a8 ? Seg.GS : (insn.opcode >> 3) & 3;
  cpu.pushOperand(cpu.segSel[seg], insn.opSize32);
}

/** 07/17/1F, 0F A1/A9: POP Sreg. */
export function popSegment(cpu: Cpu, insn: DecodedInstruction): void {
  const seg = insn.opcode === 0x1a1 ? Seg.FS : insn.opcode === 0x1a9 ? Seg.GS : (insn.opcode >> 3) & 3;
  const selector = cpu.peekStack(0, insn.opSize32) & 0xffff;
  loadSegment(cpu, seg, selector);
  cpu.adjustStackPointer(insn.opSize32 ? 4 : 2);
  if (seg === Seg.SS) cpu.interruptShadow = 1;
}

/** 60 PUSHA/PUSHAD. */
export function pushAll(cpu: Cpu, insn: DecodedInstruction): void {
  const size32 = insn.opSize32;
  const regs = cpu.regs;
  const originalSp = regs[Reg.ESP];
  try {
    for (let r = 0; r < 8; r++) cpu.pushOperand(r === Reg.ESP ? originalSp : regs[r], size32);
  } catch (e) {
    regs[Reg.ESP] = originalSp; // a fault part-way restarts PUSHA with ESP as it was
    throw e;
  }
}

/** 61 POPA/POPAD (the stored SP is skipped). */
export function popAll(cpu: Cpu, insn: DecodedInstruction): void {
  const size32 = insn.opSize32;
  const step = size32 ? 4 : 2;
  const bits = size32 ? 32 : 16;
  // Read everything first so a fault leaves registers untouched.
  const values = popAllScratch;
  for (let i = 0; i < 8; i++) values[7 - i] = cpu.peekStack(i * step, size32);
  for (let r = 0; r < 8; r++) if (r !== Reg.ESP) writeReg(cpu, r, bits, values[r]);
  cpu.adjustStackPointer(8 * step);
}
const popAllScratch = new Int32Array(8);

/** 98 CBW/CWDE. */
export function convertToWider(cpu: Cpu, insn: DecodedInstruction): void {
  const regs = cpu.regs;
  if (insn.opSize32) regs[0] = (regs[0] << 16) >> 16;
  else regs[0] = (regs[0] & ~0xffff) | (((regs[0] << 24) >> 24) & 0xffff);
}

/** 99 CWD/CDQ. */
export function convertToDouble(cpu: Cpu, insn: DecodedInstruction): void {
  const regs = cpu.regs;
  if (insn.opSize32) regs[2] = regs[0] >> 31;
  else regs[2] = (regs[2] & ~0xffff) | (((regs[0] << 16) >> 31) & 0xffff);
}

/** D7 XLAT. */
export function translateByte(cpu: Cpu, insn: DecodedInstruction): void {
  const regs = cpu.regs;
  const offset = insn.addrSize32 ? (regs[Reg.EBX] + (regs[0] & 0xff)) | 0 : (regs[Reg.EBX] + (regs[0] & 0xff)) & 0xffff;
  const seg = insn.segOverride >= 0 ? insn.segOverride : Seg.DS;
  regs[0] = (regs[0] & ~0xff) | cpu.read8(seg, offset);
}

/** 0F B6/B7 MOVZX, 0F BE/BF MOVSX. */
export function moveExtend(cpu: Cpu, insn: DecodedInstruction): void {
  const sourceBits = insn.opcode & 1 ? 16 : 8;
  let v = readRm(cpu, insn, sourceBits);
  if (insn.opcode >= 0x1be) v = sourceBits === 8 ? (v << 24) >> 24 : (v << 16) >> 16;
  writeReg(cpu, insn.reg, operandBits(insn), v);
}

/** 0F 40..4F CMOVcc: the source is read (and may fault) even when the condition is false. */
export function conditionalMove(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = operandBits(insn);
  const v = readRm(cpu, insn, bits);
  if (testCondition(cpu, insn.opcode & 0xf)) writeReg(cpu, insn.reg, bits, v);
}

/** 0F 90..9F SETcc. */
export function setOnCondition(cpu: Cpu, insn: DecodedInstruction): void {
  writeRm(cpu, insn, 8, testCondition(cpu, insn.opcode & 0xf) ? 1 : 0);
}

/** 0F C8..CF BSWAP (16-bit operand size is undefined; we zero the low word like real parts). */
export function byteSwap(cpu: Cpu, insn: DecodedInstruction): void {
  const r = insn.opcode & 7;
  const v = cpu.regs[r];
  if (!insn.opSize32) { cpu.regs[r] = v & ~0xffff; return; }
  cpu.regs[r] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

/** C4 LES, C5 LDS, 0F B2 LSS, 0F B4 LFS, 0F B5 LGS. */
export function loadFarPointer(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.mod === 3) cpu.raise(Vector.UD);
  const seg = insn.opcode === 0xc4 ? Seg.ES : insn.opcode === 0xc5 ? Seg.DS : insn.opcode === 0x1b2 ? Seg.SS : insn.opcode === 0x1b4 ? Seg.FS : Seg.GS;
  const offsetAddress = effectiveAddress(cpu, insn);
  const bits = operandBits(insn);
  const offset = bits === 32 ? cpu.read32(insn.segment, offsetAddress) : cpu.read16(insn.segment, offsetAddress);
  const selectorAddress = insn.addrSize32 ? (offsetAddress + (bits >> 3)) | 0 : (offsetAddress + (bits >> 3)) & 0xffff;
  const selector = cpu.read16(insn.segment, selectorAddress);
  loadSegment(cpu, seg, selector);
  writeReg(cpu, insn.reg, bits, offset);
}

/** C8 ENTER imm16, imm8. */
export function enterFrame(cpu: Cpu, insn: DecodedInstruction): void {
  const size32 = insn.opSize32;
  const step = size32 ? 4 : 2;
  const level = insn.imm2 & 31;
  const regs = cpu.regs;
  const stackMask = cpu.stack32 ? -1 : 0xffff;
  const savedEsp = regs[Reg.ESP];
  try {
    enterPushes(cpu, insn, size32, step, level, stackMask);
  } catch (e) {
    regs[Reg.ESP] = savedEsp; // a fault part-way restarts ENTER with ESP as it was
    throw e;
  }
}

function enterPushes(cpu: Cpu, insn: DecodedInstruction, size32: boolean, step: number, level: number, stackMask: number): void {
  const regs = cpu.regs;
  cpu.pushOperand(regs[Reg.EBP], size32);
  const frameTemp = regs[Reg.ESP] & stackMask;
  if (level > 0) {
    let bp = regs[Reg.EBP];
    for (let i = 1; i < level; i++) {
      bp = (bp - step) & stackMask;
      const v = size32 ? cpu.read32(Seg.SS, bp) : cpu.read16(Seg.SS, bp);
      cpu.pushOperand(v, size32);
    }
    cpu.pushOperand(frameTemp, size32);
  }
  // The final stack allocation must be addressable (checked by touching the new top).
  const newSp = (regs[Reg.ESP] - insn.imm) & stackMask;
  if (insn.imm !== 0) cpu.linear(Seg.SS, newSp, 1, true);
  if (size32) regs[Reg.EBP] = frameTemp;
  else regs[Reg.EBP] = (regs[Reg.EBP] & ~0xffff) | (frameTemp & 0xffff);
  cpu.setStackPointer(newSp);
}

/** C9 LEAVE. */
export function leaveFrame(cpu: Cpu, insn: DecodedInstruction): void {
  const regs = cpu.regs;
  const sp = cpu.stack32 ? regs[Reg.EBP] : regs[Reg.EBP] & 0xffff;
  const v = insn.opSize32 ? cpu.read32(Seg.SS, sp) : cpu.read16(Seg.SS, sp);
  cpu.setStackPointer(sp + (insn.opSize32 ? 4 : 2));
  writeReg(cpu, Reg.EBP, operandBits(insn), v);
}

/** 62 BOUND: #BR when the index is outside [lower, upper]. */
export function checkBounds(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.mod === 3) cpu.raise(Vector.UD);
  const bits = operandBits(insn);
  const offset = effectiveAddress(cpu, insn);
  const step = bits >> 3;
  const upperAt = insn.addrSize32 ? (offset + step) | 0 : (offset + step) & 0xffff;
  let index = cpu.regs[insn.reg];
  let lower: number;
  let upper: number;
  if (bits === 32) {
    lower = cpu.read32(insn.segment, offset);
    upper = cpu.read32(insn.segment, upperAt);
  } else {
    index = (index << 16) >> 16;
    lower = (cpu.read16(insn.segment, offset) << 16) >> 16;
    upper = (cpu.read16(insn.segment, upperAt) << 16) >> 16;
  }
  if (index < lower || index > upper) cpu.raise(Vector.BR);
}
