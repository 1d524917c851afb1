/** Runs an oracle case on the emulator, reporting faults the way the native runner does. */
import { Vector } from "../fault.js";
import { materializeFlags } from "../flags.js";
import { applyTestEngine, type CpuEngine, createFlatCpu, runToHalt } from "../test-support.js";
import { CODE_ADDR, DATA_ADDR, DATA_SIZE, type OracleCase } from "./generator.js";
import type { CaseResult } from "./native.js";

const HLT = 0xf4;
const SIGILL = 4, SIGTRAP = 5, SIGFPE = 8, SIGSEGV = 11;

export function signalFor(vector: number): number {
  return vector === Vector.DE ? SIGFPE : vector === Vector.UD ? SIGILL : vector === Vector.BP ? SIGTRAP : SIGSEGV;
}

const cpu = createFlatCpu(2 << 20);

/** Runs the case's code followed by a HLT (the JIT translates whole blocks, so no single-stepping). */
export function runEmulated(c: OracleCase, engine: CpuEngine): CaseResult & { vector: number } {
  applyTestEngine(cpu, engine);
  cpu.ram8.fill(0, DATA_ADDR, CODE_ADDR + 0x1000);
  cpu.ram8.set(c.data, DATA_ADDR);
  cpu.ram8.set(c.code, CODE_ADDR);
  cpu.ram8[CODE_ADDR + c.code.length] = HLT;
  cpu.invalidateCode(CODE_ADDR, c.code.length + 16);
  cpu.regs.set(c.regs);
  cpu.eflags = c.eflags;
  cpu.lazyOp = 0;
  cpu.fpu.reset();
  cpu.fpu.controlWord = 0x27f;
  cpu.eip = CODE_ADDR;
  cpu.halted = false;
  const vector = runToHalt(cpu, 10000);
  return {
    regs: Int32Array.from(cpu.regs),
    eflags: materializeFlags(cpu),
    eip: cpu.eip >>> 0,
    signal: vector < 0 ? 0 : signalFor(vector),
    vector,
    data: cpu.ram8.slice(DATA_ADDR, DATA_ADDR + DATA_SIZE),
  };
}
