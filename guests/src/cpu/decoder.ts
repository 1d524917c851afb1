/**
 * Turns the bytes at CS:EIP into a DecodedInstruction. Fetching goes through the CPU so limit
 * checks and page faults happen exactly as instruction fetch would raise them.
 */
import type { Cpu } from "./cpu.js";
import { Reg, Seg } from "./constants.js";
import { DECODE_FORMS, Form } from "./decode-forms.js";
import { Vector } from "./fault.js";
import { DecodedInstruction, PAUSE_OPCODE, Prefix } from "./instruction.js";

const MAX_LENGTH = 15;

/** 16-bit ModRM r/m encodings: base and index registers (-1 none). */
const RM16_BASE = [Reg.EBX, Reg.EBX, Reg.EBP, Reg.EBP, Reg.ESI, Reg.EDI, Reg.EBP, Reg.EBX];
const RM16_INDEX = [Reg.ESI, Reg.EDI, Reg.ESI, Reg.EDI, -1, -1, -1, -1];

export function decode(cpu: Cpu, insn: DecodedInstruction): void {
  const start = cpu.eip;
  let at = start;
  let opSize32 = cpu.code32;
  let addrSize32 = cpu.code32;
  let prefixes = 0;
  let segOverride = -1;
  let byte = cpu.fetch8(at++);
  for (;;) {
    switch (byte) {
      case 0x26: segOverride = Seg.ES; break;
      case 0x2e: segOverride = Seg.CS; break;
      case 0x36: segOverride = Seg.SS; break;
      case 0x3e: segOverride = Seg.DS; break;
      case 0x64: segOverride = Seg.FS; break;
      case 0x65: segOverride = Seg.GS; break;
      case 0x66: opSize32 = !cpu.code32; prefixes |= Prefix.OPSIZE; break;
      case 0x67: addrSize32 = !cpu.code32; prefixes |= Prefix.ADSIZE; break;
      case 0xf0: prefixes |= Prefix.LOCK; break;
      case 0xf2: prefixes = (prefixes & ~Prefix.REP) | Prefix.REPNE; break;
      case 0xf3: prefixes = (prefixes & ~Prefix.REPNE) | Prefix.REP; break;
      default: break;
    }
    if ((DECODE_FORMS[byte] & Form.PREFIX) === 0) break;
    if (at - start >= MAX_LENGTH) cpu.raise(Vector.GP, 0);
    byte = cpu.fetch8(at++);
  }
  let opcode = byte;
  if (byte === 0x0f) opcode = 0x100 | cpu.fetch8(at++);
  const form = DECODE_FORMS[opcode];
  insn.opcode = opcode;
  insn.code32 = cpu.code32;
  insn.prefixes = prefixes;
  insn.segOverride = segOverride;
  insn.opSize32 = opSize32;
  insn.addrSize32 = addrSize32;
  insn.eaBase = -1;
  insn.eaIndex = -1;
  insn.eaScale = 0;
  insn.eaDisp = 0;
  insn.imm = 0;
  insn.imm2 = 0;
  insn.segment = segOverride >= 0 ? segOverride : Seg.DS;

  let immediate = form & Form.IMM_MASK;
  insn.hasModrm = (form & Form.MODRM) !== 0;
  if (insn.hasModrm) {
    const modrm = cpu.fetch8(at++);
    const mod = modrm >> 6;
    const rm = modrm & 7;
    insn.mod = mod;
    insn.reg = (modrm >> 3) & 7;
    insn.rm = rm;
    if (mod !== 3) {
      let defaultSeg = Seg.DS;
      if (addrSize32) {
        if (rm === 4) {
          const sib = cpu.fetch8(at++);
          const base = sib & 7;
          const index = (sib >> 3) & 7;
          insn.eaScale = sib >> 6;
          if (index !== 4) insn.eaIndex = index;
          if (base === 5 && mod === 0) {
            insn.eaDisp = fetch32(cpu, at); at += 4;
          } else {
            insn.eaBase = base;
            if (base === Reg.ESP || base === Reg.EBP) defaultSeg = Seg.SS;
          }
        } else if (rm === 5 && mod === 0) {
          insn.eaDisp = fetch32(cpu, at); at += 4;
        } else {
          insn.eaBase = rm;
          if (rm === Reg.EBP) defaultSeg = Seg.SS;
        }
        if (mod === 1) { insn.eaDisp = (cpu.fetch8(at++) << 24) >> 24; }
        else if (mod === 2) { insn.eaDisp = fetch32(cpu, at); at += 4; }
      } else {
        if (rm === 6 && mod === 0) {
          insn.eaDisp = cpu.fetch8(at) | (cpu.fetch8(at + 1) << 8); at += 2;
        } else {
          insn.eaBase = RM16_BASE[rm];
          insn.eaIndex = RM16_INDEX[rm];
          if (rm === 2 || rm === 3 || rm === 6) defaultSeg = Seg.SS;
        }
        if (mod === 1) { insn.eaDisp = (cpu.fetch8(at++) << 24) >> 24; }
        else if (mod === 2) { insn.eaDisp = cpu.fetch8(at) | (cpu.fetch8(at + 1) << 8); at += 2; }
      }
      if (segOverride < 0) insn.segment = defaultSeg;
    }
    if ((form & Form.GROUP3) !== 0 && insn.reg < 2) immediate = opcode & 1 ? Form.IZ : Form.IB;
  }

  switch (immediate) {
    case Form.NONE: break;
    case Form.IB: insn.imm = cpu.fetch8(at++); break;
    case Form.IBS: insn.imm = (cpu.fetch8(at++) << 24) >> 24; break;
    case Form.IW: insn.imm = cpu.fetch8(at) | (cpu.fetch8(at + 1) << 8); at += 2; break;
    case Form.IZ:
      if (opSize32) { insn.imm = fetch32(cpu, at); at += 4; }
      else { insn.imm = cpu.fetch8(at) | (cpu.fetch8(at + 1) << 8); at += 2; }
      break;
    case Form.FAR:
      if (opSize32) { insn.imm = fetch32(cpu, at); at += 4; }
      else { insn.imm = cpu.fetch8(at) | (cpu.fetch8(at + 1) << 8); at += 2; }
      insn.imm2 = cpu.fetch8(at) | (cpu.fetch8(at + 1) << 8); at += 2;
      break;
    case Form.MOFFS:
      if (addrSize32) { insn.imm = fetch32(cpu, at); at += 4; }
      else { insn.imm = cpu.fetch8(at) | (cpu.fetch8(at + 1) << 8); at += 2; }
      break;
    default: // ENTER
      insn.imm = cpu.fetch8(at) | (cpu.fetch8(at + 1) << 8);
      insn.imm2 = cpu.fetch8(at + 2);
      at += 3;
      break;
  }
  const length = at - start;
  if (length > MAX_LENGTH) cpu.raise(Vector.GP, 0);
  if (opcode === 0x90 && (prefixes & Prefix.REP) !== 0) insn.opcode = PAUSE_OPCODE;
  if ((prefixes & Prefix.LOCK) !== 0 && !lockAllowed(insn)) insn.opcode = LOCK_REJECTED;
  insn.length = length;
  insn.nextEip = cpu.code32 ? at | 0 : at & 0xffff;
}

/** An opcode slot that is always #UD (0F FF): LOCK on anything but a locked RMW lands here. */
const LOCK_REJECTED = 0x1ff;

/** LOCK is only valid on read-modify-write instructions with a memory destination. */
function lockAllowed(insn: DecodedInstruction): boolean {
  if (!insn.hasModrm || insn.mod === 3) return false;
  const op = insn.opcode;
  if (op < 0x40) return (op & 7) < 2 && (op & 0x38) !== 0x38; // ALU E,G except CMP
  switch (op) {
    case 0x80: case 0x81: case 0x82: case 0x83: return insn.reg !== 7;
    case 0x86: case 0x87: return true;
    case 0xf6: case 0xf7: return insn.reg === 2 || insn.reg === 3;
    case 0xfe: case 0xff: return insn.reg < 2;
    case 0x1ab: case 0x1b3: case 0x1bb: case 0x1b0: case 0x1b1: case 0x1c0: case 0x1c1: return true;
    case 0x1ba: return insn.reg >= 5;
    case 0x1c7: return insn.reg === 1;
    default: return false;
  }
}

function fetch32(cpu: Cpu, at: number): number {
  return cpu.fetch8(at) | (cpu.fetch8(at + 1) << 8) | (cpu.fetch8(at + 2) << 16) | (cpu.fetch8(at + 3) << 24);
}

/** The offset the memory operand refers to, wrapped to the address size. */
export function effectiveAddress(cpu: Cpu, insn: DecodedInstruction): number {
  let address = insn.eaDisp;
  if (insn.eaBase >= 0) address += cpu.regs[insn.eaBase];
  if (insn.eaIndex >= 0) address += cpu.regs[insn.eaIndex] << insn.eaScale;
  return insn.addrSize32 ? address | 0 : address & 0xffff;
}
