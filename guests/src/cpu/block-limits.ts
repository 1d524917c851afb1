/**
 * How long a cached block may grow. A loop body longer than one block runs as several, with a
 * switch between them in its translation: Linux's multi-precision multiply loops (the RSA
 * self-tests) are some 125 bytes and 52 instructions a turn. Writing guest code invalidates the
 * blocks that may hold the written byte, looking this far back from it.
 */
export const MAX_BLOCK_BYTES = 256;
export const MAX_BLOCK_INSTRUCTIONS = 128;
