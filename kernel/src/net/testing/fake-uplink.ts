import type { Clock, Nanoseconds } from "../../clock/clock.js";
import { emptyUplinkStats, type NetUplink, type RegisteredUplink, type UplinkLinkState, type UplinkStats } from "../uplink.js";

/**
 * A NetUplink without hardware, for tests: what the vSwitch transmits is recorded and, when cabled,
 * handed to the peer uplink's receive path (after an optional delay on the clock).
 */
export class FakeUplink implements NetUplink {
  readonly driver = "fake";
  readonly mtu = 1500;
  readonly macAddress: Uint8Array;
  isOpen = false;
  promiscuous = false;
  multicastList: Uint8Array[] = [];
  readonly transmitted: Uint8Array[] = [];
  registered: RegisteredUplink | undefined;
  private linkState: UplinkLinkState = { up: true, speedMbps: 1000, fullDuplex: true };
  private peer: FakeUplink | undefined;
  private cableClock: Clock | undefined;
  private cableLatency: Nanoseconds = 0;
  private readonly counters: UplinkStats = emptyUplinkStats();

  constructor(
    readonly busAddress: string,
    mac: readonly number[],
  ) {
    this.macAddress = Uint8Array.from(mac);
  }

  /** Joins two uplinks back to back, as a crossover cable would. */
  static cable(a: FakeUplink, b: FakeUplink, clock?: Clock, latencyNs: Nanoseconds = 0): void {
    a.peer = b;
    b.peer = a;
    a.cableClock = b.cableClock = clock;
    a.cableLatency = b.cableLatency = latencyNs;
  }

  link(): UplinkLinkState {
    return { ...this.linkState };
  }
  open(): void {
    this.isOpen = true;
  }
  close(): void {
    this.isOpen = false;
  }
  setPromiscuous(on: boolean): void {
    this.promiscuous = on;
  }
  setMulticastList(addresses: readonly Uint8Array[]): void {
    this.multicastList = [...addresses];
  }
  stats(): UplinkStats {
    return { ...this.counters };
  }

  transmit(frame: Uint8Array): boolean {
    if (!this.isOpen || !this.linkState.up) {
      this.counters.txDropped++;
      return false;
    }
    this.counters.txPackets++;
    this.counters.txBytes += frame.length;
    this.transmitted.push(frame);
    const peer = this.peer;
    if (peer) {
      if (this.cableClock && this.cableLatency > 0) this.cableClock.setTimer(this.cableLatency, () => peer.fromWire(frame));
      else peer.fromWire(frame);
    }
    return true;
  }

  /** A frame arrives from the wire and goes up to the kernel. */
  fromWire(frame: Uint8Array): void {
    if (!this.isOpen || !this.linkState.up) {
      this.counters.rxDropped++;
      return;
    }
    this.counters.rxPackets++;
    this.counters.rxBytes += frame.length;
    this.registered?.events.receive(frame);
  }

  /** The PHY reports a link change (cable pulled, switch port down). */
  setLink(up: boolean): void {
    this.linkState = { up, speedMbps: up ? 1000 : 0, fullDuplex: true };
    this.registered?.events.linkChanged(this.link());
  }
}
