/**
 * Two-level i386 page walk with PSE 4 MiB pages and PGE global pages. The walk fills the TLB
 * entry for the linear page with the rights the combined PDE/PTE grant; a write through an entry
 * whose dirty bit is not yet set comes back here so the walk can set D.
 */
import type { Cpu } from "./cpu.js";
import { Tlb, tlbReadNeed, tlbWriteNeed } from "./cpu.js";
import { Cr0, Cr4 } from "./constants.js";
import { Vector } from "./fault.js";

const enum Pte { P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100 }

/** Returns the physical address for `lin`, or raises #PF. */
export function translateLinear(cpu: Cpu, lin: number, write: boolean, user: boolean): number {
  const page = lin >>> 12;
  const cached = cpu.tlb[page];
  if (cached !== 0) {
    const need = write ? tlbWriteNeed(user) : tlbReadNeed(user);
    if ((cached & need) === need) return (cached & ~0xfff) | (lin & 0xfff);
  }
  if ((cpu.cr0 & Cr0.PG) === 0) {
    const phys = lin & cpu.a20Mask;
    let entry = (phys & ~0xfff) | Tlb.VALID | Tlb.SUPERVISOR_WRITE | Tlb.USER_READ | Tlb.USER_WRITE | Tlb.DIRTY;
    if (cpu.mmioPages[phys >>> 12] !== 0) entry |= Tlb.MMIO;
    if (cpu.codePages[phys >>> 12] !== 0) entry |= Tlb.CODE;
    cpu.fillTlb(page, entry);
    return phys;
  }
  return walk(cpu, lin, write, user);
}

function walk(cpu: Cpu, lin: number, write: boolean, user: boolean): number {
  const pdeAddress = (cpu.cr3 & ~0xfff) | ((lin >>> 22) << 2);
  const pde = cpu.physRead(pdeAddress, 4);
  if ((pde & Pte.P) === 0) pageFault(cpu, lin, false, write, user);
  let frame: number;
  let rights: number;
  let dirty: boolean;
  let global: boolean;
  if ((pde & Pte.PS) !== 0 && (cpu.cr4 & Cr4.PSE) !== 0) {
    rights = pde;
    checkRights(cpu, lin, rights, write, user);
    const updated = pde | Pte.A | (write ? Pte.D : 0);
    if (updated !== pde) cpu.physWrite(pdeAddress, 4, updated);
    frame = (pde & 0xffc00000) | (lin & 0x3ff000);
    dirty = (updated & Pte.D) !== 0;
    global = (pde & Pte.G) !== 0;
  } else {
    const pteAddress = (pde & ~0xfff) | (((lin >>> 12) & 0x3ff) << 2);
    const pte = cpu.physRead(pteAddress, 4);
    if ((pte & Pte.P) === 0) pageFault(cpu, lin, false, write, user);
    rights = pde & pte;
    checkRights(cpu, lin, rights, write, user);
    if ((pde & Pte.A) === 0) cpu.physWrite(pdeAddress, 4, pde | Pte.A);
    const updated = pte | Pte.A | (write ? Pte.D : 0);
    if (updated !== pte) cpu.physWrite(pteAddress, 4, updated);
    frame = pte & ~0xfff;
    dirty = (updated & Pte.D) !== 0;
    global = (pte & Pte.G) !== 0;
  }
  frame &= cpu.a20Mask;
  let entry = frame | Tlb.VALID;
  const writable = (rights & Pte.RW) !== 0;
  if (writable || (cpu.cr0 & Cr0.WP) === 0) entry |= Tlb.SUPERVISOR_WRITE;
  if (rights & Pte.US) {
    entry |= Tlb.USER_READ;
    if (writable) entry |= Tlb.USER_WRITE;
  }
  if (dirty) entry |= Tlb.DIRTY;
  if (global && (cpu.cr4 & Cr4.PGE) !== 0) entry |= Tlb.GLOBAL;
  if (cpu.mmioPages[frame >>> 12] !== 0) entry |= Tlb.MMIO;
  if (cpu.codePages[frame >>> 12] !== 0) entry |= Tlb.CODE;
  cpu.fillTlb(lin >>> 12, entry);
  return frame | (lin & 0xfff);
}

function checkRights(cpu: Cpu, lin: number, rights: number, write: boolean, user: boolean): void {
  if (user) {
    if ((rights & Pte.US) === 0 || (write && (rights & Pte.RW) === 0)) pageFault(cpu, lin, true, write, user);
  } else if (write && (rights & Pte.RW) === 0 && (cpu.cr0 & Cr0.WP) !== 0) {
    pageFault(cpu, lin, true, write, user);
  }
}

function pageFault(cpu: Cpu, lin: number, present: boolean, write: boolean, user: boolean): never {
  cpu.cr2 = lin;
  return cpu.raise(Vector.PF, (present ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0));
}
