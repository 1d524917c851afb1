/**
 * Bookkeeping for translated blocks: a translation hangs off its CodeBlock, and this queue
 * remembers translations in the order they were made so that at most
 * JitSettings.maxTranslatedBlocks are alive; beyond that the oldest are dropped (their blocks heat
 * up again). A discarded block's translation is released at once; its queue slot ages out.
 */
import type { BlockTranslation, CodeBlock } from "./code-block.js";

export class TranslationCache {
  private queue: BlockTranslation[] = [];
  private head = 0;
  /** Translations currently attached to a valid block. */
  live = 0;
  /** Translations made since the CPU was created (statistics for benchmarks and tests). */
  translated = 0;
  /** Of those, translations compiled to WebAssembly (the rest are JavaScript). */
  translatedToWasm = 0;
  /** Live translations dropped to stay within the bound. */
  evicted = 0;
  /** Seconds spent generating and compiling translations (the JIT's own cost). */
  compileSeconds = 0;
  /** Guest instructions retired inside translated code (the rest were interpreted). */
  translatedInstructions = 0;
  /** Regions dropped to be made again with blocks decoded since. */
  regionsRegrown = 0;
  /** Translations dropped on entry because one of their blocks had gone stale (code written). */
  droppedStale = 0;
  /** Entries of a region at one of its blocks other than the head (where an earlier call left it). */
  regionReentries = 0;

  /** Attaches `translation` to its block (replacing one for another mode), evicting the oldest while at `capacity`. */
  add(translation: BlockTranslation, capacity: number): void {
    const block = translation.block;
    if (block.translation !== null) this.discard(block);
    while (this.live >= Math.max(1, capacity)) this.evictOldest();
    block.translation = translation;
    this.queue.push(translation);
    this.live++;
    this.translated++;
    if (this.queue.length - this.head > 2 * capacity + 64) this.compact();
  }

  /** Releases the block's translation (the block was invalidated or is being retranslated). */
  discard(block: CodeBlock): void {
    const translation = block.translation;
    if (translation === null) return;
    block.translation = null;
    this.live--;
    if (translation.onRelease !== null) translation.onRelease();
    // Its other blocks no longer lead into it (nor keep its code alive).
    for (const member of translation.blocks) if (member.region === translation) member.region = null;
  }

  /** Translations alive now. */
  get size(): number {
    return this.live;
  }

  clear(): void {
    for (let i = this.head; i < this.queue.length; i++) this.discard(this.queue[i].block);
    this.queue = [];
    this.head = 0;
    this.live = 0;
  }

  private evictOldest(): void {
    while (this.head < this.queue.length) {
      const translation = this.queue[this.head++];
      const block = translation.block;
      if (block.translation === translation) {
        this.discard(block);
        block.executions = 0;
        this.evicted++;
        return;
      }
    }
  }

  /** Drops the slots of translations that are no longer attached. */
  private compact(): void {
    this.queue = this.queue.slice(this.head).filter((t) => t.block.translation === t);
    this.head = 0;
  }
}
