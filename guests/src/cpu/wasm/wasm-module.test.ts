import { describe, expect, it } from "vitest";
import { ByteWriter, encodeModule, FunctionBuilder, Op, ValueType } from "./wasm-module.js";

const I32 = ValueType.I32;
const I64 = ValueType.I64;

describe("WebAssembly module writer", () => {
  it("encodes LEB128 as the specification's examples do", () => {
    const bytes = (write: (w: ByteWriter) => void) => {
      const w = new ByteWriter();
      write(w);
      return [...w.finish()];
    };
    expect(bytes((w) => w.u32(624485))).toEqual([0xe5, 0x8e, 0x26]);
    expect(bytes((w) => w.u32(0xffffffff))).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(bytes((w) => w.s32(-123456))).toEqual([0xc0, 0xbb, 0x78]);
    expect(bytes((w) => w.s32(63))).toEqual([0x3f]);
    expect(bytes((w) => w.s32(64))).toEqual([0xc0, 0x00]);
    expect(bytes((w) => w.s32(-64))).toEqual([0x40]);
    expect(bytes((w) => w.s32(-65))).toEqual([0xbf, 0x7f]);
    expect(bytes((w) => w.s64(-1n))).toEqual([0x7f]);
    expect(bytes((w) => w.s64(0x7fffffffffffffffn))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
  });

  it("builds a module that V8 validates and runs: memory, imports, locals, control flow, 64-bit products", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const seen: number[] = [];
    // sum(n): adds the words at 0..4n-4, reports each through the import, and returns the sum.
    const sum = new FunctionBuilder([I32], [I32]);
    const total = sum.local();
    const index = sum.local();
    sum.block().loop();
    sum.get(index).get(0).op(Op.I32_GE_U).brIf(1);
    sum.get(index).i32(2).op(Op.I32_SHL).memory(Op.I32_LOAD).call(0);
    sum.get(total).get(index).i32(2).op(Op.I32_SHL).memory(Op.I32_LOAD).op(Op.I32_ADD).set(total);
    sum.get(index).i32(1).op(Op.I32_ADD).set(index);
    sum.br(0).end().end();
    sum.get(total);
    // high(a, b): the high word of the unsigned 64-bit product, stored at 0x100 (unaligned at 0x101 too).
    const high = new FunctionBuilder([I32, I32], [I32]);
    const product = high.local(I64);
    high.get(0).op(Op.I64_EXTEND_I32_U).get(1).op(Op.I64_EXTEND_I32_U).op(Op.I64_MUL).set(product);
    high.i32(0x101).get(product).i64(32n).op(Op.I64_SHR_U).op(Op.I32_WRAP_I64).memory(Op.I32_STORE);
    high.i32(0x100).memory(Op.I32_LOAD, 1);
    const bytes = encodeModule({
      memoryImport: { module: "env", name: "memory", pages: 1 },
      functions: [{ module: "env", name: "report", params: [I32], results: [] }],
      exports: [{ name: "sum", body: sum }, { name: "high", body: high }],
    });
    expect(WebAssembly.validate(bytes)).toBe(true);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, report: (v: number) => void seen.push(v) } });
    new Int32Array(memory.buffer, 0, 4).set([5, 7, -2, 100]);
    const exports = instance.exports as { sum: (n: number) => number; high: (a: number, b: number) => number };
    expect(exports.sum(3)).toBe(10);
    expect(seen).toEqual([5, 7, -2]);
    expect(exports.high(0xffffffff, 0xffffffff) >>> 0).toBe(0xfffffffe);
    expect(new DataView(memory.buffer).getUint32(0x101, true)).toBe(0xfffffffe);
  });

  it("imports a function table and calls through it by signature (call_indirect)", () => {
    const table = new WebAssembly.Table({ element: "anyfunc", initial: 2 });
    // Two callees of type (i32, i32) -> i32 from one module, and a caller in another that picks by index.
    const add = new FunctionBuilder([I32, I32], [I32]);
    add.get(0).get(1).op(Op.I32_ADD);
    const sub = new FunctionBuilder([I32, I32], [I32]);
    sub.get(0).get(1).op(Op.I32_SUB);
    const callees = new WebAssembly.Instance(new WebAssembly.Module(encodeModule({ functions: [], exports: [{ name: "add", body: add }, { name: "sub", body: sub }] })));
    table.set(0, callees.exports.add);
    table.set(1, callees.exports.sub);
    const pick = new FunctionBuilder([I32, I32, I32], [I32]);
    pick.get(1).get(2).get(0).callIndirect(0);
    const bytes = encodeModule({
      tableImport: { module: "env", name: "table" },
      indirectTypes: [{ params: [I32, I32], results: [I32] }],
      functions: [],
      exports: [{ name: "pick", body: pick }],
    });
    expect(WebAssembly.validate(bytes)).toBe(true);
    const caller = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { table } });
    const run = caller.exports.pick as (index: number, a: number, b: number) => number;
    expect(run(0, 7, 5)).toBe(12);
    expect(run(1, 7, 5)).toBe(2);
    // An empty slot, one past the end: the call traps instead of running anything.
    table.set(1, null);
    expect(() => run(1, 7, 5)).toThrow(WebAssembly.RuntimeError);
    expect(() => run(2, 7, 5)).toThrow(WebAssembly.RuntimeError);
  });

  it("writes branch hints in a custom section before the code, at the hinted instruction's offset in the body", () => {
    // abs(x): if (x < 0) (hinted unlikely) x = -x.
    const abs = new FunctionBuilder([I32], [I32]);
    abs.local();
    abs.get(0).i32(0).op(Op.I32_LT_S);
    const ifAt = abs.code.length;
    abs.hint(false).if();
    abs.i32(0).get(0).op(Op.I32_SUB).set(0);
    abs.end();
    abs.get(0);
    const bytes = encodeModule({ functions: [{ module: "env", name: "unused", params: [], results: [] }], exports: [{ name: "abs", body: abs }] });
    expect(WebAssembly.validate(bytes)).toBe(true);
    const run = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { unused: () => {} } }).exports.abs as (x: number) => number;
    expect(run(-5)).toBe(5);
    expect(run(7)).toBe(7);
    // The sections in order: the custom one (0) before the code (10).
    const ids: number[] = [];
    for (let p = 8; p < bytes.length;) {
      ids.push(bytes[p++]);
      let size = 0;
      for (let shift = 0; ; shift += 7) {
        const b = bytes[p++];
        size |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
      p += size;
    }
    expect(ids).toEqual([1, 2, 3, 7, 0, 10]);
    const name = new TextEncoder().encode("metadata.code.branch_hint");
    const at = Buffer.from(bytes).indexOf(Buffer.from(name));
    expect(at).toBeGreaterThan(0);
    // One function (index 1, after the import) with one hint: the body's local declarations (one
    // run of one i32: 3 bytes) come before the code.
    expect([...bytes.subarray(at + name.length, at + name.length + 6)]).toEqual([1, 1, 1, 3 + ifAt, 1, 0]);
  });

  it("rejects nothing it wrote and reports a body that does not type-check", () => {
    const bad = new FunctionBuilder([], [I32]);
    bad.op(Op.I32_ADD);
    const bytes = encodeModule({ functions: [], exports: [{ name: "f", body: bad }] });
    expect(WebAssembly.validate(bytes)).toBe(false);
    expect(() => new WebAssembly.Module(bytes)).toThrow(WebAssembly.CompileError);
  });
});
