import { MfiState } from "./registers.js";

export const MEGARAID_STATE_VERSION = 1;
/** A deadline that is not armed. */
export const NOT_ARMED = -1;

/** Where the firmware is in its boot after power-on or an adapter reset. */
export type BootStage = "power-on" | "initializing" | "booted";

/** The reply queue the INIT frame described (struct megasas_init_queue_info). */
export interface ReplyQueueState {
  entries: number;
  address: number;
  producerAddress: number;
  consumerAddress: number;
  context64: boolean;
  /** Next slot the firmware fills; mirrored to host memory at `producerAddress`. */
  producer: number;
}

/** A frame posted to the inbound queue port and not yet fetched. */
export interface PostedFrame {
  address: number;
  /** Frame count the host encoded with the address. */
  count: number;
}

/** A 64-bit context as two 32-bit halves, so snapshots stay exact JSON. */
export interface FrameContext {
  low: number;
  high: number;
}

/** A command the firmware accepted and has not completed: waiting on a logical unit or on an event. */
export interface InFlightCommand {
  id: number;
  frameAddress: number;
  context: FrameContext;
  command: number;
  flags: number;
  /** "io": at a logical unit; "dcmd": a management command gathering data from drives. */
  kind: "io" | "dcmd";
}

/** A pending CTRL_EVENT_WAIT: completes when an event at or after `sequence` matches class and locale. */
export interface EventWaiter {
  id: number;
  frameAddress: number;
  context: FrameContext;
  flags: number;
  sequence: number;
  locale: number;
  /** Minimum event class (signed: -2 debug .. 4 dead). */
  eventClass: number;
  /** The data buffer (bus address, length) the event detail goes to. */
  sgl: [number, number][];
}

/** One entry of the firmware event log (what CTRL_EVENT_WAIT / CTRL_EVENT_GET return as mfi_evt_detail). */
export interface ControllerEvent {
  sequence: number;
  /** Firmware time stamp: 0xff000000 | seconds since boot, the form used before the host sets the clock. */
  timeStamp: number;
  code: number;
  locale: number;
  eventClass: number;
  argType: number;
  /** The 96-byte argument union, little-endian bytes. */
  args: number[];
  description: string;
}

/** What READ CAPACITY last reported for a logical drive. */
export interface DriveGeometry {
  blockSize: number;
  blocks: number;
}

/** Device-internal error counters, for tests and diagnostics. */
export interface MegaRaidDiagnostics {
  /** DMA the port refused (frames, SGLs, sense, queue). */
  dmaErrors: number;
  /** Frames dropped because even their header could not be fetched, or posted in a state that takes none. */
  framesDropped: number;
  /** Frames completed with a status rejecting them as malformed (bad command, SGL, lengths). */
  framesRejected: number;
  /** Replies that waited because the reply queue was full. */
  replyQueueStalls: number;
  /** Replies that could not be written to the reply queue or its producer index. */
  repliesLost: number;
  /** Commands abandoned by a reset, an abort doorbell or a restore. */
  commandsAbandoned: number;
}

export interface MegaRaidState {
  version: typeof MEGARAID_STATE_VERSION;
  firmwareState: MfiState;
  bootStage: BootStage;
  /** When the current boot stage ends (virtual ns), or NOT_ARMED. */
  bootDeadline: number;
  /** Time the firmware finished booting, for event time stamps. */
  bootedAt: number;
  /** Adapter resets since power-on. */
  epoch: number;
  inboundMessages: [number, number];
  inboundInterruptMask: number;
  outboundInterruptMask: number;
  /** Outbound interrupt causes: the xscale interrupt status register or the 1078 outbound doorbell. */
  interruptStatus: number;
  interruptAsserted: boolean;
  /** High half of a 64-bit frame address written to the 1078's high queue port. */
  frameAddressHigh: number;
  replyQueue: ReplyQueueState | null;
  postedFrames: PostedFrame[];
  /** Contexts completed while the reply queue was full, in completion order. */
  pendingReplies: FrameContext[];
  inFlight: InFlightCommand[];
  eventWaiters: EventWaiter[];
  events: ControllerEvent[];
  nextEventSequence: number;
  clearSequence: number;
  shutdownSequence: number;
  bootSequence: number;
  nextCommandId: number;
  geometry: Record<number, DriveGeometry>;
  /** The 64-byte controller properties block (CTRL_GET/SET_PROPERTIES). */
  properties: number[];
  diagnostics: MegaRaidDiagnostics;
}

export function createDiagnostics(): MegaRaidDiagnostics {
  return { dmaErrors: 0, framesDropped: 0, framesRejected: 0, replyQueueStalls: 0, repliesLost: 0, commandsAbandoned: 0 };
}

export function createState(properties: Uint8Array): MegaRaidState {
  return {
    version: MEGARAID_STATE_VERSION,
    firmwareState: MfiState.UNDEFINED,
    bootStage: "power-on",
    bootDeadline: NOT_ARMED,
    bootedAt: 0,
    epoch: 0,
    inboundMessages: [0, 0],
    inboundInterruptMask: 0,
    outboundInterruptMask: 0xffffffff,
    interruptStatus: 0,
    interruptAsserted: false,
    frameAddressHigh: 0,
    replyQueue: null,
    postedFrames: [],
    pendingReplies: [],
    inFlight: [],
    eventWaiters: [],
    events: [],
    nextEventSequence: 1,
    clearSequence: 0,
    shutdownSequence: 0,
    bootSequence: 0,
    nextCommandId: 1,
    geometry: {},
    properties: Array.from(properties),
    diagnostics: createDiagnostics(),
  };
}
