/**
 * A CPU's WebAssembly tier: its guest memory and where the processor's state lies there, the
 * function table its region translations sit in, and the chain that leads from one region to the
 * next without leaving WebAssembly.
 *
 * Region functions return to the dispatcher (jit-dispatch.ts) at every exit that leaves their
 * page. Linux calls across pages all the time, and a trip through the dispatcher (a call from
 * JavaScript into WebAssembly, the flag record handed over each way, the successor lookup) costs
 * more than many short regions themselves. So the dispatcher enters WebAssembly code through the
 * chain function: it calls the region by its table slot, and when the region leaves at an EIP the
 * chain table knows, calls the region found there, for as long as the instruction budget lasts.
 *
 * The chain table maps an EIP to the region (table slot and entry block) the dispatcher found
 * there, with cpu.codeLinkEpoch and the CPU mode at the time: the same knowledge, under the same
 * rules, as the blocks' successor links. The dispatcher writes an entry whenever it passes from a
 * region to a region; a released translation takes its entries and its slot with it.
 *
 * What region code calls out to (wasm-emitter.ts HELPER_READ...) sits in a table of its own,
 * which region modules import (V8 copies an imported table into every instance, and updates every
 * importing instance when an entry changes, so region modules do not import the regions' table).
 * The chain's module imports the JavaScript side once and passes each call to the glue of the
 * region running, whose slot the chain notes in the exit record before it calls a region.
 */
import type { Cpu } from "../cpu.js";
import { CHAIN_ENTRIES, CpuArea } from "../guest-memory.js";
import { EXIT_EIP, EXIT_WORDS, EXIT_EPOCH, EXIT_FAULT, EXIT_MODE, EXIT_SLOT, EXIT_STOP, HELPER_FAULT, HELPER_HANDLER, HELPER_MATERIALIZE, HELPER_PORT, HELPER_READ, HELPER_SLOTS, HELPER_TYPES, HELPER_WRITE, type Layout, REGION_PARAMS } from "./wasm-emitter.js";
import { materializer } from "./wasm-flags.js";
import type { RegionGlue } from "./wasm-glue.js";
import { encodeModule, FunctionBuilder, type ImportedFunction, Op, ValueType } from "./wasm-module.js";

/** A region's run as the chain calls it: (limit, entry block, base) → retired, complemented after an unchainable exit. */
export type RegionCode = (limit: number, entry: number, base: number) => number;

/** Words of a chain table entry. */
const ENTRY_EIP = 0, ENTRY_EPOCH = 1, ENTRY_MODE = 2, ENTRY_TARGET = 3;
/** ENTRY_TARGET packs slot << 16 | entry block << 8 | the entry block's length (both below 256, see MAX_BLOCK_INSTRUCTIONS). */
const MAX_SLOTS = 1 << 15;

export class WasmTier {
  readonly memory: WebAssembly.Memory;
  readonly layout: Layout;
  readonly flags: Int32Array;
  readonly exit: Int32Array;
  /**
   * Instructions of the current chain already added to cpu.instructionsRetired: the regions'
   * calls out sync the count first, so that a fault inside one finds it exact.
   */
  synced = 0;
  /** Runs the region in table slot `slot` from block `entry`, then those the chain table leads to. */
  readonly chain: (limit: number, slot: number, entry: number) => number;
  /** The flag materialiser (wasm-flags.ts), which the region modules import. */
  readonly materialize: (op: number, bits: number, a: number, b: number, result: number, carryIn: number, eflags: number) => number;
  /** The glue of the region in each table slot (a freed slot keeps its last one, see release). */
  readonly glues: Array<RegionGlue | undefined> = [];
  /** What region code calls out to, by HELPER_READ...; region modules import it. */
  readonly helpers = new WebAssembly.Table({ element: "anyfunc", initial: HELPER_SLOTS, maximum: HELPER_SLOTS });
  private readonly table = new WebAssembly.Table({ element: "anyfunc", initial: 64 });
  private readonly freeSlots: number[] = [];
  private readonly entries: Int32Array;
  /** Slots that have chain table entries, so that releasing one without any costs no scan. */
  private readonly linked = new Set<number>();

  constructor(cpu: Cpu) {
    const memory = cpu.bus.memory;
    const area = memory.cpuArea;
    this.memory = memory.memory;
    this.layout = {
      tlb: area + CpuArea.TLB, regs: area + CpuArea.REGS, flags: area + CpuArea.FLAGS, exit: area + CpuArea.EXIT, segments: area + CpuArea.SEG_BASE,
      pages: memory.memory.buffer.byteLength / 65536,
    };
    this.flags = memory.cpuWords(CpuArea.FLAGS, 8);
    this.exit = memory.cpuWords(CpuArea.EXIT, EXIT_WORDS);
    this.entries = memory.cpuWords(CpuArea.CHAIN, CHAIN_ENTRIES * 4);
    const bytes = encodeModule({
      memoryImport: { module: "vm", name: "memory", pages: this.layout.pages },
      tableImport: { module: "vm", name: "regions" },
      indirectTypes: [{ params: REGION_PARAMS, results: [ValueType.I32] }],
      functions: GLUE_HELPERS.map(([helper, name]) => ({ module: "vm", name, ...HELPER_TYPES[helper] }) satisfies ImportedFunction),
      exports: [
        { name: "chain", body: chainFunction(area) },
        { name: "materialize", body: materializer() },
        ...GLUE_HELPERS.map(([helper, name], index) => ({ name, body: forwarder(helper, index) })),
      ],
    });
    const running = () => this.glues[this.exit[EXIT_SLOT]]!;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      vm: {
        memory: this.memory,
        regions: this.table,
        read: (kind: number, address: number, start: number, done: number, index: number) => running().read(kind, address, start, done, index),
        write: (kind: number, address: number, value: number, start: number, done: number, index: number) => running().write(kind, address, value, start, done, index),
        handler: (k: number, index: number, done: number) => running().handler(k, index, done),
        fault: (vector: number, start: number, done: number, index: number) => running().fault(vector, start, done, index),
        port: (kind: number, port: number, value: number, start: number, done: number, index: number) => running().port(kind, port, value, start, done, index),
      },
    });
    this.chain = instance.exports.chain as WasmTier["chain"];
    this.materialize = instance.exports.materialize as WasmTier["materialize"];
    this.helpers.set(HELPER_MATERIALIZE, instance.exports.materialize as Function);
    for (const [helper, name] of GLUE_HELPERS) this.helpers.set(helper, instance.exports[name] as Function);
  }

  /** Puts a region's code in the table; returns its slot, or -1 when the table is full (the region cannot run then). */
  add(glue: RegionGlue): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.glues.length === MAX_SLOTS) return -1;
      slot = this.glues.length;
      if (slot >= this.table.length) this.table.grow(this.table.length);
    }
    this.table.set(slot, glue.code);
    this.glues[slot] = glue;
    return slot;
  }

  /** The translation in `slot` was released: nothing may lead to it any more. */
  release(slot: number): void {
    if (this.linked.delete(slot)) {
      const entries = this.entries;
      for (let i = 0; i < entries.length; i += 4) if (entries[i + ENTRY_TARGET] >>> 16 === slot) entries[i + ENTRY_EIP] = entries[i + ENTRY_TARGET] = 0;
    }
    // The glue stays until the slot is taken again: a region that released itself (a store into
    // its own code) is still the one a running chain reports it left from.
    this.table.set(slot, null);
    this.freeSlots.push(slot);
  }

  /**
   * The dispatcher passed from one region to `slot`'s at `eip`, block `entry` (`length`
   * instructions long), in link epoch `epoch` and CPU mode `mode`: the chain may do so itself.
   */
  link(eip: number, epoch: number, mode: number, slot: number, entry: number, length: number): void {
    const i = chainIndex(eip) * 4;
    const entries = this.entries;
    entries[i + ENTRY_EIP] = eip;
    entries[i + ENTRY_EPOCH] = epoch;
    entries[i + ENTRY_MODE] = mode;
    entries[i + ENTRY_TARGET] = (slot << 16) | (entry << 8) | length;
    this.linked.add(slot);
  }
}

/** The helpers on the JavaScript side (RegionGlue's methods of these names), in the order the chain's module imports them. */
const GLUE_HELPERS: ReadonlyArray<readonly [number, "read" | "write" | "handler" | "fault" | "port"]> = [
  [HELPER_READ, "read"], [HELPER_WRITE, "write"], [HELPER_HANDLER, "handler"], [HELPER_FAULT, "fault"], [HELPER_PORT, "port"],
];

/** A function of helper `helper`'s type that calls imported function `imported` with its arguments. */
function forwarder(helper: number, imported: number): FunctionBuilder {
  const type = HELPER_TYPES[helper];
  const f = new FunctionBuilder(type.params, type.results);
  type.params.forEach((_, i) => f.get(i));
  return f.call(imported);
}

/** The chain table entry for `eip`: a multiplicative hash, as the chain function computes it. */
function chainIndex(eip: number): number {
  return Math.imul(eip, HASH_MULTIPLIER) >>> HASH_SHIFT;
}
const HASH_MULTIPLIER = 0x9e3779b1 | 0;
/** Keeps the product's top bits: log2(CHAIN_ENTRIES) of them. */
const HASH_SHIFT = 32 - Math.log2(CHAIN_ENTRIES);

/**
 * chain(limit, slot, entry): calls the region in `slot` from block `entry` with base 0, then, while
 * the region left normally (no fault, no stop, not complemented) at an EIP whose chain entry
 * matches the epoch and mode in the exit record and the next block fits in the budget, the region
 * there with the count so far as its base. Returns the last region's result; the exit record
 * holds the slot of each region while it runs, and of the last one after.
 */
function chainFunction(area: number): FunctionBuilder {
  const f = new FunctionBuilder([ValueType.I32, ValueType.I32, ValueType.I32], [ValueType.I32]);
  const LIMIT = 0, SLOT = 1, ENTRY = 2;
  const done = f.local(), at = f.local(), target = f.local();
  const exit = area + CpuArea.EXIT, chain = area + CpuArea.CHAIN;
  f.block().loop();
  // The region's calls out find its glue by this slot.
  f.i32(0).get(SLOT).memory(Op.I32_STORE, exit + 4 * EXIT_SLOT);
  f.get(LIMIT).get(ENTRY).get(done).get(SLOT).callIndirect(0).set(done);
  // Complemented: an exit after which nothing may follow directly.
  f.get(done).i32(0).op(Op.I32_LT_S).brIf(1);
  f.i32(0).memory(Op.I32_LOAD, exit + 4 * EXIT_FAULT).i32(0).memory(Op.I32_LOAD, exit + 4 * EXIT_STOP).op(Op.I32_OR).brIf(1);
  f.i32(0).memory(Op.I32_LOAD, exit + 4 * EXIT_EIP).i32(HASH_MULTIPLIER).op(Op.I32_MUL).i32(HASH_SHIFT).op(Op.I32_SHR_U).i32(4).op(Op.I32_SHL).set(at);
  f.get(at).memory(Op.I32_LOAD, chain + 4 * ENTRY_EIP).i32(0).memory(Op.I32_LOAD, exit + 4 * EXIT_EIP).op(Op.I32_NE).brIf(1);
  f.get(at).memory(Op.I32_LOAD, chain + 4 * ENTRY_EPOCH).i32(0).memory(Op.I32_LOAD, exit + 4 * EXIT_EPOCH).op(Op.I32_NE).brIf(1);
  f.get(at).memory(Op.I32_LOAD, chain + 4 * ENTRY_MODE).i32(0).memory(Op.I32_LOAD, exit + 4 * EXIT_MODE).op(Op.I32_NE).brIf(1);
  f.get(at).memory(Op.I32_LOAD, chain + 4 * ENTRY_TARGET).tee(target);
  // A freed entry (target 0) never matches: slot 0 with entry block 0 has a non-zero length.
  f.op(Op.I32_EQZ).brIf(1);
  f.get(done).get(target).i32(0xff).op(Op.I32_AND).op(Op.I32_ADD).get(LIMIT).op(Op.I32_GT_S).brIf(1);
  f.get(target).i32(16).op(Op.I32_SHR_U).set(SLOT);
  f.get(target).i32(8).op(Op.I32_SHR_U).i32(0xff).op(Op.I32_AND).set(ENTRY);
  f.br(0);
  f.end().end();
  f.get(done);
  return f;
}

const tiers = new WeakMap<Cpu, WasmTier>();

export function wasmTierOf(cpu: Cpu): WasmTier {
  let tier = tiers.get(cpu);
  if (tier === undefined) {
    tier = new WasmTier(cpu);
    tiers.set(cpu, tier);
  }
  return tier;
}
