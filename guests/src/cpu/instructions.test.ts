/**
 * Hand-computed expectations per instruction group (the oracle covers breadth; these pin down
 * documented corner cases and the system-level instructions the oracle cannot run).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Flag } from "./constants.js";
import { Vector } from "./fault.js";
import { materializeFlags } from "./flags.js";
import { assemble, CPU_ENGINES, createFlatCpu, loadBytes, requireTool, runToHalt, setTestEngine } from "./test-support.js";

const ARITH = 0x8d5;

interface Case {
  name: string;
  code: string;
  regs?: Partial<Record<"eax" | "ecx" | "edx" | "ebx" | "esi" | "edi" | "ebp", number>>;
  flags?: number;
  expect: Partial<Record<"eax" | "ecx" | "edx" | "ebx" | "esi" | "edi" | "ebp", number>>;
  expectFlags?: number;
  flagMask?: number;
  fault?: number;
}

const NAMES = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"] as const;

function execute(c: Case) {
  const cpu = createFlatCpu();
  cpu.regs[4] = 0x80000;
  for (const [name, value] of Object.entries(c.regs ?? {})) cpu.regs[NAMES.indexOf(name as never)] = value;
  cpu.eflags = 0x2 | (c.flags ?? 0);
  const code = assemble(`bits 32\norg 0x1000\n${c.code}\nhlt\n`);
  loadBytes(cpu, 0x1000, code);
  cpu.eip = 0x1000;
  const fault = runToHalt(cpu);
  return { cpu, fault };
}

const CASES: Case[] = [
  { name: "ADD sets CF, ZF, AF, PF on wrap to zero", code: "add eax, 1", regs: { eax: -1 }, expect: { eax: 0 }, expectFlags: Flag.CF | Flag.ZF | Flag.AF | Flag.PF },
  { name: "ADD signed overflow", code: "add eax, 1", regs: { eax: 0x7fffffff }, expect: { eax: 0x80000000 | 0 }, expectFlags: Flag.OF | Flag.SF | Flag.AF | Flag.PF },
  { name: "ADC adds the carry", code: "adc al, 0xff", regs: { eax: 0 }, flags: Flag.CF, expect: { eax: 0 }, expectFlags: Flag.CF | Flag.ZF | Flag.AF | Flag.PF },
  { name: "SBB borrow chain", code: "sbb eax, 0", regs: { eax: 0 }, flags: Flag.CF, expect: { eax: -1 }, expectFlags: Flag.CF | Flag.SF | Flag.AF | Flag.PF },
  { name: "CMP leaves operands", code: "cmp ecx, edx", regs: { ecx: 1, edx: 2 }, expect: { ecx: 1, edx: 2 }, expectFlags: Flag.CF | Flag.SF | Flag.AF | Flag.PF },
  { name: "INC keeps CF", code: "inc eax", regs: { eax: 0x7fffffff }, flags: Flag.CF, expect: { eax: 0x80000000 | 0 }, expectFlags: Flag.CF | Flag.OF | Flag.SF | Flag.AF | Flag.PF },
  { name: "DEC to zero keeps CF clear", code: "dec cx", regs: { ecx: 0x10001 }, expect: { ecx: 0x10000 }, expectFlags: Flag.ZF | Flag.PF },
  { name: "NEG of zero clears CF", code: "neg eax", regs: { eax: 0 }, flags: Flag.CF, expect: { eax: 0 }, expectFlags: Flag.ZF | Flag.PF },
  { name: "NEG of the minimum overflows", code: "neg al", regs: { eax: 0x80 }, expect: { eax: 0x80 }, expectFlags: Flag.CF | Flag.OF | Flag.SF },
  { name: "AND clears CF and OF", code: "and eax, ecx", regs: { eax: 0xf0, ecx: 0x3c }, flags: Flag.CF | Flag.OF, expect: { eax: 0x30 }, expectFlags: Flag.PF, flagMask: ARITH & ~Flag.AF },
  { name: "SHL by 1 sets OF from MSB^CF", code: "shl al, 1", regs: { eax: 0x40 }, expect: { eax: 0x80 }, expectFlags: Flag.OF | Flag.SF, flagMask: ARITH & ~Flag.AF },
  { name: "SHR by 1 sets OF from the old MSB", code: "shr al, 1", regs: { eax: 0x81 }, expect: { eax: 0x40 }, expectFlags: Flag.CF | Flag.OF, flagMask: ARITH & ~Flag.AF },
  { name: "SAR by a large count fills with the sign", code: "sar eax, 40", regs: { eax: 0x80000000 | 0 }, expect: { eax: 0xff800000 | 0 }, expectFlags: Flag.SF, flagMask: Flag.CF | Flag.SF | Flag.ZF },
  { name: "shift by zero leaves flags", code: "shl eax, cl", regs: { eax: 5, ecx: 32 }, flags: Flag.CF | Flag.ZF, expect: { eax: 5 }, expectFlags: Flag.CF | Flag.ZF },
  { name: "ROL sets CF from the new LSB", code: "rol al, 1", regs: { eax: 0x80 }, expect: { eax: 0x01 }, expectFlags: Flag.CF | Flag.OF, flagMask: Flag.CF | Flag.OF },
  { name: "RCR rotates through CF", code: "rcr al, 1", regs: { eax: 0x01 }, flags: Flag.CF, expect: { eax: 0x80 }, expectFlags: Flag.CF | Flag.OF, flagMask: Flag.CF | Flag.OF },
  { name: "RCL 9 on a byte is the identity", code: "rcl al, 9", regs: { eax: 0x5a }, flags: Flag.CF, expect: { eax: 0x5a }, expectFlags: Flag.CF, flagMask: Flag.CF },
  { name: "SHLD shifts in from the source", code: "shld eax, edx, 8", regs: { eax: 0x12345678, edx: 0x9abcdef0 }, expect: { eax: 0x3456789a }, expectFlags: 0, flagMask: Flag.CF | Flag.ZF },
  { name: "SHRD by CL", code: "shrd ax, dx, cl", regs: { eax: 0x1234, edx: 0xabcd, ecx: 4 }, expect: { eax: 0xd123 }, expectFlags: Flag.SF, flagMask: Flag.CF | Flag.SF | Flag.ZF },
  { name: "MUL sets CF/OF when the high half is used", code: "mul ecx", regs: { eax: 0x80000000 | 0, ecx: 4 }, expect: { eax: 0, edx: 2 }, expectFlags: Flag.CF | Flag.OF, flagMask: Flag.CF | Flag.OF },
  { name: "IMUL one-operand signed high half", code: "imul ecx", regs: { eax: -3, ecx: 5 }, expect: { eax: -15, edx: -1 }, expectFlags: 0, flagMask: Flag.CF | Flag.OF },
  { name: "IMUL three-operand overflow", code: "imul eax, ecx, 0x10000", regs: { ecx: 0x10000 }, expect: { eax: 0 }, expectFlags: Flag.CF | Flag.OF, flagMask: Flag.CF | Flag.OF },
  { name: "DIV 64/32", code: "div ecx", regs: { edx: 1, eax: 5, ecx: 3 }, expect: { eax: 0x55555557, edx: 0 } },
  { name: "IDIV rounds toward zero", code: "idiv ecx", regs: { edx: -1, eax: -7, ecx: 2 }, expect: { eax: -3, edx: -1 } },
  { name: "IDIV of the minimum by -1 faults", code: "idiv ecx", regs: { edx: -1, eax: 0x80000000 | 0, ecx: -1 }, expect: { eax: 0x80000000 | 0 }, fault: Vector.DE },
  { name: "DIV by zero faults without changing registers", code: "div cl", regs: { eax: 0x1234, ecx: 0 }, expect: { eax: 0x1234 }, fault: Vector.DE },
  { name: "DAA after packed BCD addition", code: "add al, 0x38\ndaa", regs: { eax: 0x49 }, expect: { eax: 0x87 }, expectFlags: Flag.AF | Flag.SF, flagMask: Flag.CF | Flag.AF | Flag.SF | Flag.ZF },
  { name: "DAS after packed BCD subtraction", code: "sub al, 0x38\ndas", regs: { eax: 0x25 }, expect: { eax: 0x87 }, expectFlags: Flag.CF | Flag.AF | Flag.SF, flagMask: Flag.CF | Flag.AF | Flag.SF | Flag.ZF },
  { name: "AAA adjusts unpacked BCD", code: "add al, 8\naaa", regs: { eax: 0x0105 }, expect: { eax: 0x0203 }, expectFlags: Flag.CF | Flag.AF, flagMask: Flag.CF | Flag.AF },
  { name: "AAM splits AL", code: "aam", regs: { eax: 79 }, expect: { eax: 0x0709 } },
  { name: "AAD joins AH:AL", code: "aad", regs: { eax: 0x0709 }, expect: { eax: 79 } },
  { name: "AAM 0 faults", code: "aam 0", regs: { eax: 5 }, expect: { eax: 5 }, fault: Vector.DE },
  { name: "BSF finds the lowest bit", code: "bsf eax, ecx", regs: { ecx: 0x80100 }, expect: { eax: 8 }, expectFlags: 0, flagMask: Flag.ZF },
  { name: "BSR of zero sets ZF and keeps the destination", code: "bsr eax, ecx", regs: { eax: 77, ecx: 0 }, expect: { eax: 77 }, expectFlags: Flag.ZF, flagMask: Flag.ZF },
  { name: "BTS with a negative register offset reaches below the operand", code: "bts [0x20004], ecx", regs: { ecx: -1 }, expect: {}, expectFlags: 0, flagMask: Flag.CF },
  { name: "BTC immediate flips and reports the old bit", code: "btc eax, 33", regs: { eax: 2 }, expect: { eax: 0 }, expectFlags: Flag.CF, flagMask: Flag.CF },
  { name: "CMPXCHG success", code: "cmpxchg ecx, edx", regs: { eax: 5, ecx: 5, edx: 9 }, expect: { eax: 5, ecx: 9 }, expectFlags: Flag.ZF, flagMask: Flag.ZF },
  { name: "CMPXCHG failure loads the accumulator", code: "cmpxchg ecx, edx", regs: { eax: 4, ecx: 5, edx: 9 }, expect: { eax: 5, ecx: 5 }, expectFlags: 0, flagMask: Flag.ZF },
  { name: "XADD exchanges and adds", code: "xadd ecx, edx", regs: { ecx: 3, edx: 4 }, expect: { ecx: 7, edx: 3 } },
  { name: "CMPXCHG8B compares EDX:EAX", code: "mov dword [0x20000], 1\nmov dword [0x20004], 2\ncmpxchg8b [0x20000]\nmov esi, [0x20000]\nmov edi, [0x20004]", regs: { eax: 1, edx: 2, ebx: 7, ecx: 8 }, expect: { esi: 7, edi: 8 }, expectFlags: Flag.ZF, flagMask: Flag.ZF },
  { name: "BSWAP", code: "bswap eax", regs: { eax: 0x12345678 }, expect: { eax: 0x78563412 } },
  { name: "MOVSX/MOVZX", code: "movsx eax, cl\nmovzx edx, cx", regs: { ecx: 0x1280 }, expect: { eax: -128, edx: 0x1280 } },
  { name: "CBW, CWDE, CDQ", code: "cbw\ncwde\ncdq", regs: { eax: 0xff }, expect: { eax: -1, edx: -1 } },
  { name: "SETcc and CMOVcc", code: "cmp eax, ecx\nsetl dl\ncmovg ebx, ecx\ncmovl esi, ecx", regs: { eax: -1, ecx: 1, ebx: 0, esi: 0, edx: 0 }, expect: { edx: 1, ebx: 0, esi: 1 } },
  { name: "LAHF/SAHF", code: "stc\nlahf\nmov cl, ah\nmov ah, 0xd5\nsahf\nlahf", expect: { ecx: 0x03, eax: 0xd700 } },
  { name: "ENTER with a nesting level and LEAVE", code: "mov ebp, 0x70000\nenter 16, 1\nmov esi, ebp\nmov edi, esp\nleave", expect: { esi: 0x80000 - 4, edi: 0x80000 - 8 - 16, ebp: 0x70000 } },
  { name: "PUSH ESP pushes the old value; POP ESP", code: "push esp\npop eax\npush dword 0x60000\npop esp", expect: { eax: 0x80000 } },
  { name: "PUSHAD/POPAD", code: "pushad\nmov eax, 0\nmov ebx, 0\npopad", regs: { eax: 11, ebx: 22 }, expect: { eax: 11, ebx: 22 } },
  { name: "REP STOSD and REPNE SCASB", code: "mov edi, 0x20000\nmov ecx, 4\nmov eax, 0x41414141\nrep stosd\nmov byte [0x20006], 0\nmov edi, 0x20000\nmov ecx, 100\nxor al, al\nrepne scasb", expect: { edi: 0x20007, ecx: 93 } },
  { name: "MOVSB backwards with DF", code: "mov dword [0x20000], 0x04030201\nstd\nmov esi, 0x20003\nmov edi, 0x20013\nmov ecx, 4\nrep movsb\ncld\nmov eax, [0x20010]", expect: { eax: 0x04030201 }, regs: {} },
  { name: "CPUID vendor and features", code: "xor eax, eax\ncpuid\nmov esi, ebx\nmov eax, 1\ncpuid", expect: { esi: 0x756e6547, eax: 0x633, ecx: 0, edx: 0x0100a939 } },
  { name: "RDMSR/WRMSR SYSENTER_CS", code: "mov ecx, 0x174\nmov eax, 0x10\nxor edx, edx\nwrmsr\nxor eax, eax\nrdmsr", expect: { eax: 0x10, edx: 0 } },
  { name: "RDMSR of an unknown MSR faults", code: "mov ecx, 0x12345\nrdmsr", expect: {}, fault: Vector.GP },
  { name: "UD2", code: "ud2", expect: {}, fault: Vector.UD },
  { name: "LOCK on a register operand is #UD", code: "lock add eax, ecx", expect: {}, fault: Vector.UD },
  { name: "LOCK on MOV is #UD", code: "lock mov [0x20000], eax", expect: {}, fault: Vector.UD },
  { name: "LOCK CMP is #UD", code: "lock cmp [0x20000], eax", expect: {}, fault: Vector.UD },
  { name: "LOCK XCHG and LOCK BTS are fine", code: "lock xchg [0x20000], eax\nlock bts dword [0x20000], 3", regs: { eax: 5 }, expect: { eax: 0 } },
  { name: "RDPMC reads zeroed counters", code: "mov ecx, 1\nrdpmc", regs: { eax: 9, edx: 9 }, expect: { eax: 0, edx: 0 } },
  // Like the TSC, the counters see retired instructions as of the start of the running block (WRMSR,
  // being serializing, ends one): the jumps end blocks so the counts pin down that rule.
  { name: "PERFCTR0 counts retired instructions while EVNTSEL0 enables it", code: "mov ecx, 0x186\nmov eax, 0x4300c0\nxor edx, edx\nwrmsr\njmp n1\nn1: nop\nnop\nnop\njmp n2\nn2: xor ecx, ecx\nrdpmc", expect: { eax: 9, edx: 0 } },
  { name: "Clearing EN freezes the counters", code: "mov ecx, 0x186\nmov eax, 0x430079\nxor edx, edx\nwrmsr\njmp n1\nn1: nop\nnop\njmp n2\nn2: xor eax, eax\nwrmsr\njmp n3\nn3: nop\nnop\nnop\njmp n4\nn4: mov ecx, 0xc1\nrdmsr\nmov esi, eax\nmov ecx, 0x186\nrdmsr", expect: { esi: 8, eax: 0 } },
  { name: "PERFCTR1 follows EVNTSEL0's EN and its own event; other events do not count", code: "mov ecx, 0x187\nmov eax, 0x100c0\nxor edx, edx\nwrmsr\nmov ecx, 0x186\nmov eax, 0x420012\nwrmsr\njmp n1\nn1: nop\njmp n2\nn2: mov ecx, 1\nrdpmc\nmov esi, eax\nxor ecx, ecx\nrdpmc", expect: { esi: 6, eax: 0 } },
  { name: "A counter write sign-extends EAX to 40 bits", code: "mov ecx, 0xc2\nmov eax, 0xfffffff0\nmov edx, 0x12\nwrmsr\nxor eax, eax\nxor edx, edx\nrdmsr", expect: { eax: 0xfffffff0, edx: 0xff } },
  { name: "RDPMC of counter 2 faults", code: "mov ecx, 2\nrdpmc", expect: {}, fault: Vector.GP },
  { name: "CR4.VME is refused (not reported by CPUID)", code: "mov eax, 1\nmov cr4, eax", expect: {}, fault: Vector.GP },
  { name: "LEA with a register operand is #UD", code: "db 0x8d, 0xc0", expect: {}, fault: Vector.UD },
  { name: "MMX opcodes are undefined", code: "db 0x0f, 0x6f, 0xc0", expect: {}, fault: Vector.UD },
  { name: "16-bit addressing wraps at 64 KiB", code: "mov dword [0x20000], 0\nmov byte [0xffff], 0x77\nmov bx, 0xffff\nmov si, 0\ndb 0x67, 0x8a, 0x00", regs: { ebx: 0 }, expect: { eax: 0x77 } },
  { name: "LOOP uses ECX, JECXZ", code: "mov ecx, 3\nxor eax, eax\nl: inc eax\nloop l\njecxz done\nmov eax, 99\ndone:", expect: { eax: 3, ecx: 0 } },
  { name: "XLAT", code: "mov byte [0x20005], 0x99\nmov ebx, 0x20000\nmov al, 5\nxlatb", expect: { eax: 0x99 } },
  { name: "BOUND inside and outside", code: "mov dword [0x20000], 1\nmov dword [0x20004], 3\nmov eax, 2\nbound eax, [0x20000]\nmov eax, 4\nbound eax, [0x20000]", expect: { eax: 4 }, fault: Vector.BR },
];

describe.runIf(requireTool("nasm") || process.env.CI).each(CPU_ENGINES)("instruction groups (%s)", (engine) => {
  beforeAll(() => setTestEngine(engine));

  for (const c of CASES) {
    it(c.name, () => {
      const { cpu, fault } = execute(c);
      expect(fault).toBe(c.fault ?? -1);
      for (const [name, value] of Object.entries(c.expect)) {
        expect(cpu.regs[NAMES.indexOf(name as never)] >>> 0, name).toBe(value! >>> 0);
      }
      if (c.expectFlags !== undefined) {
        const mask = c.flagMask ?? ARITH;
        expect(materializeFlags(cpu) & mask, "flags").toBe(c.expectFlags & mask);
      }
    });
  }

  it("BTS with a negative offset sets the bit in the preceding dword", () => {
    const { cpu } = execute(CASES.find((c) => c.name.startsWith("BTS"))!);
    expect(cpu.ram8[0x20003]).toBe(0x80);
  });
});
