import { beforeAll, describe, expect, it } from "vitest";
import { Cr0, Flag, Reg, Seg } from "./constants.js";
import { HotArch } from "./cpu.js";
import { Vector } from "./fault.js";
import { ArithFlag, LazyOp, materializeFlags } from "./flags.js";
import { runInstructions, stepOrFault } from "./interpreter.js";
import { refreshBreakpoints } from "./debug-registers.js";
import { decode } from "./decoder.js";
import { DecodedInstruction } from "./instruction.js";
import { Fast, FastArch, FastLazy, specialisedForm } from "./ops-fast.js";
import { assemble, createFlatCpu, loadBytes, setTestEngine } from "./test-support.js";

describe("hot-path constant mirrors", () => {
  it("agree with the originals", () => {
    expect([FastLazy.NONE, FastLazy.ADD, FastLazy.SUB, FastLazy.LOGIC, FastLazy.INC, FastLazy.DEC])
      .toEqual([LazyOp.NONE, LazyOp.ADD, LazyOp.SUB, LazyOp.LOGIC, LazyOp.INC, LazyOp.DEC]);
    expect([FastArch.EAX, FastArch.ESP, FastArch.CS, FastArch.SS, FastArch.CF, FastArch.ZF, FastArch.IF])
      .toEqual([Reg.EAX, Reg.ESP, Seg.CS, Seg.SS, Flag.CF, Flag.ZF, Flag.IF]);
    expect([ArithFlag.CF, ArithFlag.PF, ArithFlag.AF, ArithFlag.ZF, ArithFlag.SF, ArithFlag.OF])
      .toEqual([Flag.CF, Flag.PF, Flag.AF, Flag.ZF, Flag.SF, Flag.OF]);
    expect([HotArch.CS, HotArch.SS, HotArch.ESP, HotArch.FLAG_AC, HotArch.CR0_AM])
      .toEqual([Seg.CS, Seg.SS, Reg.ESP, Flag.AC, Cr0.AM]);
  });
});

describe("specialised forms", () => {
  function formOf(source: string, bits = 32): number {
    const cpu = createFlatCpu();
    if (bits === 16) cpu.setSegmentCache(Seg.CS, 8, 0, -1, 0x9b);
    loadBytes(cpu, 0x1000, assemble(`bits ${bits}\n${source}\n`));
    cpu.eip = 0x1000;
    const insn = new DecodedInstruction();
    decode(cpu, insn);
    return specialisedForm(insn);
  }

  it("are chosen only for plain 32-bit forms", () => {
    expect(formOf("add eax, ecx")).toBe(Fast.ADD_RR);
    expect(formOf("adc eax, ecx")).toBe(Fast.GENERIC);
    expect(formOf("add ax, cx")).toBe(Fast.GENERIC);
    expect(formOf("add al, cl")).toBe(Fast.GENERIC);
    expect(formOf("add cx, dx", 16)).toBe(Fast.GENERIC);
    expect(formOf("add ecx, edx", 16)).toBe(Fast.ADD_RR); // 16-bit code with the operand-size prefix
    expect(formOf("sub dword [ebx], 4")).toBe(Fast.RMW_MI);
    expect(formOf("sbb dword [ebx], 4")).toBe(Fast.GENERIC);
    expect(formOf("cmp dword [ebx], 4")).toBe(Fast.CMP_MI);
    expect(formOf("mov eax, [bx]")).toBe(Fast.GENERIC); // 16-bit address
    expect(formOf("mov eax, [ebx + esi * 4 + 8]")).toBe(Fast.LOAD);
    expect(formOf("lock add [ebx], eax")).toBe(Fast.RMW_MR);
    expect(formOf("lock adc [ebx], eax")).toBe(Fast.GENERIC);
    expect(formOf("rep movsd")).toBe(Fast.GENERIC);
    expect(formOf("jnz $")).toBe(Fast.JCC);
    expect(formOf("ret 4")).toBe(Fast.GENERIC);
    expect(formOf("rol eax, 7")).toBe(Fast.SHIFT_RI);
    expect(formOf("ror edx, 16")).toBe(Fast.SHIFT_RI);
    expect(formOf("shr ecx, 2")).toBe(Fast.SHIFT_RI);
    expect(formOf("rcl eax, 3")).toBe(Fast.GENERIC); // through CF
    expect(formOf("rol dword [ebx], 7")).toBe(Fast.GENERIC);
  });
});

describe("interpreting specialised forms", () => {
  beforeAll(() => setTestEngine("interpreter"));

  function program(source: string) {
    const cpu = createFlatCpu();
    const code = assemble(`bits 32\norg 0x1000\n${source}\n`);
    loadBytes(cpu, 0x1000, code);
    cpu.eip = 0x1000;
    cpu.regs[Reg.ESP] = 0x70000;
    return cpu;
  }

  it("retires the instructions before a faulting load and restarts at it", () => {
    // DS limit 0xffff: the load faults with #GP after three completed instructions.
    const cpu = program(`
      mov eax, 5
      add ebx, eax
      push eax
      mov ecx, [0x20000]
      inc ecx
      hlt`);
    cpu.setSegmentCache(Seg.DS, 0x10, 0, 0xffff, 0x4093);
    cpu.regs[Reg.EBX] = -5;
    expect(stepOrFault(cpu, 100)).toBe(Vector.GP);
    expect(cpu.instructionsRetired).toBe(3);
    expect(cpu.eip).toBe(0x1000 + 5 + 2 + 1);
    expect([cpu.regs[Reg.EAX], cpu.regs[Reg.EBX], cpu.regs[Reg.ESP]]).toEqual([5, 0, 0x70000 - 4]);
    expect(materializeFlags(cpu) & (Flag.ZF | Flag.CF)).toBe(Flag.ZF | Flag.CF);
  });

  it("stops part-way through a block at the budget with EIP at the next instruction", () => {
    const cpu = program(`
      mov eax, 1
      add eax, eax
      add eax, eax
      add eax, eax
      hlt`);
    expect(runInstructions(cpu, 2)).toBe(2);
    expect(cpu.eip).toBe(0x1000 + 5 + 2);
    expect(cpu.regs[Reg.EAX]).toBe(2);
    expect(cpu.instructionsRetired).toBe(2);
    expect(runInstructions(cpu, 10)).toBe(3); // the two ADDs and HLT
    expect(cpu.regs[Reg.EAX]).toBe(8);
    expect(cpu.halted).toBe(true);
  });

  it("leaves a block whose later bytes a 32-bit store rewrote", () => {
    const cpu = program(`
      mov ebx, patch + 1
      mov eax, 0x12345678
    again:
      mov [ebx], eax        ; rewrites the immediate of the next instruction
    patch:
      mov ecx, 0x11111111
      add edx, ecx
      dec esi
      jnz again
      hlt`);
    cpu.regs[Reg.ESI] = 2;
    cpu.regs[Reg.EDX] = 0;
    for (let n = 0; n < 100 && !cpu.halted; n++) runInstructions(cpu, 1000);
    expect(cpu.halted).toBe(true);
    expect(cpu.regs[Reg.ECX]).toBe(0x12345678);
    expect(cpu.regs[Reg.EDX]).toBe((0x12345678 * 2) | 0);
  });

  it("rotates by a constant, setting CF and OF and keeping the other flags", () => {
    const cpu = program(`
      mov ebx, 0x80000001
      mov edx, 0x80000001
      cmp eax, eax          ; ZF = 1, SF = 0
      rol ebx, 1            ; 0x00000003: CF = 1 (the new LSB), OF = CF ^ MSB = 1
      hlt`);
    for (let n = 0; n < 10 && !cpu.halted; n++) runInstructions(cpu, 1000);
    expect(cpu.regs[Reg.EBX] >>> 0).toBe(0x00000003);
    expect(materializeFlags(cpu) & (Flag.CF | Flag.OF | Flag.ZF | Flag.SF)).toBe(Flag.CF | Flag.OF | Flag.ZF);
    const right = program(`
      mov edx, 0x00000003
      or edx, edx           ; ZF = 0
      ror edx, 4            ; 0x30000000: CF = 0 (the new MSB)
      ror edx, 29           ; 0x80000001: CF = 1 (OF is undefined for counts above 1)
      hlt`);
    for (let n = 0; n < 10 && !right.halted; n++) runInstructions(right, 1000);
    expect(right.regs[Reg.EDX] >>> 0).toBe(0x80000001);
    expect(materializeFlags(right) & (Flag.CF | Flag.ZF)).toBe(Flag.CF);
  });

  it("keeps CF across INC/DEC after an addition and branches on it", () => {
    const cpu = program(`
      mov eax, 0xffffffff
      add eax, 2            ; CF = 1
      dec ecx               ; keeps CF
      jc carried
      hlt
    carried:
      mov edx, 7
      cmp edx, 8            ; 7 < 8: JL and JB taken
      jl less
      hlt
    less:
      jb below
      hlt
    below:
      mov esi, 1
      hlt`);
    cpu.regs[Reg.ECX] = 1;
    for (let n = 0; n < 100 && !cpu.halted; n++) runInstructions(cpu, 1000);
    expect(cpu.regs[Reg.ESI]).toBe(1);
    expect(cpu.regs[Reg.ECX]).toBe(0);
  });
});

describe("specialised forms against the generic handlers", () => {
  beforeAll(() => setTestEngine("interpreter"));

  /** Runs `source` to HLT; `generic` enables an unreachable instruction breakpoint, which makes the run loop step every instruction through the generic handlers. */
  function run(source: string, generic: boolean) {
    const cpu = createFlatCpu();
    loadBytes(cpu, 0x1000, assemble(`bits 32\norg 0x1000\n${source}\n`));
    cpu.eip = 0x1000;
    cpu.regs.set([0x01020304, 0x05060708, 0x090a0b0c, 0x0d0e0f10, 0x70000, 0x11121314, 0x15161718, 0x191a1b1c]);
    if (generic) {
      cpu.dr[0] = 0xfffff000;
      cpu.dr[7] = 0x401; // L0, execute
      refreshBreakpoints(cpu);
    }
    for (let n = 0; n < 1000 && !cpu.halted; n++) expect(stepOrFault(cpu, 1000)).toBe(-1);
    expect(cpu.halted).toBe(true);
    return {
      regs: Array.from(cpu.regs),
      eip: cpu.eip,
      flags: materializeFlags(cpu) & 0x8d5,
      data: Array.from(cpu.ram8.subarray(0x3000, 0x3060)),
      stack: Array.from(cpu.ram8.subarray(0x70000 - 0x40, 0x70000)),
      retired: cpu.instructionsRetired,
    };
  }

  it("agree on every form", () => {
    const source = `
      mov ebx, 0x3000
      mov dword [ebx], 0x80402010
      mov byte [ebx + 4], 0xfe
      mov dword [ebx + 12], 7
      mov eax, 0x11223344
      mov ecx, 0x55667788
      mov ah, [ebx + 1]
      mov [ebx + 5], ch
      mov dl, [ebx + 3]
      movzx esi, ch
      movzx edi, byte [ebx + 4]
      movzx ebp, word [ebx + 2]
      mov [ebx + 16], esi
      add [ebx + 12], eax
      or dword [ebx + 12], 0x100
      sub dword [ebx + 16], 3
      seta [ebx + 40]
      xor [ebx], ecx
      and dword [ebx + 16], -2
      lock add [ebx + 16], edx
      setc [ebx + 41]
      add [ebx + 45], eax
      setz [ebx + 42]
      cmp byte [ebx + 4], 0xff
      setb [ebx + 20]
      test byte [ebx + 4], 0x80
      setz [ebx + 21]
      test [ebx], eax
      setnz [ebx + 22]
      or eax, [ebx]
      and ecx, [ebx]
      sub edx, [ebx]
      setb [ebx + 23]
      xor esi, [ebx]
      add edi, [ebx]
      seto [ebx + 24]
      cmp eax, [ebx]
      seta [ebx + 25]
      cmp [ebx], ecx
      setl [ebx + 26]
      cmp dword [ebx + 12], 9
      setle [ebx + 27]
      cmp eax, 0x7fffffff
      setg [ebx + 28]
      test ecx, edx
      setp [ebx + 29]
      shl eax, 3
      setc [ebx + 30]
      shr ecx, 31
      sar edx, 5
      push 0x12345678
      push -3
      pop esi
      pop edi
      push ebp
      mov ebp, esp
      sub esp, 16
      mov [ebp - 4], eax
      mov dword [ebp - 8], 0x5a5a5a5a
      leave
      mov edx, function
      call edx
      mov [ebx + 8], edx
      call [ebx + 8]
      mov edx, after
      jmp edx
      hlt
    after:
      mov ecx, 5
    again:
      add eax, ecx
      inc edi
      dec ecx
      jnz again
      stc
      inc esi
      setc [ebx + 31]
      mov ecx, -2
      add ecx, 1
      dec edx
      jc carried
      hlt
    carried:
      xor ecx, ecx
      jz zero
      hlt
    zero:
      mov [ebx + 32], eax
      mov [ebx + 36], edi
      nop
      hlt
    function:
      add eax, 1
      ret`;
    const generic = run(source, true);
    const fast = run(source, false);
    expect(fast).toEqual(generic);
    expect(generic.data[31]).toBe(1); // STC's carry survived INC
  });
});
