/**
 * The interpreter's door into translated code. A block that has a translation for the current CPU
 * mode runs it, then control follows the blocks' successor links from translation to translation
 * without returning to the run loop, for as long as nothing the run loop must see can have
 * happened: no interrupt shadow, NMI or stall to add to the clock, an exit that kept CS and the
 * mode, and, while maskable interrupts are enabled, a bounded number of instructions so the
 * interrupt controller is polled.
 * A block without a translation of its own that belongs to a live region translation is run there
 * (the region had been left at it); any other block counts its runs and is translated once hot.
 */
import { linkedSuccessor, lookUpSuccessor } from "./block-lookup.js";
import type { BlockTranslation, CodeBlock } from "./code-block.js";
import type { Cpu } from "./cpu.js";
import { Flag } from "./constants.js";
import { currentJitMode } from "./jit-mode.js";
import { JIT_RUNTIME } from "./jit-runtime.js";
import { hotThresholdAfter } from "./jit-settings.js";
import { translateBlock } from "./jit-translator.js";
import { wasmTierOf } from "./wasm/wasm-tier.js";

/**
 * With maskable interrupts enabled, translated code returns to the run loop after about this many
 * instructions: 4 µs of guest time, far below any timer's period, while every return costs a pass
 * through the run loop (1,024 made a Debian boot 0.4 s slower).
 */
const INTERRUPT_POLL_INSTRUCTIONS = 4096;

/**
 * Most instructions one call of a translation may run. A region that loops inside one long call
 * is optimised by V8 on the way (on-stack replacement), and after any later deoptimisation it is
 * entered through that on-stack code again at every call, which runs it far slower (the sieve
 * bench: 1,130 against 1,900 MIPS). Calls this short get the function optimised as a whole, and a
 * region left here is entered again where it left off.
 */
const MAX_INSTRUCTIONS_PER_CALL = 16384;

/**
 * A young translation's calls are shorter still: V8 first runs a function in its interpreter,
 * where a loop of 16k guest instructions already asks for on-stack replacement (compiled besides
 * the whole function, and again after a deoptimisation: the sieve compiled its regions six times,
 * 143 ms of compiler time). The first calls also show V8 the function's exit many times before it
 * is optimised, and at the end of the first stage its catch is run once (JIT_RUNTIME.primeCatch).
 */
const INFANT_CALLS = 256;
const INFANT_INSTRUCTIONS = 64;
const YOUNG_CALLS = 4096;
const YOUNG_INSTRUCTIONS = 1024;

/** Instructions the next call of `translation` may run at most, counting the call. */
function callLimit(cpu: Cpu, translation: BlockTranslation): number {
  const calls = ++translation.calls;
  if (calls > YOUNG_CALLS) return MAX_INSTRUCTIONS_PER_CALL;
  if (calls === INFANT_CALLS) JIT_RUNTIME.primeCatch(cpu, translation.run);
  return calls <= INFANT_CALLS ? INFANT_INSTRUCTIONS : YOUNG_INSTRUCTIONS;
}

/**
 * The last block translated code ran, when its exit allows the run loop to link the next block
 * to it; null after an exit through an instruction that may have changed CS or the mode.
 */
export const translatedExit: { block: CodeBlock | null } = { block: null };

/**
 * The live region translation that holds `block` (not as its entry) for CPU mode `mode`, when the
 * CPU's flag record is what the code there expects on entry; else null.
 */
function regionAt(cpu: Cpu, block: CodeBlock, mode: number): BlockTranslation | null {
  const region = block.region;
  if (region === null || region.block.translation !== region || region.mode !== mode || !region.enterableAt(cpu, block.regionIndex)) return null;
  return region;
}

/**
 * Runs `block` translated (its own translation, or a region's from it), then its linked
 * successors, at most `limit` instructions (at least the block's length); returns the
 * instructions retired, or -1 when the block is still cold and must be interpreted.
 */
export function runTranslated(cpu: Cpu, block: CodeBlock, limit: number): number {
  let translation = block.translation;
  let mode = currentJitMode(cpu);
  let entry = 0;
  if (translation === null || translation.mode !== mode) {
    const region = regionAt(cpu, block, mode);
    if (region !== null) {
      translation = region;
      entry = block.regionIndex;
      cpu.translations.regionReentries++;
    } else {
      if ((block.executions += block.heat) <= hotThresholdAfter(cpu.jit, cpu.translations.translated)) return -1;
      translation = translateBlock(cpu, block, mode);
    }
  }
  if (limit > INTERRUPT_POLL_INSTRUCTIONS && (cpu.eflags & Flag.IF) !== 0 && cpu.interruptSource !== null) limit = INTERRUPT_POLL_INSTRUCTIONS;
  let ran = 0;
  const exit = JIT_RUNTIME.exit;
  for (;;) {
    const left = limit - ran;
    const most = translation.calls > YOUNG_CALLS ? MAX_INSTRUCTIONS_PER_CALL : callLimit(cpu, translation);
    const count = translation.run(left > most ? most : left, entry);
    // A region translation may leave from any of its blocks: successor links hang off that one.
    block = exit.block!;
    if (count < 0) {
      translatedExit.block = null;
      cpu.translations.translatedInstructions += ran + ~count;
      return ran + ~count;
    }
    ran += count;
    if (!block.valid || cpu.interruptShadow !== 0 || cpu.nmiPending || cpu.stallPending !== 0) break;
    const eip = cpu.eip;
    let next = linkedSuccessor(cpu, block, eip);
    if (next === null) {
      // Looked up and linked here rather than in the run loop (a RET back to many call sites has
      // its slots taken by others), so that the chain table learns the way too; a pending
      // interrupt comes before that fetch (the run loop's).
      if ((cpu.eflags & Flag.IF) !== 0 && cpu.interruptSource !== null && cpu.interruptSource.hasPending()) break;
      next = lookUpSuccessor(cpu, block, eip);
      if (next === null) break;
    }
    if (!next.valid || limit - ran < next.instructions.length) break;
    if (translation.loadsSegments) mode = currentJitMode(cpu);
    let nextTranslation = next.translation;
    entry = 0;
    if (nextTranslation === null || nextTranslation.mode !== mode) {
      nextTranslation = regionAt(cpu, next, mode);
      if (nextTranslation === null) break;
      entry = next.regionIndex;
      cpu.translations.regionReentries++;
    }
    // From one WebAssembly region to another: the chain can take this step itself from now on.
    if (translation.chainSlot >= 0 && nextTranslation.chainSlot >= 0) {
      wasmTierOf(cpu).link(eip, cpu.codeLinkEpoch, mode, nextTranslation.chainSlot, entry, next.instructions.length);
    }
    block = next;
    translation = nextTranslation;
    cpu.instructionStart = eip;
  }
  translatedExit.block = block.valid ? block : null;
  cpu.translations.translatedInstructions += ran;
  return ran;
}
