/** Public surface of the x86 CPU (re-exported by the guests package). */
export type { CpuBus, InterruptSource, MmioHandler, PortHandler } from "./bus.js";
export { RamOnlyBus } from "./bus.js";
export { Cpu, type TripleFaultHandler } from "./cpu.js";
export { CPU_STATE_VERSION, type CpuState, type FpuSnapshot, type SegmentState } from "./cpu-snapshot.js";
export { runInstructions, stepOrFault } from "./interpreter.js";
export { decode, effectiveAddress } from "./decoder.js";
export { DecodedInstruction } from "./instruction.js";
export { DECODE_FORMS } from "./decode-forms.js";
export { HANDLERS, TERMINATES, type Handler } from "./opcode-table.js";
export { DEFAULT_JIT_SETTINGS, type JitSettings } from "./jit-settings.js";
export { formatCpuBenchmarks, runCpuBenchmarks, type CpuBenchmarkResult } from "./bench.js";
