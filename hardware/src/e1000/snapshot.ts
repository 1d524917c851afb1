import type { PciConfigSnapshot, PciConfigSpace } from "@vmk/kernel";
import type { MicrowireState } from "./eeprom.js";
import {
  E1000_STATE_VERSION,
  NOT_ARMED,
  type E1000Diagnostics,
  type E1000State,
  type TxContext,
} from "./state.js";
import type { E1000VariantName } from "./variants.js";

/**
 * A saved 8254x: JSON-safe plain data. Timer deadlines are stored as time remaining, so the device
 * resumes on a host whose clock reads differently (VMotion).
 */
export interface E1000Snapshot {
  version: typeof E1000_STATE_VERSION;
  variant: E1000VariantName;
  config: PciConfigSnapshot;
  /** Non-zero registers as [dword index, value] pairs. */
  registers: [number, number][];
  eeprom: number[];
  microwire: MicrowireState;
  phy: {
    registers: number[];
    linkUp: boolean;
    linkLatchedDown: boolean;
    autonegComplete: boolean;
    linkRemainingNs: number;
    heldInReset: boolean;
    interruptStatus: number;
  };
  carrier: boolean;
  macLinkUp: boolean;
  ioAddress: number;
  interruptAsserted: boolean;
  interruptAllowedInNs: number;
  timersRemainingNs: { throttle: number; rxPacket: number; rxAbsolute: number; txPacket: number; txAbsolute: number };
  txContext: TxContext;
  txPacket: {
    bytes: number[];
    descriptors: number;
    failed: boolean;
    popts: number;
    tse: boolean;
    extended: boolean;
    interruptDelay: boolean;
    reportAddresses: number[];
  };
  diagnostics: E1000Diagnostics;
}

const remaining = (deadline: number, now: number): number => (deadline === NOT_ARMED ? NOT_ARMED : Math.max(0, deadline - now));
const deadline = (remainingNs: number, now: number): number => (remainingNs === NOT_ARMED ? NOT_ARMED : now + remainingNs);

export function takeSnapshot(state: E1000State, config: PciConfigSpace, variant: E1000VariantName, now: number): E1000Snapshot {
  const registers: [number, number][] = [];
  state.regs.forEach((value, index) => {
    if (value !== 0) registers.push([index, value]);
  });
  const packet = state.txPacket;
  return {
    version: E1000_STATE_VERSION,
    variant,
    config: config.snapshot(),
    registers,
    eeprom: Array.from(state.eeprom),
    microwire: { ...state.microwire },
    phy: {
      registers: Array.from(state.phy.regs),
      linkUp: state.phy.linkUp,
      linkLatchedDown: state.phy.linkLatchedDown,
      autonegComplete: state.phy.autonegComplete,
      linkRemainingNs: remaining(state.phy.linkDeadline, now),
      heldInReset: state.phy.heldInReset,
      interruptStatus: state.phy.interruptStatus,
    },
    carrier: state.carrier,
    macLinkUp: state.macLinkUp,
    ioAddress: state.ioAddress,
    interruptAsserted: state.interruptAsserted,
    interruptAllowedInNs: Math.max(0, state.interruptAllowedAt - now),
    timersRemainingNs: {
      throttle: remaining(state.throttledUntil, now),
      rxPacket: remaining(state.rxPacketTimer, now),
      rxAbsolute: remaining(state.rxAbsoluteTimer, now),
      txPacket: remaining(state.txPacketTimer, now),
      txAbsolute: remaining(state.txAbsoluteTimer, now),
    },
    txContext: { ...state.txContext },
    txPacket: {
      bytes: Array.from(state.txBuffer.subarray(0, packet.length)),
      descriptors: packet.descriptors,
      failed: packet.failed,
      popts: packet.popts,
      tse: packet.tse,
      extended: packet.extended,
      interruptDelay: packet.interruptDelay,
      reportAddresses: [...packet.reportAddresses],
    },
    diagnostics: { ...state.diagnostics },
  };
}

/** Copies a snapshot into the live state (typed arrays are filled in place: components hold them). */
export function restoreSnapshot(state: E1000State, config: PciConfigSpace, snapshot: E1000Snapshot, now: number): void {
  if (snapshot.version !== E1000_STATE_VERSION) throw new Error(`e1000: unsupported snapshot version ${String(snapshot.version)}`);
  if (snapshot.eeprom.length !== state.eeprom.length || snapshot.phy.registers.length !== state.phy.regs.length) {
    throw new Error("e1000: snapshot does not match the device layout");
  }
  config.restore(snapshot.config);
  state.regs.fill(0);
  for (const [index, value] of snapshot.registers) {
    if (index >= 0 && index < state.regs.length) state.regs[index] = value;
  }
  state.eeprom.set(snapshot.eeprom);
  Object.assign(state.microwire, snapshot.microwire);
  const phy = state.phy;
  phy.regs.set(snapshot.phy.registers);
  phy.linkUp = snapshot.phy.linkUp;
  phy.linkLatchedDown = snapshot.phy.linkLatchedDown;
  phy.autonegComplete = snapshot.phy.autonegComplete;
  phy.linkDeadline = deadline(snapshot.phy.linkRemainingNs, now);
  phy.heldInReset = snapshot.phy.heldInReset;
  phy.interruptStatus = snapshot.phy.interruptStatus;
  state.carrier = snapshot.carrier;
  state.macLinkUp = snapshot.macLinkUp;
  state.ioAddress = snapshot.ioAddress;
  state.interruptAsserted = snapshot.interruptAsserted;
  state.interruptAllowedAt = now + snapshot.interruptAllowedInNs;
  state.throttledUntil = deadline(snapshot.timersRemainingNs.throttle, now);
  state.rxPacketTimer = deadline(snapshot.timersRemainingNs.rxPacket, now);
  state.rxAbsoluteTimer = deadline(snapshot.timersRemainingNs.rxAbsolute, now);
  state.txPacketTimer = deadline(snapshot.timersRemainingNs.txPacket, now);
  state.txAbsoluteTimer = deadline(snapshot.timersRemainingNs.txAbsolute, now);
  Object.assign(state.txContext, snapshot.txContext);
  const packet = state.txPacket;
  const bytes = snapshot.txPacket.bytes;
  if (state.txBuffer.length < bytes.length) state.txBuffer = new Uint8Array(bytes.length);
  state.txBuffer.set(bytes);
  packet.length = bytes.length;
  packet.descriptors = snapshot.txPacket.descriptors;
  packet.failed = snapshot.txPacket.failed;
  packet.popts = snapshot.txPacket.popts;
  packet.tse = snapshot.txPacket.tse;
  packet.extended = snapshot.txPacket.extended;
  packet.interruptDelay = snapshot.txPacket.interruptDelay;
  packet.reportAddresses = [...snapshot.txPacket.reportAddresses];
  Object.assign(state.diagnostics, snapshot.diagnostics);
}
