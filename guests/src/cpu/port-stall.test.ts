/**
 * An IN or OUT to the PC's system ports (00h-FFh, behind the ISA/LPC bridge) stalls the processor
 * for SYSTEM_PORT_CYCLES: its time (the retired count the TSC and the guest clock follow) moves on
 * that much, as a PAUSE's does, on every engine; other ports cost their instruction only.
 */
import { describe, expect, it } from "vitest";
import { type CpuEngine, CPU_ENGINES, requireTool, runTimed } from "./test-support.js";
import { portAccessCycles, SYSTEM_PORT_CYCLES } from "./io.js";

const CODE = 0x10000;
const BUFFER = 0x20000;

const run = (engine: CpuEngine, source: string) => runTimed(engine, CODE, source);

describe("system port stalls", () => {
  it("cover ports 00h-FFh only", () => {
    expect(portAccessCycles(0x80)).toBe(SYSTEM_PORT_CYCLES);
    expect(portAccessCycles(0x00)).toBe(SYSTEM_PORT_CYCLES);
    expect(portAccessCycles(0xff)).toBe(SYSTEM_PORT_CYCLES);
    expect(portAccessCycles(0x100)).toBe(0);
    expect(portAccessCycles(0x3f8)).toBe(0);
    expect(portAccessCycles(0x10080)).toBe(SYSTEM_PORT_CYCLES); // DX's upper half is not part of the port
  });

  for (const engine of CPU_ENGINES) {
    it.runIf(requireTool("nasm"))(`[${engine}] move the TSC by the stall for IN and OUT with an immediate port or DX, not for port 3F8h`, () => {
      // The TSC moves on at block ends: each access sits in a block of its own.
      const timed = (accesses: string) => run(engine, `mov dx, 0x80\nrdtsc\nmov ebx, eax\njmp a\na: ${accesses}\njmp b\nb: rdtsc\nsub eax, ebx`);
      const system = timed("out 0x80, al\nin al, 0x61\nout dx, al\nin al, dx");
      const other = timed("mov dx, 0x3f8\nout dx, al\nin al, dx\nnop");
      const none = timed("nop\nnop\nnop\nnop");
      expect(system.eax - none.eax).toBe(4 * SYSTEM_PORT_CYCLES);
      expect(system.stalls).toBe(4 * SYSTEM_PORT_CYCLES);
      expect(system.ran - none.ran).toBe(4 * SYSTEM_PORT_CYCLES);
      expect(system.retired - system.stalls).toBe(none.retired);
      expect(other.eax).toBe(none.eax);
      expect(other.stalls).toBe(0);
    });

    it.runIf(requireTool("nasm"))(`[${engine}] stall every element of a string I/O instruction on a system port`, () => {
      const strings = run(engine, `mov dx, 0x80\nmov esi, ${BUFFER}\nmov ecx, 5\nrep outsb\nmov edi, ${BUFFER}\nmov ecx, 3\nrep insb`);
      expect(strings.stalls).toBe(8 * SYSTEM_PORT_CYCLES);
      expect(run(engine, `mov dx, 0x400\nmov esi, ${BUFFER}\nmov ecx, 5\nrep outsb`).stalls).toBe(0);
    });

    it.runIf(requireTool("nasm"))(`[${engine}] let a loop polling port 61h for a stretch of guest time turn as often as on hardware`, () => {
      // Linux's PIT calibration in small: inb_p(0x61) (an IN and an OUT to port 80h) until the TSC
      // has moved 100,000 cycles; seven instructions and two stalls a turn.
      const poll = run(engine, `
        xor ecx, ecx
        rdtsc
        mov ebx, eax
      again:
        inc ecx
        in al, 0x61
        out 0x80, al
        rdtsc
        sub eax, ebx
        cmp eax, 100000
        jb again`);
      const turn = 7 + 2 * SYSTEM_PORT_CYCLES;
      expect(poll.ecx).toBeGreaterThan(100_000 / turn - 2);
      expect(poll.ecx).toBeLessThan(100_000 / turn + 2);
      expect(poll.stalls).toBe(2 * SYSTEM_PORT_CYCLES * poll.ecx);
    });
  }
});
