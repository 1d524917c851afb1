/**
 * The JIT block cache: self-modifying code (a loop patching its own immediate, code written by
 * REP MOVSD and by device DMA), aliased pages, remapping through CR3 and INVLPG, precise faults
 * inside translated blocks, the hotness threshold, the cache bound and interrupts reaching a
 * translated endless loop. Every scenario runs under both engines and must give the same answer.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { InterruptSource } from "./bus.js";
import { Cr0, Flag } from "./constants.js";
import { RamOnlyBus } from "./bus.js";
import { Cpu } from "./cpu.js";
import { DEFAULT_JIT_SETTINGS, FIRST_TRANSLATIONS_STEP } from "./jit-settings.js";
import { Vector } from "./fault.js";
import { materializeFlags } from "./flags.js";
import { runInstructions } from "./interpreter.js";
import { assemble, CPU_ENGINES, createFlatCpu, loadBytes, requireTool, runToHalt, setTestEngine } from "./test-support.js";

const CODE = 0x1000;
const PAGE_DIRECTORY_A = 0x80000;
const PAGE_DIRECTORY_B = 0x81000;
const PAGE_DIRECTORY_C = 0x82000;
const LOW_PAGE_TABLE = 0x83000;
const HIGH_PAGE_TABLE_A = 0x84000;
const HIGH_PAGE_TABLE_B = 0x85000;
/** Linear 0x400000.. is mapped by the high page tables; phys 0x5000 and 0x6000 hold two routines. */
const HIGH = 0x400000;

function flatProgram(source: string): Cpu {
  const cpu = createFlatCpu();
  cpu.regs[4] = 0x70000;
  const code = assemble(`bits 32\norg ${CODE}\n${source}\n`);
  loadBytes(cpu, CODE, code);
  cpu.eip = CODE;
  return cpu;
}

function write32(cpu: Cpu, address: number, value: number): void {
  new DataView(cpu.bus.memory.ram.buffer).setUint32(address, value >>> 0, true);
}

/**
 * Paging with the low 4 MiB identity-mapped in every directory. Directory A maps HIGH to phys
 * 0x5000 and HIGH+0x1000 to the same page (an alias); B maps HIGH to phys 0x6000; C leaves HIGH
 * unmapped.
 */
function enablePaging(cpu: Cpu): void {
  for (let i = 0; i < 1024; i++) write32(cpu, LOW_PAGE_TABLE + 4 * i, (i << 12) | 7);
  write32(cpu, HIGH_PAGE_TABLE_A, 0x5007);
  write32(cpu, HIGH_PAGE_TABLE_A + 4, 0x5007);
  write32(cpu, HIGH_PAGE_TABLE_B, 0x6007);
  for (const directory of [PAGE_DIRECTORY_A, PAGE_DIRECTORY_B, PAGE_DIRECTORY_C]) write32(cpu, directory, LOW_PAGE_TABLE | 7);
  write32(cpu, PAGE_DIRECTORY_A + 4, HIGH_PAGE_TABLE_A | 7);
  write32(cpu, PAGE_DIRECTORY_B + 4, HIGH_PAGE_TABLE_B | 7);
  cpu.cr3 = PAGE_DIRECTORY_A;
  cpu.cr0 |= Cr0.PG;
  cpu.flushTlb(true);
}

/** mov eax, value ; ret */
function routine(value: number): Uint8Array {
  return Uint8Array.from([0xb8, value & 0xff, (value >> 8) & 0xff, 0, 0, 0xc3]);
}

class CountingSource implements InterruptSource {
  polls = 0;
  acknowledged = 0;
  constructor(private readonly every: number) {}
  hasPending(): boolean {
    return ++this.polls % this.every === 0;
  }
  acknowledge(): number {
    this.acknowledged++;
    return 0x20;
  }
}

describe("JIT defaults", () => {
  it("is on for a new CPU, translating blocks once they are hot", () => {
    const cpu = new Cpu(new RamOnlyBus(1 << 20));
    expect(cpu.jit).toEqual(DEFAULT_JIT_SETTINGS);
    expect(cpu.jit.enabled).toBe(true);
    expect(cpu.jit.hotThreshold).toBeGreaterThan(0);
    expect(cpu.jit.maxTranslatedBlocks).toBeGreaterThan(0);
  });
});

describe.runIf(requireTool("nasm") || process.env.CI).each(CPU_ENGINES)("JIT block cache (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));

  it("sees a store into a long block's tail, far past its first bytes", () => {
    // One block from `again` to HLT, over 120 bytes; the store patches the immediate near its end
    // on the second turn, and the third turn must run the new code.
    const cpu = flatProgram(`
      mov ecx, 3
      xor ebx, ebx
    again:
      times 40 add ebx, 1
    patch:
      mov eax, 1
      add ebx, eax
      cmp ecx, 2
      jne skip
      mov dword [patch + 1], 100
    skip:
      dec ecx
      jnz again
      hlt`);
    expect(runToHalt(cpu)).toBe(-1);
    expect(cpu.regs[3]).toBe(3 * 40 + 1 + 1 + 100);
  });

  it("drops only the blocks that hold a written byte", () => {
    // Two blocks: `first` (to its JMP) and `second`; the data right after `first` is in neither.
    const cpu = flatProgram(`
    first:
      mov eax, 1
      jmp second
    data:
      dd 0
    second:
      mov ebx, 2
      hlt`);
    expect(runToHalt(cpu)).toBe(-1);
    const page = cpu.decodedCode.page(CODE >>> 12)!;
    const first = page[CODE & 0xfff]!;
    const secondAt = (first.lastByteEip + 1 + 4) & 0xfff;
    const second = page[secondAt]!;
    expect(second.startEip).toBe(first.lastByteEip + 1 + 4);
    cpu.invalidateCode(first.lastByteEip + 1, 4);
    expect([first.valid, second.valid]).toEqual([true, true]);
    cpu.invalidateCode(first.lastByteEip, 1);
    expect([first.valid, second.valid]).toEqual([false, true]);
    cpu.invalidateCode(second.startEip + 2, 1);
    expect(second.valid).toBe(false);
  });

  it("accounts the instructions run translated and the time spent compiling", () => {
    const cpu = flatProgram(`
      mov ecx, 5000
      xor eax, eax
    top:
      add eax, ecx
      dec ecx
      jnz top
      hlt`);
    expect(runToHalt(cpu)).toBe(-1);
    const { translatedInstructions, compileSeconds, translated } = cpu.translations;
    if (engine !== "interpreter") {
      // 15,000 loop instructions; only the first runs before the block is hot are interpreted
      expect(translatedInstructions).toBeGreaterThan(14_000);
      expect(translatedInstructions).toBeLessThanOrEqual(15_003);
      expect(compileSeconds).toBeGreaterThan(0);
      expect(translated).toBeGreaterThan(0);
    } else {
      expect([translatedInstructions, compileSeconds, translated]).toEqual([0, 0, 0]);
    }
  });

  it("runs a loop that patches its own immediate operand", () => {
    const cpu = flatProgram(`
      mov ecx, 10
      xor ebx, ebx
    top:
      mov eax, 1
      add ebx, eax
      inc dword [top + 1]
      dec ecx
      jnz top
      hlt`);
    expect(runToHalt(cpu)).toBe(-1);
    expect(cpu.regs[3]).toBe(55);
    if (engine !== "interpreter") expect(cpu.translations.translated).toBeGreaterThan(10);
  });

  it("sees code written by REP MOVSD, in another page and later in the running block", () => {
    const cpu = flatProgram(`
      call routine
      mov ebx, eax
      mov esi, replacement
      mov edi, routine
      mov ecx, 2
      cld
      rep movsd
      call routine
      mov edx, eax
      mov esi, patch
      mov edi, patched + 1
      mov ecx, 1
      rep movsd
    patched:
      mov eax, 1
      hlt
    patch: dd 9
    replacement:
      mov eax, 2
      ret
      nop
      nop
    align 4096
    routine:
      mov eax, 1
      ret
      nop
      nop`);
    expect(runToHalt(cpu)).toBe(-1);
    expect([cpu.regs[3], cpu.regs[2], cpu.regs[0]]).toEqual([1, 2, 9]);
  });

  it("drops translations when a device writes code by DMA (invalidateCode)", () => {
    const cpu = flatProgram(`
      mov ecx, 3
    again:
      call 0x3000
      add ebx, eax
      dec ecx
      jnz again
      hlt`);
    loadBytes(cpu, 0x3000, routine(5));
    expect(runToHalt(cpu)).toBe(-1);
    expect(cpu.regs[3]).toBe(15);
    cpu.ram8.set(routine(7), 0x3000);
    cpu.invalidateCode(0x3000, 6);
    cpu.halted = false;
    cpu.eip = CODE;
    cpu.regs[3] = 0;
    expect(runToHalt(cpu)).toBe(-1);
    expect(cpu.regs[3]).toBe(21);
  });

  it("executes code written through another linear alias of its page", () => {
    const cpu = flatProgram(`
      call ${HIGH}
      mov ebx, eax
      mov byte [${HIGH + 0x1001}], 7
      call ${HIGH}
      mov ecx, eax
      mov byte [${HIGH + 1}], 8
      call ${HIGH + 0x1000}
      hlt`);
    loadBytes(cpu, 0x5000, routine(1));
    enablePaging(cpu);
    expect(runToHalt(cpu)).toBe(-1);
    expect([cpu.regs[3], cpu.regs[1], cpu.regs[0]]).toEqual([1, 7, 8]);
  });

  it("never runs a stale translation after CR3 reloads and INVLPG", () => {
    const cpu = flatProgram(`
      call ${HIGH}
      mov ebx, eax
      mov eax, ${PAGE_DIRECTORY_B}
      mov cr3, eax
      call ${HIGH}
      mov ecx, eax
      mov eax, ${PAGE_DIRECTORY_A}
      mov cr3, eax
      mov dword [${HIGH_PAGE_TABLE_A}], 0x6007
      invlpg [${HIGH}]
      call ${HIGH}
      mov edx, eax
      mov eax, ${PAGE_DIRECTORY_C}
      mov cr3, eax
      call ${HIGH}
      hlt`);
    loadBytes(cpu, 0x5000, routine(1));
    loadBytes(cpu, 0x6000, routine(2));
    enablePaging(cpu);
    expect(runToHalt(cpu)).toBe(Vector.PF);
    expect([cpu.regs[3], cpu.regs[1], cpu.regs[2]]).toEqual([1, 2, 2]);
    expect(cpu.cr2).toBe(HIGH);
    expect(cpu.eip).toBe(HIGH);
  });

  it("leaves precise state when a translated block faults, and restarts the instruction", () => {
    const cpu = flatProgram(`
      mov eax, 5
      add ebx, eax
      push eax
      mov ecx, [0x800000]
      inc ecx
      hlt`);
    enablePaging(cpu);
    cpu.regs[3] = -5;
    cpu.regs[1] = 77;
    expect(runToHalt(cpu)).toBe(Vector.PF);
    expect(cpu.eip).toBe(CODE + 8);
    expect([cpu.regs[0], cpu.regs[3], cpu.regs[1], cpu.regs[4]]).toEqual([5, 0, 77, 0x70000 - 4]);
    expect(materializeFlags(cpu) & (Flag.ZF | Flag.CF)).toBe(Flag.ZF | Flag.CF);
    expect(cpu.cr2).toBe(0x800000);
    // Map the page and resume: the MOV restarts and the block runs to its end.
    write32(cpu, 0x86000, 0x7007);
    write32(cpu, PAGE_DIRECTORY_A + 8, 0x86007);
    write32(cpu, 0x7000, 41);
    expect(runToHalt(cpu)).toBe(-1);
    expect(cpu.regs[1]).toBe(42);
  });

  it("translates a block only after the hotness threshold", () => {
    const cpu = flatProgram("inc eax\nhlt");
    cpu.jit.hotThreshold = 3;
    const block = () => cpu.decodedCode.page(CODE >>> 12)?.[CODE & 0xfff];
    for (let run = 1; run <= 4; run++) {
      cpu.eip = CODE;
      cpu.halted = false;
      runInstructions(cpu, 10);
      expect(block()?.translation != null, `run ${run}`).toBe(engine !== "interpreter" && run === 4);
    }
    expect(cpu.regs[0]).toBe(4);
  });

  it("makes its first translations sooner than the threshold: the n-th after n × FIRST_TRANSLATIONS_STEP runs", () => {
    // Two loops, each over two pages: a block of the first (4/3 steps of turns) becomes hot after
    // one step; the second loop (5/3 steps) would need two as the second translation.
    const firstTurns = Math.round((FIRST_TRANSLATIONS_STEP * 4) / 3), secondTurns = Math.round((FIRST_TRANSLATIONS_STEP * 5) / 3);
    const cpu = flatProgram(`
      mov ecx, ${firstTurns}
    first:
      inc eax
      jmp first_end
      align 4096
    first_end:
      dec ecx
      jnz first
      mov ecx, ${secondTurns}
    second:
      inc ebx
      jmp second_end
      align 4096
    second_end:
      dec ecx
      jnz second
      hlt`);
    cpu.jit.hotThreshold = 30_000;
    expect(runToHalt(cpu)).toBe(-1);
    expect(cpu.regs[0]).toBe(firstTurns);
    expect(cpu.regs[3]).toBe(secondTurns);
    expect(cpu.translations.translated).toBe(engine === "interpreter" ? 0 : 1);
    // The one translation is the first loop's: none of the blocks that start with INC EBX or run after it.
    const blocks = cpu.decodedCode.blocks();
    const secondLoop = blocks.filter((block) => block!.instructions[0].opcode === 0x43 || block!.startEip >= CODE + 0x2000);
    expect(secondLoop.length).toBeGreaterThan(0);
    for (const block of secondLoop) expect(block!.translation).toBeNull();
  });

  it("weighs a long block's runs by its length: one of 16 instructions counts 3 a run", () => {
    const cpu = flatProgram(`${"inc eax\n".repeat(15)}hlt`);
    cpu.jit.hotThreshold = 6;
    const block = () => cpu.decodedCode.page(CODE >>> 12)?.[CODE & 0xfff];
    for (let run = 1; run <= 3; run++) {
      cpu.eip = CODE;
      cpu.halted = false;
      runInstructions(cpu, 100);
      expect(block()?.heat).toBe(3);
      expect(block()?.translation != null, `run ${run}`).toBe(engine !== "interpreter" && run === 3);
    }
    expect(cpu.regs[0]).toBe(3 * 15);
  });

  it("keeps the translation cache within its bound", () => {
    // Twenty blocks chained by jumps, run ten times around, each on its own page (so each is a
    // translation of its own rather than part of a region with its neighbours).
    const chain = Array.from({ length: 20 }, (_, i) => `b${i}: add eax, ${i + 1}\njmp b${i + 1}\nalign 4096`).join("\n");
    const cpu = flatProgram(`mov ecx, 10\nstart:\n${chain}\nb20: dec ecx\njnz start\nhlt`);
    cpu.jit.maxTranslatedBlocks = 4;
    expect(runToHalt(cpu)).toBe(-1);
    expect(cpu.regs[0]).toBe(10 * 210);
    expect(cpu.translations.size).toBeLessThanOrEqual(4);
    if (engine !== "interpreter") expect(cpu.translations.evicted).toBeGreaterThan(100);
  });

  it("takes timer interrupts while spinning in a translated loop", () => {
    const cpu = flatProgram(`
      sti
    spin:
      inc eax
      jmp spin
    handler:
      inc dword [0x9000]
      iret`);
    const handler = CODE + 4;
    cpu.idtrBase = 0x8000;
    cpu.idtrLimit = 0x7ff;
    cpu.ram8.set([handler & 0xff, (handler >> 8) & 0xff, 8, 0, 0, 0x8e, 0, 0], 0x8000 + 0x20 * 8);
    const source = new CountingSource(5);
    cpu.interruptSource = source;
    runInstructions(cpu, 200_000);
    expect(source.acknowledged).toBeGreaterThan(10);
    expect(cpu.ram8[0x9000] | (cpu.ram8[0x9001] << 8)).toBeGreaterThanOrEqual(source.acknowledged - 1);
    expect(cpu.regs[0]).toBeGreaterThan(50_000);
  });

  it("re-translates when the segment mode changes under the same code", () => {
    const cpu = flatProgram("mov eax, [0x300000]\nhlt");
    write32(cpu, 0x300000, 0x1234);
    expect(runToHalt(cpu)).toBe(-1);
    expect(cpu.regs[0]).toBe(0x1234);
    cpu.setSegmentCache(3, 0x10, 0, 0xfffff, 0xc093);
    cpu.eip = CODE;
    cpu.halted = false;
    expect(runToHalt(cpu)).toBe(Vector.GP);
    expect(cpu.eip).toBe(CODE);
  });
});
