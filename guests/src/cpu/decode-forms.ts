/**
 * Operand encodings of every opcode: whether a ModRM byte follows and which immediate.
 * Together with the handler table (opcode-table.ts) this is the single description of the
 * instruction set that both the decoder and the interpreter use.
 */
export const enum Form {
  NONE = 0,
  IB = 1, // 8-bit immediate, zero-extended
  IBS = 2, // 8-bit immediate, sign-extended
  IW = 3,
  IZ = 4, // 16 or 32 bits by operand size
  FAR = 5, // offset (16/32) then 16-bit selector
  MOFFS = 6, // 16 or 32 bits by address size
  ENTER = 7, // imm16 then imm8
  IMM_MASK = 7,
  MODRM = 8,
  /** Only the F6/F7 TEST forms (reg 0/1) carry an immediate. */
  GROUP3 = 16,
  INVALID = 32,
  PREFIX = 64,
}

export const DECODE_FORMS = new Uint8Array(512).fill(Form.INVALID);

function set(opcodes: number[], form: number): void {
  for (const op of opcodes) DECODE_FORMS[op] = form;
}
function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

// One-byte page.
for (let base = 0; base < 0x40; base += 8) {
  set([base, base + 1, base + 2, base + 3], Form.MODRM);
  set([base + 4], Form.IB);
  set([base + 5], Form.IZ);
}
set([0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f], Form.NONE);
set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3], Form.PREFIX);
set(range(0x40, 0x61), Form.NONE);
set([0x62, 0x63], Form.MODRM);
DECODE_FORMS[0x69] = Form.MODRM | Form.IZ;
DECODE_FORMS[0x68] = Form.IZ;
DECODE_FORMS[0x6a] = Form.IBS;
DECODE_FORMS[0x6b] = Form.MODRM | Form.IBS;
set(range(0x6c, 0x6f), Form.NONE);
set(range(0x70, 0x7f), Form.IBS);
DECODE_FORMS[0x80] = Form.MODRM | Form.IB;
DECODE_FORMS[0x81] = Form.MODRM | Form.IZ;
DECODE_FORMS[0x82] = Form.MODRM | Form.IB;
DECODE_FORMS[0x83] = Form.MODRM | Form.IBS;
set(range(0x84, 0x8f), Form.MODRM);
set(range(0x90, 0x99), Form.NONE);
DECODE_FORMS[0x9a] = Form.FAR;
set(range(0x9b, 0x9f), Form.NONE);
set(range(0xa0, 0xa3), Form.MOFFS);
set(range(0xa4, 0xaf), Form.NONE);
DECODE_FORMS[0xa8] = Form.IB;
DECODE_FORMS[0xa9] = Form.IZ;
set(range(0xb0, 0xb7), Form.IB);
set(range(0xb8, 0xbf), Form.IZ);
set([0xc0, 0xc1, 0xc6], Form.MODRM | Form.IB);
DECODE_FORMS[0xc7] = Form.MODRM | Form.IZ;
set([0xc2, 0xca], Form.IW);
set([0xc3, 0xc9, 0xcb, 0xcc, 0xce, 0xcf], Form.NONE);
set([0xc4, 0xc5], Form.MODRM);
DECODE_FORMS[0xc8] = Form.ENTER;
DECODE_FORMS[0xcd] = Form.IB;
set(range(0xd0, 0xd3), Form.MODRM);
set([0xd4, 0xd5], Form.IB);
set([0xd6, 0xd7], Form.NONE);
set(range(0xd8, 0xdf), Form.MODRM);
set(range(0xe0, 0xe3), Form.IBS);
set(range(0xe4, 0xe7), Form.IB);
set([0xe8, 0xe9], Form.IZ);
DECODE_FORMS[0xea] = Form.FAR;
DECODE_FORMS[0xeb] = Form.IBS;
set(range(0xec, 0xef), Form.NONE);
set([0xf1, 0xf4, 0xf5], Form.NONE);
set([0xf6, 0xf7], Form.MODRM | Form.GROUP3);
set(range(0xf8, 0xfd), Form.NONE);
set([0xfe, 0xff], Form.MODRM);

// 0F page: what a Pentium II has, minus MMX/SSE.
const T = 0x100;
set([T + 0x00, T + 0x01, T + 0x02, T + 0x03], Form.MODRM);
set([T + 0x06, T + 0x08, T + 0x09, T + 0x0b], Form.NONE);
set(range(T + 0x19, T + 0x1f), Form.MODRM); // hint NOPs
set(range(T + 0x20, T + 0x23), Form.MODRM);
set(range(T + 0x30, T + 0x35), Form.NONE);
set(range(T + 0x40, T + 0x4f), Form.MODRM);
set(range(T + 0x80, T + 0x8f), Form.IZ);
set(range(T + 0x90, T + 0x9f), Form.MODRM);
set([T + 0xa0, T + 0xa1, T + 0xa2, T + 0xa8, T + 0xa9], Form.NONE);
set([T + 0xa3, T + 0xa5, T + 0xab, T + 0xad, T + 0xae, T + 0xaf], Form.MODRM);
set([T + 0xa4, T + 0xac, T + 0xba], Form.MODRM | Form.IB);
set(range(T + 0xb0, T + 0xb7), Form.MODRM);
set(range(T + 0xbb, T + 0xbf), Form.MODRM);
set([T + 0xc0, T + 0xc1, T + 0xc7], Form.MODRM);
set(range(T + 0xc8, T + 0xcf), Form.NONE);
