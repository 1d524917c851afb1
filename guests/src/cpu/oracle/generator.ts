/**
 * Random user-level instruction sequences for the oracle. Every sequence is position-fixed
 * (code at CODE_ADDR, data at DATA_ADDR) and keeps memory operands inside the data window.
 * The generator tracks which arithmetic flags are architecturally undefined so the comparison
 * can ignore them, and never emits an instruction that would read an undefined flag.
 */
import { Random } from "./random.js";

export const DATA_ADDR = 0x00100000;
export const DATA_SIZE = 1024;
export const CODE_ADDR = 0x00110000;
export const CODE_MAX = 512;
/** ESI is a base pointer for memory operands and is never a random destination. */
export const POINTER = DATA_ADDR + 0x200;
export const STACK_TOP = DATA_ADDR + 0x300;

const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const ALL = CF | PF | AF | ZF | SF | OF;
const CONDITION_READS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];
const DEST_REGS = [0, 1, 2, 3, 5, 7];

export interface OracleCase {
  seed: number;
  code: Uint8Array;
  regs: Int32Array;
  eflags: number;
  data: Uint8Array;
  /** Flags whose final value is undefined. */
  undefinedFlags: number;
  /** Flags undefined at some point: what a fault part-way through may expose. */
  everUndefinedFlags: number;
}

class Builder {
  bytes: number[] = [];
  undefinedFlags = 0;
  everUndefinedFlags = 0;
  stackDepth = 0;
  constructor(readonly rng: Random) {}

  emit(...values: number[]): void {
    for (const v of values) this.bytes.push(v & 0xff);
  }
  emit16(v: number): void { this.emit(v, v >> 8); }
  emit32(v: number): void { this.emit(v, v >> 8, v >> 16, v >> 24); }
  imm(bits: number): void {
    const v = this.rng.interesting();
    if (bits === 8) this.emit(v);
    else if (bits === 16) this.emit16(v);
    else this.emit32(v);
  }
  canRead(flags: number): boolean {
    return (this.undefinedFlags & flags) === 0;
  }
  /** Records an instruction that defines `written` and leaves `undefinedNow` undefined. */
  flags(written: number, undefinedNow: number): void {
    this.undefinedFlags = (this.undefinedFlags & ~written) | undefinedNow;
  }
  destReg(): number { return this.rng.pick(DEST_REGS); }
  anyReg(): number { return this.rng.below(8); }

  /** Emits ModRM (+SIB/disp) for a random in-window memory operand of `size` bytes. */
  memory(reg: number, size: number, margin = 0): void {
    const rng = this.rng;
    const span = DATA_SIZE - 8 - size - 2 * margin;
    switch (rng.below(6)) {
      case 0:
        this.emit((reg << 3) | 5);
        this.emit32(DATA_ADDR + margin + rng.below(span));
        break;
      case 1:
        this.emit(0x40 | (reg << 3) | 6, rng.below(256) - 128);
        break;
      case 2:
        this.emit(0x80 | (reg << 3) | 6);
        this.emit32(margin + rng.below(span) - 0x200);
        break;
      case 3:
        this.emit(0x40 | (reg << 3) | 4, (rng.below(4) << 6) | (4 << 3) | 6, rng.below(256) - 128);
        break;
      case 4:
        this.emit((reg << 3) | 4, (6 << 3) | 5);
        this.emit32(margin + rng.below(span) - 0x200);
        break;
      default:
        this.emit(0x40 | (reg << 3) | 4, (4 << 3) | 4, rng.below(128) - 64);
        break;
    }
  }
  /** r/m operand: a register (from the destination set if `dest`) or memory. */
  rm(reg: number, size: number, dest: boolean, allowMemory = true): void {
    if (allowMemory && this.rng.chance(0.5)) this.memory(reg, size);
    else this.emit(0xc0 | (reg << 3) | (dest && size !== 1 ? this.destReg() : this.anyReg()));
  }
  segmentPrefix(): void {
    if (this.rng.chance(0.1)) this.emit(this.rng.pick([0x26, 0x36, 0x3e]));
  }
}

type Template = (b: Builder) => boolean;

function opsize(b: Builder, allow16 = true): number {
  if (allow16 && b.rng.chance(0.3)) { b.emit(0x66); return 16; }
  return 32;
}

const aluClassic: Template = (b) => {
  const op = b.rng.below(8);
  const reads = op === 2 || op === 3 ? CF : 0;
  if (!b.canRead(reads)) return false;
  const form = b.rng.below(6);
  const byte = (form & 1) === 0;
  const bits = byte ? 8 : opsize(b);
  b.segmentPrefix();
  b.emit((op << 3) | form);
  if (form < 4) b.rm(form < 2 || op === 7 ? b.anyReg() : (bits === 8 ? b.anyReg() : b.destReg()), bits >> 3, form < 2, true);
  else b.imm(bits);
  b.flags(ALL, op === 1 || op === 4 || op === 6 ? AF : 0);
  return true;
};

// ALU forms 2/3 write the reg field, which must be a destination register.
const aluRegDest: Template = (b) => {
  const op = b.rng.below(8);
  if (!b.canRead(op === 2 || op === 3 ? CF : 0)) return false;
  const byte = b.rng.chance(0.3);
  const bits = byte ? 8 : opsize(b);
  b.segmentPrefix();
  b.emit((op << 3) | (byte ? 2 : 3));
  b.rm(byte ? b.anyReg() : b.destReg(), bits >> 3, false);
  b.flags(ALL, op === 1 || op === 4 || op === 6 ? AF : 0);
  return true;
};

const aluGroup1: Template = (b) => {
  const op = b.rng.below(8);
  if (!b.canRead(op === 2 || op === 3 ? CF : 0)) return false;
  const opcode = b.rng.pick([0x80, 0x81, 0x83]);
  const bits = opcode === 0x80 ? 8 : opsize(b);
  b.segmentPrefix();
  b.emit(opcode);
  b.rm(op, bits >> 3, true);
  b.imm(opcode === 0x81 ? bits : 8);
  b.flags(ALL, op === 1 || op === 4 || op === 6 ? AF : 0);
  return true;
};

const incDec: Template = (b) => {
  if (b.rng.chance(0.4)) {
    const bits = opsize(b);
    b.emit(0x40 + (b.rng.chance(0.5) ? 8 : 0) + b.destReg());
    void bits;
  } else {
    const byte = b.rng.chance(0.4);
    const bits = byte ? 8 : opsize(b);
    b.emit(byte ? 0xfe : 0xff);
    b.rm(b.rng.below(2), bits >> 3, true);
  }
  b.flags(ALL & ~CF, 0);
  return true;
};

const unary: Template = (b) => {
  const op = b.rng.pick([0, 2, 3, 4, 5, 6, 7]);
  const byte = b.rng.chance(0.3);
  const bits = byte ? 8 : opsize(b);
  if (op >= 6 && b.rng.chance(0.7)) {
    // Make most divisions succeed: small dividend high half.
    if (bits === 32) b.emit(0x31, 0xd2); // xor edx, edx (flags!)
    else if (bits === 16) b.emit(0x66, 0x31, 0xd2);
    else b.emit(0x30, 0xe4); // xor ah, ah
    if (op === 7) { /* still random sign */ }
    b.flags(ALL, AF);
    if (bits === 16) b.emit(0x66);
  }
  b.emit(byte ? 0xf6 : 0xf7);
  b.rm(op, bits >> 3, true);
  if (op === 0) b.imm(bits);
  if (op === 0) b.flags(ALL, AF);
  else if (op === 3) b.flags(ALL, 0);
  else if (op === 4 || op === 5) b.flags(ALL, SF | ZF | AF | PF);
  else if (op >= 6) b.flags(ALL, ALL);
  return true;
};

const imul: Template = (b) => {
  const bits = opsize(b);
  const form = b.rng.below(3);
  if (form === 0) { b.emit(0x0f, 0xaf); b.rm(b.destReg(), bits >> 3, false); }
  else if (form === 1) { b.emit(0x69); b.rm(b.destReg(), bits >> 3, false); b.imm(bits); }
  else { b.emit(0x6b); b.rm(b.destReg(), bits >> 3, false); b.imm(8); }
  b.flags(ALL, SF | ZF | AF | PF);
  return true;
};

const shift: Template = (b) => {
  const op = b.rng.below(8);
  const byte = b.rng.chance(0.3);
  const form = b.rng.below(3); // 0 imm, 1 by one, 2 by CL
  let count = form === 1 ? 1 : b.rng.chance(0.5) ? b.rng.below(34) : b.rng.below(256);
  if (form === 2) b.emit(0xb1, count); // mov cl, count
  const masked = count & 31;
  const readsCf = (op === 2 || op === 3) && masked !== 0;
  if (!b.canRead(readsCf ? CF : 0)) return false;
  const bits = byte ? 8 : opsize(b);
  b.emit((form === 0 ? 0xc0 : form === 1 ? 0xd0 : 0xd2) | (byte ? 0 : 1));
  b.rm(op, bits >> 3, true);
  if (form === 0) b.emit(count);
  if (masked === 0) return true;
  const ofUndefined = masked !== 1 ? OF : 0;
  if (op <= 3) {
    b.flags(CF | OF, ofUndefined);
  } else {
    const cfUndefined = (op === 4 || op === 6 || op === 5) && masked >= bits ? CF | OF : 0;
    b.flags(ALL, AF | ofUndefined | cfUndefined);
  }
  return true;
};

const shiftDouble: Template = (b) => {
  const bits = opsize(b);
  const byCl = b.rng.chance(0.5);
  const count = b.rng.below(bits === 16 ? 17 : 32);
  if (byCl) {
    // The 66 prefix must stay adjacent to the opcode.
    if (bits === 16) b.bytes.pop();
    b.emit(0xb1, count);
    if (bits === 16) b.emit(0x66);
  }
  const left = b.rng.chance(0.5);
  b.emit(0x0f, (left ? 0xa4 : 0xac) | (byCl ? 1 : 0));
  b.rm(b.anyReg(), bits >> 3, true);
  if (!byCl) b.emit(count);
  if (count === 0) return true;
  b.flags(ALL, AF | (count !== 1 ? OF : 0));
  return true;
};

const bitTest: Template = (b) => {
  const op = b.rng.below(4);
  const bits = opsize(b);
  if (b.rng.chance(0.5)) {
    b.emit(0x0f, 0xba);
    b.rm(4 + op, bits >> 3, true);
    b.emit(b.rng.below(256));
  } else {
    // Register bit offset: keep it small so memory forms stay in the window.
    const r = b.destReg();
    if (bits === 16) b.bytes.pop();
    b.emit(0xb8 + r);
    b.emit32(b.rng.below(320) - 96);
    if (bits === 16) b.emit(0x66);
    b.emit(0x0f, 0xa3 | (op << 3));
    const saved = b.destReg;
    b.destReg = () => { let d: number; do d = saved.call(b); while (d === r); return d; };
    if (b.rng.chance(0.5)) b.memory(r, 32, 16); else b.emit(0xc0 | (r << 3) | b.destReg());
    b.destReg = saved;
  }
  b.flags(CF, OF | SF | AF | PF);
  return true;
};

const bitScan: Template = (b) => {
  const bits = opsize(b);
  b.emit(0x0f, b.rng.chance(0.5) ? 0xbc : 0xbd);
  b.rm(b.destReg(), bits >> 3, false);
  b.flags(ALL, CF | OF | SF | AF | PF);
  return true;
};

const moves: Template = (b) => {
  switch (b.rng.below(9)) {
    case 0: { const byte = b.rng.chance(0.3); const bits = byte ? 8 : opsize(b); b.segmentPrefix(); b.emit(byte ? 0x88 : 0x89); b.rm(b.anyReg(), bits >> 3, true); return true; }
    case 1: { const byte = b.rng.chance(0.3); const bits = byte ? 8 : opsize(b); b.segmentPrefix(); b.emit(byte ? 0x8a : 0x8b); b.rm(byte ? b.anyReg() : b.destReg(), bits >> 3, false); return true; }
    case 2: { const byte = b.rng.chance(0.3); const bits = byte ? 8 : opsize(b); b.emit(byte ? 0xc6 : 0xc7); b.rm(0, bits >> 3, true); b.imm(bits); return true; }
    case 3: { const byte = b.rng.chance(0.3); const bits = byte ? 8 : opsize(b); b.emit((byte ? 0xb0 + b.anyReg() : 0xb8 + b.destReg())); b.imm(bits); return true; }
    case 4: { const bits = opsize(b); b.emit(0x0f, b.rng.pick([0xb6, 0xb7, 0xbe, 0xbf])); b.rm(b.destReg(), 2, false); void bits; return true; }
    case 5: { const byte = b.rng.chance(0.3); const bits = byte ? 8 : opsize(b); b.emit(byte ? 0x86 : 0x87); b.rm(byte ? b.anyReg() : b.destReg(), bits >> 3, true); return true; }
    case 6: { opsize(b); b.emit(0x8d); b.memory(b.destReg(), 4); return true; }
    case 7: { opsize(b); b.emit(0x90 + b.destReg()); return true; }
    default: {
      // MOV acc <-> moffs
      const byte = b.rng.chance(0.3);
      const bits = byte ? 8 : opsize(b);
      b.emit(0xa0 + (b.rng.chance(0.5) ? 2 : 0) + (byte ? 0 : 1));
      b.emit32(DATA_ADDR + b.rng.below(DATA_SIZE - 8));
      void bits;
      return true;
    }
  }
};

const conditional: Template = (b) => {
  const cc = b.rng.below(16);
  if (!b.canRead(CONDITION_READS[cc])) return false;
  if (b.rng.chance(0.5)) {
    b.emit(0x0f, 0x90 + cc);
    b.rm(0, 1, true);
  } else {
    const bits = opsize(b);
    b.emit(0x0f, 0x40 + cc);
    b.rm(b.destReg(), bits >> 3, false);
  }
  return true;
};

const conversions: Template = (b) => {
  switch (b.rng.below(6)) {
    case 0: opsize(b); b.emit(0x98); return true;
    case 1: opsize(b); b.emit(0x99); return true;
    case 2: b.emit(0x0f, 0xc8 + b.destReg()); return true;
    case 3: if (!b.canRead(CF)) return false; b.emit(0xd6); return true; // SALC
    case 4: b.emit(0x9e); b.flags(CF | PF | AF | ZF | SF, 0); return true; // SAHF
    default: if (!b.canRead(CF | PF | AF | ZF | SF)) return false; b.emit(0x9f); return true; // LAHF
  }
};

const flagOps: Template = (b) => {
  switch (b.rng.below(5)) {
    case 0: b.emit(0xf8); b.flags(CF, 0); return true;
    case 1: b.emit(0xf9); b.flags(CF, 0); return true;
    case 2: if (!b.canRead(CF)) return false; b.emit(0xf5); return true;
    case 3: b.emit(0xfc); return true;
    default: b.emit(0xfd); return true;
  }
};

const bcd: Template = (b) => {
  switch (b.rng.below(6)) {
    case 0: if (!b.canRead(CF | AF)) return false; b.emit(0x27); b.flags(ALL, OF); return true;
    case 1: if (!b.canRead(CF | AF)) return false; b.emit(0x2f); b.flags(ALL, OF); return true;
    case 2: if (!b.canRead(AF)) return false; b.emit(0x37); b.flags(ALL, OF | SF | ZF | PF); return true;
    case 3: if (!b.canRead(AF)) return false; b.emit(0x3f); b.flags(ALL, OF | SF | ZF | PF); return true;
    case 4: b.emit(0xd4, b.rng.chance(0.7) ? 10 : b.rng.below(256)); b.flags(ALL, OF | AF | CF); return true;
    default: b.emit(0xd5, b.rng.chance(0.7) ? 10 : b.rng.below(256)); b.flags(ALL, OF | AF | CF); return true;
  }
};

const atomics: Template = (b) => {
  switch (b.rng.below(3)) {
    case 0: {
      const locked = b.rng.chance(0.3);
      if (locked) b.emit(0xf0);
      const byte = b.rng.chance(0.3);
      const bits = byte ? 8 : opsize(b);
      b.emit(0x0f, byte ? 0xb0 : 0xb1);
      if (locked) b.memory(b.anyReg(), 4);
      else b.rm(b.anyReg(), bits >> 3, true);
      b.flags(ALL, 0);
      return true;
    }
    case 1: { const byte = b.rng.chance(0.3); const bits = byte ? 8 : opsize(b); b.emit(0x0f, byte ? 0xc0 : 0xc1); b.rm(byte ? b.anyReg() : b.destReg(), bits >> 3, true); b.flags(ALL, 0); return true; }
    default: b.emit(0x0f, 0xc7); b.memory(1, 8); b.flags(ZF, 0); return true;
  }
};

const stack: Template = (b) => {
  const choice = b.rng.below(7);
  if (choice <= 2 && b.stackDepth > 0x100) return false;
  switch (choice) {
    case 0: { const bits = opsize(b); b.emit(0x50 + b.anyReg()); b.stackDepth += bits >> 3; return true; }
    case 1: { const bits = opsize(b); const big = b.rng.chance(0.5); b.emit(big ? 0x68 : 0x6a); b.imm(big ? bits : 8); b.stackDepth += bits >> 3; return true; }
    case 2: { const bits = opsize(b); b.emit(0xff); b.memory(6, 4); b.stackDepth += bits >> 3; return true; }
    case 3: { if (b.stackDepth < 4) return false; b.emit(0x58 + b.destReg()); b.stackDepth -= 4; return true; }
    case 4: { if (b.stackDepth < 4) return false; b.emit(0x8f); b.memory(0, 4); b.stackDepth -= 4; return true; }
    case 5: { if (!b.canRead(ALL)) return false; b.emit(0x9c, 0x9d); return true; } // pushfd; popfd
    default: { b.emit(0x60); b.emit(0x61); return true; } // pushad; popad
  }
};

const frames: Template = (b) => {
  // ENTER n, level ; LEAVE
  b.emit(0xc8);
  b.emit16(b.rng.below(64));
  b.emit(b.rng.below(2)); // level >= 2 would copy frame pointers from wherever EBP points
  b.emit(0xc9);
  return true;
};

const strings: Template = (b) => {
  const op = b.rng.pick([0xa4, 0xa6, 0xaa, 0xac, 0xae]);
  b.emit(0xbe); b.emit32(DATA_ADDR + 0x100 + b.rng.below(0x100));
  b.emit(0xbf); b.emit32(DATA_ADDR + 0x100 + b.rng.below(0x100));
  const count = b.rng.below(12);
  b.emit(0xb9); b.emit32(count);
  const rep = b.rng.below(3);
  if (rep === 1) b.emit(0xf3);
  else if (rep === 2) b.emit(0xf2);
  const byte = b.rng.chance(0.4);
  if (!byte) opsize(b);
  b.emit(op | (byte ? 0 : 1));
  b.emit(0xbe); b.emit32(POINTER);
  if ((op === 0xa6 || op === 0xae) && (rep === 0 || count > 0)) b.flags(ALL, 0);
  return true;
};

const xlat: Template = (b) => {
  b.emit(0xbb); b.emit32(DATA_ADDR + b.rng.below(DATA_SIZE - 256));
  b.emit(0xd7);
  return true;
};

/** A double with a moderate exponent (no denormals, no NaN inputs), or a simple special value. */
function fpuValue(rng: Random): number {
  if (rng.chance(0.15)) return rng.pick([0, -0, 1, -1, 0.5, 2.5, -2.5, 3.5, 1e10, Infinity, -Infinity, 2147483648.5, -0.5]);
  const mantissa = 1 + rng.next() / 0x100000000 + rng.next() / 0x100000000 / 0x100000;
  const exponent = rng.below(61) - 30;
  return (rng.chance(0.5) ? -1 : 1) * mantissa * Math.pow(2, exponent);
}

const FPU_SCRATCH = DATA_ADDR + 0x380;

function storeDouble(b: Builder, address: number, value: number): void {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value, true);
  b.emit(0xc7, 0x05); b.emit32(address); b.emit32(view.getInt32(0, true));
  b.emit(0xc7, 0x05); b.emit32(address + 4); b.emit32(view.getInt32(4, true));
}

/** x87 arithmetic, comparisons and stores whose results land in memory, AX or EFLAGS. */
const fpu: Template = (b) => {
  const rng = b.rng;
  const a = FPU_SCRATCH, second = FPU_SCRATCH + 8, out = FPU_SCRATCH + 16 + 8 * rng.below(4);
  storeDouble(b, a, fpuValue(rng));
  storeDouble(b, second, fpuValue(rng));
  const load = rng.below(3);
  if (load === 0) { b.emit(0xdd, 0x05); b.emit32(a); } // fld qword
  else if (load === 1) {
    // fld dword: replace the low half with a real single (NaN payload propagation is not modelled).
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, fpuValue(rng), true);
    b.emit(0xc7, 0x05); b.emit32(a); b.emit32(view.getInt32(0, true));
    b.emit(0xd9, 0x05); b.emit32(a);
  }
  else { b.emit(0xdb, 0x05); b.emit32(a + 4); } // fild dword
  let depth = 1;
  switch (rng.below(6)) {
    case 0: b.emit(0xdc, 0x05 | (rng.pick([0, 1, 4, 5, 6, 7]) << 3)); b.emit32(second); break; // fop qword [m]
    case 1: { // fld; fop st(i) forms
      b.emit(0xdd, 0x05); b.emit32(second);
      depth = 2;
      const op = rng.pick([0, 1, 4, 5, 6, 7]);
      const form = rng.below(3);
      if (form === 0) b.emit(0xd8, 0xc0 | (op << 3) | 1); // st0 = st0 op st1
      else if (form === 1) b.emit(0xdc, 0xc0 | (op << 3) | 1); // st1 = st1 op st0
      else { b.emit(0xde, 0xc0 | (op << 3) | 1); depth = 1; } // ...p
      break;
    }
    case 2: b.emit(0xd9, rng.pick([0xfa, 0xe1, 0xe0, 0xfc])); break; // fsqrt fabs fchs frndint
    case 3: // fcom qword [m]; fnstsw ax; and ax, 0x4500
      if (rng.chance(0.5)) { b.emit(0xdc, 0x15); b.emit32(second); }
      else { b.emit(0xd9, 0xe4); } // ftst
      b.emit(0xdf, 0xe0, 0x66, 0x25, 0x00, 0x45);
      b.flags(ALL, AF);
      break;
    case 4: // fld; fcomip / fucomip
      b.emit(0xdd, 0x05); b.emit32(second);
      b.emit(0xdf, rng.chance(0.5) ? 0xf1 : 0xe9);
      b.flags(ALL, 0);
      break;
    default: b.emit(0xd9, 0xc9); b.emit(0xd9, 0xee); b.emit(0xde, 0xc1); break; // fxch; fldz; faddp
  }
  switch (rng.below(4)) {
    case 0: b.emit(0xdd, 0x1d); b.emit32(out); break; // fstp qword
    case 1: b.emit(0xd9, 0x1d); b.emit32(out); break; // fstp dword
    case 2: b.emit(0xdb, 0x1d); b.emit32(out); break; // fistp dword
    default: b.emit(0xdf, 0x1d); b.emit32(out); break; // fistp word
  }
  for (let i = 1; i < depth; i++) b.emit(0xdd, 0xd8); // fstp st0
  return true;
};

const SKIPPABLE: Template[] = [aluClassic, aluRegDest, aluGroup1, incDec, moves, conditional, conversions, bitScan, shift];

/** Jcc / LOOP / JECXZ / JMP over a following instruction. */
const branches: Template = (b) => {
  const inner = new Builder(b.rng);
  inner.undefinedFlags = b.undefinedFlags;
  const kind = b.rng.below(4);
  const cc = b.rng.below(16);
  if (kind <= 1 && !b.canRead(CONDITION_READS[cc])) return false;
  if (kind === 2 && !b.canRead(ZF)) return false;
  let ok = false;
  for (let tries = 0; tries < 10 && !ok; tries++) {
    inner.bytes = [];
    inner.undefinedFlags = b.undefinedFlags;
    ok = b.rng.pick(SKIPPABLE)(inner);
  }
  if (!ok) return false;
  const length = inner.bytes.length;
  if (kind === 0) b.emit(0x70 + cc, length);
  else if (kind === 1) { b.emit(0x0f, 0x80 + cc); b.emit32(length); }
  else if (kind === 2) b.emit(b.rng.pick([0xe0, 0xe1, 0xe2, 0xe3]), length);
  else b.emit(0xeb, length);
  b.bytes.push(...inner.bytes);
  b.undefinedFlags |= inner.undefinedFlags;
  return true;
};

const calls: Template = (b) => {
  if (b.stackDepth > 0x100) return false;
  // call next ; pop reg    or    call over a ret-less body: call L; L: ret-style via add esp
  b.emit(0xe8); b.emit32(0);
  b.emit(0x58 + b.destReg());
  return true;
};

const TEMPLATES: Array<[Template, number]> = [
  [aluClassic, 10], [aluRegDest, 6], [aluGroup1, 8], [incDec, 4], [unary, 6], [imul, 3], [shift, 8],
  [shiftDouble, 3], [bitTest, 3], [bitScan, 2], [moves, 8], [conditional, 4], [conversions, 3], [flagOps, 2],
  [bcd, 3], [atomics, 3], [stack, 4], [frames, 1], [strings, 3], [xlat, 1], [branches, 5], [calls, 1], [fpu, 6],
];
const TOTAL_WEIGHT = TEMPLATES.reduce((sum, [, w]) => sum + w, 0);

function pickTemplate(rng: Random): Template {
  let n = rng.below(TOTAL_WEIGHT);
  for (const [t, w] of TEMPLATES) {
    if (n < w) return t;
    n -= w;
  }
  return TEMPLATES[0][0];
}

export function generateCase(seed: number): OracleCase {
  const rng = new Random(seed);
  const b = new Builder(rng);
  const count = 1 + rng.below(6);
  for (let i = 0; i < count; i++) {
    for (let tries = 0; tries < 20; tries++) {
      const mark = b.bytes.length;
      const depth = b.stackDepth;
      const undef = b.undefinedFlags;
      if (pickTemplate(rng)(b)) {
        b.everUndefinedFlags |= b.undefinedFlags;
        break;
      }
      b.bytes.length = mark;
      b.stackDepth = depth;
      b.undefinedFlags = undef;
    }
  }
  const regs = new Int32Array(8);
  for (let r = 0; r < 8; r++) regs[r] = rng.interesting();
  regs[4] = STACK_TOP;
  regs[6] = POINTER;
  const data = new Uint8Array(DATA_SIZE);
  for (let i = 0; i < DATA_SIZE; i++) data[i] = rng.below(256);
  // Sprinkle boundary values through memory too.
  for (let i = 0; i < 32; i++) {
    const at = rng.below(DATA_SIZE - 4);
    const v = rng.interesting();
    data[at] = v; data[at + 1] = v >> 8; data[at + 2] = v >> 16; data[at + 3] = v >> 24;
  }
  const eflags = 0x202 | (rng.next() & ALL) | (rng.chance(0.2) ? 0x400 : 0);
  return { seed, code: Uint8Array.from(b.bytes), regs, eflags, data, undefinedFlags: b.undefinedFlags, everUndefinedFlags: b.everUndefinedFlags };
}
