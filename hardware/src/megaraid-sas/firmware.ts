import type { TimerHandle } from "@vmk/kernel";
import { MFI_STATE_MAX_COMMANDS_MASK, MFI_STATE_MAX_SGE_SHIFT, MfiDoorbell, MfiState } from "./registers.js";
import { NOT_ARMED, type MegaRaidState } from "./state.js";

export interface FirmwareHost {
  now(): number;
  schedule(delay: number, callback: () => void, label: string): TimerHandle | undefined;
  /** Every accepted command is dropped without a reply: posted frames, commands at drives, event waits. */
  abandonCommands(): void;
  /** The reply queue description is forgotten. */
  forgetReplyQueue(): void;
  /** The firmware changed state on its own (boot finished, fault): latch the state-change interrupt. */
  announceStateChange(): void;
  bootCompleted(): void;
}

export interface FirmwareLimits {
  maxCommands: number;
  maxSge: number;
  /** Time from power-on to the end of FW_INIT. */
  bootNs: number;
  /** Cold boot without an option ROM: the firmware waits in WAIT_HANDSHAKE for the host. */
  waitForHandshake: boolean;
}

/** UNDEFINED lasts this long after power-on before the firmware reports FW_INIT. */
const POWER_ON_NS = 1_000_000;

/**
 * The firmware state machine seen through the status word: power-on (UNDEFINED), FW_INIT, then READY
 * or WAIT_HANDSHAKE; INIT frames take READY to OPERATIONAL; doorbell bits move it back (READY), abort
 * commands (ABORT), stop it (FAULT) or restart it (ADAPTER_RESET).
 */
export class Firmware {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly state: MegaRaidState,
    private readonly limits: FirmwareLimits,
    private readonly host: FirmwareHost,
  ) {}

  get current(): number {
    return this.state.firmwareState;
  }

  /** The status word (outbound message 0 / scratch pad 0): state, and the limits once the firmware is up. */
  statusWord(): number {
    const state = this.state.firmwareState;
    if (state !== MfiState.READY && state !== MfiState.OPERATIONAL) return state >>> 0;
    return (state | ((this.limits.maxSge & 0xff) << MFI_STATE_MAX_SGE_SHIFT) | (this.limits.maxCommands & MFI_STATE_MAX_COMMANDS_MASK)) >>> 0;
  }

  /** Power-on or adapter reset: everything stops and the boot starts over. */
  powerOn(): void {
    this.host.abandonCommands();
    this.host.forgetReplyQueue();
    this.state.firmwareState = MfiState.UNDEFINED;
    this.state.bootStage = "power-on";
    this.arm(POWER_ON_NS);
  }

  writeDoorbell(value: number): void {
    if (value & MfiDoorbell.ADAPTER_RESET) {
      this.state.epoch++;
      this.powerOn();
      return;
    }
    if (value & MfiDoorbell.STOP_ADAPTER) {
      this.fault();
      return;
    }
    if (value & MfiDoorbell.ABORT) this.host.abandonCommands();
    if (value & MfiDoorbell.READY && (this.current === MfiState.OPERATIONAL || this.current === MfiState.READY)) {
      this.host.abandonCommands();
      this.host.forgetReplyQueue();
      this.state.firmwareState = MfiState.READY;
    }
    if (value & MfiDoorbell.CLEAR_HANDSHAKE && this.current === MfiState.WAIT_HANDSHAKE) this.state.firmwareState = MfiState.READY;
  }

  /** A valid INIT frame was taken. */
  enterOperational(): void {
    this.state.firmwareState = MfiState.OPERATIONAL;
  }

  fault(): void {
    this.host.abandonCommands();
    this.cancel();
    this.state.bootDeadline = NOT_ARMED;
    this.state.firmwareState = MfiState.FAULT;
    this.host.announceStateChange();
  }

  /** Re-arms the boot timer from the state (after attach or restore). */
  sync(): void {
    this.cancel();
    if (this.state.bootDeadline === NOT_ARMED) return;
    this.timer = this.host.schedule(Math.max(0, this.state.bootDeadline - this.host.now()), () => this.advanceBoot(), "megaraid-sas firmware boot");
  }

  release(): void {
    this.cancel();
  }

  private arm(delay: number): void {
    this.state.bootDeadline = this.host.now() + delay;
    this.sync();
  }

  private advanceBoot(): void {
    this.timer = undefined;
    this.state.bootDeadline = NOT_ARMED;
    if (this.state.bootStage === "power-on") {
      this.state.bootStage = "initializing";
      this.state.firmwareState = MfiState.FW_INIT;
      this.arm(Math.max(0, this.limits.bootNs - POWER_ON_NS));
      return;
    }
    this.state.bootStage = "booted";
    this.state.bootedAt = this.host.now();
    this.state.firmwareState = this.limits.waitForHandshake ? MfiState.WAIT_HANDSHAKE : MfiState.READY;
    this.host.bootCompleted();
    this.host.announceStateChange();
  }

  private cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
