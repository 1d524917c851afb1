import { inject, injectable } from "tsyringe";
import { KernelTokens, Tokens } from "../tokens.js";
import type { Clock } from "../clock/clock.js";
import type { KernelLog } from "../log/kernel-log.js";
import { runInDomain, type ExecutionDomain } from "../exec/execution-domain.js";

export enum IrqReturn {
  None = 0,
  Handled = 1,
}

export type InterruptHandler = (vector: number) => IrqReturn;

export interface HandlerOptions {
  name: string;
  /** Every handler on a shared line must ask for sharing (IRQF_SHARED). */
  shared?: boolean;
  domain?: ExecutionDomain;
}

interface Registration {
  readonly handler: InterruptHandler;
  readonly name: string;
  /** What a fault in the handler is charged as (made once, not per interrupt). */
  readonly activity: string;
  readonly shared: boolean;
  readonly domain: ExecutionDomain | undefined;
  count: number;
}

interface VectorState {
  handlers: Registration[];
  masked: boolean;
  /** An edge (MSI) that arrived while masked, delivered on unmask. */
  pending: boolean;
  deliveryScheduled: boolean;
  count: number;
  unhandled: number;
  /** INTx line feeding this vector, if any. */
  line?: number;
  kind: "intx" | "msi";
  /** The clock callback and label of a delivery, made once per vector. */
  readonly deliverNow: () => void;
  readonly deliveryLabel: string;
}

interface LineState {
  readonly gsi: number;
  readonly vector: number;
  /** Devices currently asserting the (wired-OR, level-triggered) line. */
  readonly asserters: Set<string>;
}

export interface VectorInfo {
  vector: number;
  kind: "intx" | "msi";
  line?: number;
  masked: boolean;
  count: number;
  unhandled: number;
  handlers: { name: string; count: number; shared: boolean }[];
}

/** An MSI message as a device writes it: address in the 0xFEEx_xxxx window, vector in the data. */
export interface MsiMessage {
  address: number;
  data: number;
}

export const MSI_ADDRESS_BASE = 0xfee00000;
const FIRST_INTX_VECTOR = 0x30;
const FIRST_MSI_VECTOR = 0x60;
const LAST_VECTOR = 0xef;
/** Linux's "nobody cared" rule: a level line that nobody claims this many times is shut off. */
const UNHANDLED_LIMIT = 1000;
/** A level line still asserted after its handlers ran is delivered again, up to this many times per batch. */
const LEVEL_REDELIVERY_LIMIT = 64;

/**
 * The host's interrupt controller (I/O APIC + local APIC, as the vmkernel sees them): INTx lines that
 * several devices can share, MSI messages, per-vector masking and a handler registry. Delivery is
 * deferred to the clock, so a device raising an interrupt in the middle of a register write never
 * re-enters the driver.
 */
@injectable()
export class InterruptController {
  private readonly vectors = new Map<number, VectorState>();
  private readonly lines = new Map<number, LineState>();
  private nextMsiVector = FIRST_MSI_VECTOR;
  private readonly freeMsiVectors: number[] = [];

  constructor(
    @inject(Tokens.Clock) private readonly clock: Clock,
    @inject(KernelTokens.KernelLog) private readonly log: KernelLog,
  ) {}

  /** The vector an INTx line (global system interrupt number) is routed to. */
  lineVector(gsi: number): number {
    return this.line(gsi).vector;
  }

  /** A device drives its INTx pin: level-triggered and wired-OR with the other devices on the line. */
  setLine(gsi: number, source: string, asserted: boolean): void {
    const line = this.line(gsi);
    const wasAsserted = line.asserters.size > 0;
    if (asserted) line.asserters.add(source);
    else line.asserters.delete(source);
    if (!wasAsserted && line.asserters.size > 0) this.scheduleDelivery(line.vector);
  }

  isLineAsserted(gsi: number): boolean {
    return (this.lines.get(gsi)?.asserters.size ?? 0) > 0;
  }

  allocateMsiVector(): number {
    const vector = this.freeMsiVectors.pop() ?? this.nextMsiVector++;
    if (vector > LAST_VECTOR) throw new Error("out of MSI vectors");
    this.vectorState(vector, "msi");
    return vector;
  }

  freeMsiVector(vector: number): void {
    const state = this.vectors.get(vector);
    if (!state || state.kind !== "msi") return;
    this.vectors.delete(vector);
    this.freeMsiVectors.push(vector);
  }

  /** The message a device must write to raise `vector`. */
  msiMessageFor(vector: number): MsiMessage {
    return { address: MSI_ADDRESS_BASE, data: vector };
  }

  /** A device's MSI write reached the interrupt controller. Returns false for a malformed message. */
  deliverMsi(message: MsiMessage): boolean {
    const vector = message.data & 0xff;
    if (Math.floor(message.address / 0x100000) !== MSI_ADDRESS_BASE / 0x100000 || vector < 0x10) {
      this.log.warn("irq", `dropped malformed MSI write: address 0x${message.address.toString(16)} data 0x${message.data.toString(16)}`);
      return false;
    }
    const state = this.vectors.get(vector);
    if (!state) {
      this.log.warn("irq", `MSI to unallocated vector 0x${vector.toString(16)} dropped`);
      return false;
    }
    if (state.masked) state.pending = true;
    else this.scheduleDelivery(vector);
    return true;
  }

  requestIrq(vector: number, handler: InterruptHandler, options: HandlerOptions): () => void {
    const state = this.vectors.get(vector);
    if (!state) throw new Error(`request_irq: vector 0x${vector.toString(16)} is not routed`);
    const shared = options.shared ?? false;
    if (state.handlers.length > 0 && (!shared || state.handlers.some((h) => !h.shared))) {
      throw new Error(`request_irq: vector 0x${vector.toString(16)} is busy (held by ${state.handlers.map((h) => h.name).join(", ")}) and not shareable`);
    }
    const registration: Registration = {
      handler,
      name: options.name,
      activity: `interrupt handler ${options.name} (vector 0x${vector.toString(16)})`,
      shared,
      domain: options.domain,
      count: 0,
    };
    state.handlers.push(registration);
    if (state.kind === "intx" && state.line !== undefined && this.isLineAsserted(state.line)) this.scheduleDelivery(vector);
    return () => this.freeIrq(vector, registration);
  }

  mask(vector: number): void {
    const state = this.vectors.get(vector);
    if (state) state.masked = true;
  }

  unmask(vector: number): void {
    const state = this.vectors.get(vector);
    if (!state) return;
    state.masked = false;
    if (state.pending || (state.kind === "intx" && state.line !== undefined && this.isLineAsserted(state.line))) this.scheduleDelivery(vector);
  }

  /** Removes every handler charged to `domain` (module unload or quarantine). */
  releaseDomain(domain: ExecutionDomain): number {
    let released = 0;
    for (const state of this.vectors.values()) {
      const before = state.handlers.length;
      state.handlers = state.handlers.filter((h) => h.domain !== domain);
      released += before - state.handlers.length;
    }
    return released;
  }

  info(): VectorInfo[] {
    return [...this.vectors.entries()]
      .sort(([a], [b]) => a - b)
      .map(([vector, s]) => ({
        vector,
        kind: s.kind,
        line: s.line,
        masked: s.masked,
        count: s.count,
        unhandled: s.unhandled,
        handlers: s.handlers.map((h) => ({ name: h.name, count: h.count, shared: h.shared })),
      }));
  }

  private freeIrq(vector: number, registration: Registration): void {
    const state = this.vectors.get(vector);
    if (state) state.handlers = state.handlers.filter((h) => h !== registration);
  }

  private line(gsi: number): LineState {
    let line = this.lines.get(gsi);
    if (!line) {
      if (!Number.isInteger(gsi) || gsi < 0 || FIRST_INTX_VECTOR + gsi >= FIRST_MSI_VECTOR) throw new RangeError(`no interrupt line ${gsi}`);
      line = { gsi, vector: FIRST_INTX_VECTOR + gsi, asserters: new Set() };
      this.lines.set(gsi, line);
      this.vectorState(line.vector, "intx").line = gsi;
    }
    return line;
  }

  private vectorState(vector: number, kind: "intx" | "msi"): VectorState {
    let state = this.vectors.get(vector);
    if (!state) {
      state = {
        handlers: [],
        masked: false,
        pending: false,
        deliveryScheduled: false,
        count: 0,
        unhandled: 0,
        kind,
        deliverNow: () => this.deliver(vector),
        deliveryLabel: `irq 0x${vector.toString(16)}`,
      };
      this.vectors.set(vector, state);
    }
    return state;
  }

  private scheduleDelivery(vector: number): void {
    const state = this.vectors.get(vector);
    if (!state || state.deliveryScheduled) return;
    state.deliveryScheduled = true;
    this.clock.setTimer(0, state.deliverNow, { label: state.deliveryLabel });
  }

  private deliver(vector: number): void {
    const state = this.vectors.get(vector);
    if (!state) return;
    state.deliveryScheduled = false;
    if (state.masked) {
      if (state.kind === "msi") state.pending = true;
      return;
    }
    state.pending = false;
    const level = state.kind === "intx" && state.line !== undefined;
    for (let round = 0; round < (level ? LEVEL_REDELIVERY_LIMIT : 1); round++) {
      state.count++;
      let handled = false;
      for (const registration of [...state.handlers]) {
        const result = runInDomain(registration.domain, registration.activity, () => registration.handler(vector));
        if (result === IrqReturn.Handled) {
          registration.count++;
          handled = true;
        }
      }
      if (!handled) this.noteUnhandled(vector, state);
      if (!level || !this.isLineAsserted(state.line!) || state.masked) return;
    }
    // Still asserted after a full batch: let other work run, then try again.
    if (level && this.isLineAsserted(state.line!)) this.scheduleDelivery(vector);
  }

  private noteUnhandled(vector: number, state: VectorState): void {
    state.unhandled++;
    if (state.kind === "intx" && state.unhandled === UNHANDLED_LIMIT && state.line !== undefined && this.isLineAsserted(state.line)) {
      state.masked = true;
      this.log.error("irq", `irq ${state.line} (vector 0x${vector.toString(16)}): nobody cared; disabling the line`);
    }
  }
}
