/** Near control transfers: jumps, calls, returns and loops within the current code segment. */
import type { Cpu } from "./cpu.js";
import { Reg, Seg } from "./constants.js";
import { Vector } from "./fault.js";
import { getZF, testCondition } from "./flags.js";
import type { DecodedInstruction } from "./instruction.js";
import { operandBits, readRm } from "./operands.js";

/** Sets EIP to a near target, enforcing the CS limit. */
export function jumpNear(cpu: Cpu, target: number, size32: boolean): void {
  if (!size32) target &= 0xffff;
  if ((target >>> 0) > (cpu.segLimit[Seg.CS] >>> 0)) cpu.raise(Vector.GP, 0);
  cpu.eip = target | 0;
}

/** 70..7F Jcc rel8, 0F 80..8F Jcc rel16/32. */
export function jumpConditional(cpu: Cpu, insn: DecodedInstruction): void {
  if (testCondition(cpu, insn.opcode & 0xf)) jumpNear(cpu, insn.nextEip + insn.imm, insn.opSize32);
}

/** E9/EB JMP rel. */
export function jumpRelative(cpu: Cpu, insn: DecodedInstruction): void {
  jumpNear(cpu, insn.nextEip + insn.imm, insn.opSize32);
}

/** E8 CALL rel. */
export function callRelative(cpu: Cpu, insn: DecodedInstruction): void {
  const target = insn.opSize32 ? (insn.nextEip + insn.imm) | 0 : (insn.nextEip + insn.imm) & 0xffff;
  if ((target >>> 0) > (cpu.segLimit[Seg.CS] >>> 0)) cpu.raise(Vector.GP, 0);
  cpu.pushOperand(insn.nextEip, insn.opSize32);
  cpu.eip = target;
}

/** C2/C3 RET near (optionally releasing imm16 bytes). */
export function returnNear(cpu: Cpu, insn: DecodedInstruction): void {
  const target = cpu.peekStack(0, insn.opSize32);
  jumpNear(cpu, target, insn.opSize32);
  cpu.adjustStackPointer((insn.opSize32 ? 4 : 2) + (insn.opcode === 0xc2 ? insn.imm : 0));
}

/** E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JCXZ/JECXZ (the address size picks CX or ECX). */
export function loopForms(cpu: Cpu, insn: DecodedInstruction): void {
  const regs = cpu.regs;
  const mask = insn.addrSize32 ? -1 : 0xffff;
  let count = regs[Reg.ECX] & mask;
  let taken: boolean;
  if (insn.opcode === 0xe3) {
    taken = count === 0;
  } else {
    count = (count - 1) & mask;
    taken = count !== 0;
    if (insn.opcode === 0xe0) taken = taken && !getZF(cpu);
    else if (insn.opcode === 0xe1) taken = taken && getZF(cpu);
    if (taken) {
      const target = insn.opSize32 ? (insn.nextEip + insn.imm) | 0 : (insn.nextEip + insn.imm) & 0xffff;
      if ((target >>> 0) > (cpu.segLimit[Seg.CS] >>> 0)) cpu.raise(Vector.GP, 0);
    }
    regs[Reg.ECX] = insn.addrSize32 ? count : (regs[Reg.ECX] & ~0xffff) | count;
  }
  if (taken) jumpNear(cpu, insn.nextEip + insn.imm, insn.opSize32);
}

/** FF /2 CALL Ev and /4 JMP Ev. */
export function indirectNear(cpu: Cpu, insn: DecodedInstruction): void {
  const bits = operandBits(insn);
  const target = readRm(cpu, insn, bits);
  if (insn.reg === 2) {
    if ((target >>> 0) > (cpu.segLimit[Seg.CS] >>> 0)) cpu.raise(Vector.GP, 0);
    cpu.pushOperand(insn.nextEip, insn.opSize32);
    cpu.eip = target | 0;
  } else {
    jumpNear(cpu, target, insn.opSize32);
  }
}

/** FF /6 PUSH Ev. */
export function pushRm(cpu: Cpu, insn: DecodedInstruction): void {
  cpu.pushOperand(readRm(cpu, insn, operandBits(insn)), insn.opSize32);
}
