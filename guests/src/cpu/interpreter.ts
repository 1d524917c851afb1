/**
 * The fetch-decode-execute loop: external interrupts and HLT, the single-step trap, and turning
 * thrown faults into exception delivery with the double- and triple-fault rules. Cached blocks
 * are run by ops-fast.ts interpretBlocks (or as JIT translations).
 */
import type { Cpu } from "./cpu.js";
import { Flag, Reg, Seg } from "./constants.js";
import { instructionBreakpointHits } from "./debug-registers.js";
import { linkedSuccessor, lookupBlock } from "./block-lookup.js";
import { buildBlock, type CodeBlock, uncachedInstruction } from "./code-block.js";
import { decode } from "./decoder.js";
import { FAULT_SIGNAL, isContributory, NO_ERROR_CODE, Vector } from "./fault.js";
import { DecodedInstruction } from "./instruction.js";
import { deliverInterrupt, exceptionHasErrorCode, InterruptKind } from "./interrupts.js";
import { HANDLERS } from "./opcode-table.js";
import { interpretBlocks, interpretedExit } from "./ops-fast.js";
import { runTranslated, translatedExit } from "./jit-dispatch.js";

/**
 * Executes up to `budget` cycles: instructions, and the stalls among them (PAUSE); returns how many
 * ran (fewer when the CPU halts). Hot blocks run as JIT translations when cpu.jit.enabled (the
 * default), cold ones interpreted.
 */
export function runInstructions(cpu: Cpu, budget: number): number {
  let executed = 0;
  while (executed < budget) {
    if (cpu.halted && !wakeFromHalt(cpu)) break;
    const retiredBefore = cpu.instructionsRetired;
    try {
      executed = runBatch(cpu, budget, executed);
    } catch (e) {
      if (e !== FAULT_SIGNAL) throw e;
      // Everything the batch retired before the fault counts (interpreted and translated blocks
      // retire the instructions before the faulting one as the signal passes), and the faulting one too.
      executed += cpu.instructionsRetired - retiredBefore + 1;
      cpu.eip = cpu.instructionStart;
      deliverException(cpu, cpu.pendingVector, cpu.pendingErrorCode);
    }
  }
  return executed;
}

function runBatch(cpu: Cpu, budget: number, executed: number): number {
  const handlers = HANDLERS;
  /** The block that just ran, if its exit allows linking to the next one. */
  let previous: CodeBlock | null = null;
  interpretedExit.interruptPending = false;
  for (;;) {
    // A block that ended in a stall (PAUSE) adds its cycles here, before the next block can read
    // the clock; they count against the budget, a span of guest time.
    if (cpu.stallPending !== 0) executed += addStall(cpu);
    if (executed >= budget) break;
    // interpretBlocks may already have polled the source at this boundary.
    const pendingSeen = interpretedExit.interruptPending;
    interpretedExit.interruptPending = false;
    if (cpu.interruptShadow !== 0) {
      cpu.interruptShadow--;
    } else if (cpu.nmiPending && !cpu.nmiBlocked) {
      acceptNmi(cpu);
      previous = null;
    } else if ((cpu.eflags & Flag.IF) !== 0 && cpu.interruptSource !== null && (pendingSeen || cpu.interruptSource.hasPending())) {
      acceptExternalInterrupt(cpu);
      previous = null;
    }
    if (cpu.halted) return executed;
    const eip = cpu.eip;
    let block: CodeBlock | null = null;
    if (previous !== null) {
      block = linkedSuccessor(cpu, previous, eip);
      if (block !== null && !block.valid) block = null;
    }
    cpu.instructionStart = eip;
    if ((cpu.eflags & Flag.TF) !== 0 || cpu.breakpointsActive) {
      runSingleStep(cpu);
      executed++;
      previous = null;
      continue;
    }
    if (block === null) {
      block = lookupBlock(cpu, eip);
      if (block === null) block = buildBlock(cpu, eip);
      if (block !== null && previous !== null) previous.linkSuccessor(eip, block, cpu.codeLinkEpoch);
    }
    if (block === null) {
      previous = null;
      const insn = uncachedInstruction;
      cpu.eip = insn.nextEip;
      handlers[insn.opcode](cpu, insn);
      executed++;
      cpu.instructionsRetired++;
      continue;
    }
    if (cpu.jit.enabled && budget - executed >= block.instructions.length) {
      const ran = runTranslated(cpu, block, budget - executed);
      if (ran >= 0) {
        executed += ran;
        previous = translatedExit.block;
        continue;
      }
    }
    executed = interpretBlocks(cpu, block, budget, executed);
    previous = interpretedExit.block;
  }
  return executed;
}

/** Retires the pending stall's cycles; returns them. */
function addStall(cpu: Cpu): number {
  const cycles = cpu.stallPending;
  cpu.stallPending = 0;
  cpu.instructionsRetired += cycles;
  cpu.stallCycles += cycles;
  return cycles;
}

/** One instruction with EFLAGS.TF set: decoded afresh, then the single-step #DB trap. */
function runSingleStep(cpu: Cpu): void {
  const insn = singleStepInstruction;
  if (cpu.breakpointsActive) {
    if ((cpu.eflags & Flag.RF) !== 0) {
      cpu.eflags &= ~Flag.RF; // the instruction the debugger resumed at runs once unchecked
    } else {
      const hits = instructionBreakpointHits(cpu, (cpu.segBase[Seg.CS] + cpu.eip) | 0);
      if (hits !== 0) {
        cpu.dr[6] = (cpu.dr[6] & ~0xf) | hits;
        cpu.raise(Vector.DB);
      }
    }
  }
  const singleStep = (cpu.eflags & Flag.TF) !== 0;
  cpu.pendingDataBreakpoints = 0;
  decode(cpu, insn);
  cpu.eip = insn.nextEip;
  HANDLERS[insn.opcode](cpu, insn);
  cpu.instructionsRetired++;
  const dataHits = cpu.pendingDataBreakpoints;
  if (!singleStep && dataHits === 0) return;
  cpu.dr[6] = (cpu.dr[6] & ~0xf) | dataHits | (singleStep ? 0x4000 : 0);
  cpu.instructionStart = cpu.eip;
  deliverInterrupt(cpu, Vector.DB, NO_ERROR_CODE, InterruptKind.EXCEPTION, cpu.eip);
}
const singleStepInstruction = new DecodedInstruction();

function acceptExternalInterrupt(cpu: Cpu): void {
  const source = cpu.interruptSource!;
  cpu.halted = false;
  cpu.instructionStart = cpu.eip;
  const vector = source.acknowledge() & 0xff;
  deliverInterrupt(cpu, vector, NO_ERROR_CODE, InterruptKind.EXTERNAL, cpu.eip);
}

function acceptNmi(cpu: Cpu): void {
  cpu.halted = false;
  cpu.nmiPending = false;
  cpu.nmiBlocked = true;
  cpu.instructionStart = cpu.eip;
  deliverInterrupt(cpu, Vector.NMI, NO_ERROR_CODE, InterruptKind.EXTERNAL, cpu.eip);
}

function wakeFromHalt(cpu: Cpu): boolean {
  if (cpu.nmiPending && !cpu.nmiBlocked) {
    cpu.halted = false;
    return true;
  }
  if ((cpu.eflags & Flag.IF) === 0 || cpu.interruptSource === null || !cpu.interruptSource.hasPending()) return false;
  cpu.halted = false;
  return true;
}

/**
 * Delivers an exception raised by an instruction. A fault while delivering becomes #DF when the
 * pair is contributory/contributory or page-fault/(contributory or page fault), otherwise the
 * second exception is delivered instead; a fault while delivering #DF shuts the processor down.
 */
function deliverException(cpu: Cpu, vector: number, errorCode: number): void {
  let first = vector;
  let code = exceptionHasErrorCode(vector) ? errorCode : NO_ERROR_CODE;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      deliverInterrupt(cpu, first, code, InterruptKind.EXCEPTION, cpu.eip);
      return;
    } catch (e) {
      if (e !== FAULT_SIGNAL) throw e;
    }
    const second = cpu.pendingVector;
    if (first === Vector.DF) break;
    const escalate = (isContributory(first) && isContributory(second)) ||
      (first === Vector.PF && (isContributory(second) || second === Vector.PF));
    if (escalate) {
      first = Vector.DF;
      code = 0;
    } else {
      first = second;
      code = exceptionHasErrorCode(second) ? cpu.pendingErrorCode : NO_ERROR_CODE;
    }
  }
  tripleFault(cpu);
}

function tripleFault(cpu: Cpu): void {
  cpu.reset();
  if (cpu.onTripleFault !== null) cpu.onTripleFault();
}

/**
 * Executes one instruction (or up to `budget`, stopping early at HLT) and reports a fault instead
 * of delivering it: returns the vector, with EIP/ESP back at the faulting instruction, or -1.
 * For tests and debugging tools.
 */
export function stepOrFault(cpu: Cpu, budget = 1): number {
  try {
    runBatch(cpu, budget, 0);
    return -1;
  } catch (e) {
    if (e !== FAULT_SIGNAL) throw e;
    cpu.eip = cpu.instructionStart;
    return cpu.pendingVector;
  }
}
