/**
 * The architectural state of one x86 processor and its memory pipeline (segmentation → paging/TLB
 * → RAM or MMIO). Instruction semantics live in the ops-*.ts files and act on this object.
 */
import { resetPerformanceCounters, type PerformanceCounterState } from "./performance-counters.js";
import type { CpuBus, InterruptSource } from "./bus.js";
import { Cr0, EFLAGS_FIXED_ONE, Flag, Reg, Seg } from "./constants.js";
import { FAULT_SIGNAL, NO_ERROR_CODE, Vector } from "./fault.js";
import { LazyOp } from "./flags.js";
import { translateLinear } from "./paging.js";
import { noteDataAccess, refreshBreakpoints } from "./debug-registers.js";
import { FpuState } from "./fpu-state.js";
import { type CpuState, restoreCpuState, saveCpuState } from "./cpu-snapshot.js";
import { MAX_BLOCK_BYTES } from "./block-limits.js";
import type { CodeBlock } from "./code-block.js";
import { type CodePage, DecodedCode } from "./decoded-code.js";
import { DEFAULT_JIT_SETTINGS, type JitSettings } from "./jit-settings.js";
import { TranslationCache } from "./jit-cache.js";
import { CpuArea, TLB_ENTRIES } from "./guest-memory.js";

/**
 * Mirrors of the constants.ts values the memory pipeline's hot paths use: the package build
 * transforms each file on its own, so an imported const enum would be a property load at run
 * time (ops-fast.test.ts checks the copies).
 */
export const enum HotArch { CS = 1, SS = 2, ESP = 4, FLAG_AC = 1 << 18, CR0_AM = 1 << 18 }

/** TLB entry bits below the page frame. */
export const enum Tlb {
  VALID = 1, SUPERVISOR_WRITE = 2, USER_READ = 4, USER_WRITE = 8, DIRTY = 16, GLOBAL = 32, MMIO = 64,
  /** The physical page holds cached decoded instructions: writes take the slow path. */
  CODE = 128,
}

/** The TLB bits a read (instruction fetch included) needs at CPL 3 (`user`) or below. */
export function tlbReadNeed(user: boolean): number {
  return user ? Tlb.USER_READ : Tlb.VALID;
}

/** The TLB bits a write needs at CPL 3 (`user`) or below: the right, and the dirty bit already set. */
export function tlbWriteNeed(user: boolean): number {
  return (user ? Tlb.USER_WRITE : Tlb.SUPERVISOR_WRITE) | Tlb.DIRTY;
}

/** Derived per-segment access rights (segAccessOk). */
export const enum SegOk { READ = 1, WRITE = 2, EXPAND_DOWN = 4 }

const TLB_PAGES = TLB_ENTRIES;
const TLB_TRACKED = 1 << 14;

export type TripleFaultHandler = () => void;

export class Cpu {
  readonly regs: Int32Array;
  eip = 0;
  /** Non-arithmetic flags always; arithmetic flags only while lazyOp is NONE. */
  eflags = EFLAGS_FIXED_ONE;
  /** A LazyOp (typed as a number so the interpreter's fast path can store its local mirror of them). */
  lazyOp: number = LazyOp.NONE;
  lazyBits = 32;
  lazyA = 0;
  lazyB = 0;
  lazyResult = 0;
  lazyCarryIn = 0;

  readonly segSel = new Int32Array(8);
  /** Segment bases, limits and derived rights live in the guest memory (GuestMemory), where WebAssembly translations read them. */
  readonly segBase: Int32Array;
  readonly segLimit: Int32Array;
  /** Descriptor bits 8..23 of the high dword: access byte, then limit 19:16, AVL, L, D/B, G. */
  readonly segAttr = new Int32Array(8);
  readonly segAccessOk: Int32Array;
  /** Bit `seg` (ES..GS) set while that segment is flat: base 0, 4 GiB limit, readable, writable, expand-up. */
  segFlatMask = 0;
  /**
   * Bit `seg` set while reads (resp. writes) through that segment need no segmentation check
   * beyond the 4 GiB wrap: base 0, limit 4 GiB, expand-up, and the right granted.
   */
  segFlatReadMask = 0;
  segFlatWriteMask = 0;
  gdtrBase = 0;
  gdtrLimit = 0xffff;
  idtrBase = 0;
  idtrLimit = 0x3ff;

  cr0 = Cr0.ET;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  readonly dr = new Int32Array(8);
  /** Some DR7 breakpoint is enabled (the interpreter then steps one instruction at a time). */
  breakpointsActive = false;
  /** Some data breakpoint is enabled (Cpu.linear then records hits). */
  dataBreakpointsActive = false;
  /** B0–B3 of data breakpoints hit by the current instruction. */
  pendingDataBreakpoints = 0;
  cpl = 0;
  /** CS.D: default operand and address size is 32 bits. */
  code32 = false;
  /** SS.B: the stack pointer is ESP rather than SP. */
  stack32 = false;

  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;
  apicBase = 0xfee00900;
  /** IA32_MISC_ENABLE: fast strings enabled, the rest as after reset. */
  miscEnable = 1;
  /** PERFCTR0/1 and EVNTSEL0/1. */
  performanceCounters: PerformanceCounterState = resetPerformanceCounters();
  /**
   * The time-stamp counter advances by one per retired instruction (deterministic), and by a
   * stall's cycles (PAUSE); so does the guest's clock, which counts them too.
   */
  tscBase = 0;
  /** Instructions retired, plus the cycles of the stalls among them: the processor's time. */
  instructionsRetired = 0;
  /** Cycles of a stall the last block ended in, not yet added to instructionsRetired by the run loop. */
  stallPending = 0;
  /** Cycles of all stalls since the processor was built (a reset keeps the count, as the machine's statistics do). */
  stallCycles = 0;

  readonly fpu = new FpuState();

  halted = false;
  /** Instructions left during which maskable interrupts are held off (STI, MOV SS, POP SS). */
  interruptShadow = 0;
  /** EIP at the start of the current instruction: faults restart from here. */
  instructionStart = 0;
  /** Set once a task switch has committed to the new task (see ControlSnapshot.restore). */
  taskSwitchCommitted = false;
  pendingVector = 0;
  pendingErrorCode = NO_ERROR_CODE;
  interruptSource: InterruptSource | null = null;
  /** NMI latched by the platform; NMIs stay blocked from delivery until the next IRET. */
  nmiPending = false;
  nmiBlocked = false;
  onTripleFault: TripleFaultHandler | null = null;

  // Memory pipeline.
  readonly bus: CpuBus;
  readonly ram8: Uint8Array;
  readonly ram16: Uint16Array;
  readonly ram32: Int32Array;
  readonly ramBytes: number;
  /** One byte per 4 KiB physical page: 1 when the page is device memory. */
  readonly mmioPages = new Uint8Array(TLB_PAGES);
  readonly tlb: Int32Array;
  private readonly tlbFilled = new Int32Array(TLB_TRACKED);
  private tlbFilledCount = 0;
  /** Physical address mask: bit 20 is forced low while the A20 gate is closed. */
  a20Mask = -1;
  /** TLB bits a read / write needs at the current privilege. */
  readNeed = Tlb.VALID;
  writeNeed = Tlb.SUPERVISOR_WRITE | Tlb.DIRTY;
  /** One byte per physical page: 1 when decodedCode holds instructions from it. */
  readonly codePages = new Uint8Array(TLB_PAGES);
  /** Decoded instructions by physical page and offset, reused until the bytes are written. */
  readonly decodedCode = new DecodedCode();
  /**
   * Links between cached blocks are only followed within one epoch. It moves on (by 4) whenever
   * the linear→physical translation of code may have changed: TLB flushes, and INVLPG of a page
   * that maps code. Its low two bits are the CPL, since fetch rights depend on it: links made at
   * one level are ignored at another, and valid again on the way back (a system call returns to
   * user code whose links still hold).
   */
  codeLinkEpoch = 0;
  /** Linear page and physical base of the page instructions are being fetched from (-1: none). */
  fetchPage = -1;
  fetchPhysBase = 0;
  /** JIT tunables; change them at any time (a disabled JIT leaves translations unused). */
  readonly jit: JitSettings = { ...DEFAULT_JIT_SETTINGS };
  /** Translated blocks, bounded by jit.maxTranslatedBlocks. */
  readonly translations = new TranslationCache();

  constructor(bus: CpuBus) {
    this.bus = bus;
    const memory = bus.memory;
    this.ramBytes = memory.ram.byteLength;
    this.ram8 = memory.ram;
    this.ram16 = new Uint16Array(memory.memory.buffer, 0, this.ramBytes >>> 1);
    this.ram32 = new Int32Array(memory.memory.buffer, 0, this.ramBytes >>> 2);
    this.regs = memory.cpuWords(CpuArea.REGS, 8);
    this.tlb = memory.cpuWords(CpuArea.TLB, TLB_PAGES);
    this.segBase = memory.cpuWords(CpuArea.SEG_BASE, 8);
    this.segLimit = memory.cpuWords(CpuArea.SEG_LIMIT, 8);
    this.segAccessOk = memory.cpuWords(CpuArea.SEG_OK, 8);
    this.mmioPages.fill(1, Math.ceil(this.ramBytes / 4096));
    // Fields that come to hold numbers beyond the small-integer range (unsigned flag operands, the
    // counters) get their general representation before any code is optimised against the narrow
    // one: V8 changes the object's hidden class at the first such value, and every optimised
    // function that touched the CPU is thrown away then (two waves of them in a Linux boot).
    this.lazyA = this.lazyB = this.lazyResult = 2 ** 31;
    this.instructionsRetired = this.tscBase = 2 ** 40;
    this.lazyA = this.lazyB = this.lazyResult = 0;
    this.instructionsRetired = this.tscBase = 0;
    this.reset();
  }

  /** Power-on / RESET state (SDM vol 3, 9.1.1). */
  reset(): void {
    this.regs.fill(0);
    this.regs[Reg.EDX] = 0x0633; // family 6, model 3, stepping 3
    this.eip = 0xfff0;
    this.eflags = EFLAGS_FIXED_ONE;
    this.lazyOp = LazyOp.NONE;
    for (let s = 0; s < 8; s++) this.setSegmentCache(s, 0, 0, 0xffff, s === Seg.CS ? 0x9b : s === Seg.TR ? 0x8b : s === Seg.LDTR ? 0x82 : 0x93);
    this.setSegmentCache(Seg.CS, 0xf000, 0xffff0000 | 0, 0xffff, 0x9b);
    this.gdtrBase = 0; this.gdtrLimit = 0xffff;
    this.idtrBase = 0; this.idtrLimit = 0x3ff;
    this.cr0 = Cr0.ET | Cr0.CD | Cr0.NW;
    this.cr2 = 0; this.cr3 = 0; this.cr4 = 0;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0 | 0;
    this.dr[7] = 0x400;
    refreshBreakpoints(this);
    this.sysenterCs = 0; this.sysenterEsp = 0; this.sysenterEip = 0;
    this.performanceCounters = resetPerformanceCounters();
    this.fpu.reset();
    this.halted = false;
    this.interruptShadow = 0;
    this.nmiPending = false;
    this.nmiBlocked = false;
    this.setCpl(0);
    this.flushTlb(true);
  }

  /** The architectural state as plain data (registers, segment caches, CRs, MSRs, FPU). */
  saveState(): CpuState {
    return saveCpuState(this);
  }

  restoreState(state: CpuState): void {
    restoreCpuState(this, state);
  }

  /** Latches a non-maskable interrupt (delivered at the next instruction boundary, even in HLT). */
  raiseNmi(): void {
    this.nmiPending = true;
  }

  /** The platform's A20 gate (keyboard controller / port 0x92). */
  setA20(enabled: boolean): void {
    const mask = enabled ? -1 : ~(1 << 20);
    if (mask !== this.a20Mask) {
      this.a20Mask = mask;
      this.flushTlb(true);
    }
  }

  /** Marks physical [start, end) as device memory routed to bus.mmioRead/mmioWrite. */
  addMmioRange(start: number, end: number): void {
    for (let page = start >>> 12; page < Math.ceil(end / 4096); page++) this.mmioPages[page] = 1;
    this.flushTlb(true);
  }

  get protectedMode(): boolean {
    return (this.cr0 & Cr0.PE) !== 0;
  }

  get v86Mode(): boolean {
    return (this.eflags & Flag.VM) !== 0;
  }

  setCpl(cpl: number): void {
    this.cpl = cpl;
    const user = cpl === 3;
    this.readNeed = tlbReadNeed(user);
    this.writeNeed = tlbWriteNeed(user);
    this.fetchPage = -1;
    // Arithmetic rather than bitwise, so the count never wraps into an old epoch.
    this.codeLinkEpoch = this.codeLinkEpoch - (this.codeLinkEpoch % 4) + cpl;
  }

  /** Loads a segment cache and derives the access rights checked on every access. */
  setSegmentCache(seg: number, selector: number, base: number, limit: number, attr: number): void {
    this.segSel[seg] = selector & 0xffff;
    this.segBase[seg] = base | 0;
    this.segLimit[seg] = limit | 0;
    this.segAttr[seg] = attr;
    let ok = 0;
    if ((this.cr0 & Cr0.PE) === 0 || (this.eflags & Flag.VM) !== 0) {
      ok = SegOk.READ | SegOk.WRITE;
    } else if (attr & 0x80) {
      if (attr & 0x8) ok = attr & 2 ? SegOk.READ : 0; // code: readable?, never writable
      else ok = SegOk.READ | (attr & 2 ? SegOk.WRITE : 0) | (attr & 4 ? SegOk.EXPAND_DOWN : 0);
    }
    this.segAccessOk[seg] = ok;
    if (seg < 6) {
      const flat = (base | 0) === 0 && (limit | 0) === -1 && (seg === Seg.CS || (ok & (SegOk.READ | SegOk.WRITE | SegOk.EXPAND_DOWN)) === (SegOk.READ | SegOk.WRITE));
      this.segFlatMask = flat ? this.segFlatMask | (1 << seg) : this.segFlatMask & ~(1 << seg);
      const wide = (base | 0) === 0 && (limit | 0) === -1 && (ok & SegOk.EXPAND_DOWN) === 0;
      const bit = 1 << seg;
      this.segFlatReadMask = wide && (ok & SegOk.READ) !== 0 ? this.segFlatReadMask | bit : this.segFlatReadMask & ~bit;
      this.segFlatWriteMask = wide && (ok & SegOk.WRITE) !== 0 ? this.segFlatWriteMask | bit : this.segFlatWriteMask & ~bit;
    }
    if (seg === Seg.CS) this.code32 = (attr & 0x4000) !== 0;
    else if (seg === Seg.SS) this.stack32 = (attr & 0x4000) !== 0;
  }

  /** Re-derives access rights after a mode change (PE or VM toggled). */
  refreshSegmentRights(): void {
    for (let s = 0; s < 6; s++) this.setSegmentCache(s, this.segSel[s], this.segBase[s], this.segLimit[s], this.segAttr[s]);
  }

  raise(vector: number, errorCode: number = NO_ERROR_CODE): never {
    this.pendingVector = vector;
    this.pendingErrorCode = errorCode;
    throw FAULT_SIGNAL;
  }

  // ---- Segmentation -------------------------------------------------------------------------

  /** Checks a seg:offset access of `size` bytes and returns its linear address. */
  linear(seg: number, offset: number, size: number, write: boolean): number {
    const ok = this.segAccessOk[seg];
    const last = (offset >>> 0) + size - 1;
    if ((ok & (write ? SegOk.WRITE : SegOk.READ)) === 0) this.segmentFault(seg);
    if ((this.eflags & HotArch.FLAG_AC) !== 0 && (offset & (size - 1)) !== 0 && size <= 8 && this.cpl === 3 && (this.cr0 & HotArch.CR0_AM) !== 0) {
      this.raise(Vector.AC, 0);
    }
    if (this.dataBreakpointsActive) noteDataAccess(this, (this.segBase[seg] + offset) | 0, size, write);
    if ((ok & SegOk.EXPAND_DOWN) === 0) {
      if (last > this.segLimit[seg] >>> 0) this.segmentFault(seg);
    } else {
      const top = this.segAttr[seg] & 0x4000 ? 0xffffffff : 0xffff;
      if ((offset >>> 0) <= this.segLimit[seg] >>> 0 || last > top) this.segmentFault(seg);
    }
    return (this.segBase[seg] + offset) | 0;
  }

  private segmentFault(seg: number): never {
    return this.raise(seg === Seg.SS ? Vector.SS : Vector.GP, 0);
  }

  /**
   * True when an access through `seg` can skip linear(): the segment is flat for that kind of
   * access and neither alignment checking nor a data breakpoint could be involved. The caller
   * still excludes offsets whose last byte would pass 4 GiB.
   */
  private flatAccess(mask: number, seg: number): boolean {
    return ((mask >> seg) & 1) !== 0 && (this.eflags & HotArch.FLAG_AC) === 0 && !this.dataBreakpointsActive;
  }

  // The accessors below try the common case first, all in one function so that whether or not V8
  // inlines them into the interpreter, a flat-segment access to mapped, aligned RAM takes no
  // further calls: a flat segment, no alignment check or data breakpoint, a TLB entry granting
  // the access, not device memory (nor, for writes, a page holding cached code).

  read8(seg: number, offset: number): number {
    if (this.flatAccess(this.segFlatReadMask, seg)) {
      const e = this.tlb[offset >>> 12];
      if ((e & (this.readNeed | Tlb.MMIO)) === this.readNeed) return this.ram8[(e & ~0xfff) | (offset & 0xfff)];
      return this.readLinear8(offset | 0);
    }
    return this.readLinear8(this.linear(seg, offset, 1, false));
  }
  read16(seg: number, offset: number): number {
    if (this.flatAccess(this.segFlatReadMask, seg) && (offset | 0) !== -1) return this.readLinear16(offset | 0);
    return this.readLinear16(this.linear(seg, offset, 2, false));
  }
  read32(seg: number, offset: number): number {
    if (this.flatAccess(this.segFlatReadMask, seg)) {
      const e = this.tlb[offset >>> 12];
      // Aligned: within one page, and the last byte below 4 GiB.
      if ((e & (this.readNeed | Tlb.MMIO)) === this.readNeed && (offset & 3) === 0) return this.ram32[((e & ~0xfff) | (offset & 0xfff)) >>> 2];
      if ((offset >>> 0) <= 0xfffffffc) return this.readLinear32(offset | 0);
    }
    return this.readLinear32(this.linear(seg, offset, 4, false));
  }
  write8(seg: number, offset: number, value: number): void {
    if (this.flatAccess(this.segFlatWriteMask, seg)) {
      const e = this.tlb[offset >>> 12];
      if ((e & (this.writeNeed | Tlb.MMIO | Tlb.CODE)) === this.writeNeed) this.ram8[(e & ~0xfff) | (offset & 0xfff)] = value;
      else this.writeLinear8(offset | 0, value);
    } else {
      this.writeLinear8(this.linear(seg, offset, 1, true), value);
    }
  }
  write16(seg: number, offset: number, value: number): void {
    if (this.flatAccess(this.segFlatWriteMask, seg) && (offset | 0) !== -1) this.writeLinear16(offset | 0, value);
    else this.writeLinear16(this.linear(seg, offset, 2, true), value);
  }
  write32(seg: number, offset: number, value: number): void {
    if (this.flatAccess(this.segFlatWriteMask, seg)) {
      const e = this.tlb[offset >>> 12];
      if ((e & (this.writeNeed | Tlb.MMIO | Tlb.CODE)) === this.writeNeed && (offset & 3) === 0) {
        this.ram32[((e & ~0xfff) | (offset & 0xfff)) >>> 2] = value;
        return;
      }
      if ((offset >>> 0) <= 0xfffffffc) {
        this.writeLinear32(offset | 0, value);
        return;
      }
    }
    this.writeLinear32(this.linear(seg, offset, 4, true), value);
  }
  /**
   * For a 32-bit read-modify-write of seg:offset that can neither fault nor have side effects
   * (flat segment, no alignment check or data breakpoint, aligned, the TLB granting read and
   * write, plain RAM without cached code): the index of the dword in ram32; otherwise -1, and
   * the caller takes the general path (checkWritable and the linear accessors).
   */
  plainUpdateIndex32(seg: number, offset: number): number {
    if (!this.flatAccess(this.segFlatWriteMask & this.segFlatReadMask, seg) || (offset & 3) !== 0) return -1;
    const e = this.tlb[offset >>> 12];
    const need = this.readNeed | this.writeNeed;
    if ((e & (need | Tlb.MMIO | Tlb.CODE)) !== need) return -1;
    return ((e & ~0xfff) | (offset & 0xfff)) >>> 2;
  }

  /** For read-modify-write operands: fails now if the later write would fail. */
  checkWritable(seg: number, offset: number, size: number): number {
    // Flat and within one page, a TLB entry granting the write settles it.
    if (this.flatAccess(this.segFlatWriteMask, seg) && (offset & 0xfff) <= 0x1000 - size) {
      const need = this.writeNeed;
      if ((this.tlb[offset >>> 12] & need) === need) return offset | 0;
    }
    const lin = this.linear(seg, offset, size, true);
    this.translateForWrite(lin, size);
    return lin;
  }

  // ---- Linear memory (paging + TLB) ---------------------------------------------------------

  readLinear8(lin: number): number {
    const e = this.tlb[lin >>> 12];
    if ((e & (this.readNeed | Tlb.MMIO)) === this.readNeed) return this.ram8[(e & ~0xfff) | (lin & 0xfff)];
    return this.physRead(translateLinear(this, lin, false, this.cpl === 3), 1);
  }

  readLinear16(lin: number): number {
    const e = this.tlb[lin >>> 12];
    if ((e & (this.readNeed | Tlb.MMIO)) === this.readNeed && (lin & 0xfff) !== 0xfff) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      return (p & 1) === 0 ? this.ram16[p >>> 1] : this.ram8[p] | (this.ram8[p + 1] << 8);
    }
    return this.readLinearSlow(lin, 2, this.cpl === 3);
  }

  readLinear32(lin: number): number {
    const e = this.tlb[lin >>> 12];
    if ((e & (this.readNeed | Tlb.MMIO)) === this.readNeed && (lin & 0xfff) <= 0xffc) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      if ((p & 3) === 0) return this.ram32[p >>> 2];
      const r = this.ram8;
      return r[p] | (r[p + 1] << 8) | (r[p + 2] << 16) | (r[p + 3] << 24);
    }
    return this.readLinearSlow(lin, 4, this.cpl === 3);
  }

  writeLinear8(lin: number, value: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & (this.writeNeed | Tlb.MMIO | Tlb.CODE)) === this.writeNeed) {
      this.ram8[(e & ~0xfff) | (lin & 0xfff)] = value;
      return;
    }
    this.physWrite(translateLinear(this, lin, true, this.cpl === 3), 1, value);
  }

  writeLinear16(lin: number, value: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & (this.writeNeed | Tlb.MMIO | Tlb.CODE)) === this.writeNeed && (lin & 0xfff) !== 0xfff) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      if ((p & 1) === 0) this.ram16[p >>> 1] = value;
      else { this.ram8[p] = value; this.ram8[p + 1] = value >> 8; }
      return;
    }
    this.writeLinearSlow(lin, 2, value, this.cpl === 3);
  }

  writeLinear32(lin: number, value: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & (this.writeNeed | Tlb.MMIO | Tlb.CODE)) === this.writeNeed && (lin & 0xfff) <= 0xffc) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      if ((p & 3) === 0) this.ram32[p >>> 2] = value;
      else {
        const r = this.ram8;
        r[p] = value; r[p + 1] = value >> 8; r[p + 2] = value >> 16; r[p + 3] = value >> 24;
      }
      return;
    }
    this.writeLinearSlow(lin, 4, value, this.cpl === 3);
  }

  /** Supervisor-privileged accesses the CPU makes on its own (descriptor tables, TSS). */
  readSystem8(lin: number): number {
    return this.physRead(translateLinear(this, lin, false, false), 1);
  }
  readSystem16(lin: number): number {
    return this.readLinearSlow(lin, 2, false);
  }
  readSystem32(lin: number): number {
    return this.readLinearSlow(lin, 4, false);
  }
  writeSystem8(lin: number, value: number): void {
    this.physWrite(translateLinear(this, lin, true, false), 1, value);
  }
  writeSystem16(lin: number, value: number): void {
    this.writeLinearSlow(lin, 2, value, false);
  }
  writeSystem32(lin: number, value: number): void {
    this.writeLinearSlow(lin, 4, value, false);
  }

  readLinearSlow(lin: number, size: 2 | 4, user: boolean): number {
    if ((lin & 0xfff) <= 0x1000 - size) return this.physRead(translateLinear(this, lin, false, user), size);
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.physRead(translateLinear(this, (lin + i) | 0, false, user), 1) << (8 * i);
    return size === 2 ? value & 0xffff : value;
  }

  writeLinearSlow(lin: number, size: 2 | 4, value: number, user: boolean): void {
    if ((lin & 0xfff) <= 0x1000 - size) {
      this.physWrite(translateLinear(this, lin, true, user), size, value);
      return;
    }
    // Both pages must be writable before any byte changes.
    const first = translateLinear(this, lin, true, user);
    const second = translateLinear(this, (lin + size - 1) & ~0xfff, true, user);
    for (let i = 0; i < size; i++) {
      const at = (lin + i) & 0xfff;
      const phys = at >= (lin & 0xfff) ? (first & ~0xfff) | at : (second & ~0xfff) | at;
      this.physWrite(phys, 1, value >> (8 * i));
    }
  }

  /** Faults now if a `size`-byte write at `lin` would fault. */
  translateForWrite(lin: number, size: number): void {
    const user = this.cpl === 3;
    translateLinear(this, lin, true, user);
    if ((lin & 0xfff) > 0x1000 - size) translateLinear(this, (lin + size - 1) & ~0xfff, true, user);
  }

  // ---- Physical memory ----------------------------------------------------------------------

  physRead(phys: number, size: 1 | 2 | 4): number {
    if (this.mmioPages[phys >>> 12] === 0 && (phys & 0xfff) <= 0x1000 - size) {
      const r = this.ram8;
      if (size === 1) return r[phys];
      if (size === 2) return r[phys] | (r[phys + 1] << 8);
      return r[phys] | (r[phys + 1] << 8) | (r[phys + 2] << 16) | (r[phys + 3] << 24);
    }
    if (this.mmioPages[phys >>> 12] !== 0 && (phys & 0xfff) <= 0x1000 - size) {
      const v = this.bus.mmioRead(phys >>> 0, size);
      return size === 4 ? v | 0 : v & (size === 1 ? 0xff : 0xffff);
    }
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.physRead((phys + i) | 0, 1) << (8 * i);
    return value;
  }

  physWrite(phys: number, size: 1 | 2 | 4, value: number): void {
    if (this.mmioPages[phys >>> 12] === 0 && (phys & 0xfff) <= 0x1000 - size) {
      if (this.codePages[phys >>> 12] !== 0) this.invalidateCode(phys, size);
      const r = this.ram8;
      r[phys] = value;
      if (size >= 2) r[phys + 1] = value >> 8;
      if (size === 4) { r[phys + 2] = value >> 16; r[phys + 3] = value >> 24; }
      return;
    }
    if (this.mmioPages[phys >>> 12] !== 0 && (phys & 0xfff) <= 0x1000 - size) {
      this.bus.mmioWrite(phys >>> 0, size, size === 4 ? value | 0 : value & (size === 1 ? 0xff : 0xffff));
      return;
    }
    for (let i = 0; i < size; i++) this.physWrite((phys + i) | 0, 1, value >> (8 * i));
  }

  // ---- TLB ----------------------------------------------------------------------------------

  fillTlb(linearPage: number, entry: number): void {
    if (this.tlb[linearPage] === 0) {
      if (this.tlbFilledCount < TLB_TRACKED) this.tlbFilled[this.tlbFilledCount] = linearPage;
      this.tlbFilledCount++;
    }
    this.tlb[linearPage] = entry;
  }

  /** CR3 reload keeps global pages; CR0/CR4 changes and explicit resets drop everything. */
  flushTlb(includeGlobal: boolean): void {
    this.fetchPage = -1;
    // Block links stay good while every code page they were made through keeps its translation
    // (see invalidatePage): Linux's text_poke switches CR3 twice per patched site, and its kernel
    // code is all in global pages.
    let droppedCode = 0;
    if (this.tlbFilledCount > TLB_TRACKED) {
      droppedCode = Tlb.CODE;
      if (includeGlobal) this.tlb.fill(0);
      else for (let i = 0; i < TLB_PAGES; i++) if ((this.tlb[i] & Tlb.GLOBAL) === 0) this.tlb[i] = 0;
    } else {
      for (let i = 0; i < this.tlbFilledCount; i++) {
        const page = this.tlbFilled[i];
        const entry = this.tlb[page];
        if (includeGlobal || (entry & Tlb.GLOBAL) === 0) {
          droppedCode |= entry;
          this.tlb[page] = 0;
        }
      }
    }
    if ((droppedCode & Tlb.CODE) !== 0) this.codeLinkEpoch += 4;
    // Rebuild the tracking list from what survived (only globals can).
    let kept = 0;
    if (!includeGlobal) {
      if (this.tlbFilledCount > TLB_TRACKED) {
        for (let i = 0; i < TLB_PAGES && kept <= TLB_TRACKED; i++) if (this.tlb[i] !== 0) { if (kept < TLB_TRACKED) this.tlbFilled[kept] = i; kept++; }
      } else {
        for (let i = 0; i < this.tlbFilledCount; i++) {
          const page = this.tlbFilled[i];
          if (this.tlb[page] !== 0) this.tlbFilled[kept++] = page;
        }
      }
    }
    this.tlbFilledCount = kept;
  }

  invalidatePage(lin: number): void {
    const entry = this.tlb[lin >>> 12];
    this.tlb[lin >>> 12] = 0;
    this.fetchPage = -1;
    // A link leads to a block fetched through the TLB, whose entry has held Tlb.CODE since (a
    // page that becomes code flushes the TLB): other pages cannot hold the target of any link.
    if ((entry & Tlb.CODE) !== 0) this.codeLinkEpoch += 4;
  }

  // ---- Decoded-instruction cache ----------------------------------------------------------

  /** Registers a physical page as holding cached code; TLB entries are refilled with Tlb.CODE. */
  markCodePage(physPage: number): CodePage {
    const page = this.decodedCode.pageOrNew(physPage);
    if (this.codePages[physPage] === 0) {
      this.codePages[physPage] = 1;
      this.flushTlb(true);
    }
    return page;
  }

  /** Forgets every decoded instruction (after RAM was replaced wholesale, e.g. a snapshot restore). */
  invalidateAllCode(): void {
    for (const block of this.decodedCode.blocks()) this.discardBlock(block);
    this.decodedCode.clear();
    this.codePages.fill(0);
    this.translations.clear();
    this.flushTlb(true);
  }

  /**
   * Drops cached blocks that include any of bytes [phys, phys + size). Devices writing guest RAM
   * directly (DMA) must call this for the range they wrote.
   */
  invalidateCode(phys: number, size: number): void {
    const start = phys >>> 0;
    // A block starts at most MAX_BLOCK_BYTES before a byte it holds, and never in an earlier page.
    let at = Math.max(start & ~0xfff, start - MAX_BLOCK_BYTES + 1);
    const end = start + size;
    while (at < end) {
      const pageNumber = at >>> 12;
      const pageEnd = Math.min(end, (pageNumber + 1) * 4096);
      const page = this.decodedCode.page(pageNumber);
      if (page !== undefined) {
        for (let i = at; i < pageEnd; i++) {
          const block = page[i & 0xfff];
          // Blocks that end before the written bytes stay.
          if (block !== undefined && i + (block.lastByteEip - block.startEip) >= start) {
            this.discardBlock(block);
            page[i & 0xfff] = undefined;
          }
        }
      }
      at = pageEnd;
    }
  }

  /** Marks a cached block stale (a running block notices and leaves) and releases its JIT translation. */
  discardBlock(block: CodeBlock): void {
    block.valid = false;
    this.translations.discard(block);
    const holders = block.holders;
    if (holders !== null) {
      block.holders = null;
      for (const translation of holders) if (translation.block.translation === translation) this.translations.discard(translation.block);
    }
  }

  // ---- Instruction fetch --------------------------------------------------------------------

  /** One code byte at CS:offset, honouring the CS limit and page permissions. */
  fetch8(offset: number): number {
    if ((offset >>> 0) > (this.segLimit[HotArch.CS] >>> 0)) this.raise(Vector.GP, 0);
    const lin = (this.segBase[HotArch.CS] + offset) | 0;
    if (lin >>> 12 === this.fetchPage) return this.ram8[this.fetchPhysBase | (lin & 0xfff)];
    const phys = translateLinear(this, lin, false, this.cpl === 3);
    if (this.mmioPages[phys >>> 12] !== 0) return this.physRead(phys, 1);
    this.fetchPage = lin >>> 12;
    this.fetchPhysBase = phys & ~0xfff;
    return this.ram8[phys];
  }

  // ---- Stack --------------------------------------------------------------------------------

  push16(value: number): void {
    const sp = (this.regs[HotArch.ESP] - 2) & (this.stack32 ? -1 : 0xffff);
    this.write16(HotArch.SS, sp, value);
    this.setStackPointer(sp);
  }

  push32(value: number): void {
    const regs = this.regs;
    if (this.stack32 && this.flatAccess(this.segFlatWriteMask, HotArch.SS)) {
      const sp = (regs[HotArch.ESP] - 4) | 0;
      const e = this.tlb[sp >>> 12];
      if ((e & (this.writeNeed | Tlb.MMIO | Tlb.CODE)) === this.writeNeed && (sp & 3) === 0) {
        this.ram32[((e & ~0xfff) | (sp & 0xfff)) >>> 2] = value;
        regs[HotArch.ESP] = sp;
        return;
      }
    }
    const sp = (regs[HotArch.ESP] - 4) & (this.stack32 ? -1 : 0xffff);
    this.write32(HotArch.SS, sp, value);
    this.setStackPointer(sp);
  }

  pushOperand(value: number, size32: boolean): void {
    if (size32) this.push32(value);
    else this.push16(value);
  }

  pop16(): number {
    const sp = this.regs[HotArch.ESP] & (this.stack32 ? -1 : 0xffff);
    const value = this.read16(HotArch.SS, sp);
    this.setStackPointer(sp + 2);
    return value;
  }

  pop32(): number {
    const regs = this.regs;
    if (this.stack32 && this.flatAccess(this.segFlatReadMask, HotArch.SS)) {
      const sp = regs[HotArch.ESP];
      const e = this.tlb[sp >>> 12];
      if ((e & (this.readNeed | Tlb.MMIO)) === this.readNeed && (sp & 3) === 0) {
        const value = this.ram32[((e & ~0xfff) | (sp & 0xfff)) >>> 2];
        regs[HotArch.ESP] = sp + 4;
        return value;
      }
    }
    const sp = regs[HotArch.ESP] & (this.stack32 ? -1 : 0xffff);
    const value = this.read32(HotArch.SS, sp);
    this.setStackPointer(sp + 4);
    return value;
  }

  popOperand(size32: boolean): number {
    return size32 ? this.pop32() : this.pop16();
  }

  /** Reads the stack `depth` bytes above the stack pointer without popping. */
  peekStack(depth: number, size32: boolean): number {
    const sp = (this.regs[HotArch.ESP] + depth) & (this.stack32 ? -1 : 0xffff);
    return size32 ? this.read32(HotArch.SS, sp) : this.read16(HotArch.SS, sp);
  }

  setStackPointer(sp: number): void {
    if (this.stack32) this.regs[HotArch.ESP] = sp;
    else this.regs[HotArch.ESP] = (this.regs[HotArch.ESP] & ~0xffff) | (sp & 0xffff);
  }

  /** Adds to SP or ESP depending on the stack size. */
  adjustStackPointer(delta: number): void {
    this.setStackPointer(this.regs[HotArch.ESP] + delta);
  }
}
