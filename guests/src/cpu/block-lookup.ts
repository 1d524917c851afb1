/** Finding a cached block by CS:EIP through the TLB or a block's links (no decoding: see code-block.ts buildBlock). */
import type { CodeBlock } from "./code-block.js";
import { Seg } from "./constants.js";
import { type Cpu, Tlb } from "./cpu.js";
import { translateLinear } from "./paging.js";

/**
 * The cached block starting at CS:eip, or null. Establishes the fetch page for `eip`, which may
 * raise the instruction-fetch #PF (but leaves CS-limit faults to the decoder, which has priority).
 */
export function lookupBlock(cpu: Cpu, eip: number): CodeBlock | null {
  const csBase = cpu.segBase[Seg.CS];
  const lin = (csBase + eip) | 0;
  if (lin >>> 12 !== cpu.fetchPage) {
    if ((eip >>> 0) > (cpu.segLimit[Seg.CS] >>> 0)) return null;
    const phys = translateLinear(cpu, lin, false, cpu.cpl === 3);
    if ((cpu.tlb[lin >>> 12] & Tlb.MMIO) !== 0 || cpu.mmioPages[phys >>> 12] !== 0) return null;
    cpu.fetchPage = lin >>> 12;
    cpu.fetchPhysBase = phys & ~0xfff;
  }
  const phys = cpu.fetchPhysBase | (lin & 0xfff);
  const page = cpu.decodedCode.page(phys >>> 12);
  if (page === undefined) return null;
  const block = page[phys & 0xfff];
  if (block === undefined || block.startEip !== eip || block.csBase !== csBase || block.code32 !== cpu.code32) return null;
  if ((block.lastByteEip >>> 0) > (cpu.segLimit[Seg.CS] >>> 0)) return null;
  return block;
}

/** `block`'s link at `eip`, if it was made in the current epoch (Cpu.codeLinkEpoch). */
export function linkedSuccessor(cpu: Cpu, block: CodeBlock, eip: number): CodeBlock | null {
  return block.linkEpoch === cpu.codeLinkEpoch ? block.successorAt(eip) : null;
}

/**
 * The block at `eip` found through the TLB and linked as `block`'s successor, where `block` has no
 * current link (not made yet, made before a TLB flush or a privilege change, or pushed out by other
 * successors); null when nothing is cached there yet (the run loop builds it). As at any block
 * boundary, a fault fetching it is the next instruction's.
 */
export function lookUpSuccessor(cpu: Cpu, block: CodeBlock, eip: number): CodeBlock | null {
  cpu.instructionStart = eip;
  const next = lookupBlock(cpu, eip);
  if (next !== null) block.linkSuccessor(eip, next, cpu.codeLinkEpoch);
  return next;
}
