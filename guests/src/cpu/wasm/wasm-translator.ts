/**
 * Translates a hot region (jit-translator.ts collectRegion) into one WebAssembly function instead
 * of JavaScript. V8 compiles such a function in about a millisecond and runs it at full speed
 * from its first call, where a JavaScript translation runs in V8's interpreter for its first few
 * thousand calls and then costs milliseconds of optimising compiler time; so a region here takes
 * in the page's decoded blocks whether or not they loop, and control passes between them inside
 * the function (a switch on the block index) without the dispatcher.
 *
 * Scope: flat 32-bit protected-mode code (ES, CS, SS, DS flat, a 32-bit stack); other code stays
 * with the JavaScript translator. Registers and the lazy flag record live in wasm locals; memory
 * operands go straight to RAM through the TLB, all in the one GuestMemory, and through the
 * processor's own access path otherwise (TLB miss, device memory, a page-crossing access, a store
 * into a code page). Instructions without native code here run through their interpreter handler,
 * called from the wasm code with the state handed over and taken back.
 *
 * Precise state: every instruction does everything that can fault before it changes a local (a
 * read-modify-write of memory that is not plain writable RAM runs through its handler), so a fault
 * in the access path leaves through one exit that hands back the locals as they were at the
 * instruction's start. Flags are recorded with the same LazyOp records as the interpreter's, so
 * the rest of the processor cannot tell which tier ran.
 */
import { BlockTranslation, type CodeBlock } from "../code-block.js";
import type { Cpu } from "../cpu.js";
import { Tlb } from "../cpu.js";
import { FAULT_SIGNAL } from "../fault.js";
import { CpuArea } from "../guest-memory.js";
import type { DecodedInstruction } from "../instruction.js";
import { currentJitMode, JitMode } from "../jit-mode.js";
import { portRead, portWrite } from "../io.js";
import { JIT_RUNTIME } from "../jit-runtime.js";
import { TERMINATES } from "../opcode-table.js";
import { encodeModule, FunctionBuilder, Op, ValueType } from "./wasm-module.js";

const enum Lazy { NONE = 0, ADD = 1, ADC = 2, SUB = 3, SBB = 4, LOGIC = 5, INC = 6, DEC = 7 }
/** No flag writer seen yet in the block: the flags are the CPU's, unknown here. */
const UNKNOWN = -1;
const ARITH_FLAGS = 0x8d5;
const DS = 3, SS = 2, ES = 0;

/** Locals: the parameters (limit, entry block), then these. */
const LIMIT = 0, ENTRY = 1;
const REG0 = 2;
const FOP = 10, FA = 11, FB = 12, FR = 13, EFL = 14, DONE = 15, EIP = 16, STALE = 17, FBITS = 18, FC = 19, BI = 20, XB = 21, TEMP0 = 22;
const TEMPS = 12;

/** Exit record words (Int32 index from CpuArea.EXIT). */
const EXIT_EIP = 0, EXIT_BLOCK = 1, EXIT_FAULT = 2;
/** Flag record words (from CpuArea.FLAGS): the order the glue copies them in. */
const F_OP = 0, F_BITS = 1, F_A = 2, F_B = 3, F_RESULT = 4, F_CARRY_IN = 5, F_EFLAGS = 6;
/** Functions of a module: the imports (see imports()), then its flag materialiser (see materializer()). */
const IMPORT_READ = 0, IMPORT_WRITE = 1, IMPORT_HANDLER = 2, IMPORT_FAULT = 3, IMPORT_PORT = 4, MATERIALIZE = 5;

/** The region cannot be compiled here (the JavaScript translator takes it). */
class Unsupported extends Error {}
/** The instruction has no native code here: it runs through its interpreter handler. */
class NeedsHandler extends Error {}

/** Byte offsets of CPU state in the memory, for the function's loads and stores. */
interface Layout {
  tlb: number;
  regs: number;
  flags: number;
  exit: number;
  pages: number;
}

class WasmRegionEmitter {
  readonly f = new FunctionBuilder([ValueType.I32, ValueType.I32], [ValueType.I32]);
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

  constructor(readonly blocks: readonly CodeBlock[], readonly layout: Layout, mode: number) {
    for (let i = 2; i < TEMP0 + TEMPS; i++) this.f.local();
    blocks.forEach((b, k) => { if (!this.indexOf.has(b.startEip)) this.indexOf.set(b.startEip, k); });
    const user = (mode & JitMode.USER) !== 0;
    this.readNeed = user ? Tlb.USER_READ : Tlb.VALID;
    this.readMask = this.readNeed | Tlb.MMIO;
    this.writeNeed = (user ? Tlb.USER_WRITE : Tlb.SUPERVISOR_WRITE) | Tlb.DIRTY;
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

  beginInstruction(index: number, insn: DecodedInstruction): void {
    this.index = index;
    this.insn = insn;
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
   * Loads the state, then opens the exit and bail blocks, the dispatch loop and one block per
   * region block, and switches on the entry index: block k's code follows the end of its block.
   */
  prologue(): void {
    const f = this.f;
    for (let r = 0; r < 8; r++) f.i32(0).memory(Op.I32_LOAD, this.layout.regs + 4 * r).set(REG0 + r);
    // The whole record, so that an exit before the region's first flag writer hands it back unchanged.
    const flags = this.layout.flags;
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_OP).set(FOP);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_BITS).set(FBITS);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_A).set(FA);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_B).set(FB);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_RESULT).set(FR);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_CARRY_IN).set(FC);
    f.i32(0).memory(Op.I32_LOAD, flags + 4 * F_EFLAGS).set(EFL);
    f.get(ENTRY).set(BI);
    this.faultLabel = this.open("block");
    this.unchainableLabel = this.open("block");
    this.exitLabel = this.open("block");
    this.dispatchLabel = this.open("loop");
    const n = this.blocks.length;
    for (let k = n - 1; k >= 0; k--) this.open("block");
    f.get(BI);
    f.code.byte(Op.BR_TABLE);
    f.code.u32(n);
    for (let k = 0; k < n; k++) f.code.u32(k);
    f.code.u32(0);
  }

  /** Ends the switch arm before block k's code (call before emitting block k). */
  beginBlock(k: number): void {
    this.close();
    this.blockIndex = k;
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
    if (k !== undefined) {
      // Another block must fit in the budget: done + its length <= limit.
      f.i32(k).set(BI);
      f.get(DONE).i32(this.blocks[k].instructions.length).op(Op.I32_ADD).get(LIMIT).op(Op.I32_LE_S);
      f.brIf(this.depth - this.dispatchLabel);
    }
    this.branch(this.exitLabel);
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
    f.i32(0);
  }

  private writeBack(): void {
    const f = this.f;
    for (let r = 0; r < 8; r++) if ((this.written & (1 << r)) !== 0) f.i32(0).get(REG0 + r).memory(Op.I32_STORE, this.layout.regs + 4 * r);
    f.i32(0).get(EIP).memory(Op.I32_STORE, this.layout.exit + 4 * EXIT_EIP);
    f.i32(0).get(XB).memory(Op.I32_STORE, this.layout.exit + 4 * EXIT_BLOCK);
    if (this.flagsWritten) {
      const flags = this.layout.flags;
      f.i32(0).get(FOP).memory(Op.I32_STORE, flags + 4 * F_OP);
      f.i32(0).get(FBITS).memory(Op.I32_STORE, flags + 4 * F_BITS);
      f.i32(0).get(FA).memory(Op.I32_STORE, flags + 4 * F_A);
      f.i32(0).get(FB).memory(Op.I32_STORE, flags + 4 * F_B);
      f.i32(0).get(FR).memory(Op.I32_STORE, flags + 4 * F_RESULT);
      f.i32(0).get(FC).memory(Op.I32_STORE, flags + 4 * F_CARRY_IN);
    }
    if (this.eflWritten || this.flagsWritten) f.i32(0).get(EFL).memory(Op.I32_STORE, this.layout.flags + 4 * F_EFLAGS);
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

  /** Linear address and TLB entry of an access, and whether its fast path applies (pushed as 0/1). */
  private fastAccess(addr: number, size: number, write: boolean, entry: number): void {
    const f = this.f;
    f.get(addr).i32(12).op(Op.I32_SHR_U).i32(2).op(Op.I32_SHL).memory(Op.I32_LOAD, this.layout.tlb).tee(entry);
    if (write) f.i32(this.writeMask).op(Op.I32_AND).i32(this.writeNeed).op(Op.I32_EQ);
    else f.i32(this.readMask).op(Op.I32_AND).i32(this.readNeed).op(Op.I32_EQ);
    if (size > 1) f.get(addr).i32(0xfff).op(Op.I32_AND).i32(0x1000 - size).op(Op.I32_LE_U).op(Op.I32_AND);
  }

  private physical(addr: number, entry: number): void {
    this.f.get(entry).i32(-4096).op(Op.I32_AND).get(addr).i32(0xfff).op(Op.I32_AND).op(Op.I32_OR);
  }

  /**
   * Pushes the `size`-byte value at linear `addr` (the operand's flat segment): straight from RAM
   * through the TLB, else through the processor's own access path (TLB miss, device memory, a
   * page-crossing access), which raises any fault with the state synchronised first.
   */
  readMemory(addr: number, size: number, signed = false, segment = this.insn.segment): void {
    const f = this.f;
    const entry = this.temp(), value = this.temp();
    this.fastAccess(addr, size, false, entry);
    f.if();
    this.depth++;
    this.physical(addr, entry);
    f.memory(size === 4 ? Op.I32_LOAD : size === 2 ? (signed ? Op.I32_LOAD16_S : Op.I32_LOAD16_U) : signed ? Op.I32_LOAD8_S : Op.I32_LOAD8_U).set(value);
    f.op(Op.ELSE);
    f.i32(segment * 8 + size).get(addr).i32(this.instructionStart()).get(DONE).i32(this.index).call(IMPORT_READ);
    if (signed && size < 4) f.i32(32 - 8 * size).op(Op.I32_SHL).i32(32 - 8 * size).op(Op.I32_SHR_S);
    f.set(value);
    this.leaveOnFault();
    this.close();
    f.get(value);
  }

  /** Stores the value in temporary `value` at linear `addr`, as readMemory reads. */
  writeMemory(addr: number, size: number, value: number, segment = this.insn.segment): void {
    const f = this.f;
    const entry = this.temp();
    this.fastAccess(addr, size, true, entry);
    f.if();
    this.depth++;
    this.physical(addr, entry);
    f.get(value).memory(size === 4 ? Op.I32_STORE : size === 2 ? Op.I32_STORE16 : Op.I32_STORE8);
    f.op(Op.ELSE);
    // The slow path is the only one that can reach a code page: it reports a stale region.
    f.i32(segment * 8 + size).get(addr).get(value).i32(this.instructionStart()).get(DONE).i32(this.index).call(IMPORT_WRITE);
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
    f.i32(this.instructionStart()).get(DONE).i32(this.index).call(IMPORT_PORT);
    const result = this.temp();
    f.set(result);
    this.leaveOnFault();
    if (!out) f.get(result);
  }

  /** Raises `vector` at the current instruction: leaves through the fault exit. */
  raise(vector: number): void {
    this.f.i32(vector).i32(this.instructionStart()).get(DONE).i32(this.index).call(IMPORT_FAULT);
    this.branch(this.faultLabel);
  }

  /** The flag record folded into EFLAGS, in a temporary (EFL itself when the record is NONE). */
  eflags(): number {
    return this.eflagsNow();
  }

  private leaveOnFault(): void {
    this.f.i32(0).memory(Op.I32_LOAD, this.layout.exit + 4 * EXIT_FAULT);
    this.f.brIf(this.depth - this.faultLabel);
  }

  /**
   * A read-modify-write of memory: `body` runs on the fast path (the page is plain RAM, writable,
   * the access inside it), with the operand's physical address; anything else runs the whole
   * instruction through its handler, so that nothing is changed before a fault.
   */
  readModifyWrite(addr: number, size: number, body: (phys: number) => void): void {
    const f = this.f;
    const entry = this.temp(), phys = this.temp();
    const mask = this.readMask | this.writeMask, need = this.readNeed | this.writeNeed;
    f.get(addr).i32(12).op(Op.I32_SHR_U).i32(2).op(Op.I32_SHL).memory(Op.I32_LOAD, this.layout.tlb).tee(entry);
    f.i32(mask).op(Op.I32_AND).i32(need).op(Op.I32_EQ);
    if (size > 1) f.get(addr).i32(0xfff).op(Op.I32_AND).i32(0x1000 - size).op(Op.I32_LE_U).op(Op.I32_AND);
    f.if();
    this.depth++;
    this.physical(addr, entry);
    f.set(phys);
    body(phys);
    const known = { flagOp: this.flagOp, flagBits: this.flagBits };
    f.op(Op.ELSE);
    this.callHandler();
    this.close();
    // The handler records the same lazy flags as the native code (the interpreter's own records).
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
    f.i32(this.blockIndex).i32(this.index).get(DONE).call(IMPORT_HANDLER);
    const status = this.temp();
    f.set(status);
    this.loadState();
    this.written = 0xff;
    this.flagsWritten = true;
    this.flagOp = UNKNOWN;
    f.get(status);
    this.open("if");
    f.get(DONE).i32(this.index + 1).op(Op.I32_ADD).set(DONE);
    f.i32(0).memory(Op.I32_LOAD, this.layout.exit + 4 * EXIT_EIP).set(EIP);
    f.i32(this.blockIndex).set(XB);
    this.branch(this.unchainableLabel);
    this.close();
  }

  /** After an instruction whose store took the slow path: leave if the region went stale. */
  endInstruction(): void {
    if (!this.wroteSlowly) return;
    this.wroteSlowly = false;
    const f = this.f;
    f.get(STALE);
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
  private eflagsNow(): number {
    if (this.flagOp === Lazy.NONE) return EFL;
    const t = this.temp();
    this.f.get(FOP).get(FBITS).get(FA).get(FB).get(FR).get(FC).get(EFL).call(MATERIALIZE).set(t);
    return t;
  }

  /** Pushes CF (0/1) of the flags at this point. */
  carry(): void {
    const f = this.f;
    switch (this.flagOp) {
      case Lazy.ADD: f.get(FR).get(FA).op(Op.I32_LT_U); return;
      case Lazy.SUB: f.get(FA).get(FB).op(Op.I32_LT_U); return;
      case Lazy.LOGIC: f.i32(0); return;
      case Lazy.NONE: case Lazy.INC: case Lazy.DEC: f.get(EFL).i32(1).op(Op.I32_AND); return;
      default: f.get(this.eflagsNow()).i32(1).op(Op.I32_AND); return;
    }
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
      case Lazy.LOGIC: f.i32(0); return;
      case Lazy.ADD: case Lazy.ADC: case Lazy.INC: f.get(FA).get(FR).op(Op.I32_XOR).get(FB).get(FR).op(Op.I32_XOR).op(Op.I32_AND).i32(this.flagBits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND); return;
      default: f.get(FA).get(FB).op(Op.I32_XOR).get(FA).get(FR).op(Op.I32_XOR).op(Op.I32_AND).i32(this.flagBits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND); return;
    }
  }

  private parity(): void {
    this.f.get(FR).i32(0xff).op(Op.I32_AND).op(Op.I32_POPCNT).i32(1).op(Op.I32_AND).op(Op.I32_EQZ);
  }

  /** Pushes condition `cc` (0..15, the Jcc/SETcc/CMOVcc encoding) as 0/1. */
  condition(cc: number): void {
    const f = this.f;
    if (this.flagOp === UNKNOWN || this.flagOp === Lazy.NONE) {
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
    const sub = this.flagOp === Lazy.SUB;
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
    this.flagOp = Lazy.NONE;
    this.flagBits = 32;
    this.flagsWritten = true;
    this.eflWritten = true;
  }

  /** Flags NONE: EFLAGS from a result with the given CF and OF temporaries (0/1). */
  setResultFlags(r: number, cf: number, of: number, bits = 32): void {
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
    f.i32(Lazy.NONE).set(FOP);
    this.flagOp = Lazy.NONE;
    this.flagBits = 32;
    this.flagsWritten = true;
    this.eflWritten = true;
  }
}

// ---- The module's flag materialiser --------------------------------------------------------------

/**
 * materialize(op, bits, a, b, result, carryIn, eflags) → EFLAGS with the six arithmetic flags of
 * the lazy record folded in, as flags.ts materializeFlags computes them.
 */
function materializer(): FunctionBuilder {
  const I32 = ValueType.I32;
  const f = new FunctionBuilder([I32, I32, I32, I32, I32, I32, I32], [I32]);
  const OPC = 0, BITS = 1, A = 2, B = 3, R = 4, C = 5, E = 6;
  const mask = f.local(), cf = f.local(), of = f.local(), top = f.local();
  const is = (value: number) => f.get(OPC).i32(value).op(Op.I32_EQ);
  f.get(OPC).op(Op.I32_EQZ).if().get(E).op(Op.RETURN).end();
  f.get(BITS).i32(1).op(Op.I32_SUB).set(top);
  f.i32(-1).i32(1).get(BITS).op(Op.I32_SHL).i32(1).op(Op.I32_SUB).get(BITS).i32(32).op(Op.I32_EQ).op(Op.SELECT).set(mask);
  f.get(A).get(mask).op(Op.I32_AND).set(A);
  f.get(B).get(mask).op(Op.I32_AND).set(B);
  f.get(R).get(mask).op(Op.I32_AND).set(R);
  // CF
  f.get(E).i32(1).op(Op.I32_AND).set(cf); // INC, DEC keep it
  is(Lazy.ADD).if().get(R).get(A).op(Op.I32_LT_U).set(cf).end();
  is(2).if().get(R).get(A).op(Op.I32_LE_U).get(R).get(A).op(Op.I32_LT_U).get(C).op(Op.SELECT).set(cf).end();
  is(Lazy.SUB).if().get(A).get(B).op(Op.I32_LT_U).set(cf).end();
  is(4).if().get(A).get(B).op(Op.I32_LE_U).get(A).get(B).op(Op.I32_LT_U).get(C).op(Op.SELECT).set(cf).end();
  is(Lazy.LOGIC).if().i32(0).set(cf).end();
  // OF
  f.i32(0).set(of);
  for (const op of [Lazy.ADD, 2, Lazy.INC]) is(op).if().get(A).get(R).op(Op.I32_XOR).get(B).get(R).op(Op.I32_XOR).op(Op.I32_AND).get(top).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(of).end();
  for (const op of [Lazy.SUB, 4, Lazy.DEC]) is(op).if().get(A).get(B).op(Op.I32_XOR).get(A).get(R).op(Op.I32_XOR).op(Op.I32_AND).get(top).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(of).end();
  // EFLAGS
  f.get(E).i32(~ARITH_FLAGS).op(Op.I32_AND);
  f.get(cf).op(Op.I32_OR);
  f.get(R).i32(0xff).op(Op.I32_AND).op(Op.I32_POPCNT).i32(1).op(Op.I32_AND).op(Op.I32_EQZ).i32(2).op(Op.I32_SHL).op(Op.I32_OR);
  // AF: none after a logical operation.
  f.i32(0).get(A).get(B).op(Op.I32_XOR).get(R).op(Op.I32_XOR).i32(0x10).op(Op.I32_AND);
  is(Lazy.LOGIC);
  f.op(Op.SELECT).op(Op.I32_OR);
  f.get(R).op(Op.I32_EQZ).i32(6).op(Op.I32_SHL).op(Op.I32_OR);
  f.get(R).get(top).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).i32(7).op(Op.I32_SHL).op(Op.I32_OR);
  f.get(of).i32(11).op(Op.I32_SHL).op(Op.I32_OR);
  return f;
}

// ---- Instructions -------------------------------------------------------------------------------

const enum Alu { ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7 }

/** Computes ALU `op` on temporaries a and b into a new temporary, recording flags; returns it. */
function alu(e: WasmRegionEmitter, op: number, a: number, b: number, size = 4): number {
  const f = e.f;
  if (op === Alu.ADC || op === Alu.SBB) {
    const carry = e.temp();
    e.carry();
    f.set(carry);
    const r = e.temp();
    f.get(a).get(b).op(op === Alu.ADC ? Op.I32_ADD : Op.I32_SUB).get(carry).op(op === Alu.ADC ? Op.I32_ADD : Op.I32_SUB);
    if (size !== 4) f.i32(sizeMask(size)).op(Op.I32_AND);
    f.set(r);
    e.setLazy(op === Alu.ADC ? Lazy.ADC : Lazy.SBB, a, b, r, size * 8, carry);
    return r;
  }
  const r = e.temp();
  f.get(a).get(b);
  switch (op) {
    case Alu.ADD: f.op(Op.I32_ADD); break;
    case Alu.OR: f.op(Op.I32_OR); break;
    case Alu.AND: f.op(Op.I32_AND); break;
    case Alu.XOR: f.op(Op.I32_XOR); break;
    default: f.op(Op.I32_SUB); break; // SUB, CMP
  }
  if (size !== 4 && (op === Alu.ADD || op === Alu.SUB || op === Alu.CMP)) f.i32(sizeMask(size)).op(Op.I32_AND);
  f.set(r);
  e.setLazy(op === Alu.ADD ? Lazy.ADD : op === Alu.SUB || op === Alu.CMP ? Lazy.SUB : Lazy.LOGIC, a, b, r, size * 8);
  return r;
}

function sizeMask(size: number): number {
  return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
}

/** Operand size in bytes of an instruction whose low opcode bit selects byte or word/dword. */
function width(insn: DecodedInstruction): number {
  return (insn.opcode & 1) === 0 ? 1 : insn.opSize32 ? 4 : 2;
}

/** A constant in a new temporary, truncated to `size`. */
function constTemp(e: WasmRegionEmitter, value: number, size: number): number {
  const t = e.temp();
  e.f.i32(value & sizeMask(size)).set(t);
  return t;
}

/** The r/m operand as a source value in a new temporary (register or memory). */
function readRm(e: WasmRegionEmitter, size: number): number {
  const insn = e.insn;
  const t = e.temp();
  if (insn.mod === 3) {
    if (size === 4) e.getReg(insn.rm);
    else if (size === 1) e.getReg8(insn.rm);
    else { e.getReg(insn.rm); e.f.i32(0xffff).op(Op.I32_AND); }
  } else {
    e.readMemory(e.address(), size);
  }
  e.f.set(t);
  return t;
}

function translateInstruction(e: WasmRegionEmitter): "continues" | "exits" {
  const insn = e.insn;
  const f = e.f;
  const op = insn.opcode;
  if (op === 0x90) return "continues";
  if (op === 0x88 || op === 0x8a) {
    // MOV Eb,Gb / Gb,Eb
    if (insn.mod === 3) {
      const from = op === 0x88 ? insn.reg : insn.rm, to = op === 0x88 ? insn.rm : insn.reg;
      e.getReg8(from);
      e.setReg8(to);
      return "continues";
    }
    const addr = e.address();
    if (op === 0x88) {
      const v = e.temp();
      e.getReg8(insn.reg);
      f.set(v);
      e.writeMemory(addr, 1, v);
    } else {
      e.readMemory(addr, 1);
      e.setReg8(insn.reg);
    }
    return "continues";
  }
  if (op === 0x89 || op === 0x8b) {
    const size = width(insn);
    if (insn.mod === 3) {
      e.getRegSized(op === 0x89 ? insn.reg : insn.rm, size);
      e.setRegSized(op === 0x89 ? insn.rm : insn.reg, size);
      return "continues";
    }
    const addr = e.address();
    if (op === 0x89) {
      const v = e.temp();
      e.getRegSized(insn.reg, size);
      f.set(v);
      e.writeMemory(addr, size, v);
    } else {
      e.readMemory(addr, size);
      e.setRegSized(insn.reg, size);
    }
    return "continues";
  }
  if (op >= 0xb0 && op <= 0xb7) {
    f.i32(insn.imm & 0xff);
    e.setReg8(op & 7);
    return "continues";
  }
  if (op >= 0xb8 && op <= 0xbf) {
    const size = insn.opSize32 ? 4 : 2;
    f.i32(insn.imm & sizeMask(size));
    e.setRegSized(op & 7, size);
    return "continues";
  }
  if ((op === 0xc7 || op === 0xc6) && insn.reg === 0) {
    const size = width(insn);
    const v = constTemp(e, insn.imm, size);
    if (insn.mod === 3) {
      f.get(v);
      e.setRegSized(insn.rm, size);
    } else {
      e.writeMemory(e.address(), size, v);
    }
    return "continues";
  }
  if (op === 0x84 || op === 0x85 || op === 0xa8 || op === 0xa9 || ((op === 0xf6 || op === 0xf7) && insn.reg === 0)) {
    const size = width(insn);
    const a = op === 0xa8 || op === 0xa9 ? regTemp(e, 0, size) : readRm(e, size);
    let b: number;
    if (op === 0x84 || op === 0x85) b = regTemp(e, insn.reg, size);
    else b = constTemp(e, insn.imm, size);
    const r = e.temp();
    f.get(a).get(b).op(Op.I32_AND).set(r);
    e.setLazy(Lazy.LOGIC, a, b, r, size * 8);
    return "continues";
  }
  // ALU Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz.
  if (op < 0x40 && (op & 7) <= 5) {
    const aluOp = op >> 3;
    const size = width(insn);
    if ((op & 7) >= 4) {
      const a = regTemp(e, 0, size), b = constTemp(e, insn.imm, size);
      const r = alu(e, aluOp, a, b, size);
      if (aluOp !== Alu.CMP) { f.get(r); e.setRegSized(0, size); }
      return "continues";
    }
    if ((op & 2) !== 0) {
      const b = readRm(e, size);
      const a = regTemp(e, insn.reg, size);
      const r = alu(e, aluOp, a, b, size);
      if (aluOp !== Alu.CMP) { f.get(r); e.setRegSized(insn.reg, size); }
      return "continues";
    }
    return aluOnRm(e, aluOp, size, () => regTemp(e, insn.reg, size));
  }
  if (op >= 0x80 && op <= 0x83 && op !== 0x82) {
    const size = width(insn);
    return aluOnRm(e, insn.reg, size, () => constTemp(e, insn.imm, size));
  }
  if (op >= 0xc0 && op <= 0xd3 && (op <= 0xc1 || op >= 0xd0) && (insn.reg === 4 || insn.reg === 5 || insn.reg === 6 || insn.reg === 7)) return shift(e);
  if (op >= 0xc0 && op <= 0xd3 && (op <= 0xc1 || op >= 0xd0) && (insn.reg === 0 || insn.reg === 1)) return rotate(e);
  if (op === 0xf7 && insn.reg === 6 && insn.opSize32) {
    // DIV r/m32: EDX:EAX / source; #DE for a zero divisor or a quotient beyond 32 bits (EDX >= divisor).
    const divisor = readRm(e, 4);
    f.get(divisor).op(Op.I32_EQZ).get(REG0 + 2).get(divisor).op(Op.I32_GE_U).op(Op.I32_OR);
    e.open("if");
    e.raise(0);
    e.close();
    const dividend = e.f.local(ValueType.I64), wide = e.f.local(ValueType.I64);
    e.getReg(2);
    f.op(Op.I64_EXTEND_I32_U).i64(32n).op(Op.I64_SHL);
    e.getReg(0);
    f.op(Op.I64_EXTEND_I32_U).op(Op.I64_OR).set(dividend);
    f.get(divisor).op(Op.I64_EXTEND_I32_U).set(wide);
    f.get(dividend).get(wide).op(Op.I64_DIV_U).op(Op.I32_WRAP_I64);
    f.get(dividend).get(wide).op(Op.I64_REM_U).op(Op.I32_WRAP_I64);
    e.setReg(2);
    e.setReg(0);
    return "continues";
  }
  if (op >= 0xa0 && op <= 0xa3) {
    // MOV AL/eAX, moffs and back.
    const size = width(insn);
    const addr = e.temp();
    f.i32(insn.imm).set(addr);
    if (op <= 0xa1) {
      e.readMemory(addr, size);
      e.setRegSized(0, size);
    } else {
      const v = regTemp(e, 0, size);
      e.writeMemory(addr, size, v);
    }
    return "continues";
  }
  if (op === 0xc9 && insn.opSize32) {
    // LEAVE: ESP = EBP, then EBP popped.
    const frame = regTemp(e, 5);
    const v = e.temp();
    e.readMemory(frame, 4, false, SS);
    f.set(v);
    f.get(frame).i32(4).op(Op.I32_ADD);
    e.setReg(4);
    f.get(v);
    e.setReg(5);
    return "continues";
  }
  if (((op >= 0xe4 && op <= 0xe7) || (op >= 0xec && op <= 0xef))) {
    // IN/OUT with an immediate port or DX.
    const size = width(insn);
    const port = e.temp();
    if (op < 0xe8) f.i32(insn.imm & 0xff); else f.get(REG0 + 2).i32(0xffff).op(Op.I32_AND);
    f.set(port);
    if ((op & 2) === 0) {
      e.portAccess(false, size, port, -1);
      e.setRegSized(0, size);
    } else {
      e.portAccess(true, size, port, regTemp(e, 0, size));
    }
    return "continues";
  }
  if (op >= 0xa4 && op <= 0xaf && op !== 0xa8 && op !== 0xa9 && (insn.prefixes & (2 | 4)) === 0 && insn.addrSize32 && (op & 0xfe) !== 0xac) {
    return stringStep(e);
  }
  if ((op === 0xac || op === 0xad) && (insn.prefixes & (2 | 4)) === 0 && insn.addrSize32) {
    // LODS without a repeat prefix: AL/eAX from DS:ESI (or the override), ESI stepped by EFLAGS.DF.
    const size = width(insn);
    const from = regTemp(e, 6);
    e.readMemory(from, size);
    e.setRegSized(0, size);
    f.get(from).i32(-size).i32(size).get(EFL_LOCAL).i32(1 << 10).op(Op.I32_AND).op(Op.SELECT).op(Op.I32_ADD);
    e.setReg(6);
    return "continues";
  }
  if ((op === 0xf6 || op === 0xf7) && (insn.reg === 2 || insn.reg === 3)) {
    const size = width(insn);
    updateRm(e, size, (a) => {
      const r = e.temp();
      if (insn.reg === 2) {
        f.get(a).i32(-1).op(Op.I32_XOR);
        if (size !== 4) f.i32(sizeMask(size)).op(Op.I32_AND);
        f.set(r);
        return r;
      }
      const zero = constTemp(e, 0, size);
      return alu(e, Alu.SUB, zero, a, size);
    });
    return "continues";
  }
  if ((op === 0xfe || op === 0xff) && (insn.reg === 0 || insn.reg === 1)) {
    const size = width(insn);
    // INC/DEC keep CF: it goes into EFLAGS before the record changes.
    const cf = e.temp();
    e.carry();
    f.set(cf);
    f.get(EFL_LOCAL).i32(-2).op(Op.I32_AND).get(cf).op(Op.I32_OR).set(EFL_LOCAL);
    e.eflWritten = true;
    updateRm(e, size, (a) => {
      const b = constTemp(e, 1, size), r = e.temp();
      f.get(a).get(b).op(insn.reg === 0 ? Op.I32_ADD : Op.I32_SUB);
      if (size !== 4) f.i32(sizeMask(size)).op(Op.I32_AND);
      f.set(r);
      e.setLazy(insn.reg === 0 ? Lazy.INC : Lazy.DEC, a, b, r, size * 8);
      return r;
    });
    return "continues";
  }
  if (op === 0xff && (insn.reg === 2 || insn.reg === 4 || insn.reg === 6) && insn.opSize32) {
    const target = readRm(e, 4);
    if (insn.reg === 4) {
      f.get(target).set(EIP_LOCAL);
      e.exitAfterInstruction();
      return "exits";
    }
    const v = e.temp(), addr = e.temp();
    if (insn.reg === 2) f.i32(insn.nextEip).set(v);
    else f.get(target).set(v);
    e.getReg(4); f.i32(4).op(Op.I32_SUB).set(addr);
    e.writeMemory(addr, 4, v, SS);
    f.get(addr);
    e.setReg(4);
    if (insn.reg === 6) return "continues";
    f.get(target).set(EIP_LOCAL);
    e.exitAfterInstruction();
    return "exits";
  }
  if ((op === 0xf7) && (insn.reg === 4 || insn.reg === 5) && insn.opSize32) {
    const b = readRm(e, 4);
    const wide = e.f.local(ValueType.I64);
    const signed = insn.reg === 5;
    const low = e.temp(), high = e.temp(), overflow = e.temp();
    e.getReg(0);
    f.op(signed ? Op.I64_EXTEND_I32_S : Op.I64_EXTEND_I32_U);
    f.get(b).op(signed ? Op.I64_EXTEND_I32_S : Op.I64_EXTEND_I32_U).op(Op.I64_MUL).set(wide);
    f.get(wide).op(Op.I32_WRAP_I64).set(low);
    f.get(wide).i64(32n).op(Op.I64_SHR_U).op(Op.I32_WRAP_I64).set(high);
    if (signed) f.get(high).get(low).i32(31).op(Op.I32_SHR_S).op(Op.I32_NE).set(overflow);
    else f.get(high).i32(0).op(Op.I32_NE).set(overflow);
    f.get(low);
    e.setReg(0);
    f.get(high);
    e.setReg(2);
    e.setResultFlags(low, overflow, overflow);
    return "continues";
  }
  requireOperand32(insn);
  if (op === 0x8d && insn.mod !== 3) {
    const addr = e.address();
    f.get(addr);
    e.setReg(insn.reg);
    return "continues";
  }
  if (op === 0x1b6 || op === 0x1b7 || op === 0x1be || op === 0x1bf) {
    const size = op === 0x1b6 || op === 0x1be ? 1 : 2;
    const signed = op >= 0x1be;
    if (insn.mod === 3) {
      if (size === 1) e.getReg8(insn.rm);
      else { e.getReg(insn.rm); f.i32(0xffff).op(Op.I32_AND); }
      if (signed) f.i32(32 - 8 * size).op(Op.I32_SHL).i32(32 - 8 * size).op(Op.I32_SHR_S);
    } else {
      e.readMemory(e.address(), size, signed);
    }
    e.setReg(insn.reg);
    return "continues";
  }
  if (op >= 0x40 && op <= 0x4f) {
    // INC/DEC keep CF: it goes into EFLAGS before the record changes.
    const cf = e.temp();
    e.carry();
    f.set(cf);
    f.get(EFL_LOCAL).i32(-2).op(Op.I32_AND).get(cf).op(Op.I32_OR).set(EFL_LOCAL);
    e.eflWritten = true;
    const a = regTemp(e, op & 7), b = e.temp(), r = e.temp();
    f.i32(1).set(b);
    f.get(a).get(b).op(op < 0x48 ? Op.I32_ADD : Op.I32_SUB).set(r);
    e.setLazy(op < 0x48 ? Lazy.INC : Lazy.DEC, a, b, r);
    f.get(r);
    e.setReg(op & 7);
    return "continues";
  }
  if (op === 0x1af || op === 0x69 || op === 0x6b) {
    const a = readRm(e, 4);
    const b = e.temp();
    if (op === 0x1af) e.getReg(insn.reg); else f.i32(insn.imm);
    f.set(b);
    const product = e.temp(), cf = e.temp();
    f.get(a).get(b).op(Op.I32_MUL).set(product);
    // CF = OF = the signed 64-bit product does not fit in 32 bits.
    const wide = e.f.local(ValueType.I64);
    f.get(a).op(Op.I64_EXTEND_I32_S).get(b).op(Op.I64_EXTEND_I32_S).op(Op.I64_MUL).set(wide);
    f.get(wide).i64(32n).op(Op.I64_SHR_S).op(Op.I32_WRAP_I64).get(product).i32(31).op(Op.I32_SHR_S).op(Op.I32_NE).set(cf);
    e.setResultFlags(product, cf, cf);
    f.get(product);
    e.setReg(insn.reg);
    return "continues";
  }
  if (op >= 0x50 && op <= 0x57) {
    const v = regTemp(e, op & 7);
    const addr = e.temp();
    e.getReg(4); f.i32(4).op(Op.I32_SUB).set(addr);
    e.writeMemory(addr, 4, v, SS);
    f.get(addr);
    e.setReg(4);
    return "continues";
  }
  if (op >= 0x58 && op <= 0x5f) {
    const addr = regTemp(e, 4);
    const v = e.temp();
    e.readMemory(addr, 4, false, SS);
    f.set(v);
    f.get(addr).i32(4).op(Op.I32_ADD);
    e.setReg(4);
    f.get(v);
    e.setReg(op & 7);
    return "continues";
  }
  if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) {
    const target = (insn.nextEip + insn.imm) | 0;
    e.condition(op & 15);
    e.open("if");
    e.goTo(target);
    e.close();
    return "continues";
  }
  if (op === 0xeb || op === 0xe9) {
    const target = (insn.nextEip + insn.imm) | 0;
    e.goTo(target);
    return "exits";
  }
  if (op === 0xe8) {
    const v = e.temp(), addr = e.temp();
    f.i32(insn.nextEip).set(v);
    e.getReg(4); f.i32(4).op(Op.I32_SUB).set(addr);
    e.writeMemory(addr, 4, v, SS);
    f.get(addr);
    e.setReg(4);
    e.goTo((insn.nextEip + insn.imm) | 0);
    return "exits";
  }
  if (op === 0xc3) {
    const addr = regTemp(e, 4);
    e.readMemory(addr, 4, false, SS);
    f.set(EIP_LOCAL);
    f.get(addr).i32(4).op(Op.I32_ADD);
    e.setReg(4);
    e.exitAfterInstruction();
    return "exits";
  }
  if (op >= 0x190 && op <= 0x19f && insn.mod === 3) {
    e.condition(op & 15);
    e.setReg8(insn.rm);
    return "continues";
  }
  if (op >= 0x140 && op <= 0x14f) {
    const v = readRm(e, 4);
    e.condition(op & 15);
    e.open("if");
    f.get(v);
    e.setReg(insn.reg);
    e.close();
    return "continues";
  }
  throw new NeedsHandler();
}

const EFL_LOCAL = EFL;
const EIP_LOCAL = EIP;

function regTemp(e: WasmRegionEmitter, r: number, size = 4): number {
  const t = e.temp();
  e.getRegSized(r, size);
  e.f.set(t);
  return t;
}

/** ALU op on the r/m operand with `source`, written back unless CMP. */
function aluOnRm(e: WasmRegionEmitter, op: number, size: number, source: () => number): "continues" {
  const insn = e.insn;
  const f = e.f;
  if (insn.mod === 3) {
    const a = regTemp(e, insn.rm, size);
    const r = alu(e, op, a, source(), size);
    if (op !== Alu.CMP) { f.get(r); e.setRegSized(insn.rm, size); }
    return "continues";
  }
  const addr = e.address();
  if (op === Alu.CMP) {
    const a = e.temp();
    e.readMemory(addr, size);
    f.set(a);
    alu(e, op, a, source(), size);
    return "continues";
  }
  e.readModifyWrite(addr, size, (phys) => {
    const a = e.temp();
    e.loadPhysical(phys, size);
    f.set(a);
    e.storePhysical(phys, size, alu(e, op, a, source(), size));
  });
  return "continues";
}

/** Reads the r/m operand, computes the new value with `compute`, and writes it back (register or the same memory). */
function updateRm(e: WasmRegionEmitter, size: number, compute: (a: number) => number): void {
  const insn = e.insn;
  const f = e.f;
  if (insn.mod === 3) {
    const a = regTemp(e, insn.rm, size);
    const r = compute(a);
    f.get(r);
    e.setRegSized(insn.rm, size);
    return;
  }
  const addr = e.address();
  e.readModifyWrite(addr, size, (phys) => {
    const a = e.temp();
    e.loadPhysical(phys, size);
    f.set(a);
    e.storePhysical(phys, size, compute(a));
  });
}

/** SHL/SAL, SHR, SAR by a constant or by CL, on a register or memory, as alu.ts shiftRotate. */
function shift(e: WasmRegionEmitter): "continues" {
  const insn = e.insn;
  const f = e.f;
  const op = insn.opcode;
  const size = width(insn);
  const bits = size * 8;
  const kind = insn.reg === 6 ? 4 : insn.reg;
  const byCl = op >= 0xd2;
  const constant = op <= 0xc1 ? insn.imm & 31 : 1;
  if (!byCl && constant === 0) return "continues";
  if (byCl && bits !== 32) throw new NeedsHandler();
  const count = e.temp();
  if (byCl) f.get(REG0 + 1).i32(31).op(Op.I32_AND).set(count);
  else f.i32(constant).set(count);
  // A count of 0 (mod 32) changes nothing, flags included.
  if (byCl) {
    f.get(count);
    e.open("if");
  }
  const flagsBefore = e.flagOp;
  updateRm(e, size, (v) => {
    const r = e.temp(), cf = e.temp(), of = e.temp();
    const mask = sizeMask(size);
    if (kind === 4) {
      if (!byCl && constant > bits) {
        f.i32(0).set(r).i32(0).set(cf);
      } else {
        f.get(v).get(count).op(Op.I32_SHL).i32(mask).op(Op.I32_AND).set(r);
        f.get(v).i32(bits).get(count).op(Op.I32_SUB).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(cf);
      }
      f.get(r).i32(bits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).get(cf).op(Op.I32_XOR).set(of);
    } else if (kind === 5) {
      if (!byCl && constant >= bits) f.i32(0).set(r);
      else f.get(v).get(count).op(Op.I32_SHR_U).set(r);
      if (!byCl && constant > bits) f.i32(0).set(cf);
      else f.get(v).get(count).i32(1).op(Op.I32_SUB).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(cf);
      f.get(v).i32(bits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(of);
    } else {
      const signed = e.temp();
      f.get(v);
      if (bits !== 32) f.i32(32 - bits).op(Op.I32_SHL).i32(32 - bits).op(Op.I32_SHR_S);
      f.set(signed);
      const n = !byCl && constant >= bits ? bits - 1 : -1;
      f.get(signed);
      if (n >= 0) f.i32(n); else f.get(count);
      f.op(Op.I32_SHR_S).i32(mask).op(Op.I32_AND).set(r);
      if (!byCl && constant >= bits) f.get(signed).i32(31).op(Op.I32_SHR_U).set(cf);
      else f.get(signed).get(count).i32(1).op(Op.I32_SUB).op(Op.I32_SHR_S).i32(1).op(Op.I32_AND).set(cf);
      f.i32(0).set(of);
    }
    e.setResultFlags(r, cf, of, bits);
    return r;
  });
  if (byCl) {
    e.close();
    // The flags are NONE or what they were, depending on the count: known only at run time.
    e.flagOp = flagsBefore === Lazy.NONE ? Lazy.NONE : UNKNOWN;
  }
  return "continues";
}

/** ROL, ROR by a constant or by CL (32-bit), on a register or memory, as alu.ts shiftRotate: CF and OF change, the other flags stay. */
function rotate(e: WasmRegionEmitter): "continues" {
  const insn = e.insn;
  const f = e.f;
  const op = insn.opcode;
  const size = width(insn);
  const bits = size * 8;
  const left = insn.reg === 0;
  const byCl = op >= 0xd2;
  const constant = op <= 0xc1 ? insn.imm & 31 : 1;
  if (!byCl && constant === 0) return "continues";
  if (byCl && bits !== 32) throw new NeedsHandler();
  const count = e.temp();
  if (byCl) f.get(REG0 + 1).i32(31).op(Op.I32_AND).set(count);
  else f.i32(constant % bits).set(count);
  if (byCl) {
    f.get(count);
    e.open("if");
  }
  const flagsBefore = e.flagOp;
  // The other flags as they stand, before the operand is touched (nothing may change before a fault).
  const before = e.eflags();
  const kept = e.temp();
  f.get(before).set(kept);
  updateRm(e, size, (v) => {
    const r = e.temp(), cf = e.temp(), of = e.temp();
    const mask = sizeMask(size);
    if (bits === 32) {
      f.get(v).get(count).op(left ? Op.I32_ROTL : Op.I32_ROTR).set(r);
    } else {
      // Narrow: (v << n | v >>> (bits - n)) & mask, n = count mod bits (0 leaves v).
      f.get(v);
      f.get(v).get(count).op(left ? Op.I32_SHL : Op.I32_SHR_U);
      f.get(v).i32(bits).get(count).op(Op.I32_SUB).op(left ? Op.I32_SHR_U : Op.I32_SHL).op(Op.I32_OR).i32(mask).op(Op.I32_AND);
      f.get(count).op(Op.I32_EQZ).op(Op.SELECT).set(r);
    }
    if (left) {
      f.get(r).i32(1).op(Op.I32_AND).set(cf);
      f.get(r).i32(bits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).get(cf).op(Op.I32_XOR).set(of);
    } else {
      f.get(r).i32(bits - 1).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).set(cf);
      f.get(r).i32(bits - 2).op(Op.I32_SHR_U).i32(1).op(Op.I32_AND).get(cf).op(Op.I32_XOR).set(of);
    }
    f.get(kept).i32(~0x801).op(Op.I32_AND).get(cf).op(Op.I32_OR).get(of).i32(11).op(Op.I32_SHL).op(Op.I32_OR).set(EFL_LOCAL);
    f.i32(Lazy.NONE).set(FOP);
    e.markFlagsNone();
    return r;
  });
  if (byCl) {
    e.close();
    e.flagOp = flagsBefore === Lazy.NONE ? Lazy.NONE : UNKNOWN;
  }
  return "continues";
}

/**
 * MOVS, CMPS, STOS, SCAS without a repeat prefix: one step, the source at DS:ESI (or the
 * override), the destination at ES:EDI, the pointers moved by the operand size against EFLAGS.DF.
 */
function stringStep(e: WasmRegionEmitter): "continues" {
  const insn = e.insn;
  const f = e.f;
  const op = insn.opcode;
  const size = width(insn);
  const step = e.temp();
  f.i32(-size).i32(size).get(EFL_LOCAL).i32(1 << 10).op(Op.I32_AND).op(Op.SELECT).set(step);
  const usesSource = op <= 0xa7;
  const source = usesSource ? regTemp(e, 6) : -1;
  const target = regTemp(e, 7);
  switch (op & 0xfe) {
    case 0xa4: { // MOVS
      const v = e.temp();
      e.readMemory(source, size);
      f.set(v);
      e.writeMemory(target, size, v, ES);
      break;
    }
    case 0xa6: { // CMPS: [ESI] - [EDI]
      const a = e.temp(), b = e.temp();
      e.readMemory(source, size);
      f.set(a);
      e.readMemory(target, size, false, ES);
      f.set(b);
      alu(e, Alu.CMP, a, b, size);
      break;
    }
    case 0xaa: { // STOS
      e.writeMemory(target, size, regTemp(e, 0, size), ES);
      break;
    }
    default: { // SCAS: AL/eAX - [EDI]
      const a = regTemp(e, 0, size), b = e.temp();
      e.readMemory(target, size, false, ES);
      f.set(b);
      alu(e, Alu.CMP, a, b, size);
      break;
    }
  }
  if (usesSource) {
    f.get(source).get(step).op(Op.I32_ADD);
    e.setReg(6);
  }
  f.get(target).get(step).op(Op.I32_ADD);
  e.setReg(7);
  return "continues";
}

function requireOperand32(insn: DecodedInstruction): void {
  if (!insn.opSize32) throw new NeedsHandler();
}

/** Whether code in `mode` is what this tier handles: flat ES/CS/SS/DS and a 32-bit stack. */
function supportedMode(mode: number): boolean {
  const flat = (1 << ES) | (1 << 1) | (1 << SS) | (1 << DS);
  return (mode & flat) === flat && (mode & JitMode.STACK32) !== 0 && (mode & JitMode.ALIGNMENT_CHECK) === 0;
}

export interface WasmTier {
  memory: WebAssembly.Memory;
  layout: Layout;
  flags: Int32Array;
  exit: Int32Array;
}

const tiers = new WeakMap<Cpu, WasmTier>();

function tierOf(cpu: Cpu): WasmTier {
  let tier = tiers.get(cpu);
  if (tier === undefined) {
    const memory = cpu.bus.memory;
    const area = memory.cpuArea;
    tier = {
      memory: memory.memory,
      layout: { tlb: area + CpuArea.TLB, regs: area + CpuArea.REGS, flags: area + CpuArea.FLAGS, exit: area + CpuArea.EXIT, pages: memory.memory.buffer.byteLength / 65536 },
      flags: memory.cpuWords(CpuArea.FLAGS, 8),
      exit: memory.cpuWords(CpuArea.EXIT, 8),
    };
    tiers.set(cpu, tier);
  }
  return tier;
}

/**
 * A WebAssembly translation of the region `blocks` (its entry first, see jit-translator.ts
 * collectRegion) for `mode`, or null when the region is outside this tier's scope (the JavaScript
 * translator takes it then).
 */
export function translateRegionToWasm(cpu: Cpu, region: readonly CodeBlock[], mode: number): BlockTranslation | null {
  const head = region[0];
  // The region's second copy of its head (for the JavaScript emitter's flag analysis) is not needed here.
  const blocks = region.length > 1 && region[region.length - 1] === head ? region.slice(0, -1) : region;
  if (!supportedMode(mode)) return null;
  for (const block of blocks) {
    if (!block.code32 || block.csBase !== 0) return null;
    // Through CS (read-only), FS or GS (based: Linux's per-CPU data): the JavaScript translator
    // has native code for those; here each would be a call of its handler, which costs more.
    for (const insn of block.instructions) if (insn.segOverride >= 0 && insn.segOverride !== DS && insn.segOverride !== SS && insn.segOverride !== ES) return null;
  }
  const tier = tierOf(cpu);
  const e = new WasmRegionEmitter(blocks, tier.layout, mode);
  try {
    e.prologue();
    blocks.forEach((block, k) => {
      e.beginBlock(k);
      const list = block.instructions;
      let ended = false;
      for (let i = 0; i < list.length && !ended; i++) {
        e.beginInstruction(i, list[i]);
        const mark = e.mark();
        try {
          ended = translateInstruction(e) === "exits";
        } catch (error) {
          if (!(error instanceof NeedsHandler)) throw error;
          e.rewind(mark);
          e.callHandler();
        }
        if (!ended) e.endInstruction();
      }
      if (!ended) {
        e.beginInstruction(list.length - 1, list[list.length - 1]);
        e.goTo(list[list.length - 1].nextEip);
      }
    });
    e.epilogue();
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
  const I32 = ValueType.I32;
  const bytes = encodeModule({
    memoryImport: { module: "vm", name: "memory", pages: tier.layout.pages },
    functions: [
      { module: "vm", name: "read", params: [I32, I32, I32, I32, I32], results: [I32] },
      { module: "vm", name: "write", params: [I32, I32, I32, I32, I32, I32], results: [I32] },
      { module: "vm", name: "handler", params: [I32, I32, I32], results: [I32] },
      { module: "vm", name: "fault", params: [I32, I32, I32, I32], results: [] },
      { module: "vm", name: "port", params: [I32, I32, I32, I32, I32, I32], results: [I32] },
    ],
    exports: [{ name: "materialize", body: materializer() }, { name: "run", body: e.f }],
  });
  const glue = new RegionGlue(cpu, blocks, mode, tier);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    vm: { memory: tier.memory, read: glue.read, write: glue.write, handler: glue.handler, fault: glue.fault, port: glue.port },
  });
  glue.code = instance.exports.run as (limit: number, entry: number) => number;
  const translation = new BlockTranslation(head, mode, glue.run, false, blocks);
  glue.translation = translation;
  for (const block of blocks) {
    // Translations dropped since (evicted, remade) need not be dropped again.
    const live = block.holders === null ? [] : block.holders.filter((t) => t.block.translation === t);
    live.push(translation);
    block.holders = live;
  }
  // Compiled code from the first call: no young calls with short budgets (see jit-dispatch.ts).
  translation.calls = 1 << 30;
  return translation;
}

/**
 * What a region's wasm code calls out to, and its run function: hands the flag record to the wasm
 * code and back, and counts retired instructions (the calls out sync the count first, so that a
 * fault inside one finds it exact).
 */
class RegionGlue {
  code: (limit: number, entry: number) => number = () => 0;
  translation: BlockTranslation | null = null;
  /** Instructions of the current run already added to cpu.instructionsRetired. */
  private synced = 0;
  private readonly flags: Int32Array;
  private readonly exit: Int32Array;

  constructor(private readonly cpu: Cpu, private readonly blocks: readonly CodeBlock[], private readonly mode: number, tier: WasmTier) {
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
    const cpu = this.cpu, flags = this.flags;
    cpu.lazyOp = flags[F_OP];
    cpu.lazyBits = flags[F_BITS];
    cpu.lazyA = flags[F_A] >>> 0;
    cpu.lazyB = flags[F_B] >>> 0;
    cpu.lazyResult = flags[F_RESULT] >>> 0;
    cpu.lazyCarryIn = flags[F_CARRY_IN];
    cpu.eflags = flags[F_EFLAGS];
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
    const cpu = this.cpu;
    cpu.instructionsRetired += done - this.synced;
    this.synced = done;
    cpu.instructionStart = start;
  }

  /** A fault at instruction `index` of the running block: the block's instructions before it retire. */
  private faulted(index: number): void {
    this.cpu.instructionsRetired += index;
    this.synced += index;
  }

  /**
   * The processor's own read path (TLB miss, device memory, a page-crossing access). A fault is
   * noted in the exit record for the code to leave through (it cannot pass through wasm frames with
   * the locals' state), and raised again by run().
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
      if (error !== FAULT_SIGNAL) throw error;
      this.faulted(index);
      this.exit[EXIT_FAULT] = 1;
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
      if (error !== FAULT_SIGNAL) throw error;
      this.faulted(index);
      this.exit[EXIT_FAULT] = 1;
      return 0;
    }
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
      if (error !== FAULT_SIGNAL) throw error;
      this.faulted(index);
      this.exit[EXIT_FAULT] = 1;
      return 0;
    }
  };

  /** Raises exception `vector` (no error code) at the current instruction, as `read` reports a fault. */
  readonly fault = (vector: number, start: number, done: number, index: number): void => {
    this.enter(start, done);
    try {
      this.cpu.raise(vector);
    } catch (error) {
      if (error !== FAULT_SIGNAL) throw error;
      this.faulted(index);
      this.exit[EXIT_FAULT] = 1;
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
    const leave = TERMINATES[insn.opcode] !== 0 || cpu.eip !== insn.nextEip || cpu.interruptShadow !== 0 || cpu.stallPending !== 0 ||
      cpu.halted || currentJitMode(cpu) !== this.mode;
    if (!leave && !this.stale()) return 0;
    this.exit[EXIT_EIP] = cpu.eip;
    return 1;
  };

  readonly run = (limit: number, entry: number): number => {
    if (limit < 0) throw JIT_RUNTIME.priming;
    const cpu = this.cpu;
    const blocks = this.blocks;
    this.giveFlags();
    this.synced = 0;
    const done = this.code(limit, entry);
    this.takeFlags();
    const exit = this.exit;
    if (exit[EXIT_FAULT] !== 0) {
      // The state of the faulting instruction's start is in the CPU; the run loop delivers it.
      exit[EXIT_FAULT] = 0;
      throw FAULT_SIGNAL;
    }
    const eip = exit[EXIT_EIP];
    cpu.eip = eip;
    JIT_RUNTIME.exit.block = blocks[exit[EXIT_BLOCK]];
    const retired = done < 0 ? ~done : done;
    cpu.instructionsRetired += retired - this.synced;
    return done;
  };
}
