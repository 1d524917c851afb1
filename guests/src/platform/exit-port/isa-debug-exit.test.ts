import { describe, expect, it } from "vitest";
import { CollectingByteSink } from "../byte-sink.js";
import { DebugConsole } from "../debug-console/debug-console.js";
import { IsaDebugExit } from "./isa-debug-exit.js";

describe("isa-debug-exit and the 0xE9 debug console", () => {
  it("ends the VM with (value << 1) | 1", () => {
    const codes: number[] = [];
    const device = new IsaDebugExit((code) => codes.push(code));
    device.ports.write(0, 1, 0x00);
    device.ports.write(0, 1, 0x10);
    device.ports.write(0, 1, 0xff);
    expect(codes).toEqual([1, 0x21, 0x1ff]);
  });

  it("sends bytes to the sink and reads back 0xE9", () => {
    const sink = new CollectingByteSink();
    const console = new DebugConsole(sink);
    for (const c of "ok\n") console.ports.write(0, 1, c.charCodeAt(0));
    expect(sink.text()).toBe("ok\n");
    expect(console.ports.read(0, 1)).toBe(0xe9);
  });
});
