import {
  PPC_REPLY_INTERRUPT,
  PPC_STATE_CHANGE_INTERRUPT,
  XSCALE_REPLY_INTERRUPT,
  XSCALE_STATE_CHANGE_INTERRUPT,
} from "./registers.js";
import type { MegaRaidState } from "./state.js";
import type { RegisterFlavour } from "./variants.js";

/**
 * The outbound interrupt: cause bits latched by the firmware, cleared by the host writing ones, gated
 * by the outbound interrupt mask (a set bit masks its cause). The line follows "any unmasked cause".
 */
export class OutboundInterrupts {
  readonly replyBit: number;
  readonly stateChangeBit: number;

  constructor(
    private readonly state: MegaRaidState,
    flavour: RegisterFlavour,
    private readonly setLine: (asserted: boolean) => void,
  ) {
    this.replyBit = flavour === "ppc" ? PPC_REPLY_INTERRUPT : XSCALE_REPLY_INTERRUPT;
    this.stateChangeBit = flavour === "ppc" ? PPC_STATE_CHANGE_INTERRUPT : XSCALE_STATE_CHANGE_INTERRUPT;
  }

  get causes(): number {
    return this.state.interruptStatus >>> 0;
  }

  raise(bits: number): void {
    this.state.interruptStatus = (this.state.interruptStatus | bits) >>> 0;
    this.update();
  }

  clear(bits: number): void {
    this.state.interruptStatus = (this.state.interruptStatus & ~bits) >>> 0;
    this.update();
  }

  setMask(mask: number): void {
    this.state.outboundInterruptMask = mask >>> 0;
    this.update();
  }

  /** Drops every cause (firmware reset); the mask keeps its value. */
  reset(): void {
    this.state.interruptStatus = 0;
    this.update();
  }

  /** Re-drives the line from the state, for restore. */
  resync(): void {
    this.setLine(this.state.interruptAsserted);
  }

  private update(): void {
    const asserted = (this.state.interruptStatus & ~this.state.outboundInterruptMask) !== 0;
    if (asserted === this.state.interruptAsserted) return;
    this.state.interruptAsserted = asserted;
    this.setLine(asserted);
  }
}
