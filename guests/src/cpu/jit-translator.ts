/**
 * Translates a region of decoded blocks into one JavaScript function (`new Function`) specialised
 * for one CPU mode: native code from jit-instructions.ts where it exists, the interpreter's handler
 * for every other instruction. The region is the hot block plus the blocks of the same page it
 * reaches by direct jumps, branches, fall-through, calls and the returns of those calls, as far as
 * they are already decoded, when one of them leads back to it (else the block stands alone);
 * control passes between them inside the function (a switch over the block index) without the run
 * loop, so a loop with a call to a function on the same page, or a branchy loop body, runs in one
 * invocation. A RET is predicted to the return sites of the region's calls: the popped address is
 * compared with them, and anything else leaves to the run loop.
 * The translation is attached to the entry block and registered in the CPU's bounded cache; the
 * region's other blocks point to it, so a call that left it in the middle (its instruction budget
 * spent) is followed by one entering it there again.
 */
import { ANY_FLAGS, BlockTranslation, type CodeBlock, type TranslatedBlockRun } from "./code-block.js";
import type { Cpu } from "./cpu.js";
import type { DecodedInstruction } from "./instruction.js";
import { BlockEmitter, MAX_INLINE_DEPTH, parseFlagState } from "./jit-emitter.js";
import { translateInstruction, Translated } from "./jit-instructions.js";
import { JIT_RUNTIME, primeExitFeedback } from "./jit-runtime.js";
import { flagsDeadAfter } from "./flag-liveness.js";
import { TERMINATES } from "./opcode-table.js";
import { translateRegionToWasm } from "./wasm/wasm-translator.js";

/** Instructions that load a segment register without ending a block: the mode may change after them. */
const LOADS_SEGMENT = new Set([0x07, 0x17, 0x1f, 0x1a1, 0x1a9, 0xc4, 0xc5, 0x1b2, 0x1b4, 0x1b5]);

/** IN, OUT, INS and OUTS: an access to a system port stalls the processor (io.ts portAccessCycles). */
const PORT_IO = new Set([0x6c, 0x6d, 0x6e, 0x6f, 0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef]);

/** Bounds of a region: V8 compiles big functions slowly, and each copy of a block costs memory. */
const MAX_REGION_BLOCKS = 24;
const MAX_REGION_INSTRUCTIONS = 200;
/**
 * Longest generated source: V8 does not optimise functions beyond some 60 KB of bytecode, and a
 * region left to V8's interpreter runs far slower than single blocks would. A region whose source
 * is longer is made again with fewer blocks.
 */
const MAX_SOURCE_CHARS = 30_000;

/** The constant target of a relative jump, conditional jump, loop or call instruction, else null. */
function branchTarget(insn: DecodedInstruction): number | null {
  const op = insn.opcode;
  const relative = (op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f) || (op >= 0xe0 && op <= 0xe3) || op === 0xe8 || op === 0xe9 || op === 0xeb;
  if (!relative) return null;
  const target = insn.nextEip + insn.imm;
  return insn.opSize32 ? target | 0 : target & 0xffff;
}

function isCall(insn: DecodedInstruction): boolean {
  return insn.opcode === 0xe8 || (insn.opcode === 0xff && insn.reg === 2);
}

function endsInReturn(block: CodeBlock): boolean {
  const op = block.instructions[block.instructions.length - 1].opcode;
  return op === 0xc3 || op === 0xc2;
}

/** Whether execution can continue at the instruction's next EIP (it is not an unconditional jump or return). */
function fallsThrough(insn: DecodedInstruction): boolean {
  const op = insn.opcode;
  if (op === 0xe9 || op === 0xeb || op === 0xc2 || op === 0xc3) return false;
  return !(op === 0xff && (insn.reg === 4 || insn.reg === 5));
}

/** EIPs control may reach from `block` without a computed target, and the return sites of its calls. */
function staticSuccessors(block: CodeBlock): { targets: number[]; returnSites: number[] } {
  const targets: number[] = [];
  const returnSites: number[] = [];
  for (const insn of block.instructions) {
    const target = branchTarget(insn);
    if (target !== null) targets.push(target);
    if (isCall(insn)) returnSites.push(insn.nextEip);
  }
  const last = block.instructions[block.instructions.length - 1];
  if (fallsThrough(last)) targets.push(last.nextEip);
  return { targets, returnSites };
}

/** The decoded-block table of the physical page holding `head`, or undefined when it cannot be found. */
function headPage(cpu: Cpu, head: CodeBlock): Array<CodeBlock | undefined> | undefined {
  const lin = (head.csBase + head.startEip) | 0;
  const candidates = [cpu.tlb[lin >>> 12] >>> 12];
  if (cpu.fetchPage === lin >>> 12) candidates.push(cpu.fetchPhysBase >>> 12);
  for (const physPage of candidates) {
    const page = cpu.decodedCode.page(physPage);
    if (page !== undefined && page[lin & 0xfff] === head) return page;
  }
  return undefined;
}

export interface Region {
  blocks: CodeBlock[];
  /** Next EIPs of the calls in the region, in order, without repeats. */
  returnSites: number[];
  /** Static targets on the page that were not decoded yet: leaving to one counts towards regrowing the region. */
  absent: Set<number>;
}

/** How far a region may grow, and whether it must loop (the two translators differ). */
export interface RegionLimits {
  maxBlocks: number;
  maxInstructions: number;
  /** Keep the region only when it loops back to its head (else the head alone). */
  loopsOnly: boolean;
}

const JAVASCRIPT_REGIONS: RegionLimits = { maxBlocks: MAX_REGION_BLOCKS, maxInstructions: MAX_REGION_INSTRUCTIONS, loopsOnly: true };
/**
 * WebAssembly regions take in what the page has decoded, loop or not, up to 8 blocks. Control
 * leaving a region reaches the next one inside WebAssembly (wasm-tier.ts), so a region need not
 * be large to keep control away from the dispatcher; and large ones compile to worse code:
 * TurboFan's register allocation over a function of 128 blocks with some twenty state locals
 * live throughout spilled half of them (a Debian boot to its prompt: 128 blocks 10.2 s, 16
 * blocks 9.6 s, 8 blocks 9.5 s, 4 blocks 10.7 s without branch hints).
 */
const WASM_REGIONS: RegionLimits = { maxBlocks: 8, maxInstructions: 1000, loopsOnly: false };

/**
 * The region entered at `head`: blocks of the same linear (so the same physical) page, for the
 * same CS base and code size, reachable from it along static edges, breadth first.
 */
export function collectRegion(cpu: Cpu, head: CodeBlock, limits: RegionLimits = JAVASCRIPT_REGIONS): Region {
  const blocks = [head];
  const returnSites: number[] = [];
  const absent = new Set<number>();
  const page = headPage(cpu, head);
  const linearPage = ((head.csBase + head.startEip) | 0) >>> 12;
  const seen = new Set<number>([head.startEip]);
  let instructions = head.instructions.length;
  for (let i = 0; i < blocks.length; i++) {
    const { targets, returnSites: sites } = staticSuccessors(blocks[i]);
    for (const site of sites) if (!returnSites.includes(site)) returnSites.push(site);
    if (page === undefined) continue;
    for (const eip of [...targets, ...sites]) {
      if (seen.has(eip)) continue;
      seen.add(eip);
      const lin = (head.csBase + eip) | 0;
      if (lin >>> 12 !== linearPage) continue;
      const block = page[lin & 0xfff];
      if (block === undefined || !block.valid || block.startEip !== eip || block.csBase !== head.csBase || block.code32 !== head.code32) {
        absent.add(eip);
        continue;
      }
      if (blocks.length >= limits.maxBlocks || instructions + block.instructions.length > limits.maxInstructions) continue;
      blocks.push(block);
      instructions += block.instructions.length;
    }
  }
  // Only a loop through the entry (a branch back to it, or a call returning to it) is worth a
  // region: code that jumps around without coming back (Linux's XZ decompressor) left its regions
  // after a few blocks, having paid for compiling them big and running them unoptimised while V8
  // caught up; there single blocks chained by the dispatcher ran faster (also when regions could
  // be entered in the middle: 8.6 against 7.3 CPU s). A loop further on gets its region once its
  // own head is hot.
  const loopsToHead = blocks.some((b) => {
    const { targets, returnSites: sites } = staticSuccessors(b);
    return targets.includes(head.startEip) || sites.includes(head.startEip);
  });
  if (!loopsToHead && limits.loopsOnly) {
    blocks.length = 1;
  } else if (limits.loopsOnly && page !== undefined && blocks.length < MAX_REGION_BLOCKS && instructions + head.instructions.length <= MAX_REGION_INSTRUCTIONS) {
    // The head once more, last: the loop's ways back lead to this copy (the emitter maps a start
    // EIP to its last block), which starts with the flags those ways agree on, while the first
    // copy, entered from outside with whatever flags the CPU holds, runs once per call.
    blocks.push(head);
  }
  return { blocks, returnSites, absent };
}

type RegionFactory = (cpu: Cpu, blocks: readonly CodeBlock[], insns: DecodedInstruction[], starts: Int32Array, firsts: Int32Array, rt: typeof JIT_RUNTIME) => TranslatedBlockRun;

/**
 * The source of the factory that builds the region's run function (exposed for tests and
 * debugging). Blocks other than the entry are only entered from inside the function, so where all
 * the ways into a block leave the flags from the same kind of operation, the block starts with
 * that knowledge (a DEC after an ADD keeps CF with a comparison instead of a call, a JNZ tests the
 * result). That knowledge changes the code, which can change what flows on, so the emission
 * repeats until the assumed entry states are the ones the code produces; a block whose ways in
 * disagree starts with the flags unknown.
 */
export function blockSource(region: Region, mode: number): string {
  return regionSource(region, mode).source;
}

/** blockSource, with the flag state ("op:bits") each block's code assumes on entry (undefined: none). */
function regionSource(region: Region, mode: number): { source: string; entryFlags: ReadonlyArray<string | undefined> } {
  let entry: Array<string | undefined> = [];
  const dynamic = new Set<number>();
  for (let pass = 0; ; pass++) {
    const e = emitRegion(region, mode, entry);
    if (pass === 4) return { source: emitRegion(region, mode, []).finish(), entryFlags: [] };
    const next: Array<string | undefined> = [];
    let settled = true;
    for (let k = 1; k < region.blocks.length; k++) {
      const states = e.incomingFlags.get(k);
      let state: string | undefined;
      if (!dynamic.has(k) && states !== undefined && !states.has("dynamic")) {
        // The same operation at several sizes: its flags are still known, with the size in fbits.
        const ops = new Set([...states].map((st) => st.split(":")[0]));
        if (ops.size === 1) state = states.size === 1 ? [...states][0] : `${[...ops][0]}:0`;
      }
      if (state !== entry[k]) {
        settled = false;
        // A block found to disagree once stays unknown, so the repetition ends.
        if (entry[k] !== undefined) dynamic.add(k);
      }
      next[k] = dynamic.has(k) ? undefined : state;
    }
    if (settled) return { source: e.finish(), entryFlags: entry };
    entry = next;
  }
}

/** Blocks no longer than this are copied into the block of a loop they close (see inlineTargets). */
const MAX_INLINED_INSTRUCTIONS = 8;

function emitRegion(region: Region, mode: number, entry: ReadonlyArray<string | undefined>): BlockEmitter {
  const { blocks, returnSites, absent } = region;
  const head = blocks[0].startEip;
  const targets = blocks.map((b) => staticSuccessors(b).targets);
  const index = new Map(blocks.map((b, k) => [b.startEip, k]));
  const loops = blocks.length > 1 || targets[0].includes(head) || staticSuccessors(blocks[0]).returnSites.includes(head);
  // Small blocks on a way from a block back to itself are copied in where control passes to them,
  // so a loop running through a few (a scan with its increment, a call of a small function and
  // its return) needs no switch. A RET may lead to any of the region's return sites.
  const ways = blocks.map((b, k) => endsInReturn(b) ? [...targets[k], ...returnSites] : targets[k]);
  const inlineTargets = blocks.map((b, a) => {
    const set = new Set<number>();
    let frontier = [b.startEip];
    for (let step = 0; step < MAX_INLINE_DEPTH && frontier.length > 0; step++) {
      const found: number[] = [];
      blocks.forEach((candidate, k) => {
        // Not the block itself, nor its other copy (the head's loop copy, see collectRegion).
        if (candidate === b || set.has(k) || candidate.instructions.length > MAX_INLINED_INSTRUCTIONS) return;
        if (ways[k].some((eip) => frontier.includes(eip))) {
          set.add(k);
          found.push(candidate.startEip);
        }
      });
      frontier = found;
    }
    return set;
  });
  const selfLoops = blocks.map((b, a) => targets[a].includes(b.startEip) || inlineTargets[a].size > 0);
  const first: number[] = [];
  let count = 0;
  for (const b of blocks) {
    first.push(count);
    count += b.instructions.length;
  }
  const e: BlockEmitter = new BlockEmitter(blocks, mode, loops, returnSites, absent, entry, selfLoops, inlineTargets, (k) => emitBody(e, k, first[k]));
  blocks.forEach((_, k) => {
    e.beginBlock(k, first[k]);
    emitBody(e, k, first[k]);
    e.endBlock();
  });
  return e;
}

/** The instructions of block `k`, from global instruction index `first`, each natively or through its handler. */
function emitBody(e: BlockEmitter, k: number, first: number): void {
  const list = e.blocks[k].instructions;
  e.setFirstIndex(first);
  for (let i = 0; i < list.length; i++) {
    const insn = list[i];
    e.insn = insn;
    e.beginInstruction(first + i, flagsDeadAfter(list, i));
    const result = translateInstruction(e);
    let exited: boolean;
    if (result === Translated.NOT_TRANSLATED) {
      e.callHandler();
      const leaves = TERMINATES[insn.opcode] !== 0 || LOADS_SEGMENT.has(insn.opcode);
      e.exitAfterHandler(leaves, TERMINATES[insn.opcode] === 2, PORT_IO.has(insn.opcode));
      exited = leaves;
    } else if (result === Translated.EXITS) {
      exited = true;
    } else {
      if (e.wroteMemory) e.exitIfInvalidated();
      exited = false;
    }
    if (exited) return;
  }
  e.exitTo(list[list.length - 1].nextEip);
}

export function translateBlock(cpu: Cpu, block: CodeBlock, mode: number): BlockTranslation {
  const started = performance.now();
  if (cpu.translations.translated === 0) primeExitFeedback(cpu);
  const compiled = cpu.jit.wasm ? translateRegionToWasm(cpu, collectRegion(cpu, block, WASM_REGIONS).blocks, mode) : null;
  const translation = compiled ?? translateToJavaScript(cpu, block, mode, collectRegion(cpu, block));
  if (compiled !== null) cpu.translations.translatedToWasm++;
  cpu.translations.add(translation, cpu.jit.maxTranslatedBlocks);
  const blocks = translation.blocks;
  for (let k = 1; k < blocks.length; k++) {
    if (blocks[k] === block) continue; // the head's loop copy (see collectRegion)
    blocks[k].region = translation;
    blocks[k].regionIndex = k;
  }
  cpu.translations.compileSeconds += (performance.now() - started) / 1000;
  return translation;
}

function translateToJavaScript(cpu: Cpu, block: CodeBlock, mode: number, region: Region): BlockTranslation {
  let made = regionSource(region, mode);
  while (made.source.length > MAX_SOURCE_CHARS && region.blocks.length > 1) {
    region.blocks.length = Math.max(1, region.blocks.length >> 1);
    made = regionSource(region, mode);
  }
  const factory = new Function("cpu", "blocks", "insns", "starts", "firsts", "rt", made.source) as RegionFactory;
  const insns: DecodedInstruction[] = [];
  for (const b of region.blocks) insns.push(...b.instructions);
  const starts = new Int32Array(insns.length);
  const firsts = new Int32Array(insns.length);
  let index = 0;
  for (const b of region.blocks) {
    const first = index;
    for (let i = 0; i < b.instructions.length; i++, index++) {
      starts[index] = i === 0 ? b.startEip : b.instructions[i - 1].nextEip;
      firsts[index] = first;
    }
  }
  const blocks = [...region.blocks];
  const entryFlagOp = new Int32Array(blocks.length).fill(ANY_FLAGS);
  const entryFlagBits = new Int32Array(blocks.length);
  made.entryFlags.forEach((state, k) => {
    if (k === 0 || state === undefined) return;
    const { op, bits } = parseFlagState(state);
    entryFlagOp[k] = op;
    entryFlagBits[k] = bits;
  });
  return new BlockTranslation(block, mode, factory(cpu, blocks, insns, starts, firsts, JIT_RUNTIME),
    blocks.some((b) => b.instructions.some((insn) => LOADS_SEGMENT.has(insn.opcode))), blocks, entryFlagOp, entryFlagBits);
}
