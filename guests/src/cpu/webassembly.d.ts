/**
 * The part of Node's WebAssembly global the processor uses (the DOM library, which declares it in
 * full, is not part of this build).
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  type ImportValue = ((...args: number[]) => number | void) | Memory;
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, ImportValue>>);
    readonly exports: Record<string, unknown>;
  }
  class CompileError extends Error {}
  function validate(bytes: Uint8Array): boolean;
}
