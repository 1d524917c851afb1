/**
 * The WebAssembly tier's chain: regions on different pages lead to one another without the
 * dispatcher, and a region released (its code written) is never reached through the chain again.
 */
import { describe, expect, it } from "vitest";
import type { Cpu } from "../cpu.js";
import { assemble, createFlatCpu, loadBytes, requireTool, runToHalt } from "../test-support.js";
import { wasmTierOf } from "./wasm-tier.js";

const MAIN = 0x200000;
const SUBROUTINE = 0x201000;

/**
 * main calls a subroutine on the next page 200 times and sums what it returns (in EBX; the
 * subroutine sums it in EDX too); after the 100th call it rewrites the subroutine's immediate (1 → 1000) when `patch` is set.
 */
function program(patch: boolean): { main: Uint8Array; subroutine: Uint8Array } {
  const main = assemble(`
    bits 32
    org ${MAIN}
      mov ecx, 200
      xor ebx, ebx
    top:
      call ${SUBROUTINE}
      add ebx, eax
      cmp ecx, 101
      jne skip
      ${patch ? `mov dword [${SUBROUTINE + 1}], 1000` : "nop"}
    skip:
      dec ecx
      jnz top
      hlt
  `);
  const subroutine = assemble(`
    bits 32
    org ${SUBROUTINE}
      mov eax, 1
      add edx, eax
      ret
  `);
  return { main, subroutine };
}

/** A CPU translating everything at once to WebAssembly, counting how often the dispatcher enters the chain. */
function chainCountingCpu(): { cpu: Cpu; entries: () => number } {
  const cpu = createFlatCpu(4 << 20);
  cpu.jit.enabled = true;
  cpu.jit.wasm = true;
  cpu.jit.hotThreshold = 0;
  const tier = wasmTierOf(cpu);
  const chain = tier.chain;
  let entries = 0;
  Object.defineProperty(tier, "chain", { value: (limit: number, slot: number, entry: number) => { entries++; return chain(limit, slot, entry); } });
  return { cpu, entries: () => entries };
}

/** Runs main (with its subroutine) to its HLT, the summing registers EDX and ESI cleared. */
function runProgram(cpu: Cpu, { main, subroutine }: { main: Uint8Array; subroutine: Uint8Array }): void {
  loadBytes(cpu, MAIN, main);
  loadBytes(cpu, SUBROUTINE, subroutine);
  cpu.regs[4] = 0x300000;
  cpu.regs[2] = 0;
  cpu.regs[6] = 0;
  cpu.eip = MAIN;
  expect(runToHalt(cpu)).toBe(-1);
}

function run(cpu: Cpu, patch: boolean): void {
  runProgram(cpu, program(patch));
}

describe.runIf(requireTool("nasm"))("WebAssembly region chain", () => {
  it("passes between regions on two pages inside WebAssembly, not through the dispatcher", () => {
    const { cpu, entries } = chainCountingCpu();
    run(cpu, false);
    expect(cpu.regs[3]).toBe(200);
    expect(cpu.regs[2]).toBe(200);
    expect(cpu.translations.translatedToWasm).toBeGreaterThanOrEqual(2);
    // 400 page crossings; the dispatcher sees the first few (it makes the links) and the budget's ends.
    expect(entries()).toBeLessThan(40);
  });

  it("never leads to a region whose code was written: the rewritten subroutine runs", () => {
    const { cpu } = chainCountingCpu();
    run(cpu, true);
    // 100 calls returned 1, then 100 returned 1000.
    expect(cpu.regs[3]).toBe(100 + 100 * 1000);
    expect(cpu.regs[2]).toBe(100 + 100 * 1000);
    const interpreted = createFlatCpu(4 << 20);
    interpreted.jit.enabled = false;
    run(interpreted, true);
    expect(cpu.regs[3]).toBe(interpreted.regs[3]);
    expect(cpu.instructionsRetired).toBe(interpreted.instructionsRetired);
  });

  it("runs each region's calls out with that region's own glue when one leads to the other", () => {
    // Both regions run a decimal adjust (DAA, DAS) through its handler, at different places in
    // their blocks: a call out that reached the other region's glue would run another instruction.
    const main = assemble(`
      bits 32
      org ${MAIN}
        mov ecx, 100
        xor edi, edi
      top:
        call ${SUBROUTINE}
        mov eax, ecx
        add al, 0x27
        daa
        add edi, eax
        dec ecx
        jnz top
        hlt
    `);
    const subroutine = assemble(`
      bits 32
      org ${SUBROUTINE}
        mov eax, 1
        add esi, eax
        mov eax, ecx
        sub al, 0x45
        das
        add esi, eax
        ret
    `);
    const { cpu, entries } = chainCountingCpu();
    runProgram(cpu, { main, subroutine });
    const interpreted = createFlatCpu(4 << 20);
    interpreted.jit.enabled = false;
    runProgram(interpreted, { main, subroutine });
    expect(entries()).toBeLessThan(40);
    expect(Array.from(cpu.regs)).toEqual(Array.from(interpreted.regs));
    expect(cpu.regs[7]).toBeGreaterThan(0);
    expect(cpu.regs[6]).toBeGreaterThan(100);
    expect(cpu.instructionsRetired).toBe(interpreted.instructionsRetired);
  });
});
