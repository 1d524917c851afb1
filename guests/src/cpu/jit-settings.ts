/**
 * Tunables of the JIT block cache. The interpreter is the cold path and the reference; a block is
 * translated once it has run `hotThreshold` times in the same CPU mode (sooner for the first
 * translations: hotThresholdAfter).
 */
export interface JitSettings {
  /** Translate hot blocks; when false every instruction is interpreted. */
  enabled: boolean;
  /**
   * Executions of a block before it is translated (0 translates on first sight), a block of 8 or
   * more instructions counting 1 more per 8 each time (CodeBlock.heat). A translation
   * costs some 2-4 ms all told (generating it, and V8 parsing, compiling and optimising a few KB
   * of JavaScript), the time the interpreter takes for about half a million instructions; Linux's
   * boot runs much of its code only a few thousand times. Booting Debian to its prompt (crypto
   * self-tests on): 26.9 s at 1,000 (3,052 translations), 20.5 s at 30,000 (439, with 96 % of the
   * instructions still translated); without the self-tests 18.0 s, 14.6 s at 10,000, 13.2 s at
   * 30,000 and 14.0 s at 100,000. Weighting long blocks: 16.1 s against 16.5 (by then with longer
   * blocks and PAUSE stalls); 1 more per 4 instructions was slower (17.1 s). Since a WebAssembly
   * region costs some 0.5 ms (its module imports no functions, wasm-tier.ts): 9.52 s at 15,000
   * against 9.60 s at 30,000 (four boots each), 9.65 s at 10,000.
   */
  hotThreshold: number;
  /**
   * Translated blocks kept at once; beyond it the oldest translations are dropped. V8 holds
   * roughly 10-30 KB per translation (source, bytecode, optimised code), so the default bounds
   * the cache to some 100 MB.
   */
  maxTranslatedBlocks: number;
  /**
   * Translate to WebAssembly (wasm/wasm-translator.ts) what runs in flat 32-bit protected mode;
   * the JavaScript translator takes the rest (real mode, 16-bit and segmented code), and all of it
   * when this is false.
   */
  wasm: boolean;
}

/**
 * The first translations of a run come sooner: the n-th needs at most n × 300 executions (then
 * `hotThreshold` rules, from the 50th on with the default 15,000). A run's first hot code is its
 * hottest loop (Linux's XZ decompressor, then the kernel's early initialisation), and early on the
 * interpreter itself still runs unoptimised by V8. The Debian boot to its prompt, two runs each:
 * 9.98-9.99 s with steps of 3,000, 9.78-9.83 s with 1,000, 9.58-9.67 s with 300, 9.56-9.57 s with
 * 100 (but 10 % more translations); without the ramp the banner came 0.2 s later.
 */
export const FIRST_TRANSLATIONS_STEP = 300;

/** Executions that make a block hot now, with `translated` translations made so far. */
export function hotThresholdAfter(jit: JitSettings, translated: number): number {
  return Math.min(jit.hotThreshold, FIRST_TRANSLATIONS_STEP * (translated + 1));
}

export const DEFAULT_JIT_SETTINGS: Readonly<JitSettings> = Object.freeze({
  enabled: true,
  hotThreshold: 15_000,
  maxTranslatedBlocks: 4096,
  wasm: true,
});
