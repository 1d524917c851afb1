import type { A20Gate } from "../a20/a20-gate.js";
import { PortRegisterFile } from "../port-register-file.js";

export const SYSTEM_CONTROL_A_STATE_VERSION = 1;

export interface SystemControlPortAState {
  version: typeof SYSTEM_CONTROL_A_STATE_VERSION;
  value: number;
}

const FAST_RESET = 0x01;
const FAST_A20 = 0x02;
/** Bits 2-7 (security lock, disk activity LEDs on PS/2 machines) have no function on a PIIX PC. */
const WRITABLE = FAST_RESET | FAST_A20;

export interface SystemControlPortAOptions {
  a20: A20Gate;
  /** A 0 → 1 transition of bit 0 pulses the CPU's INIT: the VM resets its processor. */
  requestCpuReset: () => void;
}

/** PS/2 system control port A at 0x92: fast A20 gate and fast CPU reset. */
export class SystemControlPortA {
  readonly ports: PortRegisterFile;
  private value = 0;

  constructor(private readonly options: SystemControlPortAOptions) {
    this.ports = PortRegisterFile.fromTable([
      { name: "system control port A", read: () => this.value, write: (value) => this.write(value) },
    ]);
  }

  reset(): void {
    this.value = 0;
    this.options.a20.set("fastGate", false);
  }

  saveState(): SystemControlPortAState {
    return { version: SYSTEM_CONTROL_A_STATE_VERSION, value: this.value };
  }

  restoreState(state: SystemControlPortAState): void {
    if (state.version !== SYSTEM_CONTROL_A_STATE_VERSION) throw new Error(`port 0x92 state version ${state.version} is not ${SYSTEM_CONTROL_A_STATE_VERSION}`);
    this.value = state.value & WRITABLE;
  }

  private write(value: number): void {
    const before = this.value;
    this.value = value & WRITABLE;
    this.options.a20.set("fastGate", (this.value & FAST_A20) !== 0);
    if (!(before & FAST_RESET) && this.value & FAST_RESET) this.options.requestCpuReset();
  }
}
