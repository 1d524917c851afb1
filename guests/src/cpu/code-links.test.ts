/**
 * Links between cached blocks (CodeBlock.successorAt / linkSuccessor) and the epoch that decides
 * when they may be followed: a link is a shortcut past the TLB and the fetch-rights check, so it
 * must die exactly when either could give another answer, and should survive everything else.
 */
import { describe, expect, it } from "vitest";
import { RamOnlyBus } from "./bus.js";
import { CodeBlock } from "./code-block.js";
import { Cr0, Cr4, Seg } from "./constants.js";
import { Cpu } from "./cpu.js";
import { runInstructions } from "./interpreter.js";
import { translateLinear } from "./paging.js";
import { assemble, requireTool } from "./test-support.js";

const CODE = 0x10000;
/** Linear page of the called function, mapped to FIRST_FUNCTION and then to SECOND_FUNCTION. */
const FUNCTION = 0x20000;
const FIRST_FUNCTION = 0x30000;
const SECOND_FUNCTION = 0x31000;
const DATA = 0x40000;
const STACK_TOP = 0x70000;
const PAGE_DIRECTORY = 0x80000;
const PAGE_TABLE = 0x81000;

/** Protected mode, flat segments, paging with an identity map of the low 4 MiB but FUNCTION → FIRST_FUNCTION. */
function pagedCpu(jit: boolean): Cpu {
  const bus = new RamOnlyBus(4 << 20);
  const cpu = new Cpu(bus);
  cpu.jit.enabled = jit;
  cpu.jit.hotThreshold = 0;
  cpu.cr0 |= Cr0.PE;
  for (let s = 0; s < 6; s++) cpu.setSegmentCache(s, s === Seg.CS ? 8 : 16, 0, -1, s === Seg.CS ? 0xc09b : 0xc093);
  cpu.eflags = 0x2;
  cpu.regs[4] = STACK_TOP;
  const view = new DataView(bus.memory.ram.buffer);
  for (let i = 0; i < 1024; i++) view.setUint32(PAGE_TABLE + 4 * i, (i << 12) | 7, true);
  view.setUint32(PAGE_TABLE + 4 * (FUNCTION >>> 12), FIRST_FUNCTION | 7, true);
  view.setUint32(PAGE_DIRECTORY, PAGE_TABLE | 7, true);
  cpu.cr3 = PAGE_DIRECTORY;
  cpu.cr0 |= Cr0.PG;
  cpu.flushTlb(true);
  return cpu;
}

function block(startEip: number): CodeBlock {
  const made = new CodeBlock();
  made.startEip = startEip;
  return made;
}

describe("successor links", () => {
  it("keep four successors (a block runs on past its conditional branches), the last slot taking newer ones", () => {
    const from = block(0x100);
    const targets = [0x200, 0x300, 0x400, 0x500, 0x600].map(block);
    for (const target of targets.slice(0, 4)) from.linkSuccessor(target.startEip, target, 7);
    for (const target of targets.slice(0, 4)) expect(from.successorAt(target.startEip)).toBe(target);
    from.linkSuccessor(0x600, targets[4], 7);
    expect(from.successorAt(0x600)).toBe(targets[4]);
    expect(from.successorAt(0x500)).toBeNull();
    expect(from.successorAt(0x200)).toBe(targets[0]);
    expect(from.successorAt(0x700)).toBeNull();
  });

  it("are cleared when linked in a newer epoch", () => {
    const from = block(0x100);
    const first = block(0x200);
    const second = block(0x300);
    from.linkSuccessor(0x200, first, 4);
    from.linkSuccessor(0x300, second, 8);
    expect(from.linkEpoch).toBe(8);
    expect(from.successorAt(0x200)).toBeNull();
    expect(from.successorAt(0x300)).toBe(second);
  });
});

describe("the code link epoch", () => {
  it("carries the CPL, so links made at one privilege level hold again on the way back to it", () => {
    const cpu = pagedCpu(false);
    const kernel = cpu.codeLinkEpoch;
    cpu.setCpl(3);
    expect(cpu.codeLinkEpoch).not.toBe(kernel);
    const user = cpu.codeLinkEpoch;
    cpu.setCpl(0);
    expect(cpu.codeLinkEpoch).toBe(kernel);
    cpu.setCpl(3);
    expect(cpu.codeLinkEpoch).toBe(user);
  });

  it("moves on at a TLB flush that drops a code page's translation, keeping the CPL", () => {
    const cpu = pagedCpu(false);
    cpu.markCodePage(FIRST_FUNCTION >>> 12);
    cpu.setCpl(3);
    translateLinear(cpu, FUNCTION, false, true);
    const before = cpu.codeLinkEpoch;
    cpu.flushTlb(false);
    expect(cpu.codeLinkEpoch).not.toBe(before);
    cpu.setCpl(0);
    cpu.setCpl(3);
    expect(cpu.codeLinkEpoch).not.toBe(before);
  });

  it("holds across a CR3 reload that keeps every code page (global ones), not across a full flush", () => {
    const cpu = pagedCpu(false);
    cpu.cr4 |= Cr4.PGE;
    const view = new DataView(cpu.ram8.buffer, cpu.ram8.byteOffset);
    view.setUint32(PAGE_TABLE + 4 * (FUNCTION >>> 12), FIRST_FUNCTION | 0x107, true);
    cpu.markCodePage(FIRST_FUNCTION >>> 12);
    translateLinear(cpu, FUNCTION, false, false);
    translateLinear(cpu, DATA, false, false);
    const before = cpu.codeLinkEpoch;
    cpu.flushTlb(false);
    expect(cpu.codeLinkEpoch).toBe(before);
    translateLinear(cpu, FUNCTION, false, false);
    cpu.flushTlb(true);
    expect(cpu.codeLinkEpoch).not.toBe(before);
  });

  it("moves on at INVLPG of a page that maps code, not of a data page", () => {
    const cpu = pagedCpu(false);
    cpu.markCodePage(FIRST_FUNCTION >>> 12);
    translateLinear(cpu, FUNCTION, false, false);
    translateLinear(cpu, DATA, false, false);
    const before = cpu.codeLinkEpoch;
    cpu.invalidatePage(DATA);
    expect(cpu.codeLinkEpoch).toBe(before);
    cpu.invalidatePage(FUNCTION);
    expect(cpu.codeLinkEpoch).not.toBe(before);
  });

  it.runIf(requireTool("nasm")).each([
    ["runs INVLPG", `invlpg [${FUNCTION}]`],
    ["reloads CR3", "mov eax, cr3\n  mov cr3, eax"],
  ])("a call linked to its target follows the page to new code after the guest remaps it and %s", (_, flush) => {
    // The loop's CALL block links to the function's block; remapped, the same linear address holds
    // other code, which only the TLB (through INVLPG) can tell. The same CALL runs before and after,
    // and the new code's page is code already (a page that becomes code flushes the TLB anyway).
    const program = assemble(`bits 32
org ${CODE}
  call ${SECOND_FUNCTION}
  xor ebx, ebx
  mov edx, 2
phase:
  mov ecx, 50
again: call ${FUNCTION}
  add ebx, eax
  dec ecx
  jnz again
  dec edx
  jz done
  mov dword [${PAGE_TABLE + 4 * (FUNCTION >>> 12)}], ${SECOND_FUNCTION | 7}
  ${flush}
  mov dword [${DATA}], 1
  invlpg [${DATA}]
  jmp phase
done:
  hlt
`);
    for (const jit of [false, true]) {
      const cpu = pagedCpu(jit);
      cpu.ram8.set(program, CODE);
      cpu.ram8.set(assemble("bits 32\nmov eax, 1\nret\n"), FIRST_FUNCTION);
      cpu.ram8.set(assemble("bits 32\nmov eax, 100\nret\n"), SECOND_FUNCTION);
      cpu.eip = CODE;
      for (let slice = 0; slice < 100 && !cpu.halted; slice++) runInstructions(cpu, 1000);
      expect(cpu.halted).toBe(true);
      expect(cpu.regs[3], jit ? "translated" : "interpreted").toBe(50 * 1 + 50 * 100);
    }
  });
});
