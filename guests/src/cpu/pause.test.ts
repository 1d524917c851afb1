/**
 * PAUSE (F3 90) is a stall: it ends its block and the run loop adds PAUSE_STALL_CYCLES to the
 * processor's time (the retired count, which the TSC and the guest clock follow). A spin-wait
 * loop timed by RDTSC then turns fewer times for the same delay, on either engine.
 */
import { describe, expect, it } from "vitest";
import { type CpuEngine, CPU_ENGINES, createFlatCpu, loadBytes, requireTool, runTimed } from "./test-support.js";
import { decode } from "./decoder.js";
import { DecodedInstruction, PAUSE_OPCODE } from "./instruction.js";
import { PAUSE_STALL_CYCLES } from "./ops-system.js";

const CODE = 0x10000;

function decodeAt(bytes: number[]): DecodedInstruction {
  const cpu = createFlatCpu();
  loadBytes(cpu, CODE, Uint8Array.from(bytes));
  cpu.eip = CODE;
  const insn = new DecodedInstruction();
  decode(cpu, insn);
  return insn;
}

const run = (engine: CpuEngine, source: string) => runTimed(engine, CODE, source);

describe("PAUSE", () => {
  it("decodes to an opcode of its own; NOP and REPNE NOP stay NOP", () => {
    expect(decodeAt([0xf3, 0x90]).opcode).toBe(PAUSE_OPCODE);
    expect(decodeAt([0x66, 0xf3, 0x90]).opcode).toBe(PAUSE_OPCODE);
    expect(decodeAt([0x90]).opcode).toBe(0x90);
    expect(decodeAt([0xf2, 0x90]).opcode).toBe(0x90);
  });

  for (const engine of CPU_ENGINES) {
    it.runIf(requireTool("nasm"))(`[${engine}] moves the TSC ${PAUSE_STALL_CYCLES} cycles further than a NOP would`, () => {
      // The TSC moves on at block ends (a RDTSC sees the blocks before its own retired), so each
      // spin sits in a block of its own either way.
      const timed = (spin: string) => run(engine, `rdtsc\nmov ebx, eax\njmp a\na: ${spin}\njmp b\nb: ${spin}\njmp c\nc: rdtsc\nsub eax, ebx`);
      const paused = timed("pause");
      const nop = timed("nop");
      expect(paused.eax - nop.eax).toBe(2 * PAUSE_STALL_CYCLES);
      // The run loop reports the stalls as guest time, and keeps them apart from the instructions.
      expect(paused.ran - nop.ran).toBe(2 * PAUSE_STALL_CYCLES);
      expect(paused.stalls).toBe(2 * PAUSE_STALL_CYCLES);
      expect(paused.retired - paused.stalls).toBe(nop.retired);
    });

    it.runIf(requireTool("nasm"))(`[${engine}] shortens a delay loop timed by RDTSC as the stall says`, () => {
      // Linux's delay_tsc in small: spin with PAUSE until the TSC has moved 100,000 cycles.
      const delay = (spin: string) => run(engine, `
        xor ecx, ecx
        rdtsc
        mov ebx, eax
      again:
        inc ecx
        ${spin}
        rdtsc
        sub eax, ebx
        cmp eax, 100000
        jb again`);
      const paused = delay("pause");
      const nop = delay("nop");
      // Six instructions a turn, and the stall: about 6 + 140 cycles against 6.
      expect(nop.ecx).toBeGreaterThan(15_000);
      expect(paused.ecx).toBeGreaterThan(100_000 / (6 + PAUSE_STALL_CYCLES) - 2);
      expect(paused.ecx).toBeLessThan(100_000 / (6 + PAUSE_STALL_CYCLES) + 2);
      expect(paused.retired).toBeGreaterThanOrEqual(100_000);
      expect(paused.retired - paused.stalls).toBeLessThan(nop.retired / 10);
    });
  }
});
