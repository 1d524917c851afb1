import { REGISTER_DWORDS } from "./registers.js";
import type { PhyState } from "./phy.js";
import type { MicrowireState } from "./eeprom.js";

export const E1000_STATE_VERSION = 1;
export const EEPROM_WORDS = 64;
export const PHY_REGISTERS = 32;
/** A timer deadline that is not armed. */
export const NOT_ARMED = -1;

/** The offload parameters a context descriptor loads (SDM 3.3.6); they stay until the next context. */
export interface TxContext {
  ipcss: number;
  ipcso: number;
  ipcse: number;
  tucss: number;
  tucso: number;
  tucse: number;
  paylen: number;
  tucmd: number;
  hdrlen: number;
  mss: number;
}

/** A packet whose descriptors have been fetched up to, but not including, its EOP descriptor. */
export interface TxPacketState {
  /** Bytes gathered so far (kept in E1000State.txBuffer). */
  length: number;
  /** Descriptors seen for this packet; 0 means no packet in progress. */
  descriptors: number;
  /** A buffer could not be fetched: the packet is dropped at EOP. */
  failed: boolean;
  /** POPTS of the first data descriptor / TSE / IDE / extended-vs-legacy of the packet. */
  popts: number;
  tse: boolean;
  extended: boolean;
  interruptDelay: boolean;
  /** Bus addresses of descriptors with RS whose DD is written back once the packet is sent. */
  reportAddresses: number[];
}

/** Device-internal error counters: not registers, exposed for tests and diagnostics. */
export interface E1000Diagnostics {
  /** Every DMA the port refused (descriptor fetch, buffer read or write, write-back). */
  dmaErrors: number;
  /** Received frames dropped because a descriptor or buffer could not be reached. */
  rxDmaDrops: number;
  /** Transmit packets dropped because a descriptor or buffer could not be reached. */
  txDmaDrops: number;
  /** Frames the MAC sent while it had no link (or no medium): lost on the wire. */
  txNoLinkDrops: number;
  /** Frames from the wire that arrived with the receiver disabled or without link. */
  rxDisabledDrops: number;
  /** Malformed TSO contexts (also counted in TSCTFC). */
  tsoFailures: number;
}

/**
 * Everything the 8254x remembers, as plain data. Typed arrays are in place so hot paths index them
 * directly; restore copies into them rather than replacing them.
 */
export interface E1000State {
  version: typeof E1000_STATE_VERSION;
  /** The MMIO register file by dword index; registers with side effects keep their stored part here. */
  regs: Uint32Array;
  eeprom: Uint16Array;
  microwire: MicrowireState;
  phy: PhyState;
  /** The medium reports carrier. */
  carrier: boolean;
  /** STATUS.LU as last reported, for link-change (LSC) edges. */
  macLinkUp: boolean;
  /** IOADDR of the I/O BAR window. */
  ioAddress: number;
  interruptAsserted: boolean;
  /** Earliest time ITR lets the interrupt assert again. */
  interruptAllowedAt: number;
  /** A cause is pending but ITR holds the line down until this time. */
  throttledUntil: number;
  rxPacketTimer: number;
  rxAbsoluteTimer: number;
  txPacketTimer: number;
  txAbsoluteTimer: number;
  txContext: TxContext;
  txPacket: TxPacketState;
  txBuffer: Uint8Array;
  diagnostics: E1000Diagnostics;
}

export function createTxContext(): TxContext {
  return { ipcss: 0, ipcso: 0, ipcse: 0, tucss: 0, tucso: 0, tucse: 0, paylen: 0, tucmd: 0, hdrlen: 0, mss: 0 };
}

export function createTxPacket(): TxPacketState {
  return { length: 0, descriptors: 0, failed: false, popts: 0, tse: false, extended: false, interruptDelay: false, reportAddresses: [] };
}

export function createDiagnostics(): E1000Diagnostics {
  return { dmaErrors: 0, rxDmaDrops: 0, txDmaDrops: 0, txNoLinkDrops: 0, rxDisabledDrops: 0, tsoFailures: 0 };
}

export function createState(microwire: MicrowireState, phy: PhyState): E1000State {
  return {
    version: E1000_STATE_VERSION,
    regs: new Uint32Array(REGISTER_DWORDS),
    eeprom: new Uint16Array(EEPROM_WORDS),
    microwire,
    phy,
    carrier: false,
    macLinkUp: false,
    ioAddress: 0,
    interruptAsserted: false,
    interruptAllowedAt: 0,
    throttledUntil: NOT_ARMED,
    rxPacketTimer: NOT_ARMED,
    rxAbsoluteTimer: NOT_ARMED,
    txPacketTimer: NOT_ARMED,
    txAbsoluteTimer: NOT_ARMED,
    txContext: createTxContext(),
    txPacket: createTxPacket(),
    txBuffer: new Uint8Array(16384),
    diagnostics: createDiagnostics(),
  };
}
