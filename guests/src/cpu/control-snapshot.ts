/**
 * Rollback for multi-step control transfers (interrupt delivery, far calls, IRET): their pushes
 * and segment loads happen one by one, and a fault half-way must leave the old context intact.
 */
import type { Cpu } from "./cpu.js";
import { Reg } from "./constants.js";
import { materializeFlags } from "./flags.js";

export class ControlSnapshot {
  private readonly sel = new Int32Array(8);
  private readonly base = new Int32Array(8);
  private readonly limit = new Int32Array(8);
  private readonly attr = new Int32Array(8);
  private esp = 0;
  private eip = 0;
  private eflags = 0;
  private cpl = 0;

  save(cpu: Cpu): void {
    cpu.taskSwitchCommitted = false;
    this.sel.set(cpu.segSel);
    this.base.set(cpu.segBase);
    this.limit.set(cpu.segLimit);
    this.attr.set(cpu.segAttr);
    this.esp = cpu.regs[Reg.ESP];
    this.eip = cpu.eip;
    this.eflags = materializeFlags(cpu);
    this.cpl = cpu.cpl;
  }

  /** Rolls back, unless a task switch got past its commit point (its faults belong to the new task). */
  restore(cpu: Cpu): void {
    if (cpu.taskSwitchCommitted) return;
    cpu.eflags = this.eflags;
    cpu.setCpl(this.cpl);
    for (let s = 0; s < 8; s++) cpu.setSegmentCache(s, this.sel[s], this.base[s], this.limit[s], this.attr[s]);
    cpu.regs[Reg.ESP] = this.esp;
    cpu.eip = this.eip;
  }
}
