import type { EthernetMedium, EthernetPort } from "../net/ethernet.js";

export interface SwitchPortCounters {
  rxFrames: number;
  txFrames: number;
  flooded: number;
}

/** One port of the switch, as the NIC cabled to it sees the medium. */
class SwitchPortMedium implements EthernetMedium {
  readonly counters: SwitchPortCounters = { rxFrames: 0, txFrames: 0, flooded: 0 };
  linkEnabled = true;

  constructor(
    private readonly owner: EthernetSwitch,
    readonly index: number,
    readonly nic: EthernetPort,
  ) {}

  get carrier(): boolean {
    return this.linkEnabled;
  }

  transmitFrame(frame: Uint8Array): void {
    this.owner.forward(this, frame);
  }
}

/**
 * A physical learning Ethernet switch (the top-of-rack switch a server's NICs are cabled to): it
 * learns source MACs per port and forwards known unicast to one port, floods broadcast, multicast and
 * unknown unicast to every other port with link. No VLAN awareness: it is an access switch.
 */
export class EthernetSwitch {
  private readonly ports: SwitchPortMedium[] = [];
  /** MAC (as a 48-bit number) → port index. */
  private readonly table = new Map<number, number>();

  constructor(readonly name: string) {}

  /** Cables a NIC to the next free port; the NIC sees carrier at once. */
  plug(nic: EthernetPort): number {
    const port = new SwitchPortMedium(this, this.ports.length, nic);
    this.ports.push(port);
    nic.connect(port);
    return port.index;
  }

  /** Takes a port's link down or up (a pulled cable, a shut interface). */
  setPortLink(index: number, up: boolean): void {
    const port = this.port(index);
    if (port.linkEnabled === up) return;
    port.linkEnabled = up;
    if (!up) for (const [mac, at] of this.table) if (at === index) this.table.delete(mac);
    port.nic.carrierChanged(up);
  }

  counters(index: number): Readonly<SwitchPortCounters> {
    return this.port(index).counters;
  }

  /** The learned address table, for diagnostics. */
  addressTable(): { mac: string; port: number }[] {
    return [...this.table].map(([mac, port]) => ({ mac: mac.toString(16).padStart(12, "0").replace(/(..)(?!$)/g, "$1:"), port }));
  }

  forward(from: SwitchPortMedium, frame: Uint8Array): void {
    if (!from.linkEnabled || frame.length < 14) return;
    from.counters.rxFrames++;
    const source = macAt(frame, 6);
    if ((frame[6]! & 1) === 0) this.table.set(source, from.index);
    const multicast = (frame[0]! & 1) !== 0;
    const known = multicast ? undefined : this.table.get(macAt(frame, 0));
    if (known !== undefined) {
      const to = this.ports[known]!;
      if (to !== from && to.linkEnabled) this.deliver(to, frame);
      return;
    }
    for (const to of this.ports) {
      if (to === from || !to.linkEnabled) continue;
      to.counters.flooded++;
      this.deliver(to, frame);
    }
  }

  private deliver(to: SwitchPortMedium, frame: Uint8Array): void {
    to.counters.txFrames++;
    to.nic.receiveFrame(frame);
  }

  private port(index: number): SwitchPortMedium {
    const port = this.ports[index];
    if (!port) throw new RangeError(`${this.name} has no port ${index}`);
    return port;
  }
}

function macAt(frame: Uint8Array, offset: number): number {
  return (frame[offset]! * 2 ** 40 + frame[offset + 1]! * 2 ** 32 + ((frame[offset + 2]! << 24) >>> 0) + (frame[offset + 3]! << 16) + (frame[offset + 4]! << 8) + frame[offset + 5]!);
}
