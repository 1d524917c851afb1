import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { SerialConsoleLine } from "./serial-console-line.js";
import { TerminalAttachment, type TerminalCommand } from "./terminal-attachment.js";

class FakeTerminal extends EventEmitter {
  isTTY = true;
  raw = false;
  setRawMode(raw: boolean) {
    this.raw = raw;
  }
  type(text: string) {
    this.emit("data", Buffer.from(text, "latin1"));
  }
}

function attached() {
  const line = new SerialConsoleLine();
  const sent: string[] = [];
  line.connect({ receive: (bytes) => sent.push(typeof bytes === "string" ? bytes : Buffer.from([...bytes]).toString("latin1")), receiveBreak() {}, setModemInputs() {} });
  const input = new FakeTerminal();
  const screen: string[] = [];
  const commands: TerminalCommand[] = [];
  const terminal = new TerminalAttachment(line, input, { write: (chunk) => screen.push(Buffer.from(chunk).toString("latin1")) }, (command) => {
    commands.push(command);
    if (command === "detach") terminal.detach();
  });
  terminal.attach();
  return { line, input, sent, screen, commands, terminal };
}

describe("a terminal on a VM's serial line", () => {
  it("puts the terminal in raw mode, sends keystrokes to the guest and shows its output", () => {
    const t = attached();
    expect(t.input.raw).toBe(true);
    t.input.type("ls\r");
    for (const ch of "bin\n") t.line.transmit(ch.charCodeAt(0));
    expect(t.sent.join("")).toBe("ls\r");
    expect(t.screen.join("")).toBe("bin\n");
  });

  it("takes Ctrl-] q / r / d as commands, Ctrl-] Ctrl-] as one Ctrl-], and swallows other keys after Ctrl-]", () => {
    const t = attached();
    t.input.type("a\x1dqb\x1dr\x1d\x1dc\x1dxd");
    expect(t.commands).toEqual(["powerOff", "reset"]);
    expect(t.sent.join("")).toBe("ab\x1dcd");
    t.input.type("\x1d");
    t.input.type("d");
    expect(t.commands).toEqual(["powerOff", "reset", "detach"]);
    expect(t.input.raw).toBe(false);
    t.input.type("after");
    for (const ch of "late") t.line.transmit(ch.charCodeAt(0));
    t.line.flush();
    expect(t.sent.join("")).toBe("ab\x1dcd");
    expect(t.screen.join("")).toBe("");
  });

  it("keeps what the guest printed before anyone attached in the scrollback", () => {
    const line = new SerialConsoleLine(8);
    for (const ch of "0123456789") line.transmit(ch.charCodeAt(0));
    expect(Buffer.from(line.scrollback()).toString()).toBe("23456789");
  });
});
