/**
 * Translates a hot region (jit-translator.ts collectRegion) into one WebAssembly function instead
 * of JavaScript. V8 compiles such a function in about a millisecond and runs it at full speed
 * from its first call, where a JavaScript translation runs in V8's interpreter for its first few
 * thousand calls and then costs milliseconds of optimising compiler time; so a region here takes
 * in the page's decoded blocks whether or not they loop, and control passes between them inside
 * the function (a switch on the block index) without the dispatcher.
 *
 * Scope: flat 32-bit protected-mode code (ES, CS, SS, DS flat, a 32-bit stack); other code stays
 * with the JavaScript translator. Registers and the lazy flag record live in wasm locals; memory
 * operands go straight to RAM through the TLB, all in the one GuestMemory, and through the
 * processor's own access path otherwise (TLB miss, device memory, a page-crossing access, a store
 * into a code page). Instructions without native code here run through their interpreter handler,
 * called from the wasm code with the state handed over and taken back.
 *
 * Precise state: every instruction does everything that can fault before it changes a local (a
 * read-modify-write of memory that is not plain writable RAM runs through its handler), so a fault
 * in the access path leaves through one exit that hands back the locals as they were at the
 * instruction's start. Flags are recorded with the same LazyOp records as the interpreter's, so
 * the rest of the processor cannot tell which tier ran.
 */
import { BlockTranslation, type CodeBlock } from "../code-block.js";
import type { Cpu } from "../cpu.js";
import { flagsDeadAfter } from "../flag-liveness.js";
import { JitMode } from "../jit-mode.js";
import { CS, DS, ES, HELPER_TYPES, NeedsHandler, SS, Unsupported, WasmRegionEmitter } from "./wasm-emitter.js";
import { RegionGlue } from "./wasm-glue.js";
import { translateInstruction } from "./wasm-instructions.js";
import { encodeModule } from "./wasm-module.js";
import { type RegionCode, wasmTierOf } from "./wasm-tier.js";

/** Whether code in `mode` is what this tier handles: flat ES/CS/SS/DS and a 32-bit stack. */
function supportedMode(mode: number): boolean {
  const flat = (1 << ES) | (1 << CS) | (1 << SS) | (1 << DS);
  return (mode & flat) === flat && (mode & JitMode.STACK32) !== 0 && (mode & JitMode.ALIGNMENT_CHECK) === 0;
}

/**
 * A WebAssembly translation of the region `blocks` (its entry first, see jit-translator.ts
 * collectRegion) for `mode`, or null when the region is outside this tier's scope (the JavaScript
 * translator takes it then).
 */
export function translateRegionToWasm(cpu: Cpu, region: readonly CodeBlock[], mode: number): BlockTranslation | null {
  const head = region[0];
  // The region's second copy of its head (for the JavaScript emitter's flag analysis) is not needed here.
  const blocks = region.length > 1 && region[region.length - 1] === head ? region.slice(0, -1) : region;
  if (!supportedMode(mode)) return null;
  for (const block of blocks) if (!block.code32 || block.csBase !== 0) return null;
  const tier = wasmTierOf(cpu);
  const e = new WasmRegionEmitter(blocks, tier.layout, mode);
  try {
    e.prologue();
    blocks.forEach((block, k) => {
      e.beginBlock(k);
      const list = block.instructions;
      let ended = false;
      for (let i = 0; i < list.length && !ended; i++) {
        e.beginInstruction(i, list[i], flagsDeadAfter(list, i));
        const mark = e.mark();
        try {
          ended = translateInstruction(e) === "exits";
        } catch (error) {
          if (!(error instanceof NeedsHandler)) throw error;
          e.rewind(mark);
          e.callHandler();
        }
        if (!ended) e.endInstruction();
      }
      if (!ended) {
        e.beginInstruction(list.length - 1, list[list.length - 1]);
        e.goTo(list[list.length - 1].nextEip);
      }
    });
    e.epilogue();
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
  const bytes = encodeModule({
    memoryImport: { module: "vm", name: "memory", pages: tier.layout.pages },
    tableImport: { module: "vm", name: "helpers" },
    indirectTypes: HELPER_TYPES,
    functions: [],
    exports: [{ name: "run", body: e.f }],
  });
  const glue = new RegionGlue(cpu, blocks, mode, tier);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { vm: { memory: tier.memory, helpers: tier.helpers } });
  glue.code = instance.exports.run as RegionCode;
  const slot = tier.add(glue);
  // The code's calls out find their glue by its slot: without one it cannot run.
  if (slot < 0) return null;
  const translation = new BlockTranslation(head, mode, glue.run, false, blocks);
  glue.translation = translation;
  glue.slot = translation.chainSlot = slot;
  translation.onRelease = () => {
    glue.slot = translation.chainSlot = -1;
    tier.release(slot);
  };
  for (const block of blocks) {
    // Translations dropped since (evicted, remade) need not be dropped again.
    const live = block.holders === null ? [] : block.holders.filter((t) => t.block.translation === t);
    live.push(translation);
    block.holders = live;
  }
  // Compiled code from the first call: no young calls with short budgets (see jit-dispatch.ts).
  translation.calls = 1 << 30;
  return translation;
}
