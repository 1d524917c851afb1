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
import { SegOk, Tlb } from "./cpu.js";
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
  private temps = 0;
  private usedRegs = 0;
  private writtenRegs = 0;
  /** At this point of the code the flag locals hold the CPU's flags (loaded, then perhaps updated). */
  private flagsLoaded = false;
  private readonly handlerOpcodes = new Set<number>();
  /** LazyOp of the last flag writer when known at this point, NONE when efl holds the flags, else DYNAMIC. */
  private flagOp = DYNAMIC;
  private flagBits = 32;
  /** The instruction being translated and its index in the block. */
  insn!: DecodedInstruction;
  index = 0;
  /** The current instruction stored to memory (the block may have been invalidated by it). */
  wroteMemory = false;
  readonly readNeed: number;
  readonly writeNeed: number;

  /**
   * `loops`: some branch in the block targets its own start, so the body is a loop and the flag
   * locals are loaded once on entry and carried from pass to pass.
   */
  constructor(readonly block: CodeBlock, readonly mode: number, readonly loops: boolean) {
    this.flagsLoaded = loops;
    const user = (mode & JitMode.USER) !== 0;
    this.readNeed = user ? Tlb.USER_READ : Tlb.VALID;
    this.writeNeed = (user ? Tlb.USER_WRITE : Tlb.SUPERVISOR_WRITE) | Tlb.DIRTY;
  }

  // ---- Code and temporaries ---------------------------------------------------------------------

  emit(line: string): void {
    this.lines.push(line);
  }

  temp(): string {
    return `t${this.temps++}`;
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
    const phys = this.temp();
    const need = this.readNeed;
    this.emit(`if (${segmentOk}(${entry} & ${need | Tlb.MMIO}) === ${need} && (${linear} & 0xfff) <= ${0x1000 - bytes}) {`);
    this.emit(`${phys} = (${entry} & -4096) | (${linear} & 0xfff); ${value} = ${ramRead(phys, bytes)};`);
    this.emit(`} else ${value} = cpu.read${bytes * 8}(${seg}, ${at});`);
    return value;
  }

  /** Stores the low `bytes` of `value` at `offset` in segment `seg`. */
  store(seg: number, offset: string, bytes: number, value: string): void {
    const { at, linear, segmentOk } = this.address(seg, offset, bytes, true);
    const v = this.let(value);
    const entry = this.let(`tlb[${linear} >>> 12]`);
    const phys = this.temp();
    const need = this.writeNeed;
    this.emit(`if (${segmentOk}(${entry} & ${need | Tlb.MMIO | Tlb.CODE}) === ${need} && (${linear} & 0xfff) <= ${0x1000 - bytes}) {`);
    this.emit(`${phys} = (${entry} & -4096) | (${linear} & 0xfff); ${ramWrite(phys, bytes, v)}`);
    this.emit(`} else cpu.write${bytes * 8}(${seg}, ${at}, ${v});`);
    this.wroteMemory = true;
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
    this.emit(`if (${segmentOk}(${entry} & ${need | Tlb.MMIO | Tlb.CODE}) === ${need} && (${linear} & 0xfff) <= ${0x1000 - bytes}) {`);
    this.emit(`${phys} = (${entry} & -4096) | (${linear} & 0xfff); ${value} = ${ramRead(phys, bytes)};`);
    this.emit(`} else { ${phys} = -1; ${slowLinear} = cpu.checkWritable(${seg}, ${at}, ${bytes}); ${value} = cpu.readLinear${bytes * 8}(${slowLinear}); }`);
    return {
      value,
      commit: (result: string) => {
        const v = this.let(result);
        this.emit(`if (${phys} >= 0) { ${ramWrite(phys, bytes, v)} } else cpu.writeLinear${bytes * 8}(${slowLinear}, ${v});`);
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
    this.requireFlags();
    this.emit(`fop = ${op}; fbits = ${bits}; fa = ${a}; fb = ${b}; fr = ${result};${carryIn !== undefined ? ` fc = ${carryIn};` : ""}`);
    this.flagOp = op;
    this.flagBits = bits;
  }

  /** Makes the flags' source known statically, folding a dynamic lazy record into efl if needed. */
  private knowFlags(): void {
    this.requireFlags();
    if (this.flagOp !== DYNAMIC) return;
    this.emit("efl = rt.materialize(cpu, fop, fbits, fa, fb, fr, fc, efl); fop = 0;");
    this.flagOp = LazyOp.NONE;
  }

  /** CF as a JS boolean expression. */
  carry(): string {
    this.requireFlags();
    if (this.flagOp === DYNAMIC) return "(rt.carry(fop, fa, fb, fr, fc, efl) !== 0)";
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
    return this.flagOp === LazyOp.NONE ? "((efl & 0x80) !== 0)" : `(((fr >>> ${this.flagBits - 1}) & 1) !== 0)`;
  }

  private overflow(): string {
    const top = this.flagBits - 1;
    switch (this.flagOp) {
      case LazyOp.NONE: return "((efl & 0x800) !== 0)";
      case LazyOp.ADD: case LazyOp.ADC: case LazyOp.INC: return `((((fa ^ fr) & (fb ^ fr)) >>> ${top} & 1) !== 0)`;
      case LazyOp.SUB: case LazyOp.SBB: case LazyOp.DEC: return `((((fa ^ fb) & (fa ^ fr)) >>> ${top} & 1) !== 0)`;
      default: return "false";
    }
  }

  private parity(): string {
    return this.flagOp === LazyOp.NONE ? "((efl & 4) !== 0)" : "(PARITY[fr & 0xff] === 1)";
  }

  /** Jcc/SETcc/CMOVcc condition `cc` as a JS boolean expression. */
  condition(cc: number): string {
    this.knowFlags();
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
        if (op === LazyOp.SUB) r = `(${signedA} < ${signedB})`;
        else if (op === LazyOp.LOGIC) r = this.sign();
        else r = `(${this.sign()} !== ${this.overflow()})`;
        break;
      default:
        if (op === LazyOp.SUB) r = `(${signedA} <= ${signedB})`;
        else if (op === LazyOp.LOGIC) r = `(${this.zero()} || ${this.sign()})`;
        else r = `(${this.zero()} || ${this.sign()} !== ${this.overflow()})`;
        break;
    }
    return (cc & 1) !== 0 ? `!${r}` : r;
  }

  /** INC/DEC keep CF: fold it into efl before the new lazy record replaces the old one. */
  keepCarryInEflags(): void {
    this.requireFlags();
    if (this.flagOp === LazyOp.NONE || this.flagOp === LazyOp.INC || this.flagOp === LazyOp.DEC) return;
    if (this.flagOp === DYNAMIC) this.emit("efl = (efl & -2) | rt.carry(fop, fa, fb, fr, fc, efl);");
    else this.emit(`efl = (efl & -2) | (${this.carry()} ? 1 : 0);`);
  }

  /** Before an alu.ts kernel that reads or writes the CPU's flags: the full lazy record. */
  flagsToCpu(): void {
    this.requireFlags();
    this.emit(STORE_FLAGS);
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
    if (!this.segmentIsFlat(CS)) this.emit(`if (${target >>> 0} > (segLimit[1] >>> 0)) rt.raiseGp(cpu);`);
  }

  /** Checks a computed target (a temporary) against the CS limit. */
  checkDynamicTarget(target: string): void {
    if (!this.segmentIsFlat(CS)) this.emit(`if ((${target} >>> 0) > (segLimit[1] >>> 0)) rt.raiseGp(cpu);`);
  }

  /** Leaves the block after the current instruction with EIP = `eip` (a constant or an expression). */
  exitTo(eip: number | string): void {
    const retired = this.index + 1;
    if (typeof eip === "number" && eip === this.block.startEip && this.loops) {
      // The loop's next pass starts with the flags in the locals.
      const load = this.flagsLoaded ? "" : LOAD_FLAGS;
      this.emit(`{ done += ${retired}; cpu.instructionsRetired += ${retired}; if (limit - done >= ${this.block.instructions.length}) { ${load} continue; }`);
      this.emit(`${this.writeBack()} cpu.eip = ${eip}; return done; }`);
      return;
    }
    this.emit(`{ ${this.writeBack()} cpu.eip = ${eip}; cpu.instructionsRetired += ${retired}; return done + ${retired}; }`);
  }

  /** Runs the current instruction's interpreter handler with the CPU state synchronised around it. */
  callHandler(): void {
    const insn = this.insn;
    const start = this.index === 0 ? this.block.startEip : this.block.instructions[this.index - 1].nextEip;
    this.handlerOpcodes.add(insn.opcode);
    this.emit(`${this.writeBack()} live = false; cpu.instructionStart = ${start}; cpu.eip = ${insn.nextEip};`);
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
  exitAfterHandler(always: boolean, unchainable: boolean): void {
    const retired = this.index + 1;
    const leave = `{ cpu.instructionsRetired += ${retired}; return ${unchainable ? `~(done + ${retired})` : `done + ${retired}`}; }`;
    if (always) this.emit(leave);
    else this.emit(`if (cpu.eip !== ${this.insn.nextEip} || !blk.valid) ${leave}`);
  }

  /** After an instruction that stored to memory: a store into this block's bytes ends it here. */
  exitIfInvalidated(): void {
    this.emit(`if (!blk.valid)`);
    this.exitTo(this.insn.nextEip);
  }

  // ---- Assembly ---------------------------------------------------------------------------------

  /** The body of the factory given to `new Function("cpu", "blk", "insns", "starts", "rt", body)`. */
  finish(): string {
    const regs = [0, 1, 2, 3, 4, 5, 6, 7];
    const used = regs.filter((r) => (this.usedRegs & (1 << r)) !== 0);
    const written = regs.filter((r) => (this.writtenRegs & (1 << r)) !== 0);
    const reload = used.map((r) => `r${r} = regs[${r}];`).join(" ");
    const writeBack = written.map((r) => `regs[${r}] = r${r};`).join(" ");
    const body = this.lines.join("\n").split(WRITE_BACK_REGISTERS).join(writeBack).split(RELOAD_REGISTERS).join(reload);
    const temps = Array.from({ length: this.temps }, (_, i) => `t${i} = 0`);
    const handlers = [...this.handlerOpcodes].map((op) => `const h${op} = rt.handlers[${op}];`);
    return [
      '"use strict";',
      "const regs = cpu.regs, ram8 = cpu.ram8, ram16 = cpu.ram16, ram32 = cpu.ram32, tlb = cpu.tlb, PARITY = rt.parity;",
      "const segBase = cpu.segBase, segLimit = cpu.segLimit, segOk = cpu.segAccessOk;",
      ...handlers,
      `return function block_${(this.block.startEip >>> 0).toString(16)}(limit) {`,
      `let ${regs.map((r) => `r${r} = 0`).join(", ")};`,
      "let fop = -1, fbits = 32, fa = 0, fb = 0, fr = 0, fc = 0, efl = 0;",
      `let pc = 0, live = true, done = 0${temps.length > 0 ? ", " + temps.join(", ") : ""};`,
      reload,
      // A looping block keeps its flags in the locals from one pass to the next.
      this.loops ? LOAD_FLAGS : "",
      "try {",
      "for (;;) {",
      body,
      "}",
      "} catch (e) {",
      `if (live) { ${writeBack} if (fop !== -1) { ${STORE_FLAGS} } }`,
      // The instructions of this pass before the faulting one retired.
      "cpu.instructionStart = starts[pc]; cpu.instructionsRetired += pc;",
      "throw e;",
      "}",
      "};",
    ].join("\n");
  }
}

const LOAD_FLAGS = "fop = cpu.lazyOp; fbits = cpu.lazyBits; fa = cpu.lazyA | 0; fb = cpu.lazyB | 0; fr = cpu.lazyResult | 0; fc = cpu.lazyCarryIn; efl = cpu.eflags;";
const STORE_FLAGS = " cpu.lazyOp = fop; cpu.lazyBits = fbits; cpu.lazyA = fa >>> 0; cpu.lazyB = fb >>> 0; cpu.lazyResult = fr >>> 0; cpu.lazyCarryIn = fc; cpu.eflags = efl;";

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
