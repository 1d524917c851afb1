import type { ControllerEvent, EventWaiter, MegaRaidState } from "./state.js";

export const EventCode = {
  CTRL_SHUTDOWN: 0x002a,
  PD_INSERTED: 0x005b,
  PD_REMOVED: 0x0070,
  LD_CREATED: 0x008a,
  LD_DELETED: 0x008b,
} as const;

export const EventLocale = { LD: 0x0001, PD: 0x0002, CTRL: 0x0020, ALL: 0xffff } as const;
export const EventClass = { DEBUG: -2, PROGRESS: -1, INFO: 0, WARNING: 1, CRITICAL: 2, FATAL: 3, DEAD: 4 } as const;
export const EventArgs = { NONE: 0x00, LD: 0x02, PD: 0x0a } as const;

/** struct megasas_evt_detail: 32 bytes of header, 96 of arguments, 128 of description. */
export const EVENT_DETAIL_SIZE = 256;
/** struct megasas_evt_log_info: newest, oldest, clear, shutdown and boot sequence numbers. */
export const EVENT_LOG_INFO_SIZE = 20;
const EVENT_ARGS_OFFSET = 32;
const EVENT_DESCRIPTION_OFFSET = 128;
const EVENT_DESCRIPTION_SIZE = 128;
/** The firmware keeps this many events; older ones fall off (the oldest sequence number moves). */
const EVENT_LOG_CAPACITY = 512;

export interface EventLogHost {
  now(): number;
  /** An event satisfied a pending CTRL_EVENT_WAIT. */
  deliver(waiter: EventWaiter, detail: Uint8Array): void;
}

/**
 * The firmware event log and the asynchronous event notification built on it: CTRL_EVENT_WAIT
 * pends until an event at or after the requested sequence number, of at least the requested class,
 * in one of the requested locales, is logged.
 */
export class EventLog {
  constructor(
    private readonly state: MegaRaidState,
    private readonly host: EventLogHost,
  ) {}

  record(code: number, locale: number, eventClass: number, argType: number, args: Uint8Array, description: string): ControllerEvent {
    const seconds = Math.floor(Math.max(0, this.host.now() - this.state.bootedAt) / 1e9);
    const event: ControllerEvent = {
      sequence: this.state.nextEventSequence++,
      timeStamp: (0xff000000 | (seconds & 0xffffff)) >>> 0,
      code,
      locale,
      eventClass,
      argType,
      args: Array.from(args.subarray(0, 96)),
      description,
    };
    this.state.events.push(event);
    if (this.state.events.length > EVENT_LOG_CAPACITY) this.state.events.shift();
    const waiters = this.state.eventWaiters.filter((waiter) => matches(event, waiter));
    this.state.eventWaiters = this.state.eventWaiters.filter((waiter) => !waiters.includes(waiter));
    for (const waiter of waiters) this.host.deliver(waiter, encodeDetail(event));
    return event;
  }

  get newestSequence(): number {
    return this.state.nextEventSequence - 1;
  }

  markShutdown(): void {
    this.state.shutdownSequence = this.newestSequence;
  }

  markBoot(): void {
    this.state.bootSequence = this.newestSequence;
  }

  /** CTRL_EVENT_GET_INFO data. */
  info(): Uint8Array {
    const bytes = new Uint8Array(EVENT_LOG_INFO_SIZE);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, this.newestSequence, true);
    view.setUint32(4, this.state.events[0]?.sequence ?? this.state.nextEventSequence, true);
    view.setUint32(8, this.state.clearSequence, true);
    view.setUint32(12, this.state.shutdownSequence, true);
    view.setUint32(16, this.state.bootSequence, true);
    return bytes;
  }

  /** CTRL_EVENT_WAIT: the detail of a logged event that already satisfies it, else the waiter is parked. */
  wait(waiter: EventWaiter): Uint8Array | undefined {
    const event = this.state.events.find((candidate) => matches(candidate, waiter));
    if (event) return encodeDetail(event);
    this.state.eventWaiters.push(waiter);
    return undefined;
  }

  /** CTRL_EVENT_GET: struct mfi_evt_list of the matching events from `sequence` on, as many as fit. */
  list(sequence: number, locale: number, eventClass: number, capacityBytes: number): Uint8Array {
    const room = Math.max(0, Math.floor((capacityBytes - 8) / EVENT_DETAIL_SIZE));
    const filter = { sequence, locale, eventClass } as EventWaiter;
    const events = this.state.events.filter((event) => matches(event, filter)).slice(0, room);
    const bytes = new Uint8Array(8 + events.length * EVENT_DETAIL_SIZE);
    new DataView(bytes.buffer).setUint32(0, events.length, true);
    events.forEach((event, i) => bytes.set(encodeDetail(event), 8 + i * EVENT_DETAIL_SIZE));
    return bytes;
  }
}

function matches(event: ControllerEvent, filter: Pick<EventWaiter, "sequence" | "locale" | "eventClass">): boolean {
  return event.sequence >= filter.sequence && event.eventClass >= filter.eventClass && (event.locale & filter.locale) !== 0;
}

export function encodeDetail(event: ControllerEvent): Uint8Array {
  const bytes = new Uint8Array(EVENT_DETAIL_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, event.sequence, true);
  view.setUint32(4, event.timeStamp, true);
  view.setUint32(8, event.code, true);
  view.setUint16(12, event.locale, true);
  view.setInt8(15, event.eventClass);
  bytes[16] = event.argType;
  bytes.set(event.args, EVENT_ARGS_OFFSET);
  const text = new TextEncoder().encode(event.description).subarray(0, EVENT_DESCRIPTION_SIZE - 1);
  bytes.set(text, EVENT_DESCRIPTION_OFFSET);
  return bytes;
}

/** The class/locale word of the CTRL_EVENT_WAIT mailbox: locale in the low 16 bits, signed class in the top byte. */
export function decodeClassLocale(word: number): { locale: number; eventClass: number } {
  return { locale: word & 0xffff, eventClass: (word << 0) >> 24 };
}

/** Argument bytes for an LD event (struct MR_EVT_LD: target ID, LD index). */
export function logicalDriveArgs(targetId: number): Uint8Array {
  const args = new Uint8Array(96);
  args[0] = targetId & 0xff;
  args[1] = targetId >> 8;
  args[2] = targetId;
  return args;
}

/** Argument bytes for a PD event (struct MR_EVT_PD: device ID, enclosure index, slot). */
export function physicalDriveArgs(deviceId: number, slot: number): Uint8Array {
  const args = new Uint8Array(96);
  args[0] = deviceId & 0xff;
  args[1] = deviceId >> 8;
  args[2] = 0;
  args[3] = slot;
  return args;
}
