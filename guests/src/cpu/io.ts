/** Port I/O with the protected-mode permission rules (IOPL, then the TSS I/O bitmap). */
import type { Cpu } from "./cpu.js";
import { Flag, Seg } from "./constants.js";
import { Vector } from "./fault.js";

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
