/**
 * What translated blocks call besides the CPU's own methods: the interpreter's handlers and the
 * alu.ts kernels (so their semantics stay in one place), and flag materialisation from the lazy
 * record a block keeps in locals.
 */
import type { CodeBlock, TranslatedBlockRun } from "./code-block.js";
import type { Cpu } from "./cpu.js";
import { divideAccumulator, mulHighSigned, mulHighUnsigned, multiplySigned, shiftRotate } from "./alu.js";
import { Vector } from "./fault.js";
import { lazyCarry, LazyOp, materializeFlags, PARITY_EVEN } from "./flags.js";
import { HANDLERS } from "./opcode-table.js";

export const JIT_RUNTIME = {
  handlers: HANDLERS,
  /** Thrown through a translation's catch to prime it (see primeCatch). */
  priming: new Error("priming a translation"),
  /**
   * Runs a translation's catch once without effect (a negative limit throws `priming` before
   * anything runs), at the end of its first calls (see the dispatcher), when V8 keeps type
   * feedback for it. A catch that has never run has no feedback, so the first fault after V8
   * optimised the translation would throw that code away.
   */
  primeCatch(cpu: Cpu, run: TranslatedBlockRun): void {
    const instructionStart = cpu.instructionStart;
    try {
      run(-1, 0);
    } catch (e) {
      if (e !== JIT_RUNTIME.priming) throw e;
    }
    cpu.instructionStart = instructionStart;
  },
  /** The region block a translation left from, written before every return (the dispatcher links successors to it). */
  exit: { block: null as CodeBlock | null },
  parity: PARITY_EVEN,
  multiplySigned,
  shiftRotate,
  mulHighSigned,
  mulHighUnsigned,
  divideAccumulator,
  /** EFLAGS for a lazy record held in a block's locals (operands as int32, converted here). */
  materialize(cpu: Cpu, op: number, bits: number, a: number, b: number, result: number, carryIn: number, eflags: number): number {
    storeFlags(cpu, op, bits, a, b, result, carryIn, eflags);
    return materializeFlags(cpu);
  },
  /** CF (0 or 1) of a lazy record held in a block's locals, for INC/DEC/ADC/SBB after an unknown producer. */
  carry: lazyCarry,
  /** OF (0 or 1) of a lazy record held in a block's locals, without folding the other flags. */
  overflow(op: number, bits: number, a: number, b: number, result: number, eflags: number): number {
    const top = bits - 1;
    switch (op) {
      case LazyOp.NONE: return (eflags >>> 11) & 1;
      case LazyOp.ADD: case LazyOp.ADC: case LazyOp.INC: return (((a ^ result) & (b ^ result)) >>> top) & 1;
      case LazyOp.SUB: case LazyOp.SBB: case LazyOp.DEC: return (((a ^ b) & (a ^ result)) >>> top) & 1;
      default: return 0;
    }
  },
  /**
   * A translation's one way out (besides faults): hands the written registers (`written`: a bit
   * per register) and the flag record back unless a handler already left the state in the CPU
   * (`how` 1, or 2 for an exit after which no block may be chained), sets EIP, retires the
   * instructions (`done` had retired before the leaving block, `synced` of them already counted
   * in cpu.instructionsRetired, `retired` of the leaving block), names the block for the
   * dispatcher's links and returns the count for the run loop, complemented when unchainable.
   * `how` 3 is an exit like 0 towards a block of the region's page that was not decoded when the
   * region was made. Kept out of the generated code, so that one call site serves every exit.
   */
  leave(cpu: Cpu, head: CodeBlock, block: CodeBlock, eip: number, retired: number, how: number, done: number, synced: number, written: number,
    r0: number, r1: number, r2: number, r3: number, r4: number, r5: number, r6: number, r7: number,
    fop: number, fbits: number, fa: number, fb: number, fr: number, fc: number, efl: number): number {
    if (how === 3) {
      how = 0;
      regionMiss(cpu, head);
    }
    if (how === 0) {
      writeRegisters(cpu, written, r0, r1, r2, r3, r4, r5, r6, r7);
      if (fop !== -1) storeFlags(cpu, fop, fbits, fa, fb, fr, fc, efl);
      cpu.eip = eip;
    }
    // Blocks passed inside the function retired into `done` only; `synced` of them are counted.
    cpu.instructionsRetired += retired + done - synced;
    JIT_RUNTIME.exit.block = block;
    done += retired;
    return how === 2 ? ~done : done;
  },
  /**
   * A fault inside a translation: the state of the instruction that faulted (`index`, whose
   * block starts at `first`) goes back to the CPU unless a handler had it (`live` false), and the
   * instructions of its block before it retire.
   */
  fault(cpu: Cpu, live: boolean, written: number, start: number, retired: number,
    r0: number, r1: number, r2: number, r3: number, r4: number, r5: number, r6: number, r7: number,
    fop: number, fbits: number, fa: number, fb: number, fr: number, fc: number, efl: number): void {
    if (live) {
      writeRegisters(cpu, written, r0, r1, r2, r3, r4, r5, r6, r7);
      if (fop !== -1) storeFlags(cpu, fop, fbits, fa, fb, fr, fc, efl);
    }
    cpu.instructionStart = start;
    cpu.instructionsRetired += retired;
  },
  /** Discards the translation entered at `head` (one of its blocks went stale). */
  dropTranslation(cpu: Cpu, head: CodeBlock): void {
    cpu.translations.discard(head);
    cpu.translations.droppedStale++;
  },
  raiseGp(cpu: Cpu): never {
    return cpu.raise(Vector.GP, 0);
  },
};

export type JitRuntime = typeof JIT_RUNTIME;

/**
 * Gives the type feedback of the shared exit code the translations inline unsigned flag operands
 * beyond the int32 range from the start (enough calls for V8 to keep feedback at all), before any
 * translation is optimised: optimised code made before such a value fails at every call after.
 * The CPU's fields themselves get their general representation in its constructor.
 */
export function primeExitFeedback(cpu: Cpu): void {
  const { lazyOp, lazyBits, lazyA, lazyB, lazyResult, lazyCarryIn, eflags } = cpu;
  for (let i = 0; i < 300; i++) storeFlags(cpu, lazyOp, lazyBits, -1, -1, -1, lazyCarryIn, eflags);
  storeFlags(cpu, lazyOp, lazyBits, lazyA, lazyB, lazyResult, lazyCarryIn, eflags);
}

/** Exits of a region towards blocks decoded since, before it is made again to take them in. */
const REGROW_AFTER_MISSES = 16;
/** Times one entry block's region is remade that way (the page may keep changing). */
const MAX_REGROWTHS = 4;
const regrowths = new WeakMap<CodeBlock, number>();

/**
 * Counts an exit of the region entered at `head` towards a block of its page it lacks; after
 * enough, drops the translation so the next entry translates the region again, with the block.
 * Translated blocks count nothing in `executions`, so the misses are counted there.
 */
function regionMiss(cpu: Cpu, head: CodeBlock): void {
  if (head.translation === null) return;
  const threshold = cpu.jit.hotThreshold;
  if (head.executions <= threshold) head.executions = threshold + 1;
  if (++head.executions <= threshold + 1 + REGROW_AFTER_MISSES) return;
  const grown = regrowths.get(head) ?? 0;
  if (grown >= MAX_REGROWTHS) return;
  regrowths.set(head, grown + 1);
  cpu.translations.discard(head);
  cpu.translations.regionsRegrown++;
}

function writeRegisters(cpu: Cpu, written: number, r0: number, r1: number, r2: number, r3: number, r4: number, r5: number, r6: number, r7: number): void {
  const regs = cpu.regs;
  if ((written & 1) !== 0) regs[0] = r0;
  if ((written & 2) !== 0) regs[1] = r1;
  if ((written & 4) !== 0) regs[2] = r2;
  if ((written & 8) !== 0) regs[3] = r3;
  if ((written & 16) !== 0) regs[4] = r4;
  if ((written & 32) !== 0) regs[5] = r5;
  if ((written & 64) !== 0) regs[6] = r6;
  if ((written & 128) !== 0) regs[7] = r7;
}

/** A flag record held as int32 values (a translation's locals, the WebAssembly tier's record) into the CPU's fields. */
export function storeFlags(cpu: Cpu, fop: number, fbits: number, fa: number, fb: number, fr: number, fc: number, efl: number): void {
  cpu.lazyOp = fop;
  cpu.lazyBits = fbits;
  cpu.lazyA = fa >>> 0;
  cpu.lazyB = fb >>> 0;
  cpu.lazyResult = fr >>> 0;
  cpu.lazyCarryIn = fc;
  cpu.eflags = efl;
}
