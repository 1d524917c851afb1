/**
 * The instruction set: which handler executes each opcode. DECODE_FORMS (decode-forms.ts) says
 * how each is encoded; together they are the one table the decoder, interpreter and a future
 * translator share. Index = opcode, 0x100 + byte for the 0F page.
 */
import type { Cpu } from "./cpu.js";
import { type DecodedInstruction, OPCODE_SLOTS, PAUSE_OPCODE } from "./instruction.js";
import * as arith from "./ops-arith.js";
import * as control from "./ops-control.js";
import * as data from "./ops-data.js";
import * as fpu from "./ops-fpu.js";
import * as str from "./ops-string.js";
import * as sys from "./ops-system.js";
import { Vector } from "./fault.js";
import { incDecRm } from "./ops-arith.js";

export type Handler = (cpu: Cpu, insn: DecodedInstruction) => void;

export const HANDLERS: Handler[] = new Array<Handler>(OPCODE_SLOTS).fill(sys.undefinedOpcode);

function on(opcodes: number | number[], handler: Handler): void {
  for (const op of typeof opcodes === "number" ? [opcodes] : opcodes) HANDLERS[op] = handler;
}
function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** FF group 5. */
function group5(cpu: Cpu, insn: DecodedInstruction): void {
  switch (insn.reg) {
    case 0: case 1: incDecRm(cpu, insn); return;
    case 2: case 4: control.indirectNear(cpu, insn); return;
    case 3: case 5: sys.farIndirect(cpu, insn); return;
    case 6: control.pushRm(cpu, insn); return;
    default: cpu.raise(Vector.UD);
  }
}

/** FE group 4: only INC and DEC exist. */
function group4(cpu: Cpu, insn: DecodedInstruction): void {
  if (insn.reg > 1) cpu.raise(Vector.UD);
  incDecRm(cpu, insn);
}

// One-byte page.
for (let base = 0; base < 0x40; base += 8) on(range(base, base + 5), arith.aluClassic);
on([0x06, 0x0e, 0x16, 0x1e, 0x1a0, 0x1a8], data.pushSegment);
on([0x07, 0x17, 0x1f, 0x1a1, 0x1a9], data.popSegment);
on([0x27, 0x2f], arith.decimalAdjust);
on([0x37, 0x3f], arith.asciiAdjust);
on(range(0x40, 0x4f), arith.incDecRegister);
on(range(0x50, 0x57), data.pushRegister);
on(range(0x58, 0x5f), data.popRegister);
on(0x60, data.pushAll);
on(0x61, data.popAll);
on(0x62, data.checkBounds);
on(0x63, sys.adjustRpl);
on([0x68, 0x6a], data.pushImmediate);
on([0x69, 0x6b, 0x1af], arith.imulForms);
on([0x6c, 0x6d, 0x6e, 0x6f, 0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xad], str.stringMove);
on([0xa6, 0xa7, 0xae, 0xaf], str.stringCompare);
on(range(0x70, 0x7f), control.jumpConditional);
on(range(0x80, 0x83), arith.aluGroup1);
on([0x84, 0x85, 0xa8, 0xa9], arith.testForms);
on([0x86, 0x87], data.exchangeRm);
on(range(0x88, 0x8b), data.moveRegisterForms);
on(0x8c, data.moveFromSegment);
on(0x8d, data.loadEffectiveAddress);
on(0x8e, data.moveToSegment);
on(0x8f, data.popRm);
on(range(0x90, 0x97), data.exchangeAccumulator);
on(0x98, data.convertToWider);
on(0x99, data.convertToDouble);
on(0x9a, sys.callFarDirect);
on(0x9b, fpu.fpuWait);
on(0x9c, sys.pushFlags);
on(0x9d, sys.popFlags);
on(0x9e, sys.storeAhToFlags);
on(0x9f, sys.loadAhFromFlags);
on(range(0xa0, 0xa3), data.moveOffset);
on(range(0xb0, 0xbf), data.moveImmediateToRegister);
on([0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3], arith.group2);
on([0xc2, 0xc3], control.returnNear);
on([0xc4, 0xc5, 0x1b2, 0x1b4, 0x1b5], data.loadFarPointer);
on([0xc6, 0xc7], data.moveImmediateToRm);
on(0xc8, data.enterFrame);
on(0xc9, data.leaveFrame);
on([0xca, 0xcb], sys.returnFar);
on([0xcc, 0xcd, 0xce, 0xf1], sys.softwareInterrupt);
on(0xcf, sys.iret);
on(0xd4, arith.asciiAdjustMultiply);
on(0xd5, arith.asciiAdjustDivide);
on(0xd6, arith.setAlFromCarry);
on(0xd7, data.translateByte);
on(range(0xd8, 0xdf), fpu.fpuEscape);
on(range(0xe0, 0xe3), control.loopForms);
on([0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef], sys.portIo);
on(0xe8, control.callRelative);
on([0xe9, 0xeb], control.jumpRelative);
on(0xea, sys.jumpFarDirect);
on(0xf4, sys.halt);
on([0xf5, 0xf8, 0xf9], arith.carryFlagOps);
on([0xf6, 0xf7], arith.group3);
on([0xfa, 0xfb], sys.interruptFlagOps);
on([0xfc, 0xfd], sys.directionFlagOps);
on(0xfe, group4);
on(0xff, group5);

// 0F page.
on(0x100, sys.group6);
on(0x101, sys.group7);
on([0x102, 0x103], sys.loadAccessOrLimit);
on(0x106, sys.clearTaskSwitched);
on([0x108, 0x109], sys.cacheControl);
on(0x10b, sys.undefinedOpcode);
on(range(0x119, 0x11f), sys.hintNop);
on(range(0x120, 0x123), sys.moveControlRegister);
on(0x130, sys.writeMsr);
on(0x131, sys.readTimeStamp);
on(0x132, sys.readMsr);
on(0x133, sys.readPerformanceCounter);
on(0x134, sys.sysenter);
on(0x135, sys.sysexit);
on(range(0x140, 0x14f), data.conditionalMove);
on(range(0x180, 0x18f), control.jumpConditional);
on(range(0x190, 0x19f), data.setOnCondition);
on(0x1a2, sys.cpuIdentification);
on([0x1a3, 0x1ab, 0x1b3, 0x1bb], arith.bitTestRegister);
on([0x1a4, 0x1a5, 0x1ac, 0x1ad], arith.shiftDouble);
on([0x1b0, 0x1b1], arith.compareExchange);
on([0x1b6, 0x1b7, 0x1be, 0x1bf], data.moveExtend);
on(0x1ba, arith.bitTestImmediate);
on([0x1bc, 0x1bd], arith.bitScan);
on([0x1c0, 0x1c1], arith.exchangeAdd);
on(0x1c7, arith.compareExchange8);
on(range(0x1c8, 0x1cf), data.byteSwap);
on(0x1ae, fpu.fxsaveGroup);
// F3 90, which the decoder tells apart from NOP.
on(PAUSE_OPCODE, sys.pause);

/**
 * Nonzero for instructions that end a cached block: 1 for near jumps, calls and returns; 2 for
 * anything that may change CS, the code size, the privilege level, paging, EFLAGS.TF/IF, the
 * interrupt shadow, or that talks to devices (so interrupts they raise are seen promptly), and for
 * PAUSE (the run loop adds its stall to the clock before the next block). Conditional branches and
 * LOOP do not end blocks: the block is left when EIP does not continue in sequence.
 */
export const TERMINATES = new Uint8Array(OPCODE_SLOTS).fill(2);
{
  const straight: number[] = [];
  for (let base = 0; base < 0x40; base += 8) straight.push(...range(base, base + 5));
  straight.push(0x06, 0x07, 0x0e, 0x16, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f);
  straight.push(...range(0x40, 0x6b), ...range(0x70, 0x8d), 0x8f, ...range(0x90, 0x99), 0x9b, 0x9c, 0x9e, 0x9f);
  straight.push(...range(0xa0, 0xc1), 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, ...range(0xd0, 0xdf), ...range(0xe0, 0xe3));
  straight.push(0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfc, 0xfd, 0xfe);
  straight.push(...range(0x119, 0x11f), 0x131, ...range(0x140, 0x14f), ...range(0x180, 0x19f), 0x1a0, 0x1a1, 0x1a2, 0x1a3, 0x1a4, 0x1a5);
  straight.push(0x1a8, 0x1a9, ...range(0x1ab, 0x1b7), ...range(0x1ba, 0x1bf), 0x1c0, 0x1c1, 0x1c7, ...range(0x1c8, 0x1cf));
  for (const op of straight) TERMINATES[op] = 0;
  // Near transfers end a block but keep CS and mode, so the next block can be linked directly.
  for (const op of [0xc2, 0xc3, 0xe8, 0xe9, 0xeb]) TERMINATES[op] = 1;
}
