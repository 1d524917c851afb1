/** Keeps the opcode map honest: every decodable opcode has a handler and vice versa. */
import { describe, expect, it } from "vitest";
import { DECODE_FORMS, Form } from "./decode-forms.js";
import { HANDLERS } from "./opcode-table.js";
import { undefinedOpcode } from "./ops-system.js";

describe("opcode map", () => {
  it("pairs decode forms with handlers", () => {
    let oneByte = 0;
    let twoByte = 0;
    for (let op = 0; op < 512; op++) {
      const form = DECODE_FORMS[op];
      const implemented = HANDLERS[op] !== undefinedOpcode;
      if ((form & Form.PREFIX) !== 0 || op === 0x0f) continue;
      if ((form & Form.INVALID) !== 0) {
        expect(implemented, `opcode ${op.toString(16)} has a handler but no decode form`).toBe(false);
        continue;
      }
      if (op === 0x10b) continue; // UD2 decodes, and its handler is the #UD handler
      expect(implemented, `opcode ${op.toString(16)} decodes but has no handler`).toBe(true);
      if (op < 0x100) oneByte++;
      else twoByte++;
    }
    // 256 one-byte opcodes minus 11 prefixes and the 0F escape.
    expect(oneByte).toBe(244);
    console.log(`implemented opcodes: ${oneByte} one-byte, ${twoByte} 0F`);
    expect(twoByte).toBeGreaterThanOrEqual(100);
  });
});
