/**
 * The interpreter's fast path: the forms that dominate compiled 32-bit code get a number when a
 * block is decoded (specialisedForm → DecodedInstruction.kind), and interpretBlocks executes them
 * in one switch, without a call through the per-instruction handler (a call site that sees every
 * handler, which V8 cannot inline) and without the generic handlers' width, form and operation
 * dispatch. Everything else runs its generic handler from the same loop.
 *
 * Each case does exactly what the generic handler of its opcode does for that form — the same
 * result, lazy-flag record and faults in the same order — which the oracle and the tests that run
 * the interpreter against the JIT hold it to.
 *
 * The package build transforms each file on its own, so a const enum imported from another file
 * is a property load at run time, not a constant. The hot code here therefore uses the local
 * mirrors below (checked against the originals by ops-fast.test.ts).
 */
import { linkedSuccessor, lookUpSuccessor } from "./block-lookup.js";
import type { CodeBlock } from "./code-block.js";
import type { Cpu } from "./cpu.js";
import { effectiveAddress } from "./decoder.js";
import { FAULT_SIGNAL, Vector } from "./fault.js";
import { shiftRotate } from "./alu.js";
import { settleCarry, testCondition } from "./flags.js";
import { type DecodedInstruction, Prefix } from "./instruction.js";
import { hotThresholdAfter } from "./jit-settings.js";
import { HANDLERS, TERMINATES } from "./opcode-table.js";

/** Mirrors flags.ts LazyOp. */
export const enum FastLazy { NONE = 0, ADD = 1, SUB = 3, LOGIC = 5, INC = 6, DEC = 7 }
/** Mirrors constants.ts: Reg.EAX / Reg.ESP / Reg.EBP, Seg.CS / Seg.SS, Flag.CF / Flag.ZF / Flag.IF. */
export const enum FastArch { EAX = 0, ESP = 4, EBP = 5, CS = 1, SS = 2, CF = 0x1, ZF = 0x40, IF = 0x200 }

/** Specialised forms (DecodedInstruction.kind); GENERIC runs the instruction's handler. */
export const enum Fast {
  GENERIC = 0,
  ADD_RR, OR_RR, AND_RR, SUB_RR, XOR_RR, CMP_RR, TEST_RR,
  ADD_RI, OR_RI, AND_RI, SUB_RI, XOR_RI, CMP_RI, CMP_EAX_I,
  CMP_RM, ADD_R_M, CMP_MI,
  INC_R, DEC_R,
  MOV_RR, LOAD, STORE, MOV_RI, LEA, MOVZX_B,
  PUSH_R, POP_R, CALL, RET, JCC, JMP,
  NOP, MOV_MI8, MOV_MI, MOV_RI_RM, LOAD8, STORE8, CMP_MI8, TEST_MI8, TEST_RM, ALU_R_M, MOVZX_W, MOVZX_BR,
  SHIFT_RI, PUSH_I, LEAVE, CALL_IND, JMP_IND, RMW_MR, RMW_MI,
}

/**
 * The specialised form of a decoded instruction, or GENERIC. Only plain forms qualify: 32-bit
 * operands (but byte forms of either size), 32-bit addresses for memory operands, no REP prefix.
 */
export function specialisedForm(insn: DecodedInstruction): number {
  // LOCK only survives decoding on a valid locked read-modify-write (decoder.ts), whose meaning it
  // does not change here; REP/REPNE are left to the generic handlers.
  if ((insn.prefixes & (Prefix.REP | Prefix.REPNE)) !== 0) return Fast.GENERIC;
  const op = insn.opcode;
  const register = insn.hasModrm && insn.mod === 3;
  const memory32 = insn.hasModrm && insn.mod !== 3 && insn.addrSize32;
  // Byte forms, whatever the operand size.
  if (op === 0x90) return Fast.NOP;
  if (op === 0xc6) return memory32 && insn.reg === 0 ? Fast.MOV_MI8 : Fast.GENERIC;
  if (op === 0x8a) return memory32 ? Fast.LOAD8 : Fast.GENERIC;
  if (op === 0x88) return memory32 ? Fast.STORE8 : Fast.GENERIC;
  if (op === 0x80) return memory32 && insn.reg === 7 ? Fast.CMP_MI8 : Fast.GENERIC;
  if (op === 0xf6) return memory32 && insn.reg === 0 ? Fast.TEST_MI8 : Fast.GENERIC;
  if (!insn.opSize32) return Fast.GENERIC;
  if (op < 0x40 && (op & 7) < 4) {
    if ((op === 0x01 || op === 0x09 || op === 0x21 || op === 0x29 || op === 0x31) && memory32) return Fast.RMW_MR;
    if ((op & 5) === 1 && register) {
      switch (op >> 3) {
        case 0: return Fast.ADD_RR;
        case 1: return Fast.OR_RR;
        case 4: return Fast.AND_RR;
        case 5: return Fast.SUB_RR;
        case 6: return Fast.XOR_RR;
        case 7: return Fast.CMP_RR;
        default: return Fast.GENERIC; // ADC, SBB
      }
    }
    if (op === 0x39 || op === 0x3b) return memory32 ? Fast.CMP_RM : Fast.GENERIC;
    if (op === 0x03) return memory32 ? Fast.ADD_R_M : Fast.GENERIC;
    if (op === 0x0b || op === 0x23 || op === 0x2b || op === 0x33) return memory32 ? Fast.ALU_R_M : Fast.GENERIC;
    return Fast.GENERIC;
  }
  if (op === 0x3d) return Fast.CMP_EAX_I;
  if (op >= 0x40 && op <= 0x47) return Fast.INC_R;
  if (op >= 0x48 && op <= 0x4f) return Fast.DEC_R;
  if (op >= 0x50 && op <= 0x57) return Fast.PUSH_R;
  if (op >= 0x58 && op <= 0x5f) return Fast.POP_R;
  if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) return Fast.JCC;
  if (op === 0x81 || op === 0x83) {
    if (memory32 && insn.reg === 7) return Fast.CMP_MI;
    if (memory32 && insn.reg !== 2 && insn.reg !== 3) return Fast.RMW_MI; // not ADC/SBB
    if (!register) return Fast.GENERIC;
    switch (insn.reg) {
      case 0: return Fast.ADD_RI;
      case 1: return Fast.OR_RI;
      case 4: return Fast.AND_RI;
      case 5: return Fast.SUB_RI;
      case 6: return Fast.XOR_RI;
      case 7: return Fast.CMP_RI;
      default: return Fast.GENERIC;
    }
  }
  if (op === 0x85) return register ? Fast.TEST_RR : memory32 ? Fast.TEST_RM : Fast.GENERIC;
  if (op === 0xc7 && insn.reg === 0) return register ? Fast.MOV_RI_RM : memory32 ? Fast.MOV_MI : Fast.GENERIC;
  // ROL and ROR by a constant: hash and cipher rounds (SHA-256, BLAKE2s, ChaCha) are full of them.
  if (op === 0xc1 && register && (insn.reg <= 1 || insn.reg === 4 || insn.reg === 5 || insn.reg === 7)) return Fast.SHIFT_RI;
  if (op === 0x68 || op === 0x6a) return Fast.PUSH_I;
  if (op === 0xc9) return Fast.LEAVE;
  if (op === 0xff && (insn.reg === 2 || insn.reg === 4) && (register || memory32)) return insn.reg === 2 ? Fast.CALL_IND : Fast.JMP_IND;
  if (op === 0x89 || op === 0x8b) {
    if (register) return Fast.MOV_RR;
    if (memory32) return op === 0x8b ? Fast.LOAD : Fast.STORE;
    return Fast.GENERIC;
  }
  if (op === 0x8d && memory32) return Fast.LEA;
  if (op >= 0xb8 && op <= 0xbf) return Fast.MOV_RI;
  if (op === 0x1b6) return memory32 ? Fast.MOVZX_B : register ? Fast.MOVZX_BR : Fast.GENERIC;
  if (op === 0x1b7 && memory32) return Fast.MOVZX_W;
  if (op === 0xe8) return Fast.CALL;
  if (op === 0xc3) return Fast.RET;
  if (op === 0xe9 || op === 0xeb) return Fast.JMP;
  return Fast.GENERIC;
}

/**
 * INC/DEC keep CF: folds it into EFLAGS before their record replaces the lazy one. After ADD,
 * SUB/CMP and logic operations CF is computed here; settleCarry knows the rest.
 */
function foldCarry(cpu: Cpu): void {
  const op = cpu.lazyOp;
  if (op === FastLazy.NONE || op === FastLazy.INC || op === FastLazy.DEC) return;
  let carry: number;
  if (op === FastLazy.ADD) carry = cpu.lazyResult >>> 0 < cpu.lazyA >>> 0 ? 1 : 0;
  else if (op === FastLazy.SUB) carry = cpu.lazyA >>> 0 < cpu.lazyB >>> 0 ? 1 : 0;
  else if (op === FastLazy.LOGIC) carry = 0;
  else {
    settleCarry(cpu);
    return;
  }
  cpu.eflags = (cpu.eflags & ~FastArch.CF) | carry;
}

/** Prepares a decoded instruction for interpretBlocks: its handler and specialised form. */
export function bindHandler(insn: DecodedInstruction): void {
  insn.exec = HANDLERS[insn.opcode];
  insn.kind = specialisedForm(insn);
}

/** How interpretBlocks ended. */
export const interpretedExit: {
  /** The last block, when its exit allows the run loop to link the next block to it. */
  block: CodeBlock | null;
  /** It stopped because the interrupt source reported a pending interrupt (polled once per boundary: polls may count). */
  interruptPending: boolean;
} = { block: null, interruptPending: false };

/**
 * Interprets `block`, then its linked successors for as long as the run loop has nothing to do
 * between them: no maskable interrupt pending (or IF clear), no interrupt shadow or NMI, links
 * still current, and with the JIT on, a successor that is still cold. What changes IF, the
 * shadow, TF, breakpoints or halts ends a block with TERMINATES 2. Returns the new `executed`;
 * interpretedExit says how it stopped.
 *
 * EIP and instructionStart are stored only where they are read: before generic handlers, by
 * branches, and when a block is left. A fault retires the instructions before the faulting one
 * and leaves instructionStart at it before the signal goes on to the run loop.
 */
export function interpretBlocks(cpu: Cpu, block: CodeBlock, budget: number, executed: number): number {
  const regs = cpu.regs;
  // With the JIT on, the run loop takes every block that runs translated or is about to be
  // translated; the others are counted here and interpreted on, as with the JIT off.
  const jit = cpu.jit.enabled;
  const hot = hotThresholdAfter(cpu.jit, cpu.translations.translated);
  let list = block.instructions;
  let i = 0;
  try {
    for (;;) {
      list = block.instructions;
      const stop = Math.min(list.length, budget - executed);
      i = 0;
      run: for (;;) {
        const insn = list[i];
        switch (insn.kind) {
          case Fast.GENERIC:
            cpu.eip = insn.nextEip;
            cpu.instructionStart = i === 0 ? block.startEip : list[i - 1].nextEip;
            insn.exec(cpu, insn);
            if (cpu.eip !== insn.nextEip || !block.valid) { i++; break run; }
            break;
          case Fast.ADD_RR: {
            const d = (insn.opcode & 2) !== 0 ? insn.reg : insn.rm;
            const a = regs[d] >>> 0, b = regs[(insn.opcode & 2) !== 0 ? insn.rm : insn.reg] >>> 0;
            const r = (a + b) >>> 0;
            regs[d] = r;
            cpu.lazyOp = FastLazy.ADD; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.OR_RR: {
            const d = (insn.opcode & 2) !== 0 ? insn.reg : insn.rm;
            const a = regs[d] >>> 0, b = regs[(insn.opcode & 2) !== 0 ? insn.rm : insn.reg] >>> 0;
            const r = (a | b) >>> 0;
            regs[d] = r;
            cpu.lazyOp = FastLazy.LOGIC; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.AND_RR: {
            const d = (insn.opcode & 2) !== 0 ? insn.reg : insn.rm;
            const a = regs[d] >>> 0, b = regs[(insn.opcode & 2) !== 0 ? insn.rm : insn.reg] >>> 0;
            const r = (a & b) >>> 0;
            regs[d] = r;
            cpu.lazyOp = FastLazy.LOGIC; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.SUB_RR: {
            const d = (insn.opcode & 2) !== 0 ? insn.reg : insn.rm;
            const a = regs[d] >>> 0, b = regs[(insn.opcode & 2) !== 0 ? insn.rm : insn.reg] >>> 0;
            const r = (a - b) >>> 0;
            regs[d] = r;
            cpu.lazyOp = FastLazy.SUB; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.XOR_RR: {
            const d = (insn.opcode & 2) !== 0 ? insn.reg : insn.rm;
            const a = regs[d] >>> 0, b = regs[(insn.opcode & 2) !== 0 ? insn.rm : insn.reg] >>> 0;
            const r = (a ^ b) >>> 0;
            regs[d] = r;
            cpu.lazyOp = FastLazy.LOGIC; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.CMP_RR: {
            const two = (insn.opcode & 2) !== 0;
            const a = regs[two ? insn.reg : insn.rm] >>> 0, b = regs[two ? insn.rm : insn.reg] >>> 0;
            cpu.lazyOp = FastLazy.SUB; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = (a - b) >>> 0;
            break;
          }
          case Fast.TEST_RR: {
            const a = regs[insn.rm] >>> 0, b = regs[insn.reg] >>> 0;
            cpu.lazyOp = FastLazy.LOGIC; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = (a & b) >>> 0;
            break;
          }
          case Fast.ADD_RI: {
            const d = insn.rm;
            const a = regs[d] >>> 0, b = insn.imm >>> 0;
            const r = (a + b) >>> 0;
            regs[d] = r;
            cpu.lazyOp = FastLazy.ADD; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.OR_RI: {
            const d = insn.rm;
            const a = regs[d] >>> 0, b = insn.imm >>> 0;
            const r = (a | b) >>> 0;
            regs[d] = r;
            cpu.lazyOp = FastLazy.LOGIC; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.AND_RI: {
            const d = insn.rm;
            const a = regs[d] >>> 0, b = insn.imm >>> 0;
            const r = (a & b) >>> 0;
            regs[d] = r;
            cpu.lazyOp = FastLazy.LOGIC; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.SUB_RI: {
            const d = insn.rm;
            const a = regs[d] >>> 0, b = insn.imm >>> 0;
            const r = (a - b) >>> 0;
            regs[d] = r;
            cpu.lazyOp = FastLazy.SUB; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.XOR_RI: {
            const d = insn.rm;
            const a = regs[d] >>> 0, b = insn.imm >>> 0;
            const r = (a ^ b) >>> 0;
            regs[d] = r;
            cpu.lazyOp = FastLazy.LOGIC; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.CMP_RI: {
            const a = regs[insn.rm] >>> 0, b = insn.imm >>> 0;
            cpu.lazyOp = FastLazy.SUB; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = (a - b) >>> 0;
            break;
          }
          case Fast.CMP_EAX_I: {
            const a = regs[FastArch.EAX] >>> 0, b = insn.imm >>> 0;
            cpu.lazyOp = FastLazy.SUB; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = (a - b) >>> 0;
            break;
          }
          case Fast.CMP_RM: {
            // 3B CMP Gv,Ev and 39 CMP Ev,Gv.
            const m = cpu.read32(insn.segment, effectiveAddress(cpu, insn)) >>> 0;
            const g = regs[insn.reg] >>> 0;
            const a = insn.opcode === 0x3b ? g : m, b = insn.opcode === 0x3b ? m : g;
            cpu.lazyOp = FastLazy.SUB; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = (a - b) >>> 0;
            break;
          }
          case Fast.ADD_R_M: {
            const b = cpu.read32(insn.segment, effectiveAddress(cpu, insn)) >>> 0;
            const a = regs[insn.reg] >>> 0;
            const r = (a + b) >>> 0;
            regs[insn.reg] = r;
            cpu.lazyOp = FastLazy.ADD; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.CMP_MI: {
            const a = cpu.read32(insn.segment, effectiveAddress(cpu, insn)) >>> 0, b = insn.imm >>> 0;
            cpu.lazyOp = FastLazy.SUB; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = (a - b) >>> 0;
            break;
          }
          case Fast.INC_R: {
            // INC keeps CF: fold it into EFLAGS before the record is replaced.
            foldCarry(cpu);
            const n = insn.opcode & 7;
            const a = regs[n] >>> 0;
            const r = (a + 1) >>> 0;
            regs[n] = r;
            cpu.lazyOp = FastLazy.INC; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = 1; cpu.lazyResult = r;
            break;
          }
          case Fast.DEC_R: {
            foldCarry(cpu);
            const n = insn.opcode & 7;
            const a = regs[n] >>> 0;
            const r = (a - 1) >>> 0;
            regs[n] = r;
            cpu.lazyOp = FastLazy.DEC; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = 1; cpu.lazyResult = r;
            break;
          }
          case Fast.MOV_RR:
            if ((insn.opcode & 2) !== 0) regs[insn.reg] = regs[insn.rm];
            else regs[insn.rm] = regs[insn.reg];
            break;
          case Fast.LOAD:
            regs[insn.reg] = cpu.read32(insn.segment, effectiveAddress(cpu, insn));
            break;
          case Fast.STORE:
            cpu.write32(insn.segment, effectiveAddress(cpu, insn), regs[insn.reg]);
            // A store into this block's own code ends it (the rest is stale).
            if (!block.valid) { i++; cpu.eip = insn.nextEip; break run; }
            break;
          case Fast.MOV_RI:
            regs[insn.opcode & 7] = insn.imm;
            break;
          case Fast.LEA:
            regs[insn.reg] = effectiveAddress(cpu, insn);
            break;
          case Fast.MOVZX_B:
            regs[insn.reg] = cpu.read8(insn.segment, effectiveAddress(cpu, insn));
            break;
          case Fast.PUSH_R:
            cpu.push32(regs[insn.opcode & 7]);
            if (!block.valid) { i++; cpu.eip = insn.nextEip; break run; }
            break;
          case Fast.POP_R: {
            const v = cpu.pop32();
            regs[insn.opcode & 7] = v; // after the pop: POP ESP loads the popped value
            break;
          }
          case Fast.NOP:
            break;
          case Fast.MOV_MI8:
            cpu.write8(insn.segment, effectiveAddress(cpu, insn), insn.imm);
            if (!block.valid) { i++; cpu.eip = insn.nextEip; break run; }
            break;
          case Fast.MOV_MI:
            cpu.write32(insn.segment, effectiveAddress(cpu, insn), insn.imm);
            if (!block.valid) { i++; cpu.eip = insn.nextEip; break run; }
            break;
          case Fast.MOV_RI_RM:
            regs[insn.rm] = insn.imm;
            break;
          case Fast.LOAD8: {
            const v = cpu.read8(insn.segment, effectiveAddress(cpu, insn));
            const r = insn.reg;
            if (r < 4) regs[r] = (regs[r] & ~0xff) | v;
            else regs[r - 4] = (regs[r - 4] & ~0xff00) | (v << 8);
            break;
          }
          case Fast.STORE8: {
            const r = insn.reg;
            cpu.write8(insn.segment, effectiveAddress(cpu, insn), r < 4 ? regs[r] & 0xff : (regs[r - 4] >> 8) & 0xff);
            if (!block.valid) { i++; cpu.eip = insn.nextEip; break run; }
            break;
          }
          case Fast.CMP_MI8: {
            const a = cpu.read8(insn.segment, effectiveAddress(cpu, insn)), b = insn.imm & 0xff;
            cpu.lazyOp = FastLazy.SUB; cpu.lazyBits = 8; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = (a - b) & 0xff;
            break;
          }
          case Fast.TEST_MI8: {
            const a = cpu.read8(insn.segment, effectiveAddress(cpu, insn)), b = insn.imm & 0xff;
            cpu.lazyOp = FastLazy.LOGIC; cpu.lazyBits = 8; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = a & b;
            break;
          }
          case Fast.TEST_RM: {
            const a = cpu.read32(insn.segment, effectiveAddress(cpu, insn)) >>> 0, b = regs[insn.reg] >>> 0;
            cpu.lazyOp = FastLazy.LOGIC; cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = (a & b) >>> 0;
            break;
          }
          case Fast.ALU_R_M: {
            // 0B/23/2B/33: OR/AND/SUB/XOR Gv,Ev from memory (ADD has ADD_R_M).
            const b = cpu.read32(insn.segment, effectiveAddress(cpu, insn)) >>> 0;
            const a = regs[insn.reg] >>> 0;
            let r: number;
            switch (insn.opcode) {
              case 0x0b: r = (a | b) >>> 0; cpu.lazyOp = FastLazy.LOGIC; break;
              case 0x23: r = (a & b) >>> 0; cpu.lazyOp = FastLazy.LOGIC; break;
              case 0x2b: r = (a - b) >>> 0; cpu.lazyOp = FastLazy.SUB; break;
              default: r = (a ^ b) >>> 0; cpu.lazyOp = FastLazy.LOGIC; break;
            }
            regs[insn.reg] = r;
            cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.MOVZX_W:
            regs[insn.reg] = cpu.read16(insn.segment, effectiveAddress(cpu, insn));
            break;
          case Fast.MOVZX_BR: {
            const r = insn.rm;
            regs[insn.reg] = r < 4 ? regs[r] & 0xff : (regs[r - 4] >> 8) & 0xff;
            break;
          }
          case Fast.SHIFT_RI: {
            // C1 /0 /1 /4 /5 /7 on a register: a masked count of zero changes nothing.
            if ((insn.imm & 0x1f) !== 0) regs[insn.rm] = shiftRotate(cpu, insn.reg, 32, regs[insn.rm] >>> 0, insn.imm);
            break;
          }
          case Fast.PUSH_I:
            cpu.push32(insn.imm);
            if (!block.valid) { i++; cpu.eip = insn.nextEip; break run; }
            break;
          case Fast.LEAVE: {
            if (!cpu.stack32) {
              cpu.eip = insn.nextEip;
              insn.exec(cpu, insn);
              break;
            }
            const ebp = regs[FastArch.EBP];
            const v = cpu.read32(FastArch.SS, ebp);
            regs[FastArch.ESP] = ebp + 4;
            regs[FastArch.EBP] = v;
            break;
          }
          case Fast.RMW_MR:
          case Fast.RMW_MI: {
            // 01/09/21/29/31 op Ev,Gv and 81/83 /0 /1 /4 /5 /6 op Ev,imm on a dword in memory.
            const index = cpu.plainUpdateIndex32(insn.segment, effectiveAddress(cpu, insn));
            if (index < 0) {
              // Anything that may fault or reach a device or cached code: the generic handler.
              cpu.eip = insn.nextEip;
              insn.exec(cpu, insn);
              if (!block.valid) { i++; break run; }
              break;
            }
            const ram32 = cpu.ram32;
            const a = ram32[index] >>> 0;
            const b = insn.kind === Fast.RMW_MR ? regs[insn.reg] >>> 0 : insn.imm >>> 0;
            let r: number;
            switch (insn.kind === Fast.RMW_MR ? (insn.opcode >> 3) & 7 : insn.reg) {
              case 0: r = (a + b) >>> 0; cpu.lazyOp = FastLazy.ADD; break;
              case 1: r = (a | b) >>> 0; cpu.lazyOp = FastLazy.LOGIC; break;
              case 4: r = (a & b) >>> 0; cpu.lazyOp = FastLazy.LOGIC; break;
              case 5: r = (a - b) >>> 0; cpu.lazyOp = FastLazy.SUB; break;
              default: r = (a ^ b) >>> 0; cpu.lazyOp = FastLazy.LOGIC; break;
            }
            ram32[index] = r;
            cpu.lazyBits = 32; cpu.lazyA = a; cpu.lazyB = b; cpu.lazyResult = r;
            break;
          }
          case Fast.JCC: {
            const cc = insn.opcode & 0xf;
            const lazy = cpu.lazyOp;
            let taken: boolean;
            if ((cc >> 1) === 2) {
              taken = (lazy !== FastLazy.NONE ? cpu.lazyResult === 0 : (cpu.eflags & FastArch.ZF) !== 0) !== ((cc & 1) !== 0);
            } else if (lazy === FastLazy.SUB && (cc >> 1) === 1) {
              taken = (cpu.lazyA < cpu.lazyB) !== ((cc & 1) !== 0); // JB/JAE after CMP/SUB
            } else {
              taken = testCondition(cpu, cc);
            }
            if (taken) {
              const target = (insn.nextEip + insn.imm) | 0;
              if ((target >>> 0) > (cpu.segLimit[FastArch.CS] >>> 0)) cpu.raise(Vector.GP, 0);
              cpu.eip = target;
              i++;
              break run;
            }
            break;
          }
          case Fast.JMP: {
            const target = (insn.nextEip + insn.imm) | 0;
            if ((target >>> 0) > (cpu.segLimit[FastArch.CS] >>> 0)) cpu.raise(Vector.GP, 0);
            cpu.eip = target;
            i++;
            break run;
          }
          case Fast.CALL: {
            const target = (insn.nextEip + insn.imm) | 0;
            if ((target >>> 0) > (cpu.segLimit[FastArch.CS] >>> 0)) cpu.raise(Vector.GP, 0);
            cpu.push32(insn.nextEip);
            cpu.eip = target;
            i++;
            break run;
          }
          case Fast.RET: {
            const esp = regs[FastArch.ESP];
            const target = cpu.pop32();
            if ((target >>> 0) > (cpu.segLimit[FastArch.CS] >>> 0)) {
              regs[FastArch.ESP] = esp; // the RET faults with the stack untouched
              cpu.raise(Vector.GP, 0);
            }
            cpu.eip = target | 0;
            i++;
            break run;
          }
          case Fast.CALL_IND: {
            // FF /2: the target is read (and may fault) before the push.
            const target = insn.mod === 3 ? regs[insn.rm] : cpu.read32(insn.segment, effectiveAddress(cpu, insn));
            if ((target >>> 0) > (cpu.segLimit[FastArch.CS] >>> 0)) cpu.raise(Vector.GP, 0);
            cpu.push32(insn.nextEip);
            cpu.eip = target | 0;
            i++;
            break run;
          }
          case Fast.JMP_IND: {
            const target = insn.mod === 3 ? regs[insn.rm] : cpu.read32(insn.segment, effectiveAddress(cpu, insn));
            if ((target >>> 0) > (cpu.segLimit[FastArch.CS] >>> 0)) cpu.raise(Vector.GP, 0);
            cpu.eip = target | 0;
            i++;
            break run;
          }
          default:
            throw new Error(`unknown specialised form ${insn.kind}`);
        }
        if (++i === stop) {
          cpu.eip = insn.nextEip;
          break;
        }
      }
      // EIP is where the block left off: after a branch, or after instruction i - 1.
      const last = list[i - 1];
      executed += i;
      cpu.instructionsRetired += i;
      // The next block may be linked unless the last instruction could change CS or the mode.
      if (!block.valid || TERMINATES[last.opcode] === 2) {
        interpretedExit.block = null;
        return executed;
      }
      const eip = cpu.eip;
      // A stall (PAUSE, a system port's access) is added to the clock by the run loop before the next block.
      if (executed >= budget || cpu.interruptShadow !== 0 || cpu.nmiPending || cpu.stallPending !== 0) {
        interpretedExit.block = block;
        return executed;
      }
      // As at every block boundary, a pending maskable interrupt is taken now (by the run loop),
      // before the next instruction is fetched.
      const interruptible = (cpu.eflags & FastArch.IF) !== 0 && cpu.interruptSource !== null;
      let next = linkedSuccessor(cpu, block, eip);
      let polled = false;
      if (next === null) {
        // Looked up and linked here rather than in the run loop, after a pending interrupt. A
        // fault fetching it is the next instruction's (this block's are all retired: see the catch).
        if (interruptible && cpu.interruptSource!.hasPending()) {
          interpretedExit.block = block;
          interpretedExit.interruptPending = true;
          return executed;
        }
        polled = true;
        i = list.length;
        next = lookUpSuccessor(cpu, block, eip);
        if (next === null) {
          interpretedExit.block = block;
          return executed;
        }
      }
      if (!next.valid || (jit && (next.translation !== null || next.region !== null || next.executions >= hot))) {
        interpretedExit.block = block;
        return executed;
      }
      if (!polled && interruptible && cpu.interruptSource!.hasPending()) {
        interpretedExit.block = block;
        interpretedExit.interruptPending = true;
        return executed;
      }
      if (jit) next.executions += next.heat;
      block = next;
    }
  } catch (e) {
    if (e === FAULT_SIGNAL && i < list.length) {
      // Instruction i faulted and restarts. A generic handler had instructionStart set and may
      // have moved it (a task switch that committed restarts in the new task).
      if (list[i].kind !== Fast.GENERIC) cpu.instructionStart = i === 0 ? block.startEip : list[i - 1].nextEip;
      // Retire the block's instructions before the restart point (all of them when it left the block).
      let start = block.startEip;
      for (let k = 0; k < list.length && start !== cpu.instructionStart; k++) {
        cpu.instructionsRetired++;
        start = list[k].nextEip;
      }
    }
    throw e;
  }
}
