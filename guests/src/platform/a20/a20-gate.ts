export const A20_GATE_STATE_VERSION = 1;

export interface A20GateState {
  version: typeof A20_GATE_STATE_VERSION;
  /** The i8042 output port's A20 bit (command 0xD1). */
  keyboardController: boolean;
  /** System control port A (0x92) bit 1, "fast A20". */
  fastGate: boolean;
}

export type A20Source = "keyboardController" | "fastGate";

/**
 * The A20 mask the CPU applies to physical addresses. The chipset ORs its two controls: the
 * keyboard controller's output port and port 0x92. While the gate is closed, address bit 20 reads
 * as zero, so the 8086's 1 MiB wrap-around comes back.
 */
export class A20Gate {
  private state: A20GateState = { version: A20_GATE_STATE_VERSION, keyboardController: false, fastGate: false };
  private readonly listeners: ((enabled: boolean) => void)[] = [];

  get a20Enabled(): boolean {
    return this.state.keyboardController || this.state.fastGate;
  }

  /** Calls `listener` whenever `a20Enabled` changes (the CPU flushes its TLB and address mask there). */
  onChange(listener: (enabled: boolean) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  set(source: A20Source, enabled: boolean): void {
    this.update(() => (this.state[source] = enabled));
  }

  saveState(): A20GateState {
    return { ...this.state };
  }

  restoreState(state: A20GateState): void {
    if (state.version !== A20_GATE_STATE_VERSION) throw new Error(`A20 gate state version ${state.version} is not ${A20_GATE_STATE_VERSION}`);
    this.update(() => (this.state = { ...state }));
  }

  private update(change: () => void): void {
    const before = this.a20Enabled;
    change();
    const after = this.a20Enabled;
    if (after !== before) for (const listener of [...this.listeners]) listener(after);
  }
}
