/**
 * Native translations of the integer instructions that dominate compiled code. Each returns how
 * the translation ended, or NOT_TRANSLATED to let the translator call the instruction's interpreter
 * handler instead (correct by construction): under alignment checking every memory access, and
 * everything whose semantics are not worth duplicating. Arithmetic follows alu.ts exactly: operands and
 * results truncated to the operand size, flags recorded lazily with the same LazyOp records.
 */
import { AluOp } from "./alu.js";
import { LazyOp } from "./flags.js";
import type { BlockEmitter } from "./jit-emitter.js";

export const enum Translated {
  NOT_TRANSLATED = 0,
  /** Execution continues with the next instruction (perhaps after a conditional exit). */
  CONTINUES = 1,
  /** The instruction always leaves the block. */
  EXITS = 2,
}

function mask(bits: number): number {
  return bits === 32 ? -1 : (1 << bits) - 1;
}

function truncate(expr: string, bits: number): string {
  return bits === 32 ? `((${expr}) | 0)` : `((${expr}) & ${mask(bits)})`;
}

function constant(value: number, bits: number): string {
  return `${bits === 32 ? value | 0 : value & mask(bits)}`;
}

/** Width of an instruction whose low opcode bit selects byte or word/dword. */
function width(e: BlockEmitter): number {
  return (e.insn.opcode & 1) === 0 ? 8 : e.insn.opSize32 ? 32 : 16;
}

function operandBits(e: BlockEmitter): number {
  return e.insn.opSize32 ? 32 : 16;
}

/** The eight classic ALU operations on truncated operands; returns the result temporary. */
function alu(e: BlockEmitter, op: number, bits: number, a: string, b: string): string {
  const ta = e.let(a);
  const tb = e.let(b);
  switch (op) {
    case AluOp.ADD: {
      const r = e.let(truncate(`${ta} + ${tb}`, bits));
      e.setLazyFlags(LazyOp.ADD, bits, ta, tb, r);
      return r;
    }
    case AluOp.ADC: case AluOp.SBB: {
      const carry = e.let(`${e.carry()} ? 1 : 0`);
      const r = e.let(truncate(op === AluOp.ADC ? `${ta} + ${tb} + ${carry}` : `${ta} - ${tb} - ${carry}`, bits));
      e.setLazyFlags(op === AluOp.ADC ? LazyOp.ADC : LazyOp.SBB, bits, ta, tb, r, carry);
      return r;
    }
    case AluOp.OR: case AluOp.AND: case AluOp.XOR: {
      const symbol = op === AluOp.OR ? "|" : op === AluOp.AND ? "&" : "^";
      const r = e.let(`${ta} ${symbol} ${tb}`);
      e.setLazyFlags(LazyOp.LOGIC, bits, ta, tb, r);
      return r;
    }
    default: { // SUB, CMP
      const r = e.let(truncate(`${ta} - ${tb}`, bits));
      e.setLazyFlags(LazyOp.SUB, bits, ta, tb, r);
      return r;
    }
  }
}

/** ALU op on the r/m operand with `source`, writing back unless CMP. */
function aluOnRm(e: BlockEmitter, op: number, bits: number, source: () => string): Translated {
  if (op === AluOp.CMP) {
    const a = e.readRm(bits);
    alu(e, op, bits, a, source());
    return Translated.CONTINUES;
  }
  const target = e.updateRm(bits);
  target.commit(alu(e, op, bits, target.value, source()));
  return Translated.CONTINUES;
}

function incDec(e: BlockEmitter, bits: number, decrement: boolean, value: string): string {
  e.keepCarryInEflags();
  const a = e.let(value);
  const r = e.let(truncate(decrement ? `${a} - 1` : `${a} + 1`, bits));
  e.setLazyFlags(decrement ? LazyOp.DEC : LazyOp.INC, bits, a, "1", r);
  return r;
}

/** A near branch to the constant `target` when `condition` (or always). */
function branch(e: BlockEmitter, target: number, condition: string | null): void {
  if (condition === null) {
    e.checkTarget(target);
    e.exitTo(target);
    return;
  }
  e.emit(`if (${condition}) {`);
  e.checkTarget(target);
  e.exitTo(target);
  e.emit("}");
}

function relativeTarget(e: BlockEmitter): number {
  const target = e.insn.nextEip + e.insn.imm;
  return e.insn.opSize32 ? target | 0 : target & 0xffff;
}

export function translateInstruction(e: BlockEmitter): Translated {
  const insn = e.insn;
  const op = insn.opcode;
  if (insn.hasModrm && !e.rmAccessible()) return Translated.NOT_TRANSLATED;

  if (op < 0x40 && (op & 7) < 6) {
    // ALU classic: E,G / G,E / acc,imm.
    const aluOp = (op >> 3) & 7;
    const bits = width(e);
    switch (op & 7) {
      case 0: case 1:
        return aluOnRm(e, aluOp, bits, () => e.reg(insn.reg, bits));
      case 2: case 3: {
        const b = e.readRm(bits);
        const r = alu(e, aluOp, bits, e.reg(insn.reg, bits), b);
        if (aluOp !== AluOp.CMP) e.setReg(insn.reg, bits, r);
        return Translated.CONTINUES;
      }
      default: {
        const r = alu(e, aluOp, bits, e.reg(0, bits), constant(insn.imm, bits));
        if (aluOp !== AluOp.CMP) e.setReg(0, bits, r);
        return Translated.CONTINUES;
      }
    }
  }

  switch (op) {
    case 0x80: case 0x81: case 0x82: case 0x83: {
      const bits = op === 0x80 || op === 0x82 ? 8 : operandBits(e);
      return aluOnRm(e, insn.reg, bits, () => constant(insn.imm, bits));
    }
    case 0x84: case 0x85: {
      const bits = width(e);
      const a = e.readRm(bits);
      alu(e, AluOp.AND, bits, a, e.reg(insn.reg, bits));
      return Translated.CONTINUES;
    }
    case 0xa8: case 0xa9: {
      const bits = width(e);
      alu(e, AluOp.AND, bits, e.reg(0, bits), constant(insn.imm, bits));
      return Translated.CONTINUES;
    }
    case 0x40: case 0x41: case 0x42: case 0x43: case 0x44: case 0x45: case 0x46: case 0x47:
    case 0x48: case 0x49: case 0x4a: case 0x4b: case 0x4c: case 0x4d: case 0x4e: case 0x4f: {
      const bits = operandBits(e);
      const r = op & 7;
      e.setReg(r, bits, incDec(e, bits, op >= 0x48, e.reg(r, bits)));
      return Translated.CONTINUES;
    }
    case 0xfe: case 0xff: {
      const bits = op === 0xfe ? 8 : operandBits(e);
      if (insn.reg < 2) {
        const target = e.updateRm(bits);
        target.commit(incDec(e, bits, insn.reg === 1, target.value));
        return Translated.CONTINUES;
      }
      if (op === 0xfe) return Translated.NOT_TRANSLATED;
      return translateGroup5(e);
    }
    case 0x88: case 0x89: {
      const bits = width(e);
      e.writeRm(bits, e.reg(insn.reg, bits));
      return Translated.CONTINUES;
    }
    case 0x8a: case 0x8b: {
      const bits = width(e);
      e.setReg(insn.reg, bits, e.readRm(bits));
      return Translated.CONTINUES;
    }
    case 0xc6: case 0xc7: {
      if (insn.reg !== 0) return Translated.NOT_TRANSLATED;
      const bits = width(e);
      e.writeRm(bits, constant(insn.imm, bits));
      return Translated.CONTINUES;
    }
    case 0xb0: case 0xb1: case 0xb2: case 0xb3: case 0xb4: case 0xb5: case 0xb6: case 0xb7:
      e.setReg(op & 7, 8, constant(insn.imm, 8));
      return Translated.CONTINUES;
    case 0xb8: case 0xb9: case 0xba: case 0xbb: case 0xbc: case 0xbd: case 0xbe: case 0xbf: {
      const bits = operandBits(e);
      e.setReg(op & 7, bits, constant(insn.imm, bits));
      return Translated.CONTINUES;
    }
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
      if (!e.memoryAccessible()) return Translated.NOT_TRANSLATED;
      const bits = width(e);
      if (op < 0xa2) e.setReg(0, bits, e.load(insn.segment, `${insn.imm | 0}`, bits >> 3));
      else e.store(insn.segment, `${insn.imm | 0}`, bits >> 3, e.reg(0, bits));
      return Translated.CONTINUES;
    }
    case 0x8d:
      if (insn.mod === 3) return Translated.NOT_TRANSLATED;
      e.setReg(insn.reg, operandBits(e), e.effectiveAddress());
      return Translated.CONTINUES;
    case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf: {
      const sourceBits = op & 1 ? 16 : 8;
      let v = e.readRm(sourceBits);
      if (op >= 0x1be) v = sourceBits === 8 ? `(${v} << 24 >> 24)` : `(${v} << 16 >> 16)`;
      e.setReg(insn.reg, operandBits(e), v);
      return Translated.CONTINUES;
    }
    case 0x86: case 0x87: {
      if (insn.mod !== 3) return Translated.NOT_TRANSLATED;
      const bits = width(e);
      const a = e.let(e.reg(insn.rm, bits));
      const b = e.let(e.reg(insn.reg, bits));
      e.setReg(insn.rm, bits, b);
      e.setReg(insn.reg, bits, a);
      return Translated.CONTINUES;
    }
    case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: case 0x96: case 0x97: {
      if (op === 0x90) return Translated.CONTINUES;
      const bits = operandBits(e);
      const a = e.let(e.reg(0, bits));
      e.setReg(0, bits, e.reg(op & 7, bits));
      e.setReg(op & 7, bits, a);
      return Translated.CONTINUES;
    }
    case 0x98:
      if (insn.opSize32) e.setReg(0, 32, `(${e.reg(0, 32)} << 16 >> 16)`);
      else e.setReg(0, 16, `(${e.reg(0, 32)} << 24 >> 24)`);
      return Translated.CONTINUES;
    case 0x99:
      if (insn.opSize32) e.setReg(2, 32, `(${e.reg(0, 32)} >> 31)`);
      else e.setReg(2, 16, `(${e.reg(0, 32)} << 16 >> 31)`);
      return Translated.CONTINUES;
    case 0x50: case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57:
      if (!e.memoryAccessible()) return Translated.NOT_TRANSLATED;
      e.push(operandBits(e), e.let(e.reg(op & 7, 32)));
      return Translated.CONTINUES;
    case 0x58: case 0x59: case 0x5a: case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f: {
      if (!e.memoryAccessible()) return Translated.NOT_TRANSLATED;
      e.setReg(op & 7, operandBits(e), e.pop(operandBits(e)));
      return Translated.CONTINUES;
    }
    case 0x68: case 0x6a:
      if (!e.memoryAccessible()) return Translated.NOT_TRANSLATED;
      e.push(operandBits(e), constant(insn.imm, 32));
      return Translated.CONTINUES;
    case 0xc9: {
      // LEAVE: SP = BP, then POP BP.
      if (!e.memoryAccessible()) return Translated.NOT_TRANSLATED;
      const bits = operandBits(e);
      const frame = e.let(e.stack32 ? e.reg(5, 32) : e.reg(5, 16));
      const value = e.load(2, frame, bits >> 3);
      e.setStackPointer(`${frame} + ${bits >> 3}`);
      e.setReg(5, bits, value);
      return Translated.CONTINUES;
    }
    case 0x70: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76: case 0x77:
    case 0x78: case 0x79: case 0x7a: case 0x7b: case 0x7c: case 0x7d: case 0x7e: case 0x7f:
      branch(e, relativeTarget(e), e.condition(op & 0xf));
      return Translated.CONTINUES;
    case 0xeb: case 0xe9:
      branch(e, relativeTarget(e), null);
      return Translated.EXITS;
    case 0xe8: {
      if (!e.memoryAccessible()) return Translated.NOT_TRANSLATED;
      const target = relativeTarget(e);
      e.checkTarget(target);
      e.push(operandBits(e), `${insn.nextEip | 0}`);
      e.exitTo(target);
      return Translated.EXITS;
    }
    case 0xc2: case 0xc3: {
      if (!e.memoryAccessible()) return Translated.NOT_TRANSLATED;
      const bits = operandBits(e);
      const target = e.load(2, e.stackOffset(0), bits >> 3);
      e.checkDynamicTarget(target);
      e.setStackPointer(e.stackOffset((bits >> 3) + (op === 0xc2 ? insn.imm : 0)));
      // Return prediction: the popped address is compared with the region's call sites.
      e.exitTo(target, e.returnSites);
      return Translated.EXITS;
    }
    case 0xe0: case 0xe1: case 0xe2: case 0xe3:
      return translateLoop(e);
    case 0x1c8: case 0x1c9: case 0x1ca: case 0x1cb: case 0x1cc: case 0x1cd: case 0x1ce: case 0x1cf: {
      if (!insn.opSize32) return Translated.NOT_TRANSLATED;
      const v = e.let(e.reg(op & 7, 32));
      e.setReg(op & 7, 32, `((${v} & 0xff) << 24) | ((${v} & 0xff00) << 8) | ((${v} >>> 8) & 0xff00) | (${v} >>> 24)`);
      return Translated.CONTINUES;
    }
    case 0xf6: case 0xf7:
      return translateGroup3(e);
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3:
      return translateShift(e);
    case 0x1af: case 0x69: case 0x6b: {
      const bits = operandBits(e);
      const a = e.readRm(bits);
      const b = op === 0x1af ? e.let(e.reg(insn.reg, bits)) : constant(insn.imm, bits);
      if (e.flagsDead && bits === 32) {
        // Only the flags needed the high half.
        e.setReg(insn.reg, 32, `Math.imul(${a}, ${b})`);
        return Translated.CONTINUES;
      }
      const { low, overflow } = multiply(e, bits, a, b, true);
      resultFlags(e, bits, low, overflow, overflow);
      e.setReg(insn.reg, bits, low);
      return Translated.CONTINUES;
    }
    case 0x1a3: case 0x1ab: case 0x1b3: case 0x1bb:
      return translateBitTest(e, op === 0x1a3 ? 0 : op === 0x1ab ? 1 : op === 0x1b3 ? 2 : 3, e.let(e.reg(insn.reg, 32)), true);
    case 0x1ba:
      if (insn.reg < 4) return Translated.NOT_TRANSLATED;
      return translateBitTest(e, insn.reg - 4, `${insn.imm & 0xff}`, false);
  }
  if (op >= 0x180 && op <= 0x18f) {
    branch(e, relativeTarget(e), e.condition(op & 0xf));
    return Translated.CONTINUES;
  }
  if (op >= 0x190 && op <= 0x19f) {
    const value = e.let(`${e.condition(op & 0xf)} ? 1 : 0`);
    e.writeRm(8, value);
    return Translated.CONTINUES;
  }
  if (op >= 0x140 && op <= 0x14f) {
    const bits = operandBits(e);
    const v = e.readRm(bits);
    e.emit(`if (${e.condition(op & 0xf)}) {`);
    e.setReg(insn.reg, bits, v);
    e.emit("}");
    return Translated.CONTINUES;
  }
  return Translated.NOT_TRANSLATED;
}

/** FF /2 CALL, /4 JMP, /6 PUSH (near, so CS and the mode stay). */
function translateGroup5(e: BlockEmitter): Translated {
  const insn = e.insn;
  const bits = operandBits(e);
  if (insn.reg !== 2 && insn.reg !== 4 && insn.reg !== 6) return Translated.NOT_TRANSLATED;
  const value = e.let(e.readRm(bits));
  if (insn.reg === 6) {
    e.push(bits, value);
    return Translated.CONTINUES;
  }
  e.checkDynamicTarget(value);
  if (insn.reg === 2) e.push(bits, `${insn.nextEip | 0}`);
  e.exitTo(value);
  return Translated.EXITS;
}

/** F6/F7: TEST, NOT, NEG natively; MUL/IMUL/DIV/IDIV through their handlers. */
function translateGroup3(e: BlockEmitter): Translated {
  const insn = e.insn;
  const bits = width(e);
  switch (insn.reg) {
    case 0: case 1: {
      const a = e.readRm(bits);
      alu(e, AluOp.AND, bits, a, constant(insn.imm, bits));
      return Translated.CONTINUES;
    }
    case 2: {
      const target = e.updateRm(bits);
      target.commit(`~${target.value}`);
      return Translated.CONTINUES;
    }
    case 3: {
      const target = e.updateRm(bits);
      target.commit(alu(e, AluOp.SUB, bits, "0", target.value));
      return Translated.CONTINUES;
    }
    case 4: case 5: {
      // MUL/IMUL into AX, DX:AX or EDX:EAX.
      const signed = insn.reg === 5;
      const source = e.readRm(bits);
      if (bits === 32) {
        const { low, high, overflow } = multiply(e, 32, e.reg(0, 32), source, signed);
        e.setReg(0, 32, low);
        e.setReg(2, 32, high!);
        resultFlags(e, 32, low, overflow, overflow);
        return Translated.CONTINUES;
      }
      const shift = 32 - bits;
      const extend = (v: string) => (signed ? `(${v} << ${shift} >> ${shift})` : `(${v} & ${mask(bits)})`);
      const product = e.let(`${extend(e.reg(0, 32))} * ${extend(source)}`);
      const low = e.let(`${product} & ${mask(bits)}`);
      const overflow = bits === 8
        ? (signed ? `(${product} !== ((${product} << 24) >> 24) ? 1 : 0)` : `((${product} & 0xff00) !== 0 ? 1 : 0)`)
        : (signed ? `(${product} !== ((${product} << 16) >> 16) ? 1 : 0)` : `((${product} & -65536) !== 0 ? 1 : 0)`);
      const of = e.let(overflow);
      e.setReg(0, 16, `${product} & 0xffff`);
      if (bits === 16) e.setReg(2, 16, `(${product} >> 16) & 0xffff`);
      resultFlags(e, bits, low, of, of);
      return Translated.CONTINUES;
    }
    case 6: case 7:
      return bits === 32 ? translateDivide(e, insn.reg === 7) : Translated.NOT_TRANSLATED;
    default:
      return Translated.NOT_TRANSLATED;
  }
}

/**
 * 32-bit DIV/IDIV: natively when the dividend is EAX extended into EDX (the common case, where the
 * quotient always fits), else through the alu.ts kernel on the CPU's registers (which raises #DE).
 * The flags are left as they were, as the kernel leaves them.
 */
function translateDivide(e: BlockEmitter, signed: boolean): Translated {
  const divisor = e.let(e.readRm(32));
  const eax = e.reg(0, 32);
  const edx = e.reg(2, 32);
  const quotient = e.temp();
  const remainder = e.temp();
  if (signed) {
    e.emit(`if (${edx} === (${eax} >> 31) && ${divisor} !== 0 && (${divisor} !== -1 || ${eax} !== -2147483648)) {`);
    e.emit(`${quotient} = Math.trunc(${eax} / ${divisor}); ${remainder} = ${eax} - ${quotient} * ${divisor};`);
  } else {
    e.emit(`if (${edx} === 0 && ${divisor} !== 0) {`);
    e.emit(`${quotient} = Math.floor((${eax} >>> 0) / (${divisor} >>> 0)); ${remainder} = (${eax} >>> 0) - ${quotient} * (${divisor} >>> 0);`);
  }
  e.emit("} else {");
  e.emit(`${e.faultPoint()} regs[0] = ${eax}; regs[2] = ${edx}; rt.divideAccumulator(cpu, 32, ${divisor}, ${signed}); ${quotient} = regs[0]; ${remainder} = regs[2];`);
  e.emit("}");
  e.setReg(0, 32, quotient);
  e.setReg(2, 32, remainder);
  return Translated.CONTINUES;
}

/**
 * The low (and for 32 bits the high) half of a product and whether it overflowed the low half, as
 * multiplySigned()/multiplyAccumulator() compute them; operands truncated to `bits`.
 */
function multiply(e: BlockEmitter, bits: number, a: string, b: string, signed: boolean): { low: string; high?: string; overflow: string } {
  if (bits === 16) {
    const product = e.let(`((${a} << 16) >> 16) * ((${b} << 16) >> 16)`);
    const low = e.let(`${product} & 0xffff`);
    return { low, overflow: e.let(`${product} !== ((${product} << 16) >> 16) ? 1 : 0`) };
  }
  const ta = e.let(a);
  const tb = e.let(b);
  const low = e.let(`Math.imul(${ta}, ${tb})`);
  const high = e.let(signed ? `mulHighSigned(${ta}, ${tb})` : `mulHigh(${ta}, ${tb}) | 0`);
  return { low, high, overflow: e.let(signed ? `${high} !== (${low} >> 31) ? 1 : 0` : `${high} !== 0 ? 1 : 0`) };
}

/**
 * EFLAGS as setResultFlags() sets them: ZF, SF, PF from `result` (truncated to `bits`), CF and OF
 * given as 0/1 expressions, AF clear, the other flags kept.
 */
function resultFlags(e: BlockEmitter, bits: number, result: string, cf: string, of: string): void {
  const r = e.let(truncate(result, bits));
  e.setEflags(`(efl & -2262) | ${cf} | (PARITY[${r} & 0xff] << 2) | (${r} === 0 ? 0x40 : 0) | (((${r} >>> ${bits - 1}) & 1) << 7) | (${of} << 11)`);
}

/**
 * BT/BTS/BTR/BTC (op 0..3) with the bit offset `offset` (a register's value, or an immediate): a
 * register operand uses it modulo the size; in memory a register offset is signed and selects the
 * word it falls in. CF gets the bit, the other flags are folded and kept, as bitTest() does.
 */
function translateBitTest(e: BlockEmitter, op: number, offset: string, fromRegister: boolean): Translated {
  const insn = e.insn;
  const bits = operandBits(e);
  const bit = e.let(`${offset} & ${bits - 1}`);
  const apply = (v: string) => (op === 1 ? `${v} | (1 << ${bit})` : op === 2 ? `${v} & ~(1 << ${bit})` : `${v} ^ (1 << ${bit})`);
  let value: string;
  if (insn.mod === 3) {
    value = e.let(e.reg(insn.rm, bits));
    if (op !== 0) e.setReg(insn.rm, bits, apply(value));
  } else {
    let address = e.effectiveAddress();
    if (fromRegister) {
      const signedOffset = bits === 16 ? `(${offset} << 16 >> 16)` : offset;
      const sum = `${address} + (${signedOffset} >> ${bits === 16 ? 4 : 5}) * ${bits >> 3}`;
      address = insn.addrSize32 ? `((${sum}) | 0)` : `((${sum}) & 0xffff)`;
    }
    if (op === 0) {
      value = e.load(insn.segment, address, bits >> 3);
    } else {
      const target = e.beginUpdate(insn.segment, address, bits >> 3);
      value = target.value;
      target.commit(apply(value));
    }
  }
  e.foldFlags();
  e.emit(`efl = (efl & -2) | ((${value} >>> ${bit}) & 1);`);
  return Translated.CONTINUES;
}

/**
 * Group 2 through the alu.ts shift kernel. SHL/SHR/SAR by a nonzero constant only replace the
 * arithmetic flags; rotates and counts in CL need the whole lazy record around the kernel.
 */
function translateShift(e: BlockEmitter): Translated {
  const insn = e.insn;
  const op = insn.opcode;
  const bits = width(e);
  const constantCount = op <= 0xc1 ? insn.imm & 0x1f : op <= 0xd1 ? 1 : -1;
  if (constantCount === 0) return Translated.NOT_TRANSLATED;
  if (insn.reg >= 4 && constantCount > 0) return shiftByConstant(e, bits, constantCount);
  if (insn.reg <= 1 && constantCount > 0) return rotateByConstant(e, bits, constantCount);
  if (insn.reg >= 4 && bits === 32) return shiftByCl(e);
  const count = constantCount > 0 ? `${constantCount}` : e.let(`${e.reg(1, 32)} & 0xff`);
  const target = e.updateRm(bits);
  const replacesFlags = constantCount > 0 && insn.reg >= 4;
  if (replacesFlags) e.eflagsToCpu();
  else e.flagsToCpu();
  const r = e.let(`rt.shiftRotate(cpu, ${insn.reg}, ${bits}, ${target.value}, ${count})`);
  if (replacesFlags) e.eflagsFromCpu();
  else e.flagsFromCpu();
  // A zero count in CL writes nothing (a store could reach device memory or a code page).
  if (constantCount < 0) e.emit(`if ((${count} & 0x1f) !== 0) {`);
  target.commit(r);
  if (constantCount < 0) e.emit("}");
  return Translated.CONTINUES;
}

/**
 * ROL/ROR by a nonzero constant, as shiftRotate() computes them: CF and OF from the result (also
 * when the count is a multiple of the size), the other flags kept.
 */
function rotateByConstant(e: BlockEmitter, bits: number, count: number): Translated {
  const left = e.insn.reg === 0;
  const target = e.updateRm(bits);
  const v = target.value;
  const n = count % bits;
  const top = bits - 1;
  const rotated = n === 0 ? v : left ? `(${v} << ${n}) | (${v} >>> ${bits - n})` : `(${v} >>> ${n}) | (${v} << ${bits - n})`;
  const r = e.let(bits === 32 ? `(${rotated}) | 0` : `(${rotated}) & ${(1 << bits) - 1}`);
  target.commit(r);
  if (e.flagsDead) return Translated.CONTINUES;
  const cf = left ? `(${r} & 1)` : `((${r} >>> ${top}) & 1)`;
  const of = left ? `(((${r} >>> ${top}) & 1) ^ ${r} & 1)` : `(((${r} >>> ${top}) ^ (${r} >>> ${top - 1})) & 1)`;
  e.foldFlags();
  e.setEflags(`(efl & -2050) | ${cf} | (${of} << 11)`);
  return Translated.CONTINUES;
}

/** SHL/SHR/SAR by a nonzero constant, as shiftRotate() computes result, CF and OF. */
function shiftByConstant(e: BlockEmitter, bits: number, count: number): Translated {
  const target = e.updateRm(bits);
  const v = target.value;
  const top = bits - 1;
  let r: string;
  let cf: string;
  let of: string;
  switch (e.insn.reg) {
    case 4: case 6: // SHL/SAL
      r = count <= bits ? e.let(truncate(`${v} << ${count}`, bits)) : "0";
      cf = count <= bits ? e.let(`(${v} >>> ${bits - count}) & 1`) : "0";
      of = `(((${r} >>> ${top}) & 1) ^ ${cf})`;
      break;
    case 5: // SHR
      r = count >= bits ? "0" : e.let(truncate(`${v} >>> ${count}`, bits));
      cf = count <= bits ? e.let(`(${v} >>> ${count - 1}) & 1`) : "0";
      of = `((${v} >>> ${top}) & 1)`;
      break;
    default: { // SAR
      const signed = bits === 32 ? v : e.let(`${v} << ${32 - bits} >> ${32 - bits}`);
      r = e.let(truncate(`${signed} >> ${count >= bits ? bits - 1 : count}`, bits));
      cf = count >= bits ? `(${signed} >>> 31)` : e.let(`(${signed} >> ${count - 1}) & 1`);
      of = "0";
    }
  }
  target.commit(r);
  resultFlags(e, bits, r, cf, of);
  return Translated.CONTINUES;
}

/** 32-bit SHL/SHR/SAR by CL: a zero count changes nothing (not even the flags) and writes nothing. */
function shiftByCl(e: BlockEmitter): Translated {
  const count = e.let(`${e.reg(1, 32)} & 0x1f`);
  const target = e.updateRm(32);
  const v = target.value;
  e.loadFlags();
  const r = e.temp();
  const cf = e.temp();
  const of = e.temp();
  e.emit(`if (${count} !== 0) {`);
  switch (e.insn.reg) {
    case 4: case 6:
      e.emit(`${r} = ${v} << ${count}; ${cf} = (${v} >>> (32 - ${count})) & 1; ${of} = ((${r} >>> 31) & 1) ^ ${cf};`);
      break;
    case 5:
      e.emit(`${r} = (${v} >>> ${count}) | 0; ${cf} = (${v} >>> (${count} - 1)) & 1; ${of} = (${v} >>> 31) & 1;`);
      break;
    default:
      e.emit(`${r} = ${v} >> ${count}; ${cf} = (${v} >> (${count} - 1)) & 1; ${of} = 0;`);
  }
  target.commit(r);
  resultFlags(e, 32, r, cf, of);
  e.emit("}");
  e.flagsVary();
  return Translated.CONTINUES;
}

/** E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JECXZ with 32-bit addressing. */
function translateLoop(e: BlockEmitter): Translated {
  const insn = e.insn;
  if (!insn.addrSize32) return Translated.NOT_TRANSLATED;
  const target = relativeTarget(e);
  if (insn.opcode === 0xe3) {
    branch(e, target, `${e.reg(1, 32)} === 0`);
    return Translated.CONTINUES;
  }
  const count = e.let(`(${e.reg(1, 32)} - 1) | 0`);
  let condition = `${count} !== 0`;
  if (insn.opcode !== 0xe2) {
    const zero = e.condition(4);
    condition = `${condition} && ${insn.opcode === 0xe1 ? zero : `!${zero}`}`;
  }
  e.emit(`if (${condition}) {`);
  e.checkTarget(target);
  e.setReg(1, 32, count);
  e.exitTo(target);
  e.emit("}");
  e.setReg(1, 32, count);
  return Translated.CONTINUES;
}
