/**
 * Straight-line runs of decoded instructions, cached by the physical address of their first
 * byte. A block never leaves its 4 KiB page, ends at the first instruction that can change
 * control flow or CPU mode (TERMINATES), and is only reused for the same CS base, code size and
 * start EIP, so the precomputed next-EIPs stay right. Writes to a code page drop the blocks
 * that may cover the written bytes, and with them their JIT translations.
 */
import type { Cpu } from "./cpu.js";
import { MAX_BLOCK_BYTES, MAX_BLOCK_INSTRUCTIONS } from "./block-limits.js";
import { Seg } from "./constants.js";
import { decode } from "./decoder.js";
import { FAULT_SIGNAL } from "./fault.js";
import { DecodedInstruction } from "./instruction.js";
import { TERMINATES } from "./opcode-table.js";
import { bindHandler } from "./ops-fast.js";

export class CodeBlock {
  readonly instructions: DecodedInstruction[] = [];
  startEip = 0;
  csBase = 0;
  code32 = false;
  /** Offset of the block's last byte, checked against the CS limit on entry. */
  lastByteEip = 0;
  valid = true;
  /**
   * Successor links: the EIP each was made for and the block found there (null: not linked yet).
   * A block runs on past its conditional branches, so besides where its end leads it has a
   * successor for each branch taken: Linux's range decoder has blocks with three.
   */
  firstSuccessorEip = -1;
  firstSuccessor: CodeBlock | null = null;
  secondSuccessorEip = -1;
  secondSuccessor: CodeBlock | null = null;
  thirdSuccessorEip = -1;
  thirdSuccessor: CodeBlock | null = null;
  fourthSuccessorEip = -1;
  fourthSuccessor: CodeBlock | null = null;
  /** cpu.codeLinkEpoch when the links were made; older links are ignored. */
  linkEpoch = -1;
  /** Runs counted towards JitSettings.hotThreshold since the block was built or its translation dropped, each weighing `heat`. */
  executions = 0;
  /**
   * What one run adds to `executions`: 1, and 1 more per 8 instructions. A long block interpreted
   * a few thousand times (unrolled hash rounds) costs as much as a short one run 30,000 times.
   */
  heat = 1;
  /** The JavaScript translation for one CPU mode, or null while the block is interpreted (see TranslationCache). */
  translation: BlockTranslation | null = null;
  /**
   * A region translation that holds this block other than as its entry, and its index there: a
   * region left here (its instruction budget ran out, an interrupt was due) is entered here again
   * rather than the block being interpreted, counted and made the head of another region.
   */
  region: BlockTranslation | null = null;
  regionIndex = 0;
  /**
   * Translations that run this block's code without checking it on entry (WebAssembly regions):
   * dropped with the block, so that a live translation's blocks are all valid.
   */
  holders: BlockTranslation[] | null = null;

  /** The block linked at `eip`, or null (the caller checks the epoch). */
  successorAt(eip: number): CodeBlock | null {
    if (this.firstSuccessorEip === eip) return this.firstSuccessor;
    if (this.secondSuccessorEip === eip) return this.secondSuccessor;
    if (this.thirdSuccessorEip === eip) return this.thirdSuccessor;
    return this.fourthSuccessorEip === eip ? this.fourthSuccessor : null;
  }

  /** Links `next` as the block found at `eip` in epoch `epoch`; when all slots are taken, the last is replaced. */
  linkSuccessor(eip: number, next: CodeBlock, epoch: number): void {
    if (this.linkEpoch !== epoch) {
      this.linkEpoch = epoch;
      this.firstSuccessorEip = this.secondSuccessorEip = this.thirdSuccessorEip = this.fourthSuccessorEip = -1;
      this.firstSuccessor = this.secondSuccessor = this.thirdSuccessor = this.fourthSuccessor = null;
    }
    if (this.firstSuccessor === null || this.firstSuccessorEip === eip) {
      this.firstSuccessorEip = eip;
      this.firstSuccessor = next;
    } else if (this.secondSuccessor === null || this.secondSuccessorEip === eip) {
      this.secondSuccessorEip = eip;
      this.secondSuccessor = next;
    } else if (this.thirdSuccessor === null || this.thirdSuccessorEip === eip) {
      this.thirdSuccessorEip = eip;
      this.thirdSuccessor = next;
    } else {
      this.fourthSuccessorEip = eip;
      this.fourthSuccessor = next;
    }
  }
}

/**
 * Runs a translation from its block `entry` (0: the block it is attached to): at most `limit`
 * instructions (the caller guarantees at least the entered block's length), leaving EIP,
 * registers and flags in the CPU; returns the instructions retired, complemented (~n) when the
 * block left through an instruction that may have changed CS or the CPU mode, after which no
 * linked block may follow directly.
 */
export type TranslatedBlockRun = (limit: number, entry: number) => number;

/** An entry block's flag state a translation makes no assumption about (see BlockTranslation.entryFlagOp). */
export const ANY_FLAGS = -1;

export class BlockTranslation {
  /** Calls made while young (the dispatcher shortens them, and stops counting once it is grown). */
  calls = 0;
  /**
   * A WebAssembly region's slot in its CPU's function table (wasm/wasm-tier.ts), through which
   * other regions lead to it without the dispatcher; -1 for other translations.
   */
  chainSlot = -1;
  /** Called once when the translation is released (TranslationCache.discard). */
  onRelease: (() => void) | null = null;

  constructor(
    readonly block: CodeBlock,
    /** currentJitMode() the code was specialised for. */
    readonly mode: number,
    readonly run: TranslatedBlockRun,
    /** The block loads a segment register, so the CPU mode must be recomputed after it. */
    readonly loadsSegments: boolean,
    /** The region's blocks, `block` first (a block alone: just it). */
    readonly blocks: readonly CodeBlock[] = [block],
    /**
     * Per block: the lazy flag operation its code was specialised to find on entry (ANY_FLAGS:
     * none), and the operand size with it (0: any). Control inside the function always brings
     * those; entering there from outside needs the CPU's flag record to match.
     */
    readonly entryFlagOp: Int32Array = new Int32Array(blocks.length).fill(ANY_FLAGS),
    readonly entryFlagBits: Int32Array = new Int32Array(blocks.length),
  ) {}

  /** Whether the translation can be entered at its block `k` with the CPU's current flag record. */
  enterableAt(cpu: Cpu, k: number): boolean {
    const op = this.entryFlagOp[k];
    if (op === ANY_FLAGS) return true;
    if (cpu.lazyOp !== op) return false;
    const bits = this.entryFlagBits[k];
    return bits === 0 || cpu.lazyBits === bits;
  }
}

/** Scratch record for instructions that cannot be cached (page-crossing, device memory). */
export const uncachedInstruction = new DecodedInstruction();

/**
 * Decodes a new block at CS:eip. Faults decoding the first instruction are raised (they are that
 * instruction's faults); later ones just end the block. Returns null when the first instruction
 * cannot be cached; it is then in `uncachedInstruction`.
 */
export function buildBlock(cpu: Cpu, eip: number): CodeBlock | null {
  const csBase = cpu.segBase[Seg.CS];
  const lin = (csBase + eip) | 0;
  decode(cpu, uncachedInstruction);
  const pageOffset = lin & 0xfff;
  if (lin >>> 12 !== cpu.fetchPage || pageOffset + uncachedInstruction.length > 0x1000) return null;
  const phys = cpu.fetchPhysBase | pageOffset;
  const block = new CodeBlock();
  block.startEip = eip;
  block.csBase = csBase;
  block.code32 = cpu.code32;
  let record = new DecodedInstruction();
  record.copyFrom(uncachedInstruction);
  bindHandler(record);
  block.instructions.push(record);
  let bytes = record.length;
  const savedEip = cpu.eip;
  while (TERMINATES[record.opcode] === 0 && block.instructions.length < MAX_BLOCK_INSTRUCTIONS && bytes + 15 <= MAX_BLOCK_BYTES &&
    pageOffset + bytes + 15 <= 0x1000) {
    cpu.eip = record.nextEip;
    const next = new DecodedInstruction();
    try {
      decode(cpu, next);
    } catch (e) {
      if (e !== FAULT_SIGNAL) throw e;
      break;
    }
    record = next;
    bindHandler(record);
    block.instructions.push(record);
    bytes += record.length;
  }
  cpu.eip = savedEip;
  cpu.fetchPage = lin >>> 12;
  cpu.fetchPhysBase = phys & ~0xfff;
  block.lastByteEip = eip + bytes - 1;
  block.heat = 1 + (block.instructions.length >> 3);
  const page = cpu.markCodePage(phys >>> 12);
  const previous = page[phys & 0xfff];
  if (previous !== undefined) cpu.discardBlock(previous);
  page[phys & 0xfff] = block;
  return block;
}
