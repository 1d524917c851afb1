/**
 * Region translations: a hot block is translated together with the blocks of its page it reaches
 * (branches, fall-through, calls and predicted returns), so control passes between them without
 * the run loop. Each scenario runs on the interpreter and on translating CPUs (translating on
 * first sight, and after one and three runs, when more of the region is decoded), in lockstep
 * with random instruction budgets, and all state must agree at every stop: registers, EIP, flags,
 * the retired-instruction count, CR2, faults and memory.
 */
import { describe, expect, it } from "vitest";
import { type CpuBus, RamOnlyBus } from "./bus.js";
import { GuestMemory } from "./guest-memory.js";
import { Cr0, Seg } from "./constants.js";
import { Cpu } from "./cpu.js";
import { Vector } from "./fault.js";
import { materializeFlags } from "./flags.js";
import { stepOrFault } from "./interpreter.js";
import { collectRegion } from "./jit-translator.js";
import { Random } from "./oracle/random.js";
import { assemble, requireTool } from "./test-support.js";

const CODE = 0x10000;
const STACK_TOP = 0x70000;
const PAGE_DIRECTORY = 0x80000;
const PAGE_TABLE = 0x81000;
/** Device memory the stack scenarios use: it behaves like RAM but every access goes through the bus. */
const MMIO_BASE = 0xa0000;
const MMIO_END = 0xa2000;
/** A page the paging scenarios leave not present. */
const MISSING = 0x60000;
const COMPARED: Array<[number, number]> = [[CODE, CODE + 0x3000], [STACK_TOP - 0x1000, STACK_TOP + 0x100], [MISSING - 0x3000, MISSING + 0x1000]];

/** A bus whose device window stores what is written, and logs every access (the order must match too). */
class RecordingBus implements CpuBus {
  readonly memory: GuestMemory;
  constructor(ramBytes: number) {
    this.memory = new GuestMemory(ramBytes);
  }
  portIn(_port: number, size: 1 | 2 | 4): number {
    return size === 4 ? -1 : (1 << (size * 8)) - 1;
  }
  portOut(): void {}
  readonly device = new Uint8Array(MMIO_END - MMIO_BASE);
  readonly log: string[] = [];
  mmioRead(address: number, size: 1 | 2 | 4): number {
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.device[address - MMIO_BASE + i] << (8 * i);
    this.log.push(`r${size}@${address.toString(16)}`);
    return value;
  }
  mmioWrite(address: number, size: 1 | 2 | 4, value: number): void {
    for (let i = 0; i < size; i++) this.device[address - MMIO_BASE + i] = (value >>> (8 * i)) & 0xff;
    this.log.push(`w${size}@${address.toString(16)}=${(value >>> 0).toString(16)}`);
  }
}

interface Scenario {
  source: string;
  /** Paging with an identity map of the low 4 MiB except the pages listed (not present). */
  unmapped?: number[];
  mmioStack?: boolean;
}

function flatCpu(scenario: Scenario, threshold: number | null): Cpu {
  const bus = new RecordingBus(4 << 20);
  const cpu = new Cpu(bus);
  cpu.jit.enabled = threshold !== null;
  cpu.jit.hotThreshold = threshold ?? 0;
  // These are the JavaScript translator's regions (WebAssembly regions are held to the same
  // results by the differential fuzz test).
  cpu.jit.wasm = false;
  cpu.cr0 |= Cr0.PE;
  for (let s = 0; s < 6; s++) cpu.setSegmentCache(s, s === Seg.CS ? 8 : 16, 0, -1, s === Seg.CS ? 0xc09b : 0xc093);
  cpu.eflags = 0x2;
  cpu.regs[4] = scenario.mmioStack ? MMIO_END - 0x100 : STACK_TOP;
  if (scenario.mmioStack) cpu.addMmioRange(MMIO_BASE, MMIO_END);
  const code = assemble(`bits 32\norg ${CODE}\n${scenario.source}\n`);
  cpu.ram8.set(code, CODE);
  if (scenario.unmapped !== undefined) {
    const view = new DataView(bus.memory.ram.buffer);
    for (let i = 0; i < 1024; i++) view.setUint32(PAGE_TABLE + 4 * i, scenario.unmapped.includes(i << 12) ? 0 : (i << 12) | 7, true);
    view.setUint32(PAGE_DIRECTORY, PAGE_TABLE | 7, true);
    cpu.cr3 = PAGE_DIRECTORY;
    cpu.cr0 |= Cr0.PG;
    cpu.flushTlb(true);
  }
  cpu.eip = CODE;
  return cpu;
}

function describeState(cpu: Cpu): string {
  const regs = Array.from(cpu.regs, (v) => (v >>> 0).toString(16)).join(" ");
  return `eip=${(cpu.eip >>> 0).toString(16)} regs=${regs} eflags=${materializeFlags(cpu).toString(16)} retired=${cpu.instructionsRetired} ` +
    `halted=${cpu.halted} cr2=${(cpu.cr2 >>> 0).toString(16)} mmio=${(cpu.bus as RecordingBus).log.length}`;
}

function memoryDifference(a: Cpu, b: Cpu): string | null {
  for (const [from, to] of COMPARED) {
    if (Buffer.compare(a.ram8.subarray(from, to), b.ram8.subarray(from, to)) === 0) continue;
    for (let i = from; i < to; i++) if (a.ram8[i] !== b.ram8[i]) return `ram[${i.toString(16)}]: interpreter ${a.ram8[i]}, jit ${b.ram8[i]}`;
  }
  const logA = (a.bus as RecordingBus).log.join(" ");
  const logB = (b.bus as RecordingBus).log.join(" ");
  return logA === logB ? null : `device accesses differ:\n  interpreter ${logA}\n  jit         ${logB}`;
}

/**
 * Runs the scenario on the interpreter and on translating CPUs in lockstep; `onFault` may repair
 * the cause (map a page) before both resume. Returns the interpreter's CPU and the first translating
 * one for further checks.
 */
function runBoth(scenario: Scenario, seed: number, onFault?: (cpu: Cpu, vector: number) => boolean, budget?: (rng: Random) => number,
  betweenSteps?: (cpu: Cpu) => void, thresholds = [0, 1, 3]): { reference: Cpu; jit: Cpu[] } {
  const reference = flatCpu(scenario, null);
  const jits = thresholds.map((threshold) => flatCpu(scenario, threshold));
  const rng = new Random(seed);
  const budgetOf = budget ?? ((r: Random) => (r.chance(0.3) ? 1 + r.below(8) : 1 + r.below(3000)));
  for (let step = 0; step < 20_000; step++) {
    const budget = budgetOf(rng);
    if (betweenSteps !== undefined) for (const cpu of [reference, ...jits]) betweenSteps(cpu);
    const vector = stepOrFault(reference, budget);
    const want = describeState(reference);
    for (const [i, cpu] of jits.entries()) {
      const got = stepOrFault(cpu, budget);
      const state = describeState(cpu);
      expect(`${got} ${state}`, `CPU ${i} after step ${step} (budget ${budget})`).toBe(`${vector} ${want}`);
      expect(memoryDifference(reference, cpu), `CPU ${i} after step ${step}`).toBeNull();
    }
    if (vector >= 0) {
      if (onFault === undefined || !onFault(reference, vector)) break;
      for (const cpu of jits) onFault(cpu, vector);
    }
    if (reference.halted) break;
  }
  return { reference, jit: jits };
}

/**
 * A fault handler for runBoth: the fault must be the instruction fetch at `far` (its page
 * unmapped by the guest), which it maps again; counts the interpreter's faults.
 */
function remapOnFetchFault(far: number): { onFault: (cpu: Cpu, vector: number) => boolean; faults: () => number } {
  let faults = 0;
  let first: Cpu | null = null;
  const onFault = (cpu: Cpu, vector: number): boolean => {
    first ??= cpu;
    if (cpu === first) faults++;
    expect(vector).toBe(Vector.PF);
    expect(cpu.cr2).toBe(far);
    expect(cpu.eip).toBe(far);
    new DataView(cpu.bus.memory.ram.buffer).setUint32(PAGE_TABLE + 4 * (far >>> 12), far | 7, true);
    return true;
  };
  return { onFault, faults: () => faults };
}

describe.runIf(requireTool("nasm") || process.env.CI)("JIT regions", () => {
  it("takes a function and both its call sites into one region, predicting each return", () => {
    const { reference, jit } = runBoth({
      source: `
        mov ecx, 3000
        xor eax, eax
      top:
        call add_one
        call add_two
        dec ecx
        jnz top
        hlt
      add_one:
        push ebp
        mov ebp, esp
        add eax, 1
        pop ebp
        ret
      add_two:
        add eax, 2
        call add_one     ; a nested call: its return site is in the region too
        ret 0`,
    }, 1);
    expect(reference.regs[0]).toBe(3000 * 4);
    expect(reference.halted).toBe(true);
    // Some region holds the loop and both functions.
    const cpu = jit[2];
    const sizes = cpu.decodedCode.page(CODE >>> 12)!.filter((b) => b?.translation != null).map((b) => collectRegion(cpu, b!).blocks.length);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(5);
    expect(cpu.translations.translatedInstructions).toBeGreaterThan(3000 * 10);
  });

  it("follows a RET to a return address the callee changed", () => {
    const { reference } = runBoth({
      source: `
        mov ecx, 500
        xor eax, eax
        xor ebx, ebx
      top:
        call skip_next
        inc ebx           ; skipped: the callee returns past it
        add eax, 3
        call elsewhere
        add eax, 100      ; skipped too
      back:
        dec ecx
        jnz top
        hlt
      skip_next:
        inc dword [esp]   ; return one byte further (over INC EBX)
        ret
      elsewhere:
        mov dword [esp], back
        ret`,
    }, 2);
    expect([reference.regs[0], reference.regs[3]]).toEqual([1500, 0]);
  });

  it("returns to a caller on another page and calls across pages", () => {
    const { reference } = runBoth({
      source: `
        mov ecx, 800
        xor eax, eax
      top:
        call far_function
        add eax, edx
        dec ecx
        jnz top
        hlt
        times 0x1000 - ($ - $$) db 0x90
      far_function:             ; the next page: a region of its own
        mov edx, 2
        call near_helper
        ret
      near_helper:
        inc eax
        ret`,
    }, 3);
    expect(reference.regs[0]).toBe(800 * 3);
  });

  it("faults precisely when a PUSH meets a stack page that is not present, then resumes", () => {
    const { reference } = runBoth({
      source: `
        mov ecx, 300
        xor eax, eax
      top:
        add eax, 5
        call function
        dec ecx
        jnz top
        hlt
      function:
        push eax
        inc dword [count]
        pop edx
        cmp ecx, 150
        jne .ok
        mov esp, ${MISSING + 8}       ; move the stack to the bottom of the missing page
        push ecx                      ; faults, then (mapped) runs on
        pop ecx
        mov esp, ${STACK_TOP - 4}     ; back to the return address
      .ok:
        ret
      count: dd 0`,
      unmapped: [MISSING],
    }, 4, (cpu, vector) => {
      expect(vector).toBe(Vector.PF);
      expect(cpu.cr2).toBe(MISSING + 4);
      expect(cpu.regs[4]).toBe(MISSING + 8);
      // Map the page: the PUSH restarts.
      new DataView(cpu.bus.memory.ram.buffer).setUint32(PAGE_TABLE + 4 * (MISSING >>> 12), MISSING | 7, true);
      return true;
    });
    expect(reference.halted).toBe(true);
    expect(reference.regs[0]).toBe(300 * 5);
  });

  it("faults on fetching a linked block whose page was unmapped (INVLPG), at the block's start", () => {
    const far = CODE + 0x1000;
    const fetchFault = remapOnFetchFault(far);
    const { reference } = runBoth({
      source: `
        mov ecx, 200
      top:
        call far_function
        cmp ecx, 100
        jne .skip
        mov dword [${PAGE_TABLE + 4 * (far >>> 12)}], 0
        invlpg [${far}]
      .skip:
        dec ecx
        jnz top
        hlt
        times ${0x1000} - ($ - $$) db 0
      far_function:
        inc eax
        ret`,
      unmapped: [MISSING],
    }, 6, fetchFault.onFault);
    expect(reference.halted).toBe(true);
    expect(reference.regs[0]).toBe(200);
    expect(fetchFault.faults()).toBe(1);
  });

  it("faults on fetching the target of a branch taken in mid-block on a page just unmapped", () => {
    const far = CODE + 0x1000;
    const fetchFault = remapOnFetchFault(far);
    const { reference } = runBoth({
      source: `
        mov ecx, 200
      top:
        test ecx, 1
        jz far_code              ; taken every other turn, from the middle of the block
      back:
        cmp ecx, 101
        jne .skip
        mov dword [${PAGE_TABLE + 4 * (far >>> 12)}], 0
        invlpg [${far}]
      .skip:
        dec ecx
        jnz top
        hlt
        times ${0x1000} - ($ - $$) db 0
      far_code:
        inc eax
        jmp back`,
      unmapped: [MISSING],
    }, 7, fetchFault.onFault);
    expect(reference.halted).toBe(true);
    expect(reference.regs[0]).toBe(100);
    expect(fetchFault.faults()).toBe(1);
  });

  it("faults precisely on the CALL itself when its push misses the stack page", () => {
    const { reference } = runBoth({
      source: `
        mov ecx, 50
      top:
        call function
        dec ecx
        jnz top
        mov esp, ${MISSING + 0x1000}   ; the next push lands on the missing page
        call function
        hlt
      function:
        inc eax
        ret`,
      unmapped: [MISSING],
    }, 5, (cpu, vector) => {
      expect(vector).toBe(Vector.PF);
      expect(cpu.cr2).toBe(MISSING + 0xffc);
      expect(cpu.regs[4]).toBe(MISSING + 0x1000);
      expect(cpu.ram8[cpu.eip]).toBe(0xe8);
      new DataView(cpu.bus.memory.ram.buffer).setUint32(PAGE_TABLE + 4 * (MISSING >>> 12), MISSING | 7, true);
      return true;
    });
    expect(reference.regs[0]).toBe(51);
    expect(reference.halted).toBe(true);
  });

  it("keeps a stack in device memory going through the bus, in order", () => {
    const { reference } = runBoth({
      source: `
        mov ecx, 200
      top:
        push ecx
        call function
        pop edx
        add eax, edx
        dec ecx
        jnz top
        hlt
      function:
        push ebp
        mov ebp, esp
        mov edx, [ebp + 8]
        add ebx, edx
        leave
        ret`,
      mmioStack: true,
    }, 6);
    expect(reference.regs[0]).toBe((200 * 201) / 2);
    expect(reference.regs[3]).toBe((200 * 201) / 2);
    expect((reference.bus as RecordingBus).log.length).toBeGreaterThan(200 * 6);
  });

  it("sees a store that rewrites a later block of the same region", () => {
    const { reference } = runBoth({
      source: `
        mov ecx, 400
        xor eax, eax
      top:
        call patch_target
        mov byte [patch_target + 2], cl   ; the callee's imm8 follows the loop counter
        dec ecx
        jnz top
        hlt
      patch_target:
        add eax, 0x7f
        ret`,
    }, 7);
    // The first call adds 0x7f; later calls add the previous iteration's CL (sign-extended imm8).
    let expected = 0x7f;
    for (let ecx = 400; ecx > 1; ecx--) expected += ((ecx & 0xff) << 24) >> 24;
    expect(reference.regs[0]).toBe(expected | 0);
  });

  it("multiplies, divides, tests bits and shifts as the interpreter does, #DE included", () => {
    const { reference } = runBoth({
      source: `
        mov ecx, 600
        mov esi, 0x12345
        xor edi, edi
      top:
        mov eax, ecx
        imul eax, eax, -7
        mov ebx, eax
        mul ecx                 ; EDX:EAX
        imul ebx, ecx
        add edi, eax
        xor edi, edx
        mov eax, edi
        xor edx, edx
        lea ebx, [ecx + 3]
        div ebx                 ; EDX = 0: the native path
        add esi, edx
        mov eax, ecx
        cdq
        neg ebx
        idiv ebx                ; signed, negative divisor
        add esi, eax
        mov edx, ecx
        and edx, 3
        mov eax, esi
        div ebx                 ; EDX nonzero: the kernel's path
        add esi, eax
        mov eax, ecx
        bt esi, eax
        adc edi, 0
        lea eax, [ecx - 300]
        bts [bitmap + 64], eax    ; a negative offset reaches below the operand
        btr dword [bitmap], 5
        btc [bitmap], ecx
        setc al
        add edi, eax
        mov eax, esi
        shl eax, cl
        shr esi, 3
        sar eax, 1
        rol esi, cl
        xor edi, eax
        mov cl, ch              ; a zero count for the next shift now and then
        shl esi, cl
        mov ecx, [count]
        dec ecx
        mov [count], ecx
        jnz top
        xor edx, edx
        mov eax, 7
        div edx                 ; #DE
        hlt
      count: dd 600
      align 16
        times 64 db 0
      bitmap: times 128 db 0x5a`,
    }, 9, (cpu, vector) => {
      expect(vector).toBe(Vector.DE);
      cpu.halted = true;
      return false;
    });
    expect(reference.regs[0]).toBe(7);
  });

  it("stays exact through a translation's youth, its primed catch and a fault after", () => {
    // Short budgets: the loop's translation is called far more than its 256 young calls, then
    // faults inside (the stride reaches the missing page) and resumes once the page is mapped.
    const { reference, jit } = runBoth({
      source: `
        mov ecx, 3000
        mov esi, ${MISSING - 2900 * 4}
        xor eax, eax
      top:
        add eax, ecx
        mov [esi], eax                ; reaches the missing page after 2900 iterations
        sub esi, -4
        dec ecx
        jnz top
        hlt`,
      unmapped: [MISSING],
    }, 10, (cpu, vector) => {
      expect(vector).toBe(Vector.PF);
      expect([cpu.cr2, cpu.regs[1]]).toEqual([MISSING, 100]);
      new DataView(cpu.bus.memory.ram.buffer).setUint32(PAGE_TABLE + 4 * (MISSING >>> 12), MISSING | 7, true);
      return true;
    }, (rng) => 20 + rng.below(40));
    expect(reference.halted).toBe(true);
    expect(jit[0].translations.translatedInstructions).toBeGreaterThan(10_000);
  });

  it("accesses unaligned and page-crossing words and dwords like the interpreter", () => {
    const { reference } = runBoth({
      source: `
        mov ecx, 2000
        mov esi, ${MISSING - 0x20}
        mov eax, 0x12345678
      top:
        lea edi, [esi + ecx]          ; every alignment, and across the page boundary at MISSING - 0x1000
        and edi, ${~0x1000 >>> 0}
        mov [edi], eax
        mov [edi + 5], ax
        add eax, [edi + 1]
        movzx edx, word [edi + 3]
        add eax, edx
        imul eax, eax, 0x9e3779b1     ; keep every byte busy
        add word [edi + 7], 0x1234
        sub dword [edi + 9], ecx
        dec ecx
        jnz top
        hlt`,
    }, 11);
    expect(reference.halted).toBe(true);
  });

  it("enters a region again at the block an earlier call left it, not making that block a region of its own", () => {
    const scenario = {
      source: `
        mov ecx, 20000
        xor eax, eax
      top:
        add eax, ecx
        test ecx, 3
        jnz skip
        xor eax, 0x5a5a
      skip:
        cmp eax, 1000
        jb small
        sub eax, 7
      small:
        dec ecx
        jnz top
        hlt`,
    };
    const budget = (rng: Random) => 300 + rng.below(3000);
    const { reference, jit } = runBoth(scenario, 13, undefined, budget);
    expect(reference.halted).toBe(true);
    for (const cpu of jit) expect(cpu.translations.regionReentries).toBeGreaterThan(20);
    // Calls of a few dozen instructions each, as with code that jumps around rather than loops:
    // the region stays (regions are no longer undone for short calls) and runs most of the loop.
    const short = runBoth(scenario, 16, undefined, (rng) => 10 + rng.below(30), undefined, [0, 5, 40]);
    expect(short.reference.regs[0]).toBe(reference.regs[0]);
    for (const cpu of short.jit) expect(cpu.translations.translatedInstructions).toBeGreaterThan(60_000);
    // The blocks inside the region that calls left it at are entered there again, not counted hot
    // and translated as the heads of regions of their own. (Budgets that end inside a block start
    // blocks of their own at odd places; those are not the region's.)
    const cpu = flatCpu(scenario, 5);
    const rng = new Random(13);
    while (!cpu.halted) expect(stepOrFault(cpu, budget(rng))).toBe(-1);
    expect(cpu.regs[0]).toBe(reference.regs[0]);
    const head = cpu.decodedCode.page(CODE >>> 12)![7]!;
    const region = head.translation!;
    const members = region.blocks.filter((b) => b !== head);
    expect(members.length).toBeGreaterThan(0);
    for (const member of members) {
      expect(member.translation).toBeNull();
      expect(member.region).not.toBeNull();
    }
    expect(cpu.translations.regionReentries).toBeGreaterThan(30);
  });

  it("does not enter a region at a block whose code expects the flags of another operation", () => {
    // Between steps, every CPU folds its flags into EFLAGS (the same flags, kept another way, as an
    // interrupt handler's IRET would leave them). A block entered inside the region after a CMP
    // reads its flags from the CMP's operands, so the region must not be entered there then.
    const { reference, jit } = runBoth({
      source: `
        mov ecx, 6000
        xor eax, eax
        xor ebx, ebx
      top:
        add eax, 3
        cmp eax, 5000
        jmp mid                ; MID is only ever entered with the CMP's flags
      mid:
        jae wrap
        add ebx, eax
        xor ebx, 0x1234
        rol ebx, 3
        add ebx, ecx
        ror ebx, 1
        not ebx
        inc ebx
        jmp next
      wrap:
        sub eax, 4000
      next:
        dec ecx
        jnz top
        hlt`,
    }, 14, undefined, (rng) => 300 + rng.below(2000), (cpu) => {
      cpu.eflags = materializeFlags(cpu);
      cpu.lazyOp = 0;
      // Meaningless now: code that still read them would go wrong.
      cpu.lazyA = 0xa5a5a5a5;
      cpu.lazyB = 0x5a5a5a5a;
      cpu.lazyResult = 1;
    }, [0, 1, 3, 5, 40]);
    expect(reference.halted).toBe(true);
    // Translated from the fifth run, the blocks the loop's region is left at are entered inside it.
    expect(jit[3].translations.regionReentries).toBeGreaterThan(10);
  });

  it("rotates by constants and multiplies like the interpreter, with the flags read, kept or overwritten", () => {
    const { reference } = runBoth({
      source: `
        mov ecx, 3000
        mov eax, 0x9e3779b9
        mov ebx, 0x7f4a7c15
        xor esi, esi
      top:
        rol eax, 5
        pushfd                 ; CF and OF of the rotate, the rest from before
        pop edx
        add esi, edx
        ror ebx, 13
        adc esi, 0
        rol ax, 3
        jo .o1
        inc esi
      .o1:
        ror bl, 1
        jc .c1
        add esi, 3
      .c1:
        rol dh, 8              ; a multiple of the size: CF and OF from the unchanged value
        pushfd
        pop edx
        xor esi, edx
        ror word [esp - 8], 4  ; in memory
        imul edx, eax, 0x10001 ; flags overwritten below: no high half needed
        add esi, edx
        imul ebx, ecx          ; flags read by JO
        jno .n1
        add esi, 0x100
      .n1:
        shl edx, 3             ; replaces every flag: the IMUL before it is dead
        imul edx, esi
        shr edx, 1
        adc esi, edx
        add eax, esi
        dec ecx
        jnz top
        hlt`,
    }, 17);
    expect(reference.halted).toBe(true);
  });

  it("remakes a region once blocks it branched to without having them are decoded", () => {
    const scenario = {
      source: `
        mov ecx, 4009
        xor eax, eax
      top:
        add eax, ecx
        dec ecx
        jz done
        test ecx, 15
        jnz top
        push top              ; RARE returns to the loop's head, which the run loop enters again
        jmp rare              ; decoded only after the loop was first translated
      done:
        hlt
      rare:
        add eax, 1000000
        ret`,
    };
    const { reference, jit } = runBoth(scenario, 8);
    let expected = 0;
    for (let ecx = 4009; ecx > 0; ecx--) expected += ecx + ((ecx - 1) % 16 === 0 && ecx > 1 ? 1_000_000 : 0);
    expect(reference.regs[0]).toBe(expected);
    // Translating on first sight, the loop's region was made before RARE existed, and again after.
    const cpu = jit[0];
    expect(cpu.translations.translated).toBeGreaterThan(cpu.translations.live);
  });
});
