/** Port I/O with the protected-mode permission rules (IOPL, then the TSS I/O bitmap). */
import type { Cpu } from "./cpu.js";
import { Flag, Seg } from "./constants.js";
import { Vector } from "./fault.js";

/**
 * Processor time (cycles: nanoseconds at the nominal 1 GHz) an IN or OUT in the PC's system I/O
 * range takes: ports 00h-FFh (DMA controllers, PICs, PIT, keyboard controller, port 61h, RTC, the
 * POST port 80h) sit behind the ISA/LPC bridge, where an access costs about a microsecond; Linux's
 * io_delay() relies on a write to port 80h taking that long. A loop that polls such a port for a
 * stretch of time (Linux's PIT calibration polls port 61h with inb_p, 1.4 million times at 20
 * instructions a turn) turns as often as on real hardware instead of a hundred times more.
 */
export const SYSTEM_PORT_CYCLES = 1000;
/** The first port past the system range. */
export const SYSTEM_PORTS_END = 0x100;

/** The stall (cycles) an access to `port` adds to the instruction's own time. */
export function portAccessCycles(port: number): number {
  return (port & 0xffff) < SYSTEM_PORTS_END ? SYSTEM_PORT_CYCLES : 0;
}

export function checkIoPermission(cpu: Cpu, port: number, size: number): void {
  if (!cpu.protectedMode) return;
  const iopl = (cpu.eflags >> 12) & 3;
  if ((cpu.eflags & Flag.VM) === 0 && cpu.cpl <= iopl) return;
  // Only a 32-bit TSS has a bitmap.
  const trType = cpu.segAttr[Seg.TR] & 0xf;
  if (trType !== 0x9 && trType !== 0xb) cpu.raise(Vector.GP, 0);
  const trLimit = cpu.segLimit[Seg.TR] >>> 0;
  if (trLimit < 0x67) cpu.raise(Vector.GP, 0);
  const base = cpu.segBase[Seg.TR];
  const bitmapOffset = cpu.readSystem16((base + 0x66) | 0);
  const byteOffset = bitmapOffset + (port >>> 3);
  if (byteOffset + 1 > trLimit) cpu.raise(Vector.GP, 0);
  const bits = cpu.readSystem16((base + byteOffset) | 0);
  const mask = ((1 << size) - 1) << (port & 7);
  if ((bits & mask) !== 0) cpu.raise(Vector.GP, 0);
}

export function portRead(cpu: Cpu, port: number, size: 1 | 2 | 4): number {
  checkIoPermission(cpu, port, size);
  return cpu.bus.portIn(port & 0xffff, size);
}

export function portWrite(cpu: Cpu, port: number, size: 1 | 2 | 4, value: number): void {
  checkIoPermission(cpu, port, size);
  cpu.bus.portOut(port & 0xffff, size, size === 4 ? value | 0 : value & (size === 1 ? 0xff : 0xffff));
}
