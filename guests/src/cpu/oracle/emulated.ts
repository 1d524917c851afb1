/** Runs an oracle case on the emulator, reporting faults the way the native runner does. */
import { Vector } from "../fault.js";
import { materializeFlags } from "../flags.js";
import { stepOrFault } from "../interpreter.js";
import { createFlatCpu } from "../test-support.js";
import { CODE_ADDR, DATA_ADDR, DATA_SIZE, type OracleCase } from "./generator.js";
import type { CaseResult } from "./native.js";

const SIGILL = 4, SIGTRAP = 5, SIGFPE = 8, SIGSEGV = 11;

export function signalFor(vector: number): number {
  return vector === Vector.DE ? SIGFPE : vector === Vector.UD ? SIGILL : vector === Vector.BP ? SIGTRAP : SIGSEGV;
}

const cpu = createFlatCpu(2 << 20);

export function runEmulated(c: OracleCase): CaseResult & { vector: number } {
  cpu.ram8.fill(0, DATA_ADDR, CODE_ADDR + 0x1000);
  cpu.ram8.set(c.data, DATA_ADDR);
  cpu.ram8.set(c.code, CODE_ADDR);
  cpu.invalidateCode(CODE_ADDR, c.code.length + 16);
  cpu.regs.set(c.regs);
  cpu.eflags = c.eflags;
  cpu.lazyOp = 0;
  cpu.fpu.reset();
  cpu.fpu.controlWord = 0x27f;
  cpu.eip = CODE_ADDR;
  const end = CODE_ADDR + c.code.length;
  let vector = -1;
  for (let steps = 0; steps < 10000 && cpu.eip !== end && vector < 0; steps++) vector = stepOrFault(cpu);
  return {
    regs: Int32Array.from(cpu.regs),
    eflags: materializeFlags(cpu),
    eip: cpu.eip >>> 0,
    signal: vector < 0 ? 0 : signalFor(vector),
    vector,
    data: cpu.ram8.slice(DATA_ADDR, DATA_ADDR + DATA_SIZE),
  };
}
