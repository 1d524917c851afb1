/** Compares emulated and native results of one oracle case; returns a readable diff or null. */
import type { OracleCase } from "./generator.js";
import type { CaseResult } from "./native.js";

const NAMES = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
/** Flags the comparison looks at: the arithmetic ones plus DF. */
const COMPARED_FLAGS = 0x8d5 | 0x400;

const hex = (v: number) => "0x" + (v >>> 0).toString(16).padStart(8, "0");

export function compareResults(c: OracleCase, emulated: CaseResult, native: CaseResult): string | null {
  const problems: string[] = [];
  if (emulated.signal !== native.signal) problems.push(`signal: emulator ${emulated.signal}, native ${native.signal}`);
  if (native.signal === 0 || native.signal === emulated.signal) {
    for (let r = 0; r < 8; r++) {
      if (emulated.regs[r] !== native.regs[r]) problems.push(`${NAMES[r]}: emulator ${hex(emulated.regs[r])}, native ${hex(native.regs[r])}`);
    }
    const mask = COMPARED_FLAGS & ~(native.signal !== 0 ? c.everUndefinedFlags : c.undefinedFlags);
    if ((emulated.eflags & mask) !== (native.eflags & mask)) {
      problems.push(`eflags (mask ${hex(mask)}): emulator ${hex(emulated.eflags & mask)}, native ${hex(native.eflags & mask)}`);
    }
    if (native.signal !== 0 && emulated.eip !== native.eip) problems.push(`fault eip: emulator ${hex(emulated.eip)}, native ${hex(native.eip)}`);
    for (let i = 0; i < emulated.data.length; i++) {
      if (emulated.data[i] !== native.data[i]) {
        problems.push(`memory +0x${i.toString(16)}: emulator 0x${emulated.data[i].toString(16)}, native 0x${native.data[i].toString(16)}`);
        if (problems.length > 12) break;
      }
    }
  }
  if (problems.length === 0) return null;
  const regs = Array.from(c.regs, (v, r) => `${NAMES[r]}=${hex(v)}`).join(" ");
  return [
    `seed ${c.seed}: code ${Buffer.from(c.code).toString("hex")}`,
    `  initial ${regs} eflags=${hex(c.eflags)} undefined=${hex(c.undefinedFlags)}`,
    ...problems.map((p) => "  " + p),
  ].join("\n");
}
