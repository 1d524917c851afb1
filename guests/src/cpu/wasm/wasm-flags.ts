/**
 * The flag materialiser: a lazy flag record folded into EFLAGS, for flag reads whose producer the
 * emitter cannot know (control came from another block). One copy per CPU, in the tier's own
 * module (wasm-tier.ts), which region code calls through its table of helpers.
 */
import { ARITH_FLAGS } from "../constants.js";
import { LazyOp } from "../flags.js";
import { FunctionBuilder, Op, ValueType } from "./wasm-module.js";

/**
 * materialize(op, bits, a, b, result, carryIn, eflags) → EFLAGS with the six arithmetic flags of
 * the lazy record folded in, as flags.ts materializeFlags computes them.
 */
export function materializer(): FunctionBuilder {
  const I32 = ValueType.I32;
  const f = new FunctionBuilder([I32, I32, I32, I32, I32, I32, I32], [I32]);
  const OPC = 0, BITS = 1, A = 2, B = 3, R = 4, C = 5, E = 6;
  const mask = f.local(), cf = f.local(), of = f.local(), top = f.local();
  const is = (value: number) => f.get(OPC).i32(value).op(Op.I32_EQ);
  f.get(OPC).op(Op.I32_EQZ).if().get(E).op(Op.RETURN).end();
  f.get(BITS).i32(1).op(Op.I32_SUB).set(top);
  f.i32(-1).i32(1).get(BITS).op(Op.I32_SHL).i32(1).op(Op.I32_SUB).get(BITS).i32(32).op(Op.I32_EQ).op(Op.SELECT).set(mask);
  f.get(A).get(mask).op(Op.I32_AND).set(A);
  f.get(B).get(mask).op(Op.I32_AND).set(B);
  f.get(R).get(mask).op(Op.I32_AND).set(R);
  // CF
  f.get(E).i32(1).op(Op.I32_AND).set(cf); // INC, DEC keep it
  is(LazyOp.ADD).if().get(R).get(A).op(Op.I32_LT_U).set(cf).end();
  is(2).if().get(R).get(A).op(Op.I32_LE_U).get(R).get(A).op(Op.I32_LT_U).get(C).op(Op.SELECT).set(cf).end();
  is(LazyOp.SUB).if().get(A).get(B).op(Op.I32_LT_U).set(cf).end();
  is(4).if().get(A).get(B).op(Op.I32_LE_U).get(A).get(B).op(Op.I32_LT_U).get(C).op(Op.SELECT).set(cf).end();
  is(LazyOp.LOGIC).if().i32(0).set(cf).end();
  // OF
  f.i32(0).set(of);
  for (const op of [LazyOp.ADD, 2, LazyOp.INC]) is(op).if().get(A).get(R).op(Op.I32_XOR).get(B).get(R).op(Op.I32_XOR).op(Op.I32_AND).get(top).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(of).end();
  for (const op of [LazyOp.SUB, 4, LazyOp.DEC]) is(op).if().get(A).get(B).op(Op.I32_XOR).get(A).get(R).op(Op.I32_XOR).op(Op.I32_AND).get(top).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(of).end();
  // EFLAGS
  f.get(E).i32(~ARITH_FLAGS).op(Op.I32_AND);
  f.get(cf).op(Op.I32_OR);
  f.get(R).i32(0xff).op(Op.I32_AND).op(Op.I32_POPCNT).i32(1).op(Op.I32_AND).op(Op.I32_EQZ).i32(2).op(Op.I32_SHL).op(Op.I32_OR);
  // AF: none after a logical operation.
  f.i32(0).get(A).get(B).op(Op.I32_XOR).get(R).op(Op.I32_XOR).i32(0x10).op(Op.I32_AND);
  is(LazyOp.LOGIC);
  f.op(Op.SELECT).op(Op.I32_OR);
  f.get(R).op(Op.I32_EQZ).i32(6).op(Op.I32_SHL).op(Op.I32_OR);
  f.get(R).get(top).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).i32(7).op(Op.I32_SHL).op(Op.I32_OR);
  f.get(of).i32(11).op(Op.I32_SHL).op(Op.I32_OR);
  return f;
}
