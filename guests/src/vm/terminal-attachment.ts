import type { VmConsoleLine } from "@vmk/kernel";

/** Ctrl-]: the escape character, as telnet and `virsh console` use it. */
export const ESCAPE_BYTE = 0x1d;

/** What the user can ask for after the escape character. */
export type TerminalCommand = "powerOff" | "detach" | "reset";

const COMMAND_KEYS: Record<string, TerminalCommand> = { q: "powerOff", d: "detach", r: "reset" };

/** A terminal's input side: process.stdin or anything shaped like it. */
export interface TerminalInput {
  on(event: "data", listener: (chunk: Uint8Array | string) => void): unknown;
  off(event: "data", listener: (chunk: Uint8Array | string) => void): unknown;
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  resume?(): unknown;
  pause?(): unknown;
}

export interface TerminalOutput {
  write(chunk: Uint8Array | string): unknown;
}

export const TERMINAL_HELP =
  "Escape character is Ctrl-]. Then: q power off, d detach (the VM keeps running), r reset, Ctrl-] sends Ctrl-] itself.";

/**
 * A terminal attached to a VM's serial line: raw keystrokes to the guest, the guest's output to the
 * screen. Ctrl-] starts a command (q, d, r); Ctrl-] twice sends one Ctrl-] to the guest; any other
 * key after Ctrl-] is swallowed with it, so a mistyped command never reaches the guest.
 */
export class TerminalAttachment {
  private escaped = false;
  private attached = false;
  private detachOutput: (() => void) | undefined;
  private wasRaw = false;
  private readonly onData = (chunk: Uint8Array | string) => this.typed(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);

  constructor(
    private readonly line: VmConsoleLine,
    private readonly input: TerminalInput,
    private readonly output: TerminalOutput,
    private readonly onCommand: (command: TerminalCommand) => void,
  ) {}

  attach(): void {
    if (this.attached) return;
    this.attached = true;
    if (this.input.isTTY && this.input.setRawMode) {
      this.input.setRawMode(true);
      this.wasRaw = true;
    }
    this.input.on("data", this.onData);
    this.input.resume?.();
    this.detachOutput = this.line.onOutput((bytes) => this.output.write(bytes));
  }

  /** Gives the terminal back: cooked mode again, no more forwarding either way. */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.input.off("data", this.onData);
    this.input.pause?.();
    if (this.wasRaw) this.input.setRawMode?.(false);
    this.wasRaw = false;
    this.detachOutput?.();
    this.detachOutput = undefined;
  }

  private typed(bytes: Uint8Array): void {
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (this.escaped) {
        this.escaped = false;
        start = i + 1;
        if (byte === ESCAPE_BYTE) {
          this.line.send(Uint8Array.of(ESCAPE_BYTE));
          continue;
        }
        const command = COMMAND_KEYS[String.fromCharCode(byte).toLowerCase()];
        if (command) {
          this.onCommand(command);
          if (!this.attached) return;
        }
        continue;
      }
      if (byte === ESCAPE_BYTE) {
        if (i > start) this.line.send(bytes.slice(start, i));
        this.escaped = true;
        start = i + 1;
      }
    }
    if (start < bytes.length) this.line.send(bytes.slice(start));
  }
}
