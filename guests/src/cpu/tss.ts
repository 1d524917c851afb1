/** Reading the inner-level stack pointers from the current TSS. */
import type { Cpu } from "./cpu.js";
import { Seg } from "./constants.js";
import { Vector } from "./fault.js";

export class StackPointer {
  selector = 0;
  offset = 0;
}

/** SS:ESP for privilege level `dpl` from the current TSS (16- or 32-bit layout). */
export function readInnerStack(cpu: Cpu, dpl: number, out: StackPointer): void {
  const type = cpu.segAttr[Seg.TR] & 0xf;
  const base = cpu.segBase[Seg.TR];
  const limit = cpu.segLimit[Seg.TR] >>> 0;
  const trError = cpu.segSel[Seg.TR] & 0xfffc;
  if (type === 0xb || type === 0x9) {
    const at = 4 + dpl * 8;
    if (at + 5 > limit) cpu.raise(Vector.TS, trError);
    out.offset = cpu.readSystem32((base + at) | 0);
    out.selector = cpu.readSystem16((base + at + 4) | 0);
  } else {
    const at = 2 + dpl * 4;
    if (at + 3 > limit) cpu.raise(Vector.TS, trError);
    out.offset = cpu.readSystem16((base + at) | 0);
    out.selector = cpu.readSystem16((base + at + 2) | 0);
  }
}
