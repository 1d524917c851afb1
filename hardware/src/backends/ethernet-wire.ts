import type { Clock, Nanoseconds } from "@vmk/kernel";
import type { EthernetMedium, EthernetPort } from "../net/ethernet.js";
import { emptyDirectionCounters, type DirectionCounters, type FrameDirection, type FrameTap } from "./frame-tap.js";

export type WireEnd = "a" | "b";

export interface EthernetWireOptions {
  clock: Clock;
  /**
   * One-way delay on the host clock. 0 (the default) delivers inside the sender's transmit call, as
   * fast as the models allow; any positive delay delivers from a clock timer, in order.
   */
  latencyNs?: Nanoseconds;
}

/** One end of the cable, as the NIC plugged into it sees it. */
class WireEndpoint implements EthernetMedium {
  port: EthernetPort | undefined;

  constructor(
    private readonly wire: EthernetWire,
    readonly end: WireEnd,
  ) {}

  transmitFrame(frame: Uint8Array): void {
    this.wire.carry(this.end, frame);
  }

  get carrier(): boolean {
    return this.wire.carrier;
  }
}

/**
 * A crossover cable between two NIC models. Each side's port connects to its own EthernetMedium;
 * carrier is up while both ends are plugged and the link is enabled, and both ports hear every
 * change. Taps see every frame that crosses, stamped with the host clock.
 */
export class EthernetWire {
  readonly latencyNs: Nanoseconds;
  private readonly clock: Clock;
  private readonly ends: Record<WireEnd, WireEndpoint>;
  private readonly taps: FrameTap[] = [];
  private linkEnabled = true;
  private carrierUp = false;
  private readonly aToB = emptyDirectionCounters();
  private readonly bToA = emptyDirectionCounters();

  constructor(options: EthernetWireOptions) {
    this.clock = options.clock;
    this.latencyNs = options.latencyNs ?? 0;
    if (!(this.latencyNs >= 0) || !Number.isFinite(this.latencyNs)) throw new RangeError(`latency must be a finite, non-negative number of ns (got ${this.latencyNs})`);
    this.ends = { a: new WireEndpoint(this, "a"), b: new WireEndpoint(this, "b") };
  }

  /** A wire with both ports plugged in. */
  static between(a: EthernetPort, b: EthernetPort, options: EthernetWireOptions): EthernetWire {
    const wire = new EthernetWire(options);
    wire.plug("a", a);
    wire.plug("b", b);
    return wire;
  }

  get carrier(): boolean {
    return this.carrierUp;
  }

  medium(end: WireEnd): EthernetMedium {
    return this.ends[end];
  }

  portAt(end: WireEnd): EthernetPort | undefined {
    return this.ends[end].port;
  }

  plug(end: WireEnd, port: EthernetPort): void {
    const endpoint = this.ends[end];
    if (endpoint.port !== undefined) throw new Error(`wire end ${end} is already plugged`);
    endpoint.port = port;
    port.connect(endpoint);
    this.updateCarrier();
  }

  /** Pulls the cable out of one NIC: both ports lose carrier, the unplugged one loses its medium. */
  unplug(end: WireEnd): void {
    const endpoint = this.ends[end];
    const port = endpoint.port;
    if (port === undefined) return;
    endpoint.port = undefined;
    if (this.carrierUp) {
      this.carrierUp = false;
      port.carrierChanged(false);
      this.ends[other(end)].port?.carrierChanged(false);
    }
    port.connect(undefined);
  }

  /** Takes the link down or up with both NICs still plugged (a cable fault, a switch port shut). */
  setLinkEnabled(enabled: boolean): void {
    this.linkEnabled = enabled;
    this.updateCarrier();
  }

  addTap(tap: FrameTap): void {
    this.taps.push(tap);
  }

  removeTap(tap: FrameTap): void {
    const index = this.taps.indexOf(tap);
    if (index >= 0) this.taps.splice(index, 1);
  }

  counters(): { aToB: DirectionCounters; bToA: DirectionCounters } {
    return { aToB: { ...this.aToB }, bToA: { ...this.bToA } };
  }

  /** Called by an endpoint: a frame put on the wire at `from`. */
  carry(from: WireEnd, frame: Uint8Array): void {
    const direction: FrameDirection = from === "a" ? "a-to-b" : "b-to-a";
    const counters = from === "a" ? this.aToB : this.bToA;
    const target = this.ends[other(from)];
    if (!this.carrierUp || target.port === undefined) {
      counters.dropped++;
      return;
    }
    counters.frames++;
    counters.bytes += frame.length;
    const taps = this.taps;
    if (taps.length > 0) {
      const now = this.clock.now();
      for (let i = 0; i < taps.length; i++) taps[i]!.onFrame(frame, direction, now);
    }
    if (this.latencyNs === 0) {
      target.port.receiveFrame(frame);
      return;
    }
    const port = target.port;
    this.clock.setTimer(
      this.latencyNs,
      () => {
        if (this.carrierUp && target.port === port) port.receiveFrame(frame);
        else counters.dropped++;
      },
      { label: "ethernet wire" },
    );
  }

  private updateCarrier(): void {
    const up = this.linkEnabled && this.ends.a.port !== undefined && this.ends.b.port !== undefined;
    if (up === this.carrierUp) return;
    this.carrierUp = up;
    this.ends.a.port?.carrierChanged(up);
    this.ends.b.port?.carrierChanged(up);
  }
}

function other(end: WireEnd): WireEnd {
  return end === "a" ? "b" : "a";
}
