/**
 * What translated blocks call besides the CPU's own methods: the interpreter's handlers and the
 * alu.ts kernels (so their semantics stay in one place), and flag materialisation from the lazy
 * record a block keeps in locals.
 */
import type { Cpu } from "./cpu.js";
import { multiplySigned, shiftRotate } from "./alu.js";
import { Vector } from "./fault.js";
import { lazyCarry, materializeFlags, PARITY_EVEN } from "./flags.js";
import { HANDLERS } from "./opcode-table.js";

export const JIT_RUNTIME = {
  handlers: HANDLERS,
  parity: PARITY_EVEN,
  multiplySigned,
  shiftRotate,
  /** EFLAGS for a lazy record held in a block's locals (operands as int32, converted here). */
  materialize(cpu: Cpu, op: number, bits: number, a: number, b: number, result: number, carryIn: number, eflags: number): number {
    cpu.lazyOp = op;
    cpu.lazyBits = bits;
    cpu.lazyA = a >>> 0;
    cpu.lazyB = b >>> 0;
    cpu.lazyResult = result >>> 0;
    cpu.lazyCarryIn = carryIn;
    cpu.eflags = eflags;
    return materializeFlags(cpu);
  },
  /** CF (0 or 1) of a lazy record held in a block's locals, for INC/DEC/ADC/SBB after an unknown producer. */
  carry: lazyCarry,
  raiseGp(cpu: Cpu): never {
    return cpu.raise(Vector.GP, 0);
  },
};

export type JitRuntime = typeof JIT_RUNTIME;
