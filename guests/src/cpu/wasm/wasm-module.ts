/**
 * Writes WebAssembly binary modules (the MVP format, i32/i64 only): one function body at a time
 * through FunctionBuilder, then a module with imported memory and functions and exported ones.
 * Only what the translator emits is here; see the WebAssembly core specification, section 5.
 */

export const enum ValueType { I32 = 0x7f, I64 = 0x7e }
/** Block type of a structured instruction without results. */
const EMPTY_BLOCK = 0x40;

export const enum Op {
  UNREACHABLE = 0x00, BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0b, BR = 0x0c, BR_IF = 0x0d,
  BR_TABLE = 0x0e, RETURN = 0x0f, CALL = 0x10, CALL_INDIRECT = 0x11, DROP = 0x1a, SELECT = 0x1b,
  LOCAL_GET = 0x20, LOCAL_SET = 0x21, LOCAL_TEE = 0x22,
  I32_LOAD = 0x28, I64_LOAD = 0x29, I32_LOAD8_S = 0x2c, I32_LOAD8_U = 0x2d, I32_LOAD16_S = 0x2e, I32_LOAD16_U = 0x2f,
  I32_STORE = 0x36, I32_STORE8 = 0x3a, I32_STORE16 = 0x3b,
  I32_CONST = 0x41, I64_CONST = 0x42,
  I32_EQZ = 0x45, I32_EQ = 0x46, I32_NE = 0x47, I32_LT_S = 0x48, I32_LT_U = 0x49, I32_GT_S = 0x4a, I32_GT_U = 0x4b,
  I32_LE_S = 0x4c, I32_LE_U = 0x4d, I32_GE_S = 0x4e, I32_GE_U = 0x4f,
  I32_CLZ = 0x67, I32_CTZ = 0x68, I32_POPCNT = 0x69, I32_ADD = 0x6a, I32_SUB = 0x6b, I32_MUL = 0x6c,
  I32_AND = 0x71, I32_OR = 0x72, I32_XOR = 0x73, I32_SHL = 0x74, I32_SHR_S = 0x75, I32_SHR_U = 0x76, I32_ROTL = 0x77, I32_ROTR = 0x78,
  I64_ADD = 0x7c, I64_MUL = 0x7e, I64_DIV_U = 0x80, I64_REM_U = 0x82, I64_OR = 0x84, I64_SHL = 0x86, I64_SHR_S = 0x87, I64_SHR_U = 0x88,
  I32_WRAP_I64 = 0xa7, I64_EXTEND_I32_S = 0xac, I64_EXTEND_I32_U = 0xad,
}

/** A growable byte buffer with the format's integer encodings. */
export class ByteWriter {
  private bytes = new Uint8Array(256);
  length = 0;

  byte(value: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = value;
  }

  /** Unsigned LEB128 of a value below 2^32. */
  u32(value: number): void {
    let v = value >>> 0;
    do {
      const low = v & 0x7f;
      v >>>= 7;
      this.byte(v === 0 ? low : low | 0x80);
    } while (v !== 0);
  }

  /** Signed LEB128 of an int32. */
  s32(value: number): void {
    let v = value | 0;
    for (;;) {
      const low = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (low & 0x40) === 0) || (v === -1 && (low & 0x40) !== 0);
      this.byte(done ? low : low | 0x80);
      if (done) return;
    }
  }

  /** Signed LEB128 of an int64 given as a bigint. */
  s64(value: bigint): void {
    let v = BigInt.asIntN(64, value);
    for (;;) {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (low & 0x40) === 0) || (v === -1n && (low & 0x40) !== 0);
      this.byte(done ? low : low | 0x80);
      if (done) return;
    }
  }

  name(text: string): void {
    const encoded = new TextEncoder().encode(text);
    this.u32(encoded.length);
    this.append(encoded);
  }

  append(data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.byte(data[i]);
  }

  /** `content` prefixed with its length, as sections and function bodies are. */
  sized(content: ByteWriter): void {
    this.u32(content.length);
    this.append(content.finish());
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** The body of one function: its extra locals and its code. */
export class FunctionBuilder {
  readonly code = new ByteWriter();
  private readonly localTypes: ValueType[] = [];
  /** Branch hints: offset in `code` of an `if` or `br_if`, and whether it is likely taken. */
  readonly hints: Array<[number, boolean]> = [];

  constructor(
    readonly params: readonly ValueType[],
    readonly results: readonly ValueType[],
  ) {}

  /** Declares a local after the parameters; returns its index. */
  local(type: ValueType = ValueType.I32): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  op(opcode: Op): this {
    this.code.byte(opcode);
    return this;
  }

  i32(value: number): this {
    this.code.byte(Op.I32_CONST);
    this.code.s32(value);
    return this;
  }

  i64(value: bigint): this {
    this.code.byte(Op.I64_CONST);
    this.code.s64(value);
    return this;
  }

  get(local: number): this {
    this.code.byte(Op.LOCAL_GET);
    this.code.u32(local);
    return this;
  }

  set(local: number): this {
    this.code.byte(Op.LOCAL_SET);
    this.code.u32(local);
    return this;
  }

  tee(local: number): this {
    this.code.byte(Op.LOCAL_TEE);
    this.code.u32(local);
    return this;
  }

  /** A load or store with a constant offset (alignment hint 0: guest accesses may be unaligned). */
  memory(opcode: Op, offset = 0): this {
    this.code.byte(opcode);
    this.code.u32(0);
    this.code.u32(offset);
    return this;
  }

  block(): this {
    this.code.byte(Op.BLOCK);
    this.code.byte(EMPTY_BLOCK);
    return this;
  }

  loop(): this {
    this.code.byte(Op.LOOP);
    this.code.byte(EMPTY_BLOCK);
    return this;
  }

  if(): this {
    this.code.byte(Op.IF);
    this.code.byte(EMPTY_BLOCK);
    return this;
  }

  end(): this {
    this.code.byte(Op.END);
    return this;
  }

  br(depth: number): this {
    this.code.byte(Op.BR);
    this.code.u32(depth);
    return this;
  }

  brIf(depth: number): this {
    this.code.byte(Op.BR_IF);
    this.code.u32(depth);
    return this;
  }

  call(func: number): this {
    this.code.byte(Op.CALL);
    this.code.u32(func);
    return this;
  }

  /** Calls the function at the index on the stack in table 0, of type `type` (an index into ModuleParts.indirectTypes). */
  callIndirect(type: number): this {
    this.code.byte(Op.CALL_INDIRECT);
    this.code.u32(type);
    this.code.byte(0x00);
    return this;
  }

  /**
   * The next `if` or `br_if` is likely (or unlikely) taken: the engine may lay the other way out
   * of line and keep values in registers along this one (the branch-hinting proposal).
   */
  hint(likely: boolean): this {
    const hints = this.hints;
    if (hints.length === 0 || hints[hints.length - 1][0] !== this.code.length) hints.push([this.code.length, likely]);
    return this;
  }

  /** The encoded local declarations (runs of one type). */
  private locals(): ByteWriter {
    const out = new ByteWriter();
    const runs: Array<[number, ValueType]> = [];
    for (const type of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === type) last[0]++;
      else runs.push([1, type]);
    }
    out.u32(runs.length);
    for (const [count, type] of runs) {
      out.u32(count);
      out.byte(type);
    }
    return out;
  }

  /**
   * The encoded body (local declarations, code, and the final `end`), and the branch hints with
   * offsets from the start of the body.
   */
  encode(): { body: ByteWriter; hints: Array<[number, boolean]> } {
    const body = this.locals();
    const start = body.length;
    body.append(this.code.finish());
    body.byte(Op.END);
    return { body, hints: this.hints.map(([offset, likely]) => [start + offset, likely]) };
  }
}

export interface ImportedFunction {
  module: string;
  name: string;
  params: readonly ValueType[];
  results: readonly ValueType[];
}

export interface ModuleParts {
  /** Imported as `memoryImport.module`.`memoryImport.name`; `pages` is its minimum size. */
  memoryImport?: { module: string; name: string; pages: number };
  /** A table of functions (table 0), imported as `tableImport.module`.`tableImport.name`. */
  tableImport?: { module: string; name: string };
  /** Signatures call_indirect names by their index here (they take the first type indices, one each even when two are alike). */
  indirectTypes?: ReadonlyArray<{ params: readonly ValueType[]; results: readonly ValueType[] }>;
  /** Function indices 0..n-1, before the module's own functions. */
  functions: readonly ImportedFunction[];
  /** The module's own functions, exported under their names. */
  exports: ReadonlyArray<{ name: string; body: FunctionBuilder }>;
}

const SECTION_CUSTOM = 0, SECTION_TYPE = 1, SECTION_IMPORT = 2, SECTION_FUNCTION = 3, SECTION_EXPORT = 7, SECTION_CODE = 10;
const FUNC_TYPE = 0x60;
const IMPORT_FUNC = 0x00, IMPORT_TABLE = 0x01, IMPORT_MEMORY = 0x02, EXPORT_FUNC = 0x00;
const FUNCREF = 0x70;

/** The binary module of `parts`. */
export function encodeModule(parts: ModuleParts): Uint8Array {
  const types: string[] = [];
  const typeIndex = (params: readonly ValueType[], results: readonly ValueType[]): number => {
    const key = `${params.join(",")}>${results.join(",")}`;
    let index = types.indexOf(key);
    if (index < 0) index = types.push(key) - 1;
    return index;
  };
  for (const t of parts.indirectTypes ?? []) types.push(`${t.params.join(",")}>${t.results.join(",")}`);
  const importTypes = parts.functions.map((f) => typeIndex(f.params, f.results));
  const ownTypes = parts.exports.map((e) => typeIndex(e.body.params, e.body.results));

  const out = new ByteWriter();
  out.append(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));

  const typeSection = new ByteWriter();
  typeSection.u32(types.length);
  for (const key of types) {
    const [params, results] = key.split(">").map((list) => (list === "" ? [] : list.split(",").map(Number)));
    typeSection.byte(FUNC_TYPE);
    typeSection.u32(params.length);
    for (const t of params) typeSection.byte(t);
    typeSection.u32(results.length);
    for (const t of results) typeSection.byte(t);
  }
  section(out, SECTION_TYPE, typeSection);

  const importSection = new ByteWriter();
  importSection.u32(parts.functions.length + (parts.memoryImport ? 1 : 0) + (parts.tableImport ? 1 : 0));
  if (parts.memoryImport) {
    importSection.name(parts.memoryImport.module);
    importSection.name(parts.memoryImport.name);
    importSection.byte(IMPORT_MEMORY);
    importSection.byte(0x00); // limits: minimum only
    importSection.u32(parts.memoryImport.pages);
  }
  if (parts.tableImport) {
    importSection.name(parts.tableImport.module);
    importSection.name(parts.tableImport.name);
    importSection.byte(IMPORT_TABLE);
    importSection.byte(FUNCREF);
    importSection.byte(0x00); // limits: minimum only
    importSection.u32(0);
  }
  parts.functions.forEach((f, i) => {
    importSection.name(f.module);
    importSection.name(f.name);
    importSection.byte(IMPORT_FUNC);
    importSection.u32(importTypes[i]);
  });
  section(out, SECTION_IMPORT, importSection);

  const functionSection = new ByteWriter();
  functionSection.u32(ownTypes.length);
  for (const t of ownTypes) functionSection.u32(t);
  section(out, SECTION_FUNCTION, functionSection);

  const exportSection = new ByteWriter();
  exportSection.u32(parts.exports.length);
  parts.exports.forEach((e, i) => {
    exportSection.name(e.name);
    exportSection.byte(EXPORT_FUNC);
    exportSection.u32(parts.functions.length + i);
  });
  section(out, SECTION_EXPORT, exportSection);

  // Branch hints, before the code they describe.
  const encoded = parts.exports.map((e) => e.body.encode());
  const hinted = encoded.map(({ hints }, i) => ({ index: parts.functions.length + i, hints })).filter((h) => h.hints.length > 0);
  if (hinted.length > 0) {
    const hintSection = new ByteWriter();
    hintSection.name("metadata.code.branch_hint");
    hintSection.u32(hinted.length);
    for (const { index, hints } of hinted) {
      hintSection.u32(index);
      hintSection.u32(hints.length);
      for (const [offset, likely] of hints) {
        hintSection.u32(offset);
        hintSection.u32(1);
        hintSection.byte(likely ? 1 : 0);
      }
    }
    section(out, SECTION_CUSTOM, hintSection);
  }

  const codeSection = new ByteWriter();
  codeSection.u32(parts.exports.length);
  for (const { body } of encoded) codeSection.sized(body);
  section(out, SECTION_CODE, codeSection);

  return out.finish();
}

function section(out: ByteWriter, id: number, content: ByteWriter): void {
  out.byte(id);
  out.sized(content);
}
