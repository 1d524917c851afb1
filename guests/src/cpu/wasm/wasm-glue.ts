/**
 * What a region's WebAssembly code calls out to (the processor's access and port paths, the
 * interpreter's handlers, exceptions), and the run function the dispatcher calls.
 */
import type { BlockTranslation, CodeBlock } from "../code-block.js";
import type { Cpu } from "../cpu.js";
import { FAULT_SIGNAL } from "../fault.js";
import { portRead, portWrite } from "../io.js";
import { currentJitMode } from "../jit-mode.js";
import { JIT_RUNTIME, storeFlags } from "../jit-runtime.js";
import { TERMINATES } from "../opcode-table.js";
import { timeStampDenied } from "../ops-system.js";
import { EXIT_BLOCK, EXIT_EIP, EXIT_EPOCH, EXIT_FAULT, EXIT_MODE, EXIT_SLOT, EXIT_STALL, EXIT_STOP, EXIT_TSC, EXIT_TSC_DENIED, F_A, F_B, F_BITS, F_CARRY_IN, F_EFLAGS, F_OP, F_RESULT } from "./wasm-emitter.js";
import type { RegionCode, WasmTier } from "./wasm-tier.js";

/**
 * What a region's wasm code calls out to, and its run function: hands the flag record to the wasm
 * code and back, and counts retired instructions (the calls out sync the count first, so that a
 * fault inside one finds it exact). The run enters the tier's chain (wasm-tier.ts), so the code
 * that ran last may be another region's: its glue, in the exit record's slot, says where it left.
 */
export class RegionGlue {
  /** The module's region function, set once it is instantiated (its calls out reach this object's methods, see wasm-tier.ts). */
  code: RegionCode = () => 0;
  translation: BlockTranslation | null = null;
  /** The region's slot in the tier's function table, or -1 once released. */
  slot = -1;
  private readonly flags: Int32Array;
  private readonly exit: Int32Array;

  constructor(private readonly cpu: Cpu, readonly blocks: readonly CodeBlock[], private readonly mode: number, private readonly tier: WasmTier) {
    this.flags = tier.flags;
    this.exit = tier.exit;
  }

  /**
   * Code of the region was written (cpu.discardBlock dropped this translation with the block:
   * see CodeBlock.holders), or the translation was replaced.
   */
  private stale(): boolean {
    return this.blocks[0].translation !== this.translation;
  }

  /** Flag record: memory → CPU. */
  private takeFlags(): void {
    const flags = this.flags;
    storeFlags(this.cpu, flags[F_OP], flags[F_BITS], flags[F_A], flags[F_B], flags[F_RESULT], flags[F_CARRY_IN], flags[F_EFLAGS]);
  }

  /** Flag record: CPU → memory. */
  private giveFlags(): void {
    const cpu = this.cpu, flags = this.flags;
    flags[F_OP] = cpu.lazyOp;
    flags[F_BITS] = cpu.lazyBits;
    flags[F_A] = cpu.lazyA;
    flags[F_B] = cpu.lazyB;
    flags[F_RESULT] = cpu.lazyResult;
    flags[F_CARRY_IN] = cpu.lazyCarryIn;
    flags[F_EFLAGS] = cpu.eflags;
  }

  /**
   * Before a call out: the instruction at `start` is the current one, and `done` instructions
   * (those of the blocks before the current one) have retired. As in the interpreter, the
   * processor's count moves at block boundaries (RDTSC and the performance counters see it as of
   * the running block's start).
   */
  private enter(start: number, done: number): void {
    const cpu = this.cpu, tier = this.tier;
    cpu.instructionsRetired += done - tier.synced;
    tier.synced = done;
    cpu.instructionStart = start;
  }

  /**
   * The exit record's clock: the time-stamp counter the chain's count of retired instructions
   * (DONE) adds to, and whether RDTSC faults (CR4.TSD outside CPL 0). Handlers may change either
   * (WRMSR of the TSC, MOV CR4, a privilege change).
   */
  private clock(): void {
    const cpu = this.cpu, exit = this.exit;
    const base = cpu.tscBase + cpu.instructionsRetired - this.tier.synced;
    exit[EXIT_TSC] = base % 4294967296;
    exit[EXIT_TSC + 1] = Math.floor(base / 4294967296);
    exit[EXIT_TSC_DENIED] = timeStampDenied(cpu) ? 1 : 0;
  }

  /**
   * The PAUSE stalls the code ran go to the processor's count of them (they are already retired,
   * and in the count the dispatcher adds to the translated instructions, which they are not).
   */
  private takeStalls(): void {
    const stall = this.exit[EXIT_STALL];
    if (stall === 0) return;
    this.cpu.stallCycles += stall;
    this.cpu.translations.translatedInstructions -= stall;
    this.exit[EXIT_STALL] = 0;
  }

  /** After a call out: an NMI became due, which the run loop must see before a chain goes on. */
  private checkStop(): void {
    if (this.cpu.nmiPending) this.exit[EXIT_STOP] = 1;
  }

  /**
   * A call out to the access or port path threw: a fault at instruction `index` of the running
   * block is noted in the exit record for the code to leave through (it cannot pass through wasm
   * frames with the locals' state) and raised again by run(); anything else goes on.
   */
  private noteFault(error: unknown, index: number): void {
    if (error !== FAULT_SIGNAL) throw error;
    this.faulted(index);
    this.exit[EXIT_FAULT] = 1;
  }

  /** A fault at instruction `index` of the running block: the block's instructions before it retire. */
  private faulted(index: number): void {
    this.cpu.instructionsRetired += index;
    this.tier.synced += index;
  }

  /**
   * The processor's own read path (TLB miss, device memory, a page-crossing access); a fault is
   * noted (see noteFault).
   */
  readonly read = (kind: number, address: number, start: number, done: number, index: number): number => {
    this.enter(start, done);
    const cpu = this.cpu, seg = kind >> 3;
    try {
      switch (kind & 7) {
        case 1: return cpu.read8(seg, address);
        case 2: return cpu.read16(seg, address);
        default: return cpu.read32(seg, address);
      }
    } catch (error) {
      this.noteFault(error, index);
      return 0;
    }
  };

  /** Returns 1 when a block of the region went stale (the store hit its code). */
  readonly write = (kind: number, address: number, value: number, start: number, done: number, index: number): number => {
    this.enter(start, done);
    const cpu = this.cpu, seg = kind >> 3;
    try {
      switch (kind & 7) {
        case 1: cpu.write8(seg, address, value); break;
        case 2: cpu.write16(seg, address, value); break;
        default: cpu.write32(seg, address, value);
      }
    } catch (error) {
      this.noteFault(error, index);
      return 0;
    }
    this.checkStop();
    return this.stale() ? 1 : 0;
  };

  /**
   * IN (kind = size) or OUT (kind = 8 + size) through the processor's port path, with its I/O
   * permission check; a fault is reported as `read` reports one.
   */
  readonly port = (kind: number, port: number, value: number, start: number, done: number, index: number): number => {
    this.enter(start, done);
    const size = (kind & 7) as 1 | 2 | 4;
    try {
      if (kind < 8) return portRead(this.cpu, port, size);
      portWrite(this.cpu, port, size, value);
      return 0;
    } catch (error) {
      this.noteFault(error, index);
      return 0;
    } finally {
      this.checkStop();
    }
  };

  /** Raises exception `vector` (no error code) at the current instruction, as `read` reports a fault. */
  readonly fault = (vector: number, start: number, done: number, index: number): void => {
    this.enter(start, done);
    try {
      this.cpu.raise(vector);
    } catch (error) {
      this.noteFault(error, index);
    }
  };

  /**
   * Runs instruction `index` of block `k` through its handler; returns 1 when the code must leave
   * (control went elsewhere, the mode or the code changed, interrupts need a look), with EIP in the
   * exit record.
   */
  readonly handler = (k: number, index: number, done: number): number => {
    const cpu = this.cpu;
    const block = this.blocks[k];
    const insn = block.instructions[index];
    this.enter(index === 0 ? block.startEip : block.instructions[index - 1].nextEip, done);
    this.takeFlags();
    cpu.eip = insn.nextEip;
    try {
      insn.exec(cpu, insn);
    } catch (error) {
      // A task switch that committed may have moved instructionStart: the fault restarts there.
      if (error === FAULT_SIGNAL) this.faulted(index);
      throw error;
    }
    this.giveFlags();
    // CR3 and INVLPG (which move the epoch) and CPL changes run here: the chain's links follow.
    this.exit[EXIT_EPOCH] = cpu.codeLinkEpoch;
    this.clock();
    this.checkStop();
    const leave = TERMINATES[insn.opcode] !== 0 || cpu.eip !== insn.nextEip || cpu.interruptShadow !== 0 || cpu.stallPending !== 0 ||
      cpu.halted || currentJitMode(cpu) !== this.mode;
    if (!leave && !this.stale()) return 0;
    this.exit[EXIT_EIP] = cpu.eip;
    return 1;
  };

  readonly run = (limit: number, entry: number): number => {
    const cpu = this.cpu, tier = this.tier, exit = this.exit;
    // The region's calls out find this glue by its slot (wasm-tier.ts).
    if (this.slot < 0) throw new Error("a released WebAssembly region was run");
    this.giveFlags();
    tier.synced = 0;
    exit[EXIT_STOP] = 0;
    this.takeStalls();
    this.clock();
    exit[EXIT_EPOCH] = cpu.codeLinkEpoch;
    exit[EXIT_MODE] = this.mode;
    const done = tier.chain(limit, this.slot, entry);
    const last = tier.glues[exit[EXIT_SLOT]] ?? this;
    this.takeFlags();
    this.takeStalls();
    if (exit[EXIT_FAULT] !== 0) {
      // The state of the faulting instruction's start is in the CPU; the run loop delivers it.
      exit[EXIT_FAULT] = 0;
      throw FAULT_SIGNAL;
    }
    cpu.eip = exit[EXIT_EIP];
    JIT_RUNTIME.exit.block = last.blocks[exit[EXIT_BLOCK]];
    const retired = done < 0 ? ~done : done;
    cpu.instructionsRetired += retired - tier.synced;
    return done;
  };
}
