import type { Clock } from "@vmk/kernel";
import type { Pit } from "../pit/pit.js";
import { PortRegisterFile } from "../port-register-file.js";

export const SYSTEM_CONTROL_B_STATE_VERSION = 1;

export interface SystemControlPortBState {
  version: typeof SYSTEM_CONTROL_B_STATE_VERSION;
  /** The read/write bits 0-3. */
  control: number;
}

const TIMER2_GATE = 0x01;
const SPEAKER_DATA = 0x02;
const PARITY_CHECK_ENABLE = 0x04;
const CHANNEL_CHECK_ENABLE = 0x08;
const REFRESH_TOGGLE = 0x10;
const TIMER2_OUT = 0x20;
const WRITABLE = TIMER2_GATE | SPEAKER_DATA | PARITY_CHECK_ENABLE | CHANNEL_CHECK_ENABLE;
/** The DRAM refresh request period (counter 1 programmed to 18 by every PC BIOS). */
const REFRESH_PERIOD_NS = 15_085;

export interface SystemControlPortBOptions {
  clock: Clock;
  pit: Pit;
  /** The speaker sounds while both bit 0 (counter 2 gate) and bit 1 (speaker data) are set. */
  onSpeaker?: (enabled: boolean) => void;
}

/**
 * Port 0x61, the PIIX "NMI status and control" register (system control port B of the AT): counter 2
 * gate and speaker enable, counter 2's OUT, the refresh toggle software uses for short delays, and
 * the NMI source status bits (no parity or channel errors happen here, so they read zero).
 */
export class SystemControlPortB {
  readonly ports: PortRegisterFile;
  private control = 0;

  constructor(private readonly options: SystemControlPortBOptions) {
    this.ports = PortRegisterFile.fromTable([
      { name: "NMI status and control", read: () => this.read(), write: (value) => this.write(value) },
    ]);
  }

  reset(): void {
    this.write(0);
  }

  saveState(): SystemControlPortBState {
    return { version: SYSTEM_CONTROL_B_STATE_VERSION, control: this.control };
  }

  restoreState(state: SystemControlPortBState): void {
    if (state.version !== SYSTEM_CONTROL_B_STATE_VERSION) throw new Error(`port 0x61 state version ${state.version} is not ${SYSTEM_CONTROL_B_STATE_VERSION}`);
    this.control = state.control & WRITABLE;
  }

  private read(): number {
    const refresh = Math.floor(this.options.clock.now() / REFRESH_PERIOD_NS) & 1 ? REFRESH_TOGGLE : 0;
    const out2 = this.options.pit.out(2) ? TIMER2_OUT : 0;
    return this.control | refresh | out2;
  }

  private write(value: number): void {
    const before = this.control;
    this.control = value & WRITABLE;
    // Counter 2's gate is wired to bit 0; the PIT itself keeps the gate level in its own state.
    this.options.pit.setGate(2, (this.control & TIMER2_GATE) !== 0);
    const speaker = (this.control & (TIMER2_GATE | SPEAKER_DATA)) === (TIMER2_GATE | SPEAKER_DATA);
    if (speaker !== ((before & (TIMER2_GATE | SPEAKER_DATA)) === (TIMER2_GATE | SPEAKER_DATA))) this.options.onSpeaker?.(speaker);
  }
}
