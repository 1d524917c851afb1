/**
 * The interpreter's door into translated code. A block that has a translation for the current CPU
 * mode runs it, then control follows the blocks' successor links from translation to translation
 * without returning to the run loop, for as long as nothing the run loop must see can have
 * happened: no interrupt shadow or NMI, an exit that kept CS and the mode, and, while maskable
 * interrupts are enabled, a bounded number of instructions so the interrupt controller is polled.
 * A block without a translation counts its runs and is translated once it is hot.
 */
import type { CodeBlock } from "./code-block.js";
import type { Cpu } from "./cpu.js";
import { Flag } from "./constants.js";
import { currentJitMode } from "./jit-mode.js";
import { JIT_RUNTIME } from "./jit-runtime.js";
import { translateBlock } from "./jit-translator.js";

/** With maskable interrupts enabled, translated code returns to the run loop after about this many instructions. */
const INTERRUPT_POLL_INSTRUCTIONS = 1024;

/**
 * The last block translated code ran, when its exit allows the run loop to link the next block
 * to it; null after an exit through an instruction that may have changed CS or the mode.
 */
export const translatedExit: { block: CodeBlock | null } = { block: null };

/**
 * Runs `block` translated, then its linked successors, at most `limit` instructions (at least the
 * block's length); returns the instructions retired, or -1 when the block is still cold and must
 * be interpreted.
 */
export function runTranslated(cpu: Cpu, block: CodeBlock, limit: number): number {
  let translation = block.translation;
  let mode = currentJitMode(cpu);
  if (translation === null || translation.mode !== mode) {
    if (++block.executions <= cpu.jit.hotThreshold) return -1;
    translation = translateBlock(cpu, block, mode);
  }
  if (limit > INTERRUPT_POLL_INSTRUCTIONS && (cpu.eflags & Flag.IF) !== 0 && cpu.interruptSource !== null) limit = INTERRUPT_POLL_INSTRUCTIONS;
  let ran = 0;
  const exit = JIT_RUNTIME.exit;
  for (;;) {
    const count = translation.run(limit - ran);
    // A region translation may leave from any of its blocks: successor links hang off that one.
    block = exit.block!;
    if (count < 0) {
      translatedExit.block = null;
      cpu.translations.translatedInstructions += ran + ~count;
      return ran + ~count;
    }
    ran += count;
    if (!block.valid || cpu.interruptShadow !== 0 || cpu.nmiPending || block.linkEpoch !== cpu.codeLinkEpoch) break;
    const eip = cpu.eip;
    const next = block.firstSuccessorEip === eip ? block.firstSuccessor : block.secondSuccessorEip === eip ? block.secondSuccessor : null;
    if (next === null || next.translation === null || !next.valid || limit - ran < next.instructions.length) break;
    if (translation.loadsSegments) mode = currentJitMode(cpu);
    if (next.translation.mode !== mode) break;
    block = next;
    translation = next.translation;
    cpu.instructionStart = eip;
  }
  translatedExit.block = block.valid ? block : null;
  cpu.translations.translatedInstructions += ran;
  return ran;
}
