/**
 * Emits one WebAssembly function for a region of blocks (see wasm-translator.ts): the locals that
 * hold the guest registers and the lazy flag record, the dispatch loop over the region's blocks,
 * the exits, memory accesses through the TLB with the processor's own access path behind them,
 * calls of interpreter handlers, and the flag conditions. wasm-instructions.ts builds instructions
 * from these parts.
 */
import type { CodeBlock } from "../code-block.js";
import { SegOk, Tlb, tlbReadNeed, tlbWriteNeed } from "../cpu.js";
import { CpuArea } from "../guest-memory.js";
import { ARITH_FLAGS } from "../constants.js";
import { LazyOp } from "../flags.js";
import type { DecodedInstruction } from "../instruction.js";
import { JitMode } from "../jit-mode.js";
import { FunctionBuilder, Op, ValueType } from "./wasm-module.js";

/** The producer of the flag record is not known here (control came from elsewhere, a handler or a shift by CL ran): the code reads the record. */
export const UNKNOWN = -1;
export const ES = 0, CS = 1, SS = 2, DS = 3;

/**
 * Locals: the parameters, then these. The count of retired instructions starts at BASE, those a
 * chain of regions ran before this one (wasm-tier.ts), and LIMIT bounds it with them.
 */
export const LIMIT = 0, ENTRY = 1, BASE = 2;
export const REG0 = 3;
export const FOP = 11, FA = 12, FB = 13, FR = 14, EFL = 15, DONE = 16, EIP = 17, STALE = 18, FBITS = 19, FC = 20, BI = 21, XB = 22, TEMP0 = 23;
const TEMPS = 16;

/**
 * Exit record words (Int32 index from CpuArea.EXIT): where the code left (EIP, the block, and the
 * table slot of the region, wasm-tier.ts), a fault to raise, a reason to stop a chain of regions,
 * what a chain's links must match (cpu.codeLinkEpoch and the CPU mode), the stall cycles of the
 * PAUSEs run (for Cpu.stallCycles), at EXIT_TSC (two words, 8-byte aligned) the time-stamp
 * counter less the count DONE starts from (RDTSC adds DONE to it), and whether RDTSC faults now
 * (CR4.TSD outside CPL 0).
 */
export const EXIT_EIP = 0, EXIT_BLOCK = 1, EXIT_FAULT = 2, EXIT_SLOT = 3, EXIT_STOP = 4, EXIT_EPOCH = 5, EXIT_MODE = 6, EXIT_STALL = 7, EXIT_TSC = 8;
export const EXIT_TSC_DENIED = 10;
export const EXIT_WORDS = 16;
/** Flag record words (from CpuArea.FLAGS): the order the glue copies them in. */
export const F_OP = 0, F_BITS = 1, F_A = 2, F_B = 3, F_RESULT = 4, F_CARRY_IN = 5, F_EFLAGS = 6;
/**
 * What region code calls out to (the processor's access, handler, fault and port paths, and the
 * flag materialiser, wasm-flags.ts), by the slot each sits in in the tier's table of them
 * (wasm-tier.ts) and, in the same order, by its type in a region module
 * (ModuleParts.indirectTypes). The calls go through the table, not imports: V8 compiles wrappers
 * for a module's JavaScript imports with every module it compiles and instantiates (TurboFan,
 * half a millisecond for a region's five), where a region without imported functions costs a
 * tenth of that.
 */
export const HELPER_READ = 0, HELPER_WRITE = 1, HELPER_HANDLER = 2, HELPER_FAULT = 3, HELPER_PORT = 4, HELPER_MATERIALIZE = 5;
const I32 = ValueType.I32;
export const HELPER_TYPES: ReadonlyArray<{ params: ValueType[]; results: ValueType[] }> = [
  { params: [I32, I32, I32, I32, I32], results: [I32] }, // read(kind, address, start, done, index) → value
  { params: [I32, I32, I32, I32, I32, I32], results: [I32] }, // write(kind, address, value, start, done, index) → stale
  { params: [I32, I32, I32], results: [I32] }, // handler(block, index, done) → leave
  { params: [I32, I32, I32, I32], results: [] }, // fault(vector, start, done, index)
  { params: [I32, I32, I32, I32, I32, I32], results: [I32] }, // port(kind, port, value, start, done, index) → value
  { params: [I32, I32, I32, I32, I32, I32, I32], results: [I32] }, // materialize(op, bits, a, b, result, carry in, eflags) → eflags
];
export const HELPER_SLOTS = HELPER_TYPES.length;

/** A region function's parameters: limit, entry block index, base (see LIMIT..BASE); it returns the retired count, complemented after an unchainable exit. */
export const REGION_PARAMS = [ValueType.I32, ValueType.I32, ValueType.I32];

const SEG_READ = SegOk.READ, SEG_WRITE = SegOk.WRITE, SEG_EXPAND_DOWN = SegOk.EXPAND_DOWN;

/** The region cannot be compiled here (the JavaScript translator takes it). */
export class Unsupported extends Error {}
/** Return sites a RET compares against before it leaves (each costs a comparison on every return). */
const MAX_RETURN_SITES = 8;
/** The instruction has no native code here: it runs through its interpreter handler. */
export class NeedsHandler extends Error {}

/** Byte offsets of CPU state in the memory, for the function's loads and stores. */
export interface Layout {
  tlb: number;
  regs: number;
  /** Cpu.segBase, then segLimit and segAccessOk, 8 words each. */
  segments: number;
  flags: number;
  exit: number;
  pages: number;
}

export class WasmRegionEmitter {
  readonly f = new FunctionBuilder(REGION_PARAMS, [ValueType.I32]);
  /** Structured-control nesting at this point, and the depth of the labels branches name. */
  private depth = 0;
  /** Exits after which the dispatcher may not chain a linked block (a handler changed the flow or the code). */
  private unchainableLabel = 0;
  /** A memory access of the processor's own path faulted: hand back the state of the instruction's start. */
  private faultLabel = 0;
  /** The current instruction has a store that may have taken the slow path. */
  private wroteSlowly = false;
  private exitLabel = 0;
  private dispatchLabel = 0;
  /** Depth of each region block's switch arm (its end is where the block's code starts), and of the current block's own loop. */
  private readonly armLabels: number[] = [];
  private selfLabel = 0;
  /** Static knowledge of the flag record in the locals at this point. */
  flagOp = UNKNOWN;
  /** Operand size of that operation, in bits. */
  flagBits = 32;
  flagsWritten = false;
  eflWritten = false;
  written = 0;
  /** Index of the region block being emitted, and of the instruction in it. */
  blockIndex = 0;
  index = 0;
  insn!: DecodedInstruction;
  private temps = 0;
  readonly readMask: number;
  readonly readNeed: number;
  readonly writeMask: number;
  readonly writeNeed: number;
  /** Start EIP → index of the region's blocks. */
  private readonly indexOf = new Map<number, number>();
  /** Region blocks that start where a CALL in the region returns to (at most MAX_RETURN_SITES). */
  private readonly returnSites: number[] = [];

  constructor(readonly blocks: readonly CodeBlock[], readonly layout: Layout, private readonly mode: number) {
    for (let i = REG0; i < TEMP0 + TEMPS; i++) this.f.local();
    blocks.forEach((b, k) => { if (!this.indexOf.has(b.startEip)) this.indexOf.set(b.startEip, k); });
    for (const block of blocks) {
      for (const insn of block.instructions) {
        const k = insn.opcode === 0xe8 ? this.indexOf.get(insn.nextEip) : undefined;
        if (k !== undefined && !this.returnSites.includes(k) && this.returnSites.length < MAX_RETURN_SITES) this.returnSites.push(k);
      }
    }
    const user = (mode & JitMode.USER) !== 0;
    this.readNeed = tlbReadNeed(user);
    this.readMask = this.readNeed | Tlb.MMIO;
    this.writeNeed = tlbWriteNeed(user);
    this.writeMask = this.writeNeed | Tlb.MMIO | Tlb.CODE;
  }

  get block(): CodeBlock {
    return this.blocks[this.blockIndex];
  }

  temp(): number {
    if (this.temps === TEMPS) throw new Unsupported("temporaries");
    return TEMP0 + this.temps++;
  }

  /** The emission state before an instruction, to take back code for one that then needs its handler. */
  mark(): { length: number; depth: number; flagOp: number; flagBits: number; written: number; flagsWritten: boolean; eflWritten: boolean } {
    return { length: this.f.code.length, depth: this.depth, flagOp: this.flagOp, flagBits: this.flagBits, written: this.written, flagsWritten: this.flagsWritten, eflWritten: this.eflWritten };
  }

  rewind(mark: ReturnType<WasmRegionEmitter["mark"]>): void {
    this.f.code.length = mark.length;
    this.depth = mark.depth;
    this.flagOp = mark.flagOp;
    this.flagBits = mark.flagBits;
    this.written = mark.written;
    this.flagsWritten = mark.flagsWritten;
    this.eflWritten = mark.eflWritten;
    this.wroteSlowly = false;
    this.temps = 0;
  }

  /**
   * The current instruction's flags are replaced before anything can see them (flag-liveness.ts):
   * its flag writes are left out.
   */
  flagsDead = false;

  beginInstruction(index: number, insn: DecodedInstruction, flagsDead = false): void {
    this.index = index;
    this.insn = insn;
    this.flagsDead = flagsDead;
    this.temps = 0;
    this.wroteSlowly = false;
  }

  // ---- Structure ------------------------------------------------------------------------------

  open(kind: "block" | "loop" | "if"): number {
    if (kind === "block") this.f.block();
    else if (kind === "loop") this.f.loop();
    else this.f.if();
    return ++this.depth;
  }

  close(): void {
    this.f.end();
    this.depth--;
  }

  branch(label: number): void {
    this.f.br(this.depth - label);
  }

  /**
   * Loads the state, then opens the fault, unchainable-exit and exit blocks, the dispatch loop and
   * one block per region block, and switches on the entry index: block k's code follows the end of
   * its block.
   */
  prologue(): void {
    const f = this.f;
    // The whole flag record too, so that an exit before the region's first flag writer hands it back unchanged.
    this.loadState();
    f.get(ENTRY).set(BI);
    f.get(BASE).set(DONE);
    this.faultLabel = this.open("block");
    this.unchainableLabel = this.open("block");
    this.exitLabel = this.open("block");
    this.dispatchLabel = this.open("loop");
    const n = this.blocks.length;
    for (let k = n - 1; k >= 0; k--) this.armLabels[k] = this.open("block");
    f.get(BI);
    f.code.byte(Op.BR_TABLE);
    f.code.u32(n);
    for (let k = 0; k < n; k++) f.code.u32(k);
    f.code.u32(0);
  }

  /**
   * Ends the previous block's code and the switch arm before block k's code (call before emitting
   * block k), and opens the loop a branch back to block k's own start takes.
   */
  beginBlock(k: number): void {
    if (k > 0) this.close(); // the previous block's loop
    this.close();
    this.blockIndex = k;
    this.selfLabel = this.open("loop");
    // Control may come from anywhere: nothing is known of the flags.
    this.flagOp = UNKNOWN;
  }

  /** Passes control to EIP `eip` after the current instruction retired: inside the function when it starts a region block. */
  goTo(eip: number): void {
    const f = this.f;
    f.get(DONE).i32(this.index + 1).op(Op.I32_ADD).set(DONE);
    f.i32(eip).set(EIP);
    f.i32(this.blockIndex).set(XB);
    const k = this.indexOf.get(eip);
    if (k !== undefined) this.passTo(k);
    this.branch(this.exitLabel);
  }

  /**
   * After a RET (EIP in its local): control stays inside when it returns to the region's own call
   * sites (the blocks after its CALLs), else leaves.
   */
  returnTo(): void {
    const f = this.f;
    f.get(DONE).i32(this.index + 1).op(Op.I32_ADD).set(DONE);
    f.i32(this.blockIndex).set(XB);
    for (const k of this.returnSites) {
      f.get(EIP).i32(this.blocks[k].startEip).op(Op.I32_EQ);
      this.open("if");
      this.passTo(k);
      this.close();
    }
    this.branch(this.exitLabel);
  }

  /**
   * Goes on at region block k when another block fits in the budget (done + its length <= limit),
   * else falls through (to an exit). Forward to a later block, and back to this block's start, are
   * direct branches (the later block's arm is still open here); other ways back go through the
   * dispatch loop.
   */
  private passTo(k: number): void {
    const f = this.f;
    if (k < this.blockIndex) f.i32(k).set(BI);
    f.get(DONE).i32(this.blocks[k].instructions.length).op(Op.I32_ADD).get(LIMIT).op(Op.I32_LE_S);
    const target = k > this.blockIndex ? this.armLabels[k] : k === this.blockIndex ? this.selfLabel : this.dispatchLabel;
    f.hint(true).brIf(this.depth - target);
  }

  /** Leaves with EIP in the EIP local after the current instruction retired. */
  exitAfterInstruction(): void {
    const f = this.f;
    f.get(DONE).i32(this.index + 1).op(Op.I32_ADD).set(DONE);
    f.i32(this.blockIndex).set(XB);
    this.branch(this.exitLabel);
  }

  epilogue(): void {
    const f = this.f;
    // Every block's code ends in a branch; validation needs the fallthrough typed.
    f.op(Op.UNREACHABLE);
    this.close(); // the last block's loop
    this.close(); // dispatch loop
    this.close(); // exit block
    this.writeBack();
    f.get(DONE);
    f.op(Op.RETURN);
    this.close(); // unchainable exit block
    this.writeBack();
    f.get(DONE).i32(-1).op(Op.I32_XOR);
    f.op(Op.RETURN);
    this.close(); // fault block
    // Every instruction does all that can fault before it changes a local, so the locals hold the
    // state at the start of the faulting one.
    this.synchronise();
    f.get(DONE);
  }

  private writeBack(): void {
    const f = this.f;
    for (let r = 0; r < 8; r++) if ((this.written & (1 << r)) !== 0) f.i32(0).get(REG0 + r).memory(Op.I32_STORE, this.layout.regs + 4 * r);
    f.i32(0).get(EIP).memory(Op.I32_STORE, this.layout.exit + 4 * EXIT_EIP);
    f.i32(0).get(XB).memory(Op.I32_STORE, this.layout.exit + 4 * EXIT_BLOCK);
    if (this.flagsWritten) this.storeFlags();
    else if (this.eflWritten) f.i32(0).get(EFL).memory(Op.I32_STORE, this.layout.flags + 4 * F_EFLAGS);
  }

  // ---- Registers ------------------------------------------------------------------------------

  getReg(r: number): void {
    this.f.get(REG0 + r);
  }

  /** Pops the value on the stack into register r. */
  setReg(r: number): void {
    this.f.set(REG0 + r);
    this.written |= 1 << r;
  }

  /** Byte register (AL..BH) value, zero-extended. */
  getReg8(r: number): void {
    const f = this.f;
    f.get(REG0 + (r & 3));
    if (r >= 4) f.i32(8).op(Op.I32_SHR_U);
    f.i32(0xff).op(Op.I32_AND);
  }

  /** Pops a byte value into byte register r. */
  setReg8(r: number): void {
    const t = this.temp();
    const f = this.f;
    f.set(t);
    const reg = REG0 + (r & 3);
    const shift = r >= 4 ? 8 : 0;
    f.get(reg).i32(~(0xff << shift)).op(Op.I32_AND);
    f.get(t).i32(0xff).op(Op.I32_AND);
    if (shift !== 0) f.i32(shift).op(Op.I32_SHL);
    f.op(Op.I32_OR).set(reg);
    this.written |= 1 << (r & 3);
  }

  /** Register r at `size` bytes (AL..BH for bytes), zero-extended. */
  getRegSized(r: number, size: number): void {
    if (size === 4) this.getReg(r);
    else if (size === 1) this.getReg8(r);
    else this.f.get(REG0 + r).i32(0xffff).op(Op.I32_AND);
  }

  /** Pops a value into register r at `size` bytes, keeping the bits above. */
  setRegSized(r: number, size: number): void {
    if (size === 4) return this.setReg(r);
    if (size === 1) return this.setReg8(r);
    const t = this.temp();
    this.f.set(t).get(REG0 + r).i32(-65536).op(Op.I32_AND).get(t).i32(0xffff).op(Op.I32_AND).op(Op.I32_OR).set(REG0 + r);
    this.written |= 1 << r;
  }

  // ---- Memory ---------------------------------------------------------------------------------

  /** Computes the memory operand's linear address into a new temporary (flat segment checked at compile time). */
  address(): number {
    const insn = this.insn;
    if (!insn.addrSize32) throw new NeedsHandler();
    const f = this.f;
    f.i32(insn.eaDisp);
    if (insn.eaBase >= 0) f.get(REG0 + insn.eaBase).op(Op.I32_ADD);
    if (insn.eaIndex >= 0) {
      f.get(REG0 + insn.eaIndex);
      if (insn.eaScale !== 0) f.i32(insn.eaScale).op(Op.I32_SHL);
      f.op(Op.I32_ADD);
    }
    const t = this.temp();
    f.set(t);
    return t;
  }

  /**
   * Loads the TLB entry of linear `addr` into `entry` and pushes whether the fast path applies
   * (0/1): the entry grants `need` under `mask` (see readMask..writeNeed), and the access stays
   * inside the page.
   */
  private fastAccess(addr: number, size: number, mask: number, need: number, entry: number): void {
    const f = this.f;
    f.get(addr).i32(12).op(Op.I32_SHR_U).i32(2).op(Op.I32_SHL).memory(Op.I32_LOAD, this.layout.tlb).tee(entry);
    f.i32(mask).op(Op.I32_AND).i32(need).op(Op.I32_EQ);
    if (size > 1) f.get(addr).i32(0xfff).op(Op.I32_AND).i32(0x1000 - size).op(Op.I32_LE_U).op(Op.I32_AND);
  }

  /**
   * Whether `segment` is flat here: base 0 and 4 GiB, readable and writable (the mode says so).
   * CS never counts: its rights differ (reads through a CS override are checked).
   */
  private flat(segment: number): boolean {
    return segment !== CS && (this.mode & (1 << segment)) !== 0;
  }

  /**
   * The linear address of `offset` (a temporary) in `segment`: the offset itself for a flat
   * segment, else a new temporary with the segment's base added (FS and GS: Linux's per-CPU data
   * and stack canary).
   */
  private linear(offset: number, segment: number): number {
    if (this.flat(segment)) return offset;
    const f = this.f, lin = this.temp();
    f.i32(0).memory(Op.I32_LOAD, this.layout.segments + 4 * segment).get(offset).op(Op.I32_ADD).set(lin);
    return lin;
  }

  /**
   * For a segment that is not flat, ANDs into the fast-path condition on the stack whether it
   * allows a `size`-byte access with `rights` (SegOk.READ/WRITE) at `offset`, as Cpu.linear checks
   * (anything else, expand-down segments included, takes the processor's own path).
   */
  private segmentAllows(offset: number, size: number, rights: number, segment: number): void {
    if (this.flat(segment)) return;
    const f = this.f;
    const limit = this.layout.segments + (CpuArea.SEG_LIMIT - CpuArea.SEG_BASE) + 4 * segment;
    const ok = this.layout.segments + (CpuArea.SEG_OK - CpuArea.SEG_BASE) + 4 * segment;
    f.i32(0).memory(Op.I32_LOAD, ok).i32(rights | SEG_EXPAND_DOWN).op(Op.I32_AND).i32(rights).op(Op.I32_EQ).op(Op.I32_AND);
    f.get(offset).i32(0).memory(Op.I32_LOAD, limit).op(Op.I32_LE_U).op(Op.I32_AND);
    f.i32(0).memory(Op.I32_LOAD, limit).get(offset).op(Op.I32_SUB).i32(size - 1).op(Op.I32_GE_U).op(Op.I32_AND);
  }

  private physical(addr: number, entry: number): void {
    this.f.get(entry).i32(-4096).op(Op.I32_AND).get(addr).i32(0xfff).op(Op.I32_AND).op(Op.I32_OR);
  }

  /**
   * Pushes the `size`-byte value at offset `addr` in `segment`: straight from RAM through the TLB,
   * else through the processor's own access path (TLB miss, device memory, a page-crossing access,
   * a segment check that needs it), whose fault leaves through the fault exit.
   */
  readMemory(addr: number, size: number, signed = false, segment = this.insn.segment): void {
    const f = this.f;
    const lin = this.linear(addr, segment);
    const entry = this.temp(), value = this.temp();
    this.fastAccess(lin, size, this.readMask, this.readNeed, entry);
    this.segmentAllows(addr, size, SEG_READ, segment);
    f.hint(true).if();
    this.depth++;
    this.physical(lin, entry);
    f.memory(size === 4 ? Op.I32_LOAD : size === 2 ? (signed ? Op.I32_LOAD16_S : Op.I32_LOAD16_U) : signed ? Op.I32_LOAD8_S : Op.I32_LOAD8_U).set(value);
    f.op(Op.ELSE);
    f.i32(segment * 8 + size).get(addr).i32(this.instructionStart()).get(DONE).i32(this.index);
    this.callOut(HELPER_READ);
    if (signed && size < 4) f.i32(32 - 8 * size).op(Op.I32_SHL).i32(32 - 8 * size).op(Op.I32_SHR_S);
    f.set(value);
    this.leaveOnFault();
    this.close();
    f.get(value);
  }

  /** Stores the value in temporary `value` at offset `addr` in `segment`, as readMemory reads. */
  writeMemory(addr: number, size: number, value: number, segment = this.insn.segment): void {
    const f = this.f;
    const lin = this.linear(addr, segment);
    const entry = this.temp();
    this.fastAccess(lin, size, this.writeMask, this.writeNeed, entry);
    this.segmentAllows(addr, size, SEG_WRITE, segment);
    f.hint(true).if();
    this.depth++;
    this.physical(lin, entry);
    f.get(value).memory(size === 4 ? Op.I32_STORE : size === 2 ? Op.I32_STORE16 : Op.I32_STORE8);
    f.op(Op.ELSE);
    // The slow path is the only one that can reach a code page: it reports a stale region.
    f.i32(segment * 8 + size).get(addr).get(value).i32(this.instructionStart()).get(DONE).i32(this.index);
    this.callOut(HELPER_WRITE);
    f.set(STALE);
    this.leaveOnFault();
    this.close();
    this.wroteSlowly = true;
  }

  /** IN (pushes the value) or OUT of `size` bytes at the port in temporary `port`, OUT's value in temporary `value`. */
  portAccess(out: boolean, size: number, port: number, value: number): void {
    const f = this.f;
    f.i32((out ? 8 : 0) + size).get(port);
    if (out) f.get(value); else f.i32(0);
    f.i32(this.instructionStart()).get(DONE).i32(this.index);
    this.callOut(HELPER_PORT);
    const result = this.temp();
    f.set(result);
    this.leaveOnFault();
    if (!out) f.get(result);
  }

  /** Calls helper `helper` (HELPER_READ...) with its arguments on the stack. */
  private callOut(helper: number): void {
    this.f.i32(helper).callIndirect(helper);
  }

  /** Raises `vector` at the current instruction: leaves through the fault exit. */
  raise(vector: number): void {
    this.f.i32(vector).i32(this.instructionStart()).get(DONE).i32(this.index);
    this.callOut(HELPER_FAULT);
    this.branch(this.faultLabel);
  }

  private leaveOnFault(): void {
    this.f.i32(0).memory(Op.I32_LOAD, this.layout.exit + 4 * EXIT_FAULT);
    this.f.hint(false).brIf(this.depth - this.faultLabel);
  }

  /**
   * A read-modify-write of memory: `body` runs on the fast path (the page is plain RAM, writable,
   * the access inside it and allowed by the segment), with the operand's physical address;
   * anything else runs the whole instruction through its handler, so that nothing is changed
   * before a fault.
   */
  readModifyWrite(addr: number, size: number, body: (phys: number) => void): void {
    const f = this.f;
    const segment = this.insn.segment;
    const lin = this.linear(addr, segment);
    const entry = this.temp(), phys = this.temp();
    this.fastAccess(lin, size, this.readMask | this.writeMask, this.readNeed | this.writeNeed, entry);
    this.segmentAllows(addr, size, SEG_READ | SEG_WRITE, segment);
    f.hint(true).if();
    this.depth++;
    this.physical(lin, entry);
    f.set(phys);
    body(phys);
    this.elseHandler();
  }

  /**
   * Ends the native code of an `if` on a run-time condition with the instruction through its
   * handler in the `else`. The handler records the same lazy flags as the native code (the
   * interpreter's own records), so what is known of them after the native code holds after both.
   */
  elseHandler(): void {
    const known = { flagOp: this.flagOp, flagBits: this.flagBits };
    this.f.op(Op.ELSE);
    this.callHandler();
    this.close();
    this.flagOp = known.flagOp;
    this.flagBits = known.flagBits;
  }

  /** Loads the `size`-byte value at physical `phys` (a temporary). */
  loadPhysical(phys: number, size: number): void {
    this.f.get(phys).memory(size === 4 ? Op.I32_LOAD : size === 2 ? Op.I32_LOAD16_U : Op.I32_LOAD8_U);
  }

  storePhysical(phys: number, size: number, value: number): void {
    this.f.get(phys).get(value).memory(size === 4 ? Op.I32_STORE : size === 2 ? Op.I32_STORE16 : Op.I32_STORE8);
  }

  /** EIP of the current instruction. */
  instructionStart(): number {
    const list = this.block.instructions;
    return this.index === 0 ? this.block.startEip : list[this.index - 1].nextEip;
  }

  /** Hands registers and flags to the CPU before a call that may fault or read them. */
  private synchronise(): void {
    const f = this.f;
    for (let r = 0; r < 8; r++) f.i32(0).get(REG0 + r).memory(Op.I32_STORE, this.layout.regs + 4 * r);
    this.storeFlags();
  }

  private storeFlags(): void {
    const f = this.f;
    const flags = this.layout.flags;
    f.i32(0).get(FOP).memory(Op.I32_STORE, flags + 4 * F_OP);
    f.i32(0).get(FBITS).memory(Op.I32_STORE, flags + 4 * F_BITS);
    f.i32(0).get(FA).memory(Op.I32_STORE, flags + 4 * F_A);
    f.i32(0).get(FB).memory(Op.I32_STORE, flags + 4 * F_B);
    f.i32(0).get(FR).memory(Op.I32_STORE, flags + 4 * F_RESULT);
    f.i32(0).get(FC).memory(Op.I32_STORE, flags + 4 * F_CARRY_IN);
    f.i32(0).get(EFL).memory(Op.I32_STORE, flags + 4 * F_EFLAGS);
  }

  private loadState(): void {
    const f = this.f;
    for (let r = 0; r < 8; r++) f.i32(0).memory(Op.I32_LOAD, this.layout.regs + 4 * r).set(REG0 + r);
    const flags = this.layout.flags;
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_OP).set(FOP);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_BITS).set(FBITS);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_A).set(FA);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_B).set(FB);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_RESULT).set(FR);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_CARRY_IN).set(FC);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_EFLAGS).set(EFL);
  }

  /**
   * Runs the current instruction through its interpreter handler (everything this translator has
   * no native code for), then carries on with the state it left, or leaves when it changed the
   * flow, the mode or the code (the import decides).
   */
  callHandler(): void {
    const f = this.f;
    this.synchronise();
    f.i32(this.blockIndex).i32(this.index).get(DONE);
    this.callOut(HELPER_HANDLER);
    const status = this.temp();
    f.set(status);
    this.loadState();
    this.written = 0xff;
    this.flagsWritten = true;
    this.flagOp = UNKNOWN;
    f.get(status);
    f.hint(false);
    this.open("if");
    f.get(DONE).i32(this.index + 1).op(Op.I32_ADD).set(DONE);
    f.i32(0).memory(Op.I32_LOAD, this.layout.exit + 4 * EXIT_EIP).set(EIP);
    f.i32(this.blockIndex).set(XB);
    this.branch(this.unchainableLabel);
    this.close();
  }

  /**
   * A stall of `cycles` (PAUSE, an access to a system port): they count as retired, as the run
   * loop adds a stall to the processor's time and against the budget, and go to the exit record
   * for Cpu.stallCycles.
   */
  addStall(cycles: number): void {
    const f = this.f;
    const stall = this.layout.exit + 4 * EXIT_STALL;
    f.get(DONE).i32(cycles).op(Op.I32_ADD).set(DONE);
    f.i32(0).i32(0).memory(Op.I32_LOAD, stall).i32(cycles).op(Op.I32_ADD).memory(Op.I32_STORE, stall);
  }

  /** Pushes whether RDTSC may run here without a fault (0/1). */
  timeStampAllowed(): void {
    this.f.i32(0).memory(Op.I32_LOAD, this.layout.exit + 4 * EXIT_TSC_DENIED).op(Op.I32_EQZ);
  }

  /**
   * Pushes the time-stamp counter (i64) as RDTSC reads it in the interpreter: the processor's clock
   * as of the running block's start.
   */
  timeStamp(): void {
    this.f.i32(0).memory(Op.I64_LOAD, this.layout.exit + 4 * EXIT_TSC).get(DONE).op(Op.I64_EXTEND_I32_U).op(Op.I64_ADD);
  }

  /** After an instruction whose store took the slow path: leave if the region went stale. */
  endInstruction(): void {
    if (!this.wroteSlowly) return;
    this.wroteSlowly = false;
    const f = this.f;
    f.get(STALE);
    f.hint(false);
    this.open("if");
    f.get(DONE).i32(this.index + 1).op(Op.I32_ADD).set(DONE);
    f.i32(this.insn.nextEip).set(EIP);
    f.i32(this.blockIndex).set(XB);
    this.branch(this.unchainableLabel);
    this.close();
  }

  // ---- Flags ----------------------------------------------------------------------------------

  /** Records a lazy flag operation from temporaries a, b, r (truncated to `bits`). */
  setLazy(op: number, a: number, b: number, r: number, bits = 32, carryIn = -1): void {
    if (this.flagsDead) {
      this.flagOp = UNKNOWN;
      return;
    }
    this.f.i32(op).set(FOP).i32(bits).set(FBITS);
    if (carryIn >= 0) this.f.get(carryIn).set(FC);
    else this.f.i32(0).set(FC);
    this.f.get(a).set(FA).get(b).set(FB).get(r).set(FR);
    this.flagOp = op;
    this.flagBits = bits;
    this.flagsWritten = true;
  }

  /**
   * The EFLAGS value to read flags from when the record is not known statically: the module's
   * materialiser folds the record in the locals into EFLAGS (without changing the record). Returns
   * the local holding it (EFL itself when the record is NONE).
   */
  eflagsNow(): number {
    if (this.flagOp === LazyOp.NONE) return EFL;
    const t = this.temp();
    this.f.get(FOP).get(FBITS).get(FA).get(FB).get(FR).get(FC).get(EFL);
    this.callOut(HELPER_MATERIALIZE);
    this.f.set(t);
    return t;
  }

  /** Pushes CF (0/1) of the flags at this point. */
  carry(): void {
    const f = this.f;
    switch (this.flagOp) {
      case LazyOp.ADD: f.get(FR).get(FA).op(Op.I32_LT_U); return;
      case LazyOp.SUB: f.get(FA).get(FB).op(Op.I32_LT_U); return;
      case LazyOp.LOGIC: f.i32(0); return;
      case LazyOp.NONE: case LazyOp.INC: case LazyOp.DEC: f.get(EFL).i32(1).op(Op.I32_AND); return;
      default: this.dynamicCarry(); return;
    }
  }

  /**
   * CF of a record known only at run time, without the materialiser (an INC or DEC at a block's
   * start reads it on every pass): flags.ts lazyCarry as a chain of selects on the operation.
   */
  private dynamicCarry(): void {
    const f = this.f;
    const is = (op: number) => f.get(FOP).i32(op).op(Op.I32_EQ);
    const t = this.temp();
    f.get(EFL).i32(1).op(Op.I32_AND).set(t); // NONE, INC, DEC keep it in EFLAGS
    f.get(FR).get(FA).op(Op.I32_LT_U).get(t);
    is(LazyOp.ADD);
    f.op(Op.SELECT).set(t);
    f.get(FA).get(FB).op(Op.I32_LT_U).get(t);
    is(LazyOp.SUB);
    f.op(Op.SELECT).set(t);
    f.i32(0).get(t);
    is(LazyOp.LOGIC);
    f.op(Op.SELECT).set(t);
    f.get(FR).get(FA).op(Op.I32_LE_U).get(FR).get(FA).op(Op.I32_LT_U).get(FC).op(Op.SELECT).get(t);
    is(LazyOp.ADC);
    f.op(Op.SELECT).set(t);
    f.get(FA).get(FB).op(Op.I32_LE_U).get(FA).get(FB).op(Op.I32_LT_U).get(FC).op(Op.SELECT).get(t);
    is(LazyOp.SBB);
    f.op(Op.SELECT);
  }

  /** ZF of a record known only at run time: from EFLAGS when it is NONE, else the result is zero. */
  private dynamicZero(): void {
    const f = this.f;
    f.get(EFL).i32(6).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND);
    f.get(FR).op(Op.I32_EQZ);
    f.get(FOP).op(Op.I32_EQZ).op(Op.SELECT);
  }

  /** SF of a record known only at run time: from EFLAGS when it is NONE, else the result's top bit. */
  private dynamicSign(): void {
    const f = this.f;
    f.get(EFL).i32(7).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND);
    f.get(FR).get(FBITS).i32(1).op(Op.I32_SUB).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND);
    f.get(FOP).op(Op.I32_EQZ).op(Op.SELECT);
  }

  /** Pushes bit `bit` of an EFLAGS value held in local `efl` as 0/1. */
  private bitOf(efl: number, bit: number): void {
    this.f.get(efl).i32(bit).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND);
  }

  private zero(): void {
    this.f.get(FR).op(Op.I32_EQZ);
  }

  private sign(): void {
    this.f.get(FR).i32(this.flagBits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND);
  }

  private overflow(): void {
    const f = this.f;
    switch (this.flagOp) {
      case LazyOp.LOGIC: f.i32(0); return;
      case LazyOp.ADD: case LazyOp.ADC: case LazyOp.INC: f.get(FA).get(FR).op(Op.I32_XOR).get(FB).get(FR).op(Op.I32_XOR).op(Op.I32_AND).i32(this.flagBits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND); return;
      default: f.get(FA).get(FB).op(Op.I32_XOR).get(FA).get(FR).op(Op.I32_XOR).op(Op.I32_AND).i32(this.flagBits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND); return;
    }
  }

  private parity(): void {
    this.f.get(FR).i32(0xff).op(Op.I32_AND).op(Op.I32_POPCNT).i32(1).op(Op.I32_AND).op(Op.I32_EQZ);
  }

  /** Pushes condition `cc` (0..15, the Jcc/SETcc/CMOVcc encoding) as 0/1. */
  condition(cc: number): void {
    const f = this.f;
    if (this.flagOp === UNKNOWN && (cc >> 1 === 1 || cc >> 1 === 2 || cc >> 1 === 3 || cc >> 1 === 4)) {
      // The common conditions straight from the record, without folding it.
      switch (cc >> 1) {
        case 1: this.dynamicCarry(); break;
        case 2: this.dynamicZero(); break;
        case 3: this.dynamicCarry(); this.dynamicZero(); f.op(Op.I32_OR); break;
        default: this.dynamicSign(); break;
      }
      if ((cc & 1) !== 0) f.op(Op.I32_EQZ);
      return;
    }
    if (this.flagOp === UNKNOWN || this.flagOp === LazyOp.NONE) {
      const efl = this.eflagsNow();
      const CF = 0, PF = 2, ZF = 6, SF = 7, OF = 11;
      switch (cc >> 1) {
        case 0: this.bitOf(efl, OF); break;
        case 1: this.bitOf(efl, CF); break;
        case 2: this.bitOf(efl, ZF); break;
        case 3: this.bitOf(efl, CF); this.bitOf(efl, ZF); f.op(Op.I32_OR); break;
        case 4: this.bitOf(efl, SF); break;
        case 5: this.bitOf(efl, PF); break;
        case 6: this.bitOf(efl, SF); this.bitOf(efl, OF); f.op(Op.I32_NE); break;
        default: this.bitOf(efl, ZF); this.bitOf(efl, SF); this.bitOf(efl, OF); f.op(Op.I32_NE).op(Op.I32_OR); break;
      }
      if ((cc & 1) !== 0) f.op(Op.I32_EQZ);
      return;
    }
    // Signed comparisons straight from the operands only at 32 bits (narrower ones are not sign-extended).
    const sub = this.flagOp === LazyOp.SUB;
    const sub32 = sub && this.flagBits === 32;
    switch (cc >> 1) {
      case 0: this.overflow(); break;
      case 1: this.carry(); break;
      case 2: this.zero(); break;
      case 3:
        if (sub) f.get(FA).get(FB).op(Op.I32_LE_U);
        else { this.carry(); this.zero(); f.op(Op.I32_OR); }
        break;
      case 4: this.sign(); break;
      case 5: this.parity(); break;
      case 6:
        if (sub32) f.get(FA).get(FB).op(Op.I32_LT_S);
        else { this.sign(); this.overflow(); f.op(Op.I32_NE); }
        break;
      default:
        if (sub32) f.get(FA).get(FB).op(Op.I32_LE_S);
        else { this.zero(); this.sign(); this.overflow(); f.op(Op.I32_NE).op(Op.I32_OR); }
        break;
    }
    if ((cc & 1) !== 0) f.op(Op.I32_EQZ);
  }

  /** The record is NONE now, EFLAGS in EFL (the caller set both). */
  markFlagsNone(): void {
    this.flagOp = LazyOp.NONE;
    this.flagBits = 32;
    this.flagsWritten = true;
    this.eflWritten = true;
  }

  /** Flags NONE: EFLAGS from a result with the given CF and OF temporaries (0/1). */
  setResultFlags(r: number, cf: number, of: number, bits = 32): void {
    if (this.flagsDead) {
      this.flagOp = UNKNOWN;
      return;
    }
    const f = this.f;
    f.get(EFL).i32(~ARITH_FLAGS).op(Op.I32_AND);
    f.get(cf).op(Op.I32_OR);
    f.get(r).i32(0xff).op(Op.I32_AND).op(Op.I32_POPCNT).i32(1).op(Op.I32_AND).op(Op.I32_EQZ).i32(2).op(Op.I32_SHL).op(Op.I32_OR);
    f.get(r);
    if (bits !== 32) f.i32((1 << bits) - 1).op(Op.I32_AND);
    f.op(Op.I32_EQZ).i32(6).op(Op.I32_SHL).op(Op.I32_OR);
    f.get(r).i32(bits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).i32(7).op(Op.I32_SHL).op(Op.I32_OR);
    f.get(of).i32(11).op(Op.I32_SHL).op(Op.I32_OR);
    f.set(EFL);
    // The record must say NONE wherever it is written back.
    f.i32(LazyOp.NONE).set(FOP);
    this.flagOp = LazyOp.NONE;
    this.flagBits = 32;
    this.flagsWritten = true;
    this.eflWritten = true;
  }
}
