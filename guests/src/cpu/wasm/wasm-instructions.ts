/**
 * Native WebAssembly for the integer instructions hot code is made of. What one cannot do throws
 * NeedsHandler (the translator takes back what was emitted for it), and the instruction then runs
 * through its interpreter handler (see WasmRegionEmitter.callHandler). Arithmetic follows alu.ts:
 * operands and results truncated to the operand size, flags recorded with the interpreter's LazyOp
 * records.
 */
import { AluOp } from "../alu.js";
import { LazyOp, sizeMask } from "../flags.js";
import { type DecodedInstruction, PAUSE_OPCODE } from "../instruction.js";
import { portAccessCycles, SYSTEM_PORT_CYCLES, SYSTEM_PORTS_END } from "../io.js";
import { PAUSE_STALL_CYCLES } from "../ops-system.js";
import { DS, EFL, EIP, ES, FOP, NeedsHandler, REG0, SS, UNKNOWN, type WasmRegionEmitter } from "./wasm-emitter.js";
import { Op, ValueType } from "./wasm-module.js";

/** Computes ALU `op` on temporaries a and b into a new temporary, recording flags; returns it. */
function alu(e: WasmRegionEmitter, op: number, a: number, b: number, size = 4): number {
  const f = e.f;
  if (op === AluOp.ADC || op === AluOp.SBB) {
    const carry = e.temp();
    e.carry();
    f.set(carry);
    const r = e.temp();
    f.get(a).get(b).op(op === AluOp.ADC ? Op.I32_ADD : Op.I32_SUB).get(carry).op(op === AluOp.ADC ? Op.I32_ADD : Op.I32_SUB);
    if (size !== 4) f.i32(byteMask(size)).op(Op.I32_AND);
    f.set(r);
    e.setLazy(op === AluOp.ADC ? LazyOp.ADC : LazyOp.SBB, a, b, r, size * 8, carry);
    return r;
  }
  const r = e.temp();
  f.get(a).get(b);
  switch (op) {
    case AluOp.ADD: f.op(Op.I32_ADD); break;
    case AluOp.OR: f.op(Op.I32_OR); break;
    case AluOp.AND: f.op(Op.I32_AND); break;
    case AluOp.XOR: f.op(Op.I32_XOR); break;
    default: f.op(Op.I32_SUB); break; // SUB, CMP
  }
  if (size !== 4 && (op === AluOp.ADD || op === AluOp.SUB || op === AluOp.CMP)) f.i32(byteMask(size)).op(Op.I32_AND);
  f.set(r);
  e.setLazy(op === AluOp.ADD ? LazyOp.ADD : op === AluOp.SUB || op === AluOp.CMP ? LazyOp.SUB : LazyOp.LOGIC, a, b, r, size * 8);
  return r;
}

/** All ones in an operand of `size` bytes. */
function byteMask(size: number): number {
  return sizeMask(size * 8);
}

/** Operand size in bytes of an instruction whose low opcode bit selects byte or word/dword. */
function width(insn: DecodedInstruction): number {
  return (insn.opcode & 1) === 0 ? 1 : insn.opSize32 ? 4 : 2;
}

/** A constant in a new temporary, truncated to `size`. */
function constTemp(e: WasmRegionEmitter, value: number, size: number): number {
  const t = e.temp();
  e.f.i32(value & byteMask(size)).set(t);
  return t;
}

/** The r/m operand as a source value in a new temporary (register or memory). */
function readRm(e: WasmRegionEmitter, size: number): number {
  const insn = e.insn;
  const t = e.temp();
  if (insn.mod === 3) {
    if (size === 4) e.getReg(insn.rm);
    else if (size === 1) e.getReg8(insn.rm);
    else { e.getReg(insn.rm); e.f.i32(0xffff).op(Op.I32_AND); }
  } else {
    e.readMemory(e.address(), size);
  }
  e.f.set(t);
  return t;
}

export function translateInstruction(e: WasmRegionEmitter): "continues" | "exits" {
  const insn = e.insn;
  const f = e.f;
  const op = insn.opcode;
  if (op === 0x90) return "continues";
  if (op === PAUSE_OPCODE) {
    e.addStall(PAUSE_STALL_CYCLES);
    e.goTo(insn.nextEip);
    return "exits";
  }
  if (op === 0x131) {
    // RDTSC (Linux's udelay polls it); where CR4.TSD makes it fault, through the handler.
    e.timeStampAllowed();
    e.open("if");
    e.timeStamp();
    f.op(Op.I32_WRAP_I64);
    e.setReg(0);
    e.timeStamp();
    f.i64(32n).op(Op.I64_SHR_U).op(Op.I32_WRAP_I64);
    e.setReg(2);
    e.elseHandler();
    return "continues";
  }
  if (op === 0x88 || op === 0x8a) {
    // MOV Eb,Gb / Gb,Eb
    if (insn.mod === 3) {
      const from = op === 0x88 ? insn.reg : insn.rm, to = op === 0x88 ? insn.rm : insn.reg;
      e.getReg8(from);
      e.setReg8(to);
      return "continues";
    }
    const addr = e.address();
    if (op === 0x88) {
      const v = e.temp();
      e.getReg8(insn.reg);
      f.set(v);
      e.writeMemory(addr, 1, v);
    } else {
      e.readMemory(addr, 1);
      e.setReg8(insn.reg);
    }
    return "continues";
  }
  if (op === 0x89 || op === 0x8b) {
    const size = width(insn);
    if (insn.mod === 3) {
      e.getRegSized(op === 0x89 ? insn.reg : insn.rm, size);
      e.setRegSized(op === 0x89 ? insn.rm : insn.reg, size);
      return "continues";
    }
    const addr = e.address();
    if (op === 0x89) {
      const v = e.temp();
      e.getRegSized(insn.reg, size);
      f.set(v);
      e.writeMemory(addr, size, v);
    } else {
      e.readMemory(addr, size);
      e.setRegSized(insn.reg, size);
    }
    return "continues";
  }
  if (op >= 0xb0 && op <= 0xb7) {
    f.i32(insn.imm & 0xff);
    e.setReg8(op & 7);
    return "continues";
  }
  if (op >= 0xb8 && op <= 0xbf) {
    const size = insn.opSize32 ? 4 : 2;
    f.i32(insn.imm & byteMask(size));
    e.setRegSized(op & 7, size);
    return "continues";
  }
  if ((op === 0xc7 || op === 0xc6) && insn.reg === 0) {
    const size = width(insn);
    const v = constTemp(e, insn.imm, size);
    if (insn.mod === 3) {
      f.get(v);
      e.setRegSized(insn.rm, size);
    } else {
      e.writeMemory(e.address(), size, v);
    }
    return "continues";
  }
  if (op === 0x84 || op === 0x85 || op === 0xa8 || op === 0xa9 || ((op === 0xf6 || op === 0xf7) && insn.reg === 0)) {
    const size = width(insn);
    const a = op === 0xa8 || op === 0xa9 ? regTemp(e, 0, size) : readRm(e, size);
    let b: number;
    if (op === 0x84 || op === 0x85) b = regTemp(e, insn.reg, size);
    else b = constTemp(e, insn.imm, size);
    const r = e.temp();
    f.get(a).get(b).op(Op.I32_AND).set(r);
    e.setLazy(LazyOp.LOGIC, a, b, r, size * 8);
    return "continues";
  }
  // ALU Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz.
  if (op < 0x40 && (op & 7) <= 5) {
    const aluOp = op >> 3;
    const size = width(insn);
    if ((op & 7) >= 4) {
      const a = regTemp(e, 0, size), b = constTemp(e, insn.imm, size);
      const r = alu(e, aluOp, a, b, size);
      if (aluOp !== AluOp.CMP) { f.get(r); e.setRegSized(0, size); }
      return "continues";
    }
    if ((op & 2) !== 0) {
      const b = readRm(e, size);
      const a = regTemp(e, insn.reg, size);
      const r = alu(e, aluOp, a, b, size);
      if (aluOp !== AluOp.CMP) { f.get(r); e.setRegSized(insn.reg, size); }
      return "continues";
    }
    return aluOnRm(e, aluOp, size, () => regTemp(e, insn.reg, size));
  }
  if (op >= 0x80 && op <= 0x83 && op !== 0x82) {
    const size = width(insn);
    return aluOnRm(e, insn.reg, size, () => constTemp(e, insn.imm, size));
  }
  if (op >= 0xc0 && op <= 0xd3 && (op <= 0xc1 || op >= 0xd0) && (insn.reg === 4 || insn.reg === 5 || insn.reg === 6 || insn.reg === 7)) return shift(e);
  if (op >= 0xc0 && op <= 0xd3 && (op <= 0xc1 || op >= 0xd0) && (insn.reg === 0 || insn.reg === 1)) return rotate(e);
  if (op === 0xf7 && insn.reg === 6 && insn.opSize32) {
    // DIV r/m32: EDX:EAX / source; #DE for a zero divisor or a quotient beyond 32 bits (EDX >= divisor).
    const divisor = readRm(e, 4);
    f.get(divisor).op(Op.I32_EQZ).get(REG0 + 2).get(divisor).op(Op.I32_GE_U).op(Op.I32_OR);
    e.open("if");
    e.raise(0);
    e.close();
    const dividend = e.f.local(ValueType.I64), wide = e.f.local(ValueType.I64);
    e.getReg(2);
    f.op(Op.I64_EXTEND_I32_U).i64(32n).op(Op.I64_SHL);
    e.getReg(0);
    f.op(Op.I64_EXTEND_I32_U).op(Op.I64_OR).set(dividend);
    f.get(divisor).op(Op.I64_EXTEND_I32_U).set(wide);
    f.get(dividend).get(wide).op(Op.I64_DIV_U).op(Op.I32_WRAP_I64);
    f.get(dividend).get(wide).op(Op.I64_REM_U).op(Op.I32_WRAP_I64);
    e.setReg(2);
    e.setReg(0);
    return "continues";
  }
  if (op >= 0xa0 && op <= 0xa3) {
    // MOV AL/eAX, moffs and back.
    const size = width(insn);
    const addr = e.temp();
    f.i32(insn.imm).set(addr);
    if (op <= 0xa1) {
      e.readMemory(addr, size);
      e.setRegSized(0, size);
    } else {
      const v = regTemp(e, 0, size);
      e.writeMemory(addr, size, v);
    }
    return "continues";
  }
  if (op === 0xc9 && insn.opSize32) {
    // LEAVE: ESP = EBP, then EBP popped.
    pop(e, regTemp(e, 5), 5);
    return "continues";
  }
  if (((op >= 0xe4 && op <= 0xe7) || (op >= 0xec && op <= 0xef))) {
    // IN/OUT with an immediate port or DX.
    const size = width(insn);
    const port = e.temp();
    if (op < 0xe8) f.i32(insn.imm & 0xff); else f.get(REG0 + 2).i32(0xffff).op(Op.I32_AND);
    f.set(port);
    if ((op & 2) === 0) {
      e.portAccess(false, size, port, -1);
      e.setRegSized(0, size);
    } else {
      e.portAccess(true, size, port, regTemp(e, 0, size));
    }
    // The access's stall (io.ts portAccessCycles), known here for an immediate port.
    if (op < 0xe8) {
      const cycles = portAccessCycles(insn.imm & 0xff);
      if (cycles !== 0) e.addStall(cycles);
    } else {
      f.get(port).i32(SYSTEM_PORTS_END).op(Op.I32_LT_U);
      e.open("if");
      e.addStall(SYSTEM_PORT_CYCLES);
      e.close();
    }
    return "continues";
  }
  if (op >= 0xa4 && op <= 0xaf && op !== 0xa8 && op !== 0xa9 && (insn.prefixes & (2 | 4)) === 0 && insn.addrSize32 && (op & 0xfe) !== 0xac) {
    return stringStep(e);
  }
  if ((op === 0xac || op === 0xad) && (insn.prefixes & (2 | 4)) === 0 && insn.addrSize32) {
    // LODS without a repeat prefix: AL/eAX from DS:ESI (or the override), ESI stepped by EFLAGS.DF.
    const size = width(insn);
    const from = regTemp(e, 6);
    e.readMemory(from, size);
    e.setRegSized(0, size);
    f.get(from).i32(-size).i32(size).get(EFL).i32(1 << 10).op(Op.I32_AND).op(Op.SELECT).op(Op.I32_ADD);
    e.setReg(6);
    return "continues";
  }
  if ((op === 0xf6 || op === 0xf7) && (insn.reg === 2 || insn.reg === 3)) {
    const size = width(insn);
    updateRm(e, size, (a) => {
      const r = e.temp();
      if (insn.reg === 2) {
        f.get(a).i32(-1).op(Op.I32_XOR);
        if (size !== 4) f.i32(byteMask(size)).op(Op.I32_AND);
        f.set(r);
        return r;
      }
      const zero = constTemp(e, 0, size);
      return alu(e, AluOp.SUB, zero, a, size);
    });
    return "continues";
  }
  if ((op === 0xfe || op === 0xff) && (insn.reg === 0 || insn.reg === 1)) {
    const size = width(insn);
    // INC/DEC keep CF: it goes into EFLAGS before the record changes.
    const cf = e.temp();
    e.carry();
    f.set(cf);
    f.get(EFL).i32(-2).op(Op.I32_AND).get(cf).op(Op.I32_OR).set(EFL);
    e.eflWritten = true;
    updateRm(e, size, (a) => {
      const b = constTemp(e, 1, size), r = e.temp();
      f.get(a).get(b).op(insn.reg === 0 ? Op.I32_ADD : Op.I32_SUB);
      if (size !== 4) f.i32(byteMask(size)).op(Op.I32_AND);
      f.set(r);
      e.setLazy(insn.reg === 0 ? LazyOp.INC : LazyOp.DEC, a, b, r, size * 8);
      return r;
    });
    return "continues";
  }
  if (op === 0xff && (insn.reg === 2 || insn.reg === 4 || insn.reg === 6) && insn.opSize32) {
    const target = readRm(e, 4);
    if (insn.reg === 4) {
      f.get(target).set(EIP);
      e.exitAfterInstruction();
      return "exits";
    }
    const v = e.temp(), addr = e.temp();
    if (insn.reg === 2) f.i32(insn.nextEip).set(v);
    else f.get(target).set(v);
    e.getReg(4); f.i32(4).op(Op.I32_SUB).set(addr);
    e.writeMemory(addr, 4, v, SS);
    f.get(addr);
    e.setReg(4);
    if (insn.reg === 6) return "continues";
    f.get(target).set(EIP);
    e.exitAfterInstruction();
    return "exits";
  }
  if ((op === 0xf7) && (insn.reg === 4 || insn.reg === 5) && insn.opSize32) {
    const b = readRm(e, 4);
    const wide = e.f.local(ValueType.I64);
    const signed = insn.reg === 5;
    const low = e.temp(), high = e.temp(), overflow = e.temp();
    e.getReg(0);
    f.op(signed ? Op.I64_EXTEND_I32_S : Op.I64_EXTEND_I32_U);
    f.get(b).op(signed ? Op.I64_EXTEND_I32_S : Op.I64_EXTEND_I32_U).op(Op.I64_MUL).set(wide);
    f.get(wide).op(Op.I32_WRAP_I64).set(low);
    f.get(wide).i64(32n).op(Op.I64_SHR_U).op(Op.I32_WRAP_I64).set(high);
    if (signed) f.get(high).get(low).i32(31).op(Op.I32_SHR_S).op(Op.I32_NE).set(overflow);
    else f.get(high).i32(0).op(Op.I32_NE).set(overflow);
    f.get(low);
    e.setReg(0);
    f.get(high);
    e.setReg(2);
    e.setResultFlags(low, overflow, overflow);
    return "continues";
  }
  requireOperand32(insn);
  if (op === 0x8d && insn.mod !== 3) {
    const addr = e.address();
    f.get(addr);
    e.setReg(insn.reg);
    return "continues";
  }
  if (op === 0x1b6 || op === 0x1b7 || op === 0x1be || op === 0x1bf) {
    const size = op === 0x1b6 || op === 0x1be ? 1 : 2;
    const signed = op >= 0x1be;
    if (insn.mod === 3) {
      if (size === 1) e.getReg8(insn.rm);
      else { e.getReg(insn.rm); f.i32(0xffff).op(Op.I32_AND); }
      if (signed) f.i32(32 - 8 * size).op(Op.I32_SHL).i32(32 - 8 * size).op(Op.I32_SHR_S);
    } else {
      e.readMemory(e.address(), size, signed);
    }
    e.setReg(insn.reg);
    return "continues";
  }
  if (op >= 0x40 && op <= 0x4f) {
    // INC/DEC keep CF: it goes into EFLAGS before the record changes.
    const cf = e.temp();
    e.carry();
    f.set(cf);
    f.get(EFL).i32(-2).op(Op.I32_AND).get(cf).op(Op.I32_OR).set(EFL);
    e.eflWritten = true;
    const a = regTemp(e, op & 7), b = e.temp(), r = e.temp();
    f.i32(1).set(b);
    f.get(a).get(b).op(op < 0x48 ? Op.I32_ADD : Op.I32_SUB).set(r);
    e.setLazy(op < 0x48 ? LazyOp.INC : LazyOp.DEC, a, b, r);
    f.get(r);
    e.setReg(op & 7);
    return "continues";
  }
  if (op === 0x1af || op === 0x69 || op === 0x6b) {
    const a = readRm(e, 4);
    const b = e.temp();
    if (op === 0x1af) e.getReg(insn.reg); else f.i32(insn.imm);
    f.set(b);
    const product = e.temp(), cf = e.temp();
    f.get(a).get(b).op(Op.I32_MUL).set(product);
    // CF = OF = the signed 64-bit product does not fit in 32 bits.
    const wide = e.f.local(ValueType.I64);
    f.get(a).op(Op.I64_EXTEND_I32_S).get(b).op(Op.I64_EXTEND_I32_S).op(Op.I64_MUL).set(wide);
    f.get(wide).i64(32n).op(Op.I64_SHR_S).op(Op.I32_WRAP_I64).get(product).i32(31).op(Op.I32_SHR_S).op(Op.I32_NE).set(cf);
    e.setResultFlags(product, cf, cf);
    f.get(product);
    e.setReg(insn.reg);
    return "continues";
  }
  if (op >= 0x50 && op <= 0x57) {
    push(e, regTemp(e, op & 7));
    return "continues";
  }
  if (op >= 0x58 && op <= 0x5f) {
    pop(e, regTemp(e, 4), op & 7);
    return "continues";
  }
  if (op === 0x68 || op === 0x6a) {
    // PUSH imm32 / imm8 (sign-extended by the decoder).
    push(e, constTemp(e, insn.imm, 4));
    return "continues";
  }
  if (op === 0x9c) {
    // PUSHFD: VM and RF read as 0 (this tier runs no virtual-8086 code, so no IOPL check).
    const flags = e.eflagsNow();
    const v = e.temp();
    f.get(flags).i32(~0x30000).op(Op.I32_AND).set(v);
    push(e, v);
    return "continues";
  }
  if (op === 0x1b1) {
    // CMPXCHG r/m32, r32: flags as CMP EAX with the destination; equal, the destination takes the
    // source, else EAX takes the destination (a memory destination is written either way).
    const source = regTemp(e, insn.reg), accumulator = regTemp(e, 0);
    updateRm(e, 4, (destination) => {
      alu(e, AluOp.CMP, accumulator, destination);
      const equal = e.temp(), result = e.temp();
      f.get(accumulator).get(destination).op(Op.I32_EQ).set(equal);
      f.get(source).get(destination).get(equal).op(Op.SELECT).set(result);
      f.get(accumulator).get(destination).get(equal).op(Op.SELECT);
      e.setReg(0);
      return result;
    });
    return "continues";
  }
  if (op >= 0x91 && op <= 0x97) {
    // XCHG EAX, r32.
    const a = regTemp(e, 0), b = regTemp(e, op & 7);
    f.get(b);
    e.setReg(0);
    f.get(a);
    e.setReg(op & 7);
    return "continues";
  }
  if (op >= 0x1c8 && op <= 0x1cf) {
    // BSWAP r32: bytes 0 and 2 rotated left into place, 1 and 3 right.
    const v = regTemp(e, op & 7);
    f.get(v).i32(8).op(Op.I32_ROTL).i32(0x00ff00ff).op(Op.I32_AND);
    f.get(v).i32(8).op(Op.I32_ROTR).i32(0xff00ff00 | 0).op(Op.I32_AND).op(Op.I32_OR);
    e.setReg(op & 7);
    return "continues";
  }
  if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) {
    const target = (insn.nextEip + insn.imm) | 0;
    e.condition(op & 15);
    e.open("if");
    e.goTo(target);
    e.close();
    return "continues";
  }
  if (op === 0xeb || op === 0xe9) {
    const target = (insn.nextEip + insn.imm) | 0;
    e.goTo(target);
    return "exits";
  }
  if (op === 0xe8) {
    push(e, constTemp(e, insn.nextEip, 4));
    e.goTo((insn.nextEip + insn.imm) | 0);
    return "exits";
  }
  if (op === 0xc3) {
    const addr = regTemp(e, 4);
    e.readMemory(addr, 4, false, SS);
    f.set(EIP);
    f.get(addr).i32(4).op(Op.I32_ADD);
    e.setReg(4);
    e.returnTo();
    return "exits";
  }
  if (op >= 0x190 && op <= 0x19f && insn.mod === 3) {
    e.condition(op & 15);
    e.setReg8(insn.rm);
    return "continues";
  }
  if (op >= 0x140 && op <= 0x14f) {
    const v = readRm(e, 4);
    e.condition(op & 15);
    e.open("if");
    f.get(v);
    e.setReg(insn.reg);
    e.close();
    return "continues";
  }
  throw new NeedsHandler();
}

/** Pushes the dword in temporary `value` (ESP moves once the store is done). */
function push(e: WasmRegionEmitter, value: number): void {
  const f = e.f;
  const addr = e.temp();
  e.getReg(4); f.i32(4).op(Op.I32_SUB).set(addr);
  e.writeMemory(addr, 4, value, SS);
  f.get(addr);
  e.setReg(4);
}

/** Pops the dword at SS:`top` (a temporary) into register `into`, ESP = top + 4 first (so POP ESP keeps the value). */
function pop(e: WasmRegionEmitter, top: number, into: number): void {
  const f = e.f;
  const v = e.temp();
  e.readMemory(top, 4, false, SS);
  f.set(v);
  f.get(top).i32(4).op(Op.I32_ADD);
  e.setReg(4);
  f.get(v);
  e.setReg(into);
}

function regTemp(e: WasmRegionEmitter, r: number, size = 4): number {
  const t = e.temp();
  e.getRegSized(r, size);
  e.f.set(t);
  return t;
}

/** ALU op on the r/m operand with `source`, written back unless CMP. */
function aluOnRm(e: WasmRegionEmitter, op: number, size: number, source: () => number): "continues" {
  const insn = e.insn;
  const f = e.f;
  if (insn.mod === 3) {
    const a = regTemp(e, insn.rm, size);
    const r = alu(e, op, a, source(), size);
    if (op !== AluOp.CMP) { f.get(r); e.setRegSized(insn.rm, size); }
    return "continues";
  }
  const addr = e.address();
  if (op === AluOp.CMP) {
    const a = e.temp();
    e.readMemory(addr, size);
    f.set(a);
    alu(e, op, a, source(), size);
    return "continues";
  }
  e.readModifyWrite(addr, size, (phys) => {
    const a = e.temp();
    e.loadPhysical(phys, size);
    f.set(a);
    e.storePhysical(phys, size, alu(e, op, a, source(), size));
  });
  return "continues";
}

/** Reads the r/m operand, computes the new value with `compute`, and writes it back (register or the same memory). */
function updateRm(e: WasmRegionEmitter, size: number, compute: (a: number) => number): void {
  const insn = e.insn;
  const f = e.f;
  if (insn.mod === 3) {
    const a = regTemp(e, insn.rm, size);
    const r = compute(a);
    f.get(r);
    e.setRegSized(insn.rm, size);
    return;
  }
  const addr = e.address();
  e.readModifyWrite(addr, size, (phys) => {
    const a = e.temp();
    e.loadPhysical(phys, size);
    f.set(a);
    e.storePhysical(phys, size, compute(a));
  });
}

/**
 * The count of a shift or rotate (C0/C1 by a constant, D0/D1 by 1, D2/D3 by CL, masked to 5 bits)
 * in a temporary for `update`, reduced modulo `modulo` when constant (rotates). A constant count
 * of 0 does nothing; a CL count runs `update` only when not 0, since then nothing changes, flags
 * included, so after it the flags are known only at run time. CL counts only at 32 bits (narrow
 * ones run through the handler).
 */
function countedUpdate(e: WasmRegionEmitter, update: (count: number, constant: number, byCl: boolean) => void, modulo = 32): "continues" {
  const insn = e.insn;
  const f = e.f;
  const op = insn.opcode;
  const byCl = op >= 0xd2;
  const constant = op <= 0xc1 ? insn.imm & 31 : 1;
  if (!byCl && constant === 0) return "continues";
  if (byCl && width(insn) !== 4) throw new NeedsHandler();
  const count = e.temp();
  if (byCl) f.get(REG0 + 1).i32(31).op(Op.I32_AND).set(count);
  else f.i32(constant % modulo).set(count);
  if (!byCl) {
    update(count, constant, false);
    return "continues";
  }
  const flagsBefore = e.flagOp;
  f.get(count);
  e.open("if");
  update(count, constant, true);
  e.close();
  e.flagOp = flagsBefore === LazyOp.NONE ? LazyOp.NONE : UNKNOWN;
  return "continues";
}

/** SHL/SAL, SHR, SAR by a constant or by CL, on a register or memory, as alu.ts shiftRotate. */
function shift(e: WasmRegionEmitter): "continues" {
  const insn = e.insn;
  const f = e.f;
  const size = width(insn);
  const bits = size * 8;
  const kind = insn.reg === 6 ? 4 : insn.reg;
  return countedUpdate(e, (count, constant, byCl) => updateRm(e, size, (v) => {
    const r = e.temp(), cf = e.temp(), of = e.temp();
    const mask = byteMask(size);
    if (kind === 4) {
      if (!byCl && constant > bits) {
        f.i32(0).set(r).i32(0).set(cf);
      } else {
        f.get(v).get(count).op(Op.I32_SHL).i32(mask).op(Op.I32_AND).set(r);
        f.get(v).i32(bits).get(count).op(Op.I32_SUB).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(cf);
      }
      f.get(r).i32(bits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).get(cf).op(Op.I32_XOR).set(of);
    } else if (kind === 5) {
      if (!byCl && constant >= bits) f.i32(0).set(r);
      else f.get(v).get(count).op(Op.I32_SHR_U).set(r);
      if (!byCl && constant > bits) f.i32(0).set(cf);
      else f.get(v).get(count).i32(1).op(Op.I32_SUB).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(cf);
      f.get(v).i32(bits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(of);
    } else {
      const signed = e.temp();
      f.get(v);
      if (bits !== 32) f.i32(32 - bits).op(Op.I32_SHL).i32(32 - bits).op(Op.I32_SHR_S);
      f.set(signed);
      const n = !byCl && constant >= bits ? bits - 1 : -1;
      f.get(signed);
      if (n >= 0) f.i32(n); else f.get(count);
      f.op(Op.I32_SHR_S).i32(mask).op(Op.I32_AND).set(r);
      if (!byCl && constant >= bits) f.get(signed).i32(31).op(Op.I32_SHR_U).set(cf);
      else f.get(signed).get(count).i32(1).op(Op.I32_SUB).op(Op.I32_SHR_S).i32(1).op(Op.I32_AND).set(cf);
      f.i32(0).set(of);
    }
    e.setResultFlags(r, cf, of, bits);
    return r;
  }));
}

/** ROL, ROR by a constant or by CL (32-bit), on a register or memory, as alu.ts shiftRotate: CF and OF change, the other flags stay. */
function rotate(e: WasmRegionEmitter): "continues" {
  const insn = e.insn;
  const f = e.f;
  const size = width(insn);
  const bits = size * 8;
  const left = insn.reg === 0;
  return countedUpdate(e, (count) => {
    // The other flags as they stand, before the operand is touched (nothing may change before a fault).
    const before = e.eflagsNow();
    const kept = e.temp();
    f.get(before).set(kept);
    updateRm(e, size, (v) => {
      const r = e.temp(), cf = e.temp(), of = e.temp();
      const mask = byteMask(size);
      if (bits === 32) {
        f.get(v).get(count).op(left ? Op.I32_ROTL : Op.I32_ROTR).set(r);
      } else {
        // Narrow: (v << n | v >>> (bits - n)) & mask, n = count mod bits (0 leaves v).
        f.get(v);
        f.get(v).get(count).op(left ? Op.I32_SHL : Op.I32_SHR_U);
        f.get(v).i32(bits).get(count).op(Op.I32_SUB).op(left ? Op.I32_SHR_U : Op.I32_SHL).op(Op.I32_OR).i32(mask).op(Op.I32_AND);
        f.get(count).op(Op.I32_EQZ).op(Op.SELECT).set(r);
      }
      if (left) {
        f.get(r).i32(1).op(Op.I32_AND).set(cf);
        f.get(r).i32(bits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).get(cf).op(Op.I32_XOR).set(of);
      } else {
        f.get(r).i32(bits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(cf);
        f.get(r).i32(bits - 2).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).get(cf).op(Op.I32_XOR).set(of);
      }
      f.get(kept).i32(~0x801).op(Op.I32_AND).get(cf).op(Op.I32_OR).get(of).i32(11).op(Op.I32_SHL).op(Op.I32_OR).set(EFL);
      f.i32(LazyOp.NONE).set(FOP);
      e.markFlagsNone();
      return r;
    });
  }, bits);
}

/**
 * MOVS, CMPS, STOS, SCAS without a repeat prefix: one step, the source at DS:ESI (or the
 * override), the destination at ES:EDI, the pointers moved by the operand size against EFLAGS.DF.
 */
function stringStep(e: WasmRegionEmitter): "continues" {
  const insn = e.insn;
  const f = e.f;
  const op = insn.opcode;
  const size = width(insn);
  const step = e.temp();
  f.i32(-size).i32(size).get(EFL).i32(1 << 10).op(Op.I32_AND).op(Op.SELECT).set(step);
  const usesSource = op <= 0xa7;
  const source = usesSource ? regTemp(e, 6) : -1;
  const target = regTemp(e, 7);
  switch (op & 0xfe) {
    case 0xa4: { // MOVS
      const v = e.temp();
      e.readMemory(source, size);
      f.set(v);
      e.writeMemory(target, size, v, ES);
      break;
    }
    case 0xa6: { // CMPS: [ESI] - [EDI]
      const a = e.temp(), b = e.temp();
      e.readMemory(source, size);
      f.set(a);
      e.readMemory(target, size, false, ES);
      f.set(b);
      alu(e, AluOp.CMP, a, b, size);
      break;
    }
    case 0xaa: { // STOS
      e.writeMemory(target, size, regTemp(e, 0, size), ES);
      break;
    }
    default: { // SCAS: AL/eAX - [EDI]
      const a = regTemp(e, 0, size), b = e.temp();
      e.readMemory(target, size, false, ES);
      f.set(b);
      alu(e, AluOp.CMP, a, b, size);
      break;
    }
  }
  if (usesSource) {
    f.get(source).get(step).op(Op.I32_ADD);
    e.setReg(6);
  }
  f.get(target).get(step).op(Op.I32_ADD);
  e.setReg(7);
  return "continues";
}

function requireOperand32(insn: DecodedInstruction): void {
  if (!insn.opSize32) throw new NeedsHandler();
}
