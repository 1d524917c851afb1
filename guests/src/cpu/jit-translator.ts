/**
 * Translates a decoded block into a JavaScript function (`new Function`) specialised for one CPU
 * mode: native code from jit-instructions.ts where it exists, the interpreter's handler for every
 * other instruction. The translation is attached to the block and registered in the CPU's bounded
 * translation cache.
 */
import { BlockTranslation, type CodeBlock, type TranslatedBlockRun } from "./code-block.js";
import type { Cpu } from "./cpu.js";
import type { DecodedInstruction } from "./instruction.js";
import { BlockEmitter } from "./jit-emitter.js";
import { translateInstruction, Translated } from "./jit-instructions.js";
import { JIT_RUNTIME } from "./jit-runtime.js";
import { TERMINATES } from "./opcode-table.js";

/** Instructions that load a segment register without ending a block: the mode may change after them. */
const LOADS_SEGMENT = new Set([0x07, 0x17, 0x1f, 0x1a1, 0x1a9, 0xc4, 0xc5, 0x1b2, 0x1b4, 0x1b5]);

/** The constant target of a relative jump, conditional jump or loop instruction, else null. */
function branchTarget(insn: DecodedInstruction): number | null {
  const op = insn.opcode;
  const relative = (op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f) || (op >= 0xe0 && op <= 0xe3) || op === 0xe9 || op === 0xeb;
  if (!relative) return null;
  const target = insn.nextEip + insn.imm;
  return insn.opSize32 ? target | 0 : target & 0xffff;
}

type BlockFactory = (cpu: Cpu, block: CodeBlock, insns: CodeBlock["instructions"], starts: Int32Array, rt: typeof JIT_RUNTIME) => TranslatedBlockRun;

/** The source of the factory that builds the block's run function (exposed for tests and debugging). */
export function blockSource(block: CodeBlock, mode: number): string {
  const e = new BlockEmitter(block, mode, block.instructions.some((insn) => branchTarget(insn) === block.startEip));
  const list = block.instructions;
  let exited = false;
  for (let i = 0; i < list.length; i++) {
    const insn = list[i];
    e.insn = insn;
    e.index = i;
    e.wroteMemory = false;
    e.emit(`pc = ${i};`);
    const result = translateInstruction(e);
    if (result === Translated.NOT_TRANSLATED) {
      e.callHandler();
      const leaves = TERMINATES[insn.opcode] !== 0 || LOADS_SEGMENT.has(insn.opcode);
      e.exitAfterHandler(leaves, TERMINATES[insn.opcode] === 2);
      exited = leaves;
    } else if (result === Translated.EXITS) {
      exited = true;
    } else {
      if (e.wroteMemory) e.exitIfInvalidated();
      exited = false;
    }
    if (exited) break;
  }
  if (!exited) e.exitTo(list[list.length - 1].nextEip);
  return e.finish();
}

export function translateBlock(cpu: Cpu, block: CodeBlock, mode: number): BlockTranslation {
  const started = performance.now();
  const factory = new Function("cpu", "blk", "insns", "starts", "rt", blockSource(block, mode)) as BlockFactory;
  const starts = new Int32Array(block.instructions.length);
  starts[0] = block.startEip;
  for (let i = 1; i < starts.length; i++) starts[i] = block.instructions[i - 1].nextEip;
  const translation = new BlockTranslation(block, mode, factory(cpu, block, block.instructions, starts, JIT_RUNTIME),
    block.instructions.some((insn) => LOADS_SEGMENT.has(insn.opcode)));
  cpu.translations.add(translation, cpu.jit.maxTranslatedBlocks);
  cpu.translations.compileSeconds += (performance.now() - started) / 1000;
  return translation;
}
