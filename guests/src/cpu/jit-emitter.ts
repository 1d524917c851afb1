/**
 * Builds the JavaScript source of one translated block. Guest registers live in locals (r0..r7)
 * and the lazy-flag record in locals (fop, fbits, fa, fb, fr, fc, efl); both are written back to
 * the CPU at every exit, before every call into interpreter code, and in the block's one catch
 * when a fault leaves it. The flag locals are loaded only once something needs them (fop = -1
 * until then), so blocks that never touch flags never copy them. The emitter tracks statically
 * which operation last set the flags, so a condition after CMP compiles to a plain comparison and
 * flags nobody reads cost a few local stores.
 *
 * Memory operands go straight to the RAM arrays through the TLB, after an inline limit and rights
 * check unless the segment is flat; a segment violation, TLB miss, device memory, a page-crossing
 * access or a store into a code page takes the interpreter's own access path (which raises the
 * fault). Under alignment checking nothing is accessed natively.
 *
 * Precise state by construction: an instruction first does everything that can fault, then
 * assigns its locals; `pc` names the instruction in progress so the catch can restore
 * cpu.instructionStart for the restart and retire the instructions before it.
 */
import type { CodeBlock } from "./code-block.js";
import { SegOk, Tlb, tlbReadNeed, tlbWriteNeed } from "./cpu.js";
import { LazyOp } from "./flags.js";
import type { DecodedInstruction } from "./instruction.js";
import { JitMode } from "./jit-mode.js";

/** Static knowledge of the flags: the lazy operation that set them, or NONE (efl holds them). */
const DYNAMIC = -1;

/** Placeholders replaced once the block is complete and the register sets are known. */
const WRITE_BACK_REGISTERS = "\u0001";
const RELOAD_REGISTERS = "\u0002";

const CS = 1;
const SS = 2;

export class BlockEmitter {
  private readonly lines: string[] = [];
  /** Temporaries in use by the current instruction, and the most any instruction used (declared once). */
  private temps = 0;
  private maxTemps = 0;
  private usedRegs = 0;
  private writtenRegs = 0;
  /** At this point of the code the flag locals hold the CPU's flags (loaded, then perhaps updated). */
  private flagsLoaded = false;
  private readonly handlerOpcodes = new Set<number>();
  /** LazyOp of the last flag writer when known at this point, NONE when efl holds the flags, else DYNAMIC. */
  private flagOp = DYNAMIC;
  /** Operand size of that operation, or 0 when only `fbits` knows it (blocks entered with several). */
  private flagBits = 32;
  /** The instruction being translated and its index among all the region's instructions. */
  insn!: DecodedInstruction;
  index = 0;
  /** The region block being translated and the index of its first instruction. */
  blockIndex = 0;
  firstIndex = 0;
  /** The block whose `case` is being emitted (blockIndex differs inside an inlined copy). */
  private outerBlock = 0;
  /** Copies of blocks being emitted inside one another at this point (see inlineBlock), innermost last. */
  private readonly inlined: number[] = [];
  private inlineTempBase = 0;
  /** Start EIP → index of the region's blocks. */
  private readonly regionIndex = new Map<number, number>();
  private readonly callReturnSites: number[];
  /** The current instruction stored to memory (the block may have been invalidated by it). */
  wroteMemory = false;
  /** The flags the current instruction sets are overwritten before anything can see them: skip them. */
  flagsDead = false;
  get block(): CodeBlock {
    return this.blocks[this.blockIndex];
  }

  readonly readNeed: number;
  readonly writeNeed: number;

  /**
   * `blocks`: the region, its entry first, all in one page. `loops`: control can pass from block
   * to block inside the function (or a block branches to its own start), so the flag locals are
   * loaded once on entry and carried along. `returnSites`: next EIPs of the region's calls.
   */
  /**
   * The flag state control carries into each block on the ways into it this emission produced
   * ("op:bits", or "dynamic"), so the translator can start a block with the flags' producer known
   * when every way in agrees (see blockSource).
   */
  readonly incomingFlags = new Map<number, Set<string>>();

  constructor(readonly blocks: readonly CodeBlock[], readonly mode: number, readonly loops: boolean, returnSites: readonly number[],
    private readonly absent: ReadonlySet<number> = new Set(),
    /** Per block: the producer of the flags on entry ("op:bits") when known, else undefined. */
    private readonly entryFlags: ReadonlyArray<string | undefined> = [],
    /** Per block: it may branch to its own start (itself or through a block inlined into it). */
    private readonly selfLoops: readonly boolean[] = [],
    /** Per block: the small blocks on its ways back to itself, copied in where control passes to them. */
    private readonly inlineTargets: ReadonlyArray<ReadonlySet<number>> = [],
    /** Emits the instructions of block `k` (the translator's loop), for inlining. */
    private readonly emitBody: (k: number) => void = () => {}) {
    this.flagsLoaded = loops;
    blocks.forEach((b, k) => this.regionIndex.set(b.startEip, k));
    this.callReturnSites = [...returnSites];
    const user = (mode & JitMode.USER) !== 0;
    this.readNeed = tlbReadNeed(user);
    this.writeNeed = tlbWriteNeed(user);
  }

  // ---- Code and temporaries ---------------------------------------------------------------------

  emit(line: string): void {
    this.lines.push(line);
  }

  /** Starts instruction `index` (its code follows). */
  beginInstruction(index: number, flagsDead = false): void {
    // An instruction's temporaries die with it, so every instruction starts from t0 again (an
    // inlined block's instructions run on a path that never returns to the one it interrupts,
    // and start after its temporaries all the same). Few locals keep V8's frames small.
    this.temps = this.inlined.length > 0 ? this.inlineTempBase : 0;
    this.index = index;
    this.wroteMemory = false;
    this.flagsDead = flagsDead;
  }

  /**
   * `pc = index;` for code about to do something that can fault (the slow paths, handlers, #GP
   * checks): the catch finds the faulting instruction there, and the fast paths keep no count.
   */
  faultPoint(): string {
    return `pc = ${this.index};`;
  }

  /** Sets the global index of the current block's first instruction (inlined copies keep their own). */
  setFirstIndex(first: number): void {
    this.firstIndex = first;
  }

  temp(): string {
    const t = `t${this.temps++}`;
    if (this.temps > this.maxTemps) this.maxTemps = this.temps;
    return t;
  }

  /** Evaluates `expr` once into a fresh temporary. */
  let(expr: string): string {
    const t = this.temp();
    this.emit(`${t} = ${expr};`);
    return t;
  }

  // ---- Registers --------------------------------------------------------------------------------

  /** The register's current value, truncated to `bits` (8/16: zero-extended, 32: int32). */
  reg(r: number, bits: number): string {
    if (bits === 8 && r >= 4) {
      this.usedRegs |= 1 << (r - 4);
      return `((r${r - 4} >> 8) & 0xff)`;
    }
    this.usedRegs |= 1 << r;
    return bits === 32 ? `r${r}` : bits === 16 ? `(r${r} & 0xffff)` : `(r${r} & 0xff)`;
  }

  setReg(r: number, bits: number, value: string): void {
    if (bits === 8 && r >= 4) {
      const n = r - 4;
      this.usedRegs |= 1 << n;
      this.writtenRegs |= 1 << n;
      this.emit(`r${n} = (r${n} & -65281) | ((${value} & 0xff) << 8);`);
      return;
    }
    this.usedRegs |= 1 << r;
    this.writtenRegs |= 1 << r;
    if (bits === 32) this.emit(`r${r} = ${value} | 0;`);
    else if (bits === 16) this.emit(`r${r} = (r${r} & -65536) | (${value} & 0xffff);`);
    else this.emit(`r${r} = (r${r} & -256) | (${value} & 0xff);`);
  }

  // ---- Memory -----------------------------------------------------------------------------------

  segmentIsFlat(seg: number): boolean {
    return (this.mode & (1 << seg)) !== 0;
  }

  /** Translated code may access memory itself (not while every access must be alignment-checked). */
  memoryAccessible(): boolean {
    return (this.mode & JitMode.ALIGNMENT_CHECK) === 0;
  }

  /** Whether the instruction's ModRM operand can be accessed natively. */
  rmAccessible(): boolean {
    return this.insn.mod === 3 || this.memoryAccessible();
  }

  /**
   * Evaluates seg:offset: the offset and linear address in temporaries, and the condition (ending
   * in "&&", empty for a flat segment) under which the segment allows the access without a fault.
   */
  private address(seg: number, offset: string, bytes: number, write: boolean): { at: string; linear: string; segmentOk: string } {
    const at = this.let(offset);
    if (this.segmentIsFlat(seg)) return { at, linear: at, segmentOk: "" };
    const right = write ? SegOk.WRITE : SegOk.READ;
    const linear = this.let(`(segBase[${seg}] + ${at}) | 0`);
    const segmentOk = `(segOk[${seg}] & ${right | SegOk.EXPAND_DOWN}) === ${right} && (${at} >>> 0) <= (segLimit[${seg}] >>> 0) - ${bytes - 1} && `;
    return { at, linear, segmentOk };
  }

  /** The memory operand's offset, wrapped to the address size. */
  effectiveAddress(): string {
    const insn = this.insn;
    let sum = `${insn.eaDisp | 0}`;
    if (insn.eaBase >= 0) sum += ` + ${this.reg(insn.eaBase, 32)}`;
    if (insn.eaIndex >= 0) sum += insn.eaScale === 0 ? ` + ${this.reg(insn.eaIndex, 32)}` : ` + (${this.reg(insn.eaIndex, 32)} << ${insn.eaScale})`;
    return insn.addrSize32 ? `((${sum}) | 0)` : `((${sum}) & 0xffff)`;
  }

  /** Loads `bytes` at `offset` in segment `seg` into a temporary (8/16 zero-extended, 32 int32). */
  load(seg: number, offset: string, bytes: number): string {
    const { at, linear, segmentOk } = this.address(seg, offset, bytes, false);
    const entry = this.let(`tlb[${linear} >>> 12]`);
    const value = this.temp();
    const need = this.readNeed;
    const granted = `${segmentOk}(${entry} & ${need | Tlb.MMIO}) === ${need}`;
    const phys = `((${entry} & -4096) | (${linear} & 0xfff))`;
    this.emitAccess(granted, linear, bytes, `${value} = ${alignedRead(phys, bytes)};`, `${value} = ${unalignedRead(phys, bytes)};`,
      `${this.faultPoint()} ${value} = cpu.read${bytes * 8}(${seg}, ${at});`);
    return value;
  }

  /** Stores the low `bytes` of `value` at `offset` in segment `seg`. */
  store(seg: number, offset: string, bytes: number, value: string): void {
    const { at, linear, segmentOk } = this.address(seg, offset, bytes, true);
    const v = this.let(value);
    const entry = this.let(`tlb[${linear} >>> 12]`);
    const need = this.writeNeed;
    const granted = `${segmentOk}(${entry} & ${need | Tlb.MMIO | Tlb.CODE}) === ${need}`;
    const phys = `((${entry} & -4096) | (${linear} & 0xfff))`;
    this.emitAccess(granted, linear, bytes, alignedWrite(phys, bytes, v), unalignedWrite(this.temp(), phys, bytes, v),
      `${this.faultPoint()} cpu.write${bytes * 8}(${seg}, ${at}, ${v}); sw = 1;`);
    this.wroteMemory = true;
  }

  /**
   * RAM access when the TLB grants it (`granted`): an aligned access (the usual case, one test)
   * straight on the typed array of its size, an unaligned one within the page byte by byte, the
   * rest (TLB miss, device memory, code page, page-crossing) through the CPU's access function.
   */
  private emitAccess(granted: string, linear: string, bytes: number, aligned: string, unaligned: string, slow: string): void {
    if (bytes === 1) {
      this.emit(`if (${granted}) { ${aligned} } else { ${slow} }`);
      return;
    }
    this.emit(`if (${granted} && (${linear} & ${bytes - 1}) === 0) { ${aligned} }`);
    this.emit(`else if (${granted} && (${linear} & 0xfff) <= ${0x1000 - bytes}) { ${unaligned} }`);
    this.emit(`else { ${slow} }`);
  }

  /**
   * Read-modify-write operand: proves the write cannot fault, reads the value; `commit` stores
   * the result later (it cannot fault then).
   */
  beginUpdate(seg: number, offset: string, bytes: number): { value: string; commit: (result: string) => void } {
    const { at, linear, segmentOk } = this.address(seg, offset, bytes, true);
    const entry = this.let(`tlb[${linear} >>> 12]`);
    const value = this.temp();
    const phys = this.temp();
    const slowLinear = this.temp();
    const need = this.writeNeed;
    this.emit(`if (${segmentOk}(${entry} & ${need | Tlb.MMIO | Tlb.CODE}) === ${need}${withinPage(linear, bytes)}) {`);
    this.emit(`${phys} = (${entry} & -4096) | (${linear} & 0xfff); ${value} = ${ramRead(phys, bytes)};`);
    this.emit(`} else { ${this.faultPoint()} ${phys} = -1; ${slowLinear} = cpu.checkWritable(${seg}, ${at}, ${bytes}); ${value} = cpu.readLinear${bytes * 8}(${slowLinear}); }`);
    return {
      value,
      commit: (result: string) => {
        const v = this.let(result);
        this.emit(`if (${phys} >= 0) { ${ramWrite(phys, bytes, v)} } else { ${this.faultPoint()} cpu.writeLinear${bytes * 8}(${slowLinear}, ${v}); sw = 1; }`);
        this.wroteMemory = true;
      },
    };
  }

  /** Reads the ModRM r/m operand. */
  readRm(bits: number): string {
    return this.insn.mod === 3 ? this.reg(this.insn.rm, bits) : this.load(this.insn.segment, this.effectiveAddress(), bits >> 3);
  }

  writeRm(bits: number, value: string): void {
    if (this.insn.mod === 3) this.setReg(this.insn.rm, bits, value);
    else this.store(this.insn.segment, this.effectiveAddress(), bits >> 3, value);
  }

  updateRm(bits: number): { value: string; commit: (result: string) => void } {
    if (this.insn.mod !== 3) return this.beginUpdate(this.insn.segment, this.effectiveAddress(), bits >> 3);
    const r = this.insn.rm;
    return { value: this.let(this.reg(r, bits)), commit: (result) => this.setReg(r, bits, result) };
  }

  /** SS.B: the stack pointer is ESP rather than SP. */
  get stack32(): boolean {
    return (this.mode & JitMode.STACK32) !== 0;
  }

  /** Sets SP or ESP (setStackPointer). */
  setStackPointer(value: string): void {
    this.setReg(4, this.stack32 ? 32 : 16, value);
  }

  /** The stack pointer wrapped to the stack size (SP or ESP), `delta` added. */
  stackOffset(delta: number): string {
    const sum = delta === 0 ? this.reg(4, 32) : `(${this.reg(4, 32)} + ${delta})`;
    return this.stack32 ? `(${sum} | 0)` : `(${sum} & 0xffff)`;
  }

  /** push16/push32: stores below the stack pointer, then moves it. */
  push(bits: number, value: string): void {
    const sp = this.let(this.stackOffset(-(bits >> 3)));
    this.store(SS, sp, bits >> 3, value);
    this.setStackPointer(sp);
  }

  /** pop16/pop32: reads the top of the stack and pops it; the value is valid only after the call. */
  pop(bits: number): string {
    const value = this.load(SS, this.stackOffset(0), bits >> 3);
    this.setStackPointer(this.stackOffset(bits >> 3));
    return value;
  }

  // ---- Flags ------------------------------------------------------------------------------------

  /** Copies the CPU's flag state into the locals the first time the block needs it. */
  private requireFlags(): void {
    if (this.flagsLoaded) return;
    this.emit(LOAD_FLAGS);
    this.flagsLoaded = true;
    this.flagOp = DYNAMIC;
  }

  /** The statements that hand the current registers and flags back to the CPU. */
  private writeBack(): string {
    return this.flagsLoaded ? WRITE_BACK_REGISTERS + STORE_FLAGS : WRITE_BACK_REGISTERS;
  }

  /** Records an arithmetic result the way alu() does (operands and result already truncated). */
  setLazyFlags(op: LazyOp, bits: number, a: string, b: string, result: string, carryIn?: string): void {
    if (this.flagsDead) return;
    this.requireFlags();
    this.emit(`fop = ${op}; fbits = ${bits}; fa = ${a}; fb = ${b}; fr = ${result};${carryIn !== undefined ? ` fc = ${carryIn};` : ""}`);
    this.flagOp = op;
    this.flagBits = bits;
  }

  /** CF as a JS boolean expression. */
  carry(): string {
    this.requireFlags();
    if (this.flagOp === DYNAMIC) return "(lazyCarry(fop, fa, fb, fr, fc, efl) !== 0)";
    switch (this.flagOp) {
      case LazyOp.ADD: return "((fr >>> 0) < (fa >>> 0))";
      case LazyOp.ADC: return "(fc !== 0 ? (fr >>> 0) <= (fa >>> 0) : (fr >>> 0) < (fa >>> 0))";
      case LazyOp.SUB: return "((fa >>> 0) < (fb >>> 0))";
      case LazyOp.SBB: return "(fc !== 0 ? (fa >>> 0) <= (fb >>> 0) : (fa >>> 0) < (fb >>> 0))";
      case LazyOp.LOGIC: return "false";
      default: return "((efl & 1) !== 0)"; // NONE, INC, DEC
    }
  }

  private zero(): string {
    return this.flagOp === LazyOp.NONE ? "((efl & 0x40) !== 0)" : "(fr === 0)";
  }

  private sign(): string {
    return this.flagOp === LazyOp.NONE ? "((efl & 0x80) !== 0)" : `(((fr >>> ${this.topBit()}) & 1) !== 0)`;
  }

  private overflow(): string {
    const top = this.topBit();
    switch (this.flagOp) {
      case LazyOp.NONE: return "((efl & 0x800) !== 0)";
      case LazyOp.ADD: case LazyOp.ADC: case LazyOp.INC: return `((((fa ^ fr) & (fb ^ fr)) >>> ${top} & 1) !== 0)`;
      case LazyOp.SUB: case LazyOp.SBB: case LazyOp.DEC: return `((((fa ^ fb) & (fa ^ fr)) >>> ${top} & 1) !== 0)`;
      default: return "false";
    }
  }

  /** The sign bit's position for the known operation: a constant, or from `fbits` at run time. */
  private topBit(): string {
    return this.flagBits === 0 ? "(fbits - 1)" : `${this.flagBits - 1}`;
  }

  private parity(): string {
    return this.flagOp === LazyOp.NONE ? "((efl & 4) !== 0)" : "(PARITY[fr & 0xff] === 1)";
  }

  /**
   * A condition on a lazy record only known at run time (a block entered with the flags of its
   * predecessor): ZF, SF and PF come from the result whatever the operation, CF and OF from small
   * pure helpers, so nothing is folded into EFLAGS.
   */
  private dynamicCondition(cc: number): string {
    const zero = "(fop === 0 ? (efl & 0x40) !== 0 : fr === 0)";
    const sign = "(fop === 0 ? (efl & 0x80) !== 0 : ((fr >>> (fbits - 1)) & 1) !== 0)";
    const carry = "(lazyCarry(fop, fa, fb, fr, fc, efl) !== 0)";
    const overflow = "(lazyOverflow(fop, fbits, fa, fb, fr, efl) !== 0)";
    let r: string;
    switch (cc >> 1) {
      case 0: r = overflow; break;
      case 1: r = carry; break;
      case 2: r = zero; break;
      case 3: r = `(${carry} || ${zero})`; break;
      case 4: r = sign; break;
      case 5: r = "(fop === 0 ? (efl & 4) !== 0 : PARITY[fr & 0xff] === 1)"; break;
      case 6: r = `(${sign} !== ${overflow})`; break;
      default: r = `(${zero} || ${sign} !== ${overflow})`; break;
    }
    return (cc & 1) !== 0 ? `!${r}` : r;
  }

  /** Jcc/SETcc/CMOVcc condition `cc` as a JS boolean expression. */
  condition(cc: number): string {
    this.requireFlags();
    if (this.flagOp === DYNAMIC) return this.dynamicCondition(cc);
    let r: string;
    const op = this.flagOp;
    const shift = 32 - this.flagBits;
    const signedA = shift === 0 ? "fa" : `(fa << ${shift} >> ${shift})`;
    const signedB = shift === 0 ? "fb" : `(fb << ${shift} >> ${shift})`;
    switch (cc >> 1) {
      case 0: r = this.overflow(); break;
      case 1: r = this.carry(); break;
      case 2: r = this.zero(); break;
      case 3:
        if (op === LazyOp.SUB) r = "((fa >>> 0) <= (fb >>> 0))";
        else if (op === LazyOp.NONE) r = "((efl & 0x41) !== 0)";
        else r = `(${this.carry()} || ${this.zero()})`;
        break;
      case 4: r = this.sign(); break;
      case 5: r = this.parity(); break;
      case 6:
        if (op === LazyOp.SUB && this.flagBits !== 0) r = `(${signedA} < ${signedB})`;
        else if (op === LazyOp.LOGIC) r = this.sign();
        else r = `(${this.sign()} !== ${this.overflow()})`;
        break;
      default:
        if (op === LazyOp.SUB && this.flagBits !== 0) r = `(${signedA} <= ${signedB})`;
        else if (op === LazyOp.LOGIC) r = `(${this.zero()} || ${this.sign()})`;
        else r = `(${this.zero()} || ${this.sign()} !== ${this.overflow()})`;
        break;
    }
    return (cc & 1) !== 0 ? `!${r}` : r;
  }

  /** INC/DEC keep CF: fold it into efl before the new lazy record replaces the old one. */
  keepCarryInEflags(): void {
    if (this.flagsDead) return;
    this.requireFlags();
    if (this.flagOp === LazyOp.NONE || this.flagOp === LazyOp.INC || this.flagOp === LazyOp.DEC) return;
    if (this.flagOp === DYNAMIC) this.emit("efl = (efl & -2) | lazyCarry(fop, fa, fb, fr, fc, efl);");
    else this.emit(`efl = (efl & -2) | (${this.carry()} ? 1 : 0);`);
  }

  /** Before an alu.ts kernel that reads or writes the CPU's flags: the full lazy record. */
  flagsToCpu(): void {
    this.requireFlags();
    this.emit(STORE_FLAGS);
  }

  /** The flags become `expr` (a full EFLAGS value built from efl), as setResultFlags() leaves them. */
  setEflags(expr: string): void {
    if (this.flagsDead) return;
    this.requireFlags();
    this.emit(`efl = ${expr}; fop = 0;`);
    this.flagOp = LazyOp.NONE;
  }

  /** Folds the lazy record into efl (materializeFlags), before an instruction that changes single flags. */
  foldFlags(): void {
    this.requireFlags();
    if (this.flagOp === LazyOp.NONE) return;
    this.emit("if (fop !== 0) { efl = rt.materialize(cpu, fop, fbits, fa, fb, fr, fc, efl); fop = 0; }");
    this.flagOp = LazyOp.NONE;
  }

  /** Makes sure the flag locals hold the CPU's flags before code that updates them on one path only. */
  loadFlags(): void {
    this.requireFlags();
  }

  /** After code that changed the flag record on some paths only: fop says which at run time. */
  flagsVary(): void {
    this.flagOp = DYNAMIC;
  }

  /** After a kernel that may have changed the CPU's flags in any way. */
  flagsFromCpu(): void {
    this.emit(LOAD_FLAGS);
    this.flagOp = DYNAMIC;
  }

  /** Before a kernel that only replaces the arithmetic flags eagerly (setResultFlags). */
  eflagsToCpu(): void {
    this.requireFlags();
    this.emit("cpu.eflags = efl;");
  }

  /** After such a kernel: efl holds the flags. */
  eflagsFromCpu(): void {
    this.emit("efl = cpu.eflags; fop = 0;");
    this.flagOp = LazyOp.NONE;
  }

  // ---- Control flow -----------------------------------------------------------------------------

  /** Raises #GP like jumpNear when a constant target lies beyond the CS limit. */
  checkTarget(target: number): void {
    if (!this.segmentIsFlat(CS)) this.emit(`if (${target >>> 0} > (segLimit[1] >>> 0)) { ${this.faultPoint()} rt.raiseGp(cpu); }`);
  }

  /** Checks a computed target (a temporary) against the CS limit. */
  checkDynamicTarget(target: string): void {
    if (!this.segmentIsFlat(CS)) this.emit(`if ((${target} >>> 0) > (segLimit[1] >>> 0)) { ${this.faultPoint()} rt.raiseGp(cpu); }`);
  }

  /** Instructions of the current block retired once the current instruction completes. */
  private retiredInBlock(): number {
    return this.index - this.firstIndex + 1;
  }

  /**
   * The condition under which control may pass from here to region block `k` without the run
   * loop: the budget covers it, no store has made it stale, and (off a flat CS) its bytes still
   * lie within the CS limit, as lookupBlock would demand.
   */
  private enterCondition(k: number): string {
    const target = this.blocks[k];
    // No validity check: the region's blocks are checked on entry and after anything that can
    // invalidate code (a store on the slow path, a handler), which then leaves.
    let condition = `limit - done >= ${target.instructions.length}`;
    if (!this.segmentIsFlat(CS)) condition += ` && ${target.lastByteEip >>> 0} <= (segLimit[1] >>> 0)`;
    return condition;
  }

  /** Passes control to region block `k` when enterCondition holds (the current block already retired). */
  private emitEnter(k: number): void {
    const load = this.flagsLoaded ? "" : LOAD_FLAGS;
    const state = this.flagsLoaded && this.flagOp !== DYNAMIC ? `${this.flagOp}:${this.flagBits}` : "dynamic";
    let states = this.incomingFlags.get(k);
    if (states === undefined) this.incomingFlags.set(k, (states = new Set()));
    states.add(state);
    // A block that branches to itself runs as a loop of its own, without the switch.
    const next = k === this.outerBlock && this.selfLoops[k] ? `continue L${k};` : `bi = ${k}; continue run;`;
    this.emit(`if (${this.enterCondition(k)}) { ${load} ${next} }`);
  }

  /**
   * Leaves the function with EIP = `eip`, the current block retired already. Every exit goes
   * through the one tail after the loop (see finish), so V8 sees the write-back code run early and
   * an exit path taken for the first time does not throw optimised code away.
   */
  private emitLeaveRetired(eip: number | string): void {
    this.emit(`xe = ${eip}; xr = 0; xb = b${this.blockIndex}; xh = 0; break exit;`);
  }

  /**
   * Leaves the block after the current instruction with EIP = `eip` (a constant or an
   * expression): to another block of the region inside this function when `eip` is one (for a
   * computed target, one of `candidates`), else back to the run loop.
   */
  exitTo(eip: number | string, candidates: readonly number[] = []): void {
    const retired = this.retiredInBlock();
    if (typeof eip === "number") {
      const k = this.regionIndex.get(eip);
      if (k === undefined) {
        this.leave(eip, this.absent.has(eip));
        return;
      }
      this.emit(`{ done += ${retired};`);
      if (this.inlined.length < MAX_INLINE_DEPTH && !this.inlined.includes(k) && this.inlineTargets[this.outerBlock]?.has(k)) {
        this.emit(`if (limit - done >= ${this.blocks[k].instructions.length}) {`);
        this.inlineBlock(k);
        this.emit("}");
      } else {
        this.emitEnter(k);
      }
      this.emitLeaveRetired(eip);
      this.emit("}");
      return;
    }
    const inside = candidates.filter((c) => this.regionIndex.has(c));
    if (inside.length === 0) {
      this.leave(eip);
      return;
    }
    const target = this.let(eip);
    this.emit(`{ done += ${retired};`);
    inside.forEach((c, i) => {
      this.emit(`${i === 0 ? "" : "else "}if (${target} === ${c | 0}) {`);
      this.emitEnter(this.regionIndex.get(c)!);
      this.emit("}");
    });
    this.emitLeaveRetired(target);
    this.emit("}");
  }

  /**
   * Leaves the function after the current instruction with EIP = `eip`; `absent`: towards a
   * block of this page that was not decoded when the region was made (the region may regrow).
   */
  leave(eip: number | string, absent = false): void {
    this.emit(`{ xe = ${eip}; xr = ${this.retiredInBlock()}; xb = b${this.blockIndex}; xh = ${absent ? 3 : 0}; break exit; }`);
  }

  /** The return addresses a RET in this region may be predicted to: the region's call sites' next EIPs. */
  get returnSites(): readonly number[] {
    return this.callReturnSites;
  }

  /** Runs the current instruction's interpreter handler with the CPU state synchronised around it. */
  callHandler(): void {
    const insn = this.insn;
    const start = this.index === this.firstIndex ? this.block.startEip : this.block.instructions[this.index - this.firstIndex - 1].nextEip;
    this.handlerOpcodes.add(insn.opcode);
    // Handlers see the count of the blocks before this one retired (RDTSC).
    this.emit(`${this.faultPoint()} ${this.writeBack()} live = false; cpu.instructionStart = ${start}; cpu.eip = ${insn.nextEip}; cpu.instructionsRetired += done - ds; ds = done;`);
    this.emit(`h${insn.opcode}(cpu, insns[${this.index}]);`);
    this.emit(`live = true; fop = -1; ${RELOAD_REGISTERS}`);
    this.flagsLoaded = false;
    this.flagOp = DYNAMIC;
  }

  /**
   * After a handler: leave when it moved EIP (branch, REP restart) or invalidated this block, or
   * always. An instruction that may have changed CS, the mode, EFLAGS.IF/TF or the interrupt
   * shadow leaves with the count complemented, which tells the dispatcher not to chain on.
   */
  exitAfterHandler(always: boolean, unchainable: boolean, mayStall = false): void {
    // The handler left registers, flags and EIP in the CPU; xh tells the tail not to write them.
    const leave = `{ xr = ${this.retiredInBlock()}; xb = b${this.blockIndex}; xh = ${unchainable ? 2 : 1}; break exit; }`;
    // A stall (a system port's access) goes to the clock in the run loop before the code reads it again.
    const stalled = mayStall ? " || cpu.stallPending !== 0" : "";
    if (always) this.emit(leave);
    else this.emit(`if (cpu.eip !== ${this.insn.nextEip} || ${this.anyInvalid()}${stalled}) ${leave}`);
  }

  /**
   * After an instruction that stored to memory: a store that took the slow path (the only one
   * that can reach a code page) and made any block of the region stale ends it here.
   */
  exitIfInvalidated(): void {
    this.emit(`if (sw !== 0) { sw = 0; if (${this.anyInvalid()})`);
    this.leave(this.insn.nextEip);
    this.emit("}");
  }

  /** Some block of the region was invalidated. */
  private anyInvalid(): string {
    return this.blocks.map((_, k) => `!b${k}.valid`).join(" || ");
  }

  /**
   * Copies block `k` in where control passes to it (a small block of a loop running through the
   * current one: the loop then runs without the switch). Its code ends in exits and transitions
   * of its own; the state of the emission outside the copy is restored after it.
   */
  private inlineBlock(k: number): void {
    const saved = {
      blockIndex: this.blockIndex, firstIndex: this.firstIndex, index: this.index, insn: this.insn, wroteMemory: this.wroteMemory, temps: this.temps,
      flagsDead: this.flagsDead, flagsLoaded: this.flagsLoaded, flagOp: this.flagOp, flagBits: this.flagBits,
      inlineTempBase: this.inlineTempBase,
    };
    if (!this.flagsLoaded) this.emit(LOAD_FLAGS);
    this.flagsLoaded = true;
    this.inlined.push(k);
    this.inlineTempBase = this.temps;
    this.blockIndex = k;
    this.emitBody(k);
    this.inlined.pop();
    Object.assign(this, saved);
  }

  /** Starts the code of region block `k` (its instructions follow, from global index `first`). */
  beginBlock(k: number, first: number): void {
    this.blockIndex = k;
    this.outerBlock = k;
    this.firstIndex = first;
    if (this.blocks.length > 1) this.emit(`case ${k}: {`);
    if (this.selfLoops[k]) this.emit(`L${k}: for (;;) {`);
    if (this.loops) {
      // Every way into a block of a looping region carries the flags in the locals.
      this.flagsLoaded = true;
      this.flagOp = DYNAMIC;
      const known = k === 0 ? undefined : this.entryFlags[k];
      if (known !== undefined) {
        const { op, bits } = parseFlagState(known);
        this.flagOp = op;
        this.flagBits = bits;
      }
    }
  }

  endBlock(): void {
    if (this.selfLoops[this.blockIndex]) this.emit("}");
    if (this.blocks.length > 1) this.emit("}");
  }

  // ---- Assembly ---------------------------------------------------------------------------------

  /** The body of the factory given to `new Function("cpu", "blocks", "insns", "starts", "firsts", "rt", body)`. */
  finish(): string {
    const regs = [0, 1, 2, 3, 4, 5, 6, 7];
    const used = regs.filter((r) => (this.usedRegs & (1 << r)) !== 0);
    const written = regs.filter((r) => (this.writtenRegs & (1 << r)) !== 0);
    const reload = used.map((r) => `r${r} = regs[${r}];`).join(" ");
    const writeBack = written.map((r) => `regs[${r}] = r${r};`).join(" ");
    const body = this.lines.join("\n").split(WRITE_BACK_REGISTERS).join(writeBack).split(RELOAD_REGISTERS).join(reload);
    const temps = Array.from({ length: this.maxTemps }, (_, i) => `t${i} = 0`);
    const handlers = [...this.handlerOpcodes].map((op) => `const h${op} = rt.handlers[${op}];`);
    const blockConsts = this.blocks.map((_, k) => `b${k} = blocks[${k}]`).join(", ");
    const region = this.blocks.length > 1;
    const name = `block_${(this.blocks[0].startEip >>> 0).toString(16)}`;
    return [
      '"use strict";',
      "const regs = cpu.regs, ram8 = cpu.ram8, ram16 = cpu.ram16, ram32 = cpu.ram32, tlb = cpu.tlb, PARITY = rt.parity, leave = rt.leave, fault = rt.fault;",
      "const lazyCarry = rt.carry, lazyOverflow = rt.overflow, mulHigh = rt.mulHighUnsigned, mulHighSigned = rt.mulHighSigned;",
      "const segBase = cpu.segBase, segLimit = cpu.segLimit, segOk = cpu.segAccessOk;",
      `const ${blockConsts};`,
      ...handlers,
      // `entry`: the region block to start at (a region left in the middle is entered there again).
      `return function ${name}(limit, entry) {`,
      `let ${regs.map((r) => `r${r} = 0`).join(", ")};`,
      "let fop = -1, fbits = 32, fa = 0, fb = 0, fr = 0, fc = 0, efl = 0;",
      `let pc = 0, bi = entry, live = true, done = 0, ds = 0, sw = 0, xe = 0, xr = 0, xb = b0, xh = 1${temps.length > 0 ? ", " + temps.join(", ") : ""};`,
      reload,
      // A looping region keeps its flags in the locals from block to block.
      this.loops ? LOAD_FLAGS : "",
      "try {",
      "exit: {",
      // Priming the catch (a call that does nothing else).
      "if (limit < 0) { live = false; throw rt.priming; }",
      // A block made stale since the last call: this translation is done for (the run loop
      // translates the region again from what is valid now).
      `if (${this.anyInvalid()}) { rt.dropTranslation(cpu, b0); break exit; }`,
      "run: for (;;) {",
      region ? "switch (bi) {" : "",
      body,
      region ? "}" : "",
      "}",
      "}",
      // The one exit: xe/xr/xb/xh were set by the leaving instruction.
      `xr = leave(cpu, b0, xb, xe, xr, xh, done, ds, ${this.writtenRegs}, ${LOCALS});`,
      "return xr;",
      "} catch (e) {",
      // The instructions before the faulting one retire (cpu.instructionsRetired lags `done` by `ds`).
      `fault(cpu, live, ${this.writtenRegs}, starts[pc], pc - firsts[pc] + done - ds, ${LOCALS});`,
      "throw e;",
      "}",
      "};",
    ].join("\n");
  }
}

/**
 * Copies inside copies at most (see inlineBlock): a loop through a call and its small callee, say,
 * runs as the loop block with the call's block and the callee's body copied in.
 */
export const MAX_INLINE_DEPTH = 3;

/** The lazy operation and operand size (0: any) of a flag state "op:bits" (see incomingFlags). */
export function parseFlagState(state: string): { op: number; bits: number } {
  const [op, bits] = state.split(":").map(Number);
  return { op, bits };
}

/** The register and flag locals, in the order JIT_RUNTIME.leave and .fault take them. */
const LOCALS = "r0, r1, r2, r3, r4, r5, r6, r7, fop, fbits, fa, fb, fr, fc, efl";

const LOAD_FLAGS = "fop = cpu.lazyOp; fbits = cpu.lazyBits; fa = cpu.lazyA | 0; fb = cpu.lazyB | 0; fr = cpu.lazyResult | 0; fc = cpu.lazyCarryIn; efl = cpu.eflags;";
const STORE_FLAGS = " cpu.lazyOp = fop; cpu.lazyBits = fbits; cpu.lazyA = fa >>> 0; cpu.lazyB = fb >>> 0; cpu.lazyResult = fr >>> 0; cpu.lazyCarryIn = fc; cpu.eflags = efl;";

function alignedRead(phys: string, bytes: number): string {
  return bytes === 1 ? `ram8[${phys}]` : bytes === 2 ? `ram16[${phys} >> 1]` : `ram32[${phys} >> 2]`;
}

function unalignedRead(phys: string, bytes: number): string {
  const p = phys;
  return bytes === 2 ? `ram8[${p}] | (ram8[${p} + 1] << 8)` : `ram8[${p}] | (ram8[${p} + 1] << 8) | (ram8[${p} + 2] << 16) | (ram8[${p} + 3] << 24)`;
}

function alignedWrite(phys: string, bytes: number, value: string): string {
  return bytes === 1 ? `ram8[${phys}] = ${value};` : bytes === 2 ? `ram16[${phys} >> 1] = ${value};` : `ram32[${phys} >> 2] = ${value};`;
}

/** Byte by byte, the address evaluated once into `temp`. */
function unalignedWrite(temp: string, phys: string, bytes: number, value: string): string {
  let code = `${temp} = ${phys}; ram8[${temp}] = ${value}; ram8[${temp} + 1] = ${value} >> 8;`;
  if (bytes === 4) code += ` ram8[${temp} + 2] = ${value} >> 16; ram8[${temp} + 3] = ${value} >> 24;`;
  return code;
}

/** The condition (with its leading "&&") that an access of `bytes` at `linear` stays in its page. */
function withinPage(linear: string, bytes: number): string {
  return bytes === 1 ? "" : ` && (${linear} & 0xfff) <= ${0x1000 - bytes}`;
}

function ramRead(phys: string, bytes: number): string {
  if (bytes === 1) return `ram8[${phys}]`;
  if (bytes === 2) return `((${phys} & 1) === 0 ? ram16[${phys} >> 1] : ram8[${phys}] | (ram8[${phys} + 1] << 8))`;
  return `((${phys} & 3) === 0 ? ram32[${phys} >> 2] : ram8[${phys}] | (ram8[${phys} + 1] << 8) | (ram8[${phys} + 2] << 16) | (ram8[${phys} + 3] << 24))`;
}

function ramWrite(phys: string, bytes: number, value: string): string {
  if (bytes === 1) return `ram8[${phys}] = ${value};`;
  if (bytes === 2) return `if ((${phys} & 1) === 0) ram16[${phys} >> 1] = ${value}; else { ram8[${phys}] = ${value}; ram8[${phys} + 1] = ${value} >> 8; }`;
  return `if ((${phys} & 3) === 0) ram32[${phys} >> 2] = ${value}; else { ram8[${phys}] = ${value}; ram8[${phys} + 1] = ${value} >> 8; ram8[${phys} + 2] = ${value} >> 16; ram8[${phys} + 3] = ${value} >> 24; }`;
}
