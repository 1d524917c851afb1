/**
 * Tunables of the JIT block cache. The interpreter is the cold path and the reference; a block is
 * translated to JavaScript once it has run `hotThreshold` times in the same CPU mode.
 */
export interface JitSettings {
  /** Translate hot blocks; when false every instruction is interpreted. */
  enabled: boolean;
  /**
   * Executions of a block before it is translated (0 translates on first sight). A translation
   * costs a millisecond or two of generating and compiling; Linux's boot runs much of its code
   * only a few thousand times, and at 100 it translated (and evicted) over three times as many
   * blocks, for a boot 40% slower than at 1000.
   */
  hotThreshold: number;
  /**
   * Translated blocks kept at once; beyond it the oldest translations are dropped. V8 holds
   * roughly 10-30 KB per translation (source, bytecode, optimised code), so the default bounds
   * the cache to some 100 MB.
   */
  maxTranslatedBlocks: number;
}

export const DEFAULT_JIT_SETTINGS: Readonly<JitSettings> = Object.freeze({
  enabled: true,
  hotThreshold: 1000,
  maxTranslatedBlocks: 4096,
});
