import { copyMac, formatMac, macHigh, macLow } from "./packets/mac-address.js";
import type { PortGroup } from "./port-group.js";
import { PortStatistics } from "./port-statistics.js";

/**
 * What sits behind a vSwitch port: a guest's virtual NIC, a vmkernel NIC. `receive` gets frames the
 * switch delivers; it may keep the array but must not modify it (one frame can go to many ports).
 * Returning false tells the switch the client dropped the frame (its receive ring was full).
 */
export interface PortClient {
  receive(frame: Uint8Array): boolean | void;
}

/** "dhcp": a DHCP server the host runs on the port group (net/dhcp). */
export type PortClientType = "vm" | "vmknic" | "dhcp";

/** The switch side of a port, as a port needs it. */
export interface PortOwner {
  forwardFromPort(port: VirtualPort, frame: Uint8Array): boolean;
  changePortMac(port: VirtualPort, mac: Uint8Array): void;
  disconnectPort(port: VirtualPort): void;
}

/** A virtual port on a vSwitch, held by its client; the client transmits through it. */
export class VirtualPort {
  connected = true;
  /** The MAC as the two integers the switch's tables use. */
  macHigh: number;
  macLow: number;
  /** The port group's VLAN policy, copied here so the fast path reads one object. */
  trunk: boolean;
  vlanId: number;
  readonly stats = new PortStatistics();
  private macBytes: Uint8Array;

  constructor(
    private readonly owner: PortOwner,
    public portGroup: PortGroup,
    readonly id: number,
    /** The switch's slot number, which its MAC table stores. */
    readonly slot: number,
    readonly clientName: string,
    readonly clientType: PortClientType,
    mac: Uint8Array,
    readonly client: PortClient,
  ) {
    this.macBytes = copyMac(mac);
    this.macHigh = macHigh(this.macBytes, 0);
    this.macLow = macLow(this.macBytes, 0);
    this.trunk = portGroup.trunk;
    this.vlanId = portGroup.trunk ? 0 : portGroup.vlanId;
  }

  get mac(): Uint8Array {
    return Uint8Array.from(this.macBytes);
  }

  get macText(): string {
    return formatMac(this.macBytes);
  }

  /** Sends a frame into the switch. False when the switch dropped it. */
  transmit(frame: Uint8Array): boolean {
    return this.owner.forwardFromPort(this, frame);
  }

  /** The guest changed its station address (the switch learns the new one at once). */
  setMac(mac: Uint8Array): void {
    this.owner.changePortMac(this, mac);
  }

  /** Called by the switch once it has re-keyed its tables. */
  adoptMac(mac: Uint8Array): void {
    this.macBytes = copyMac(mac);
    this.macHigh = macHigh(this.macBytes, 0);
    this.macLow = macLow(this.macBytes, 0);
  }

  /** Called by the switch when the port group's VLAN changes. */
  adoptVlanPolicy(): void {
    this.trunk = this.portGroup.trunk;
    this.vlanId = this.portGroup.trunk ? 0 : this.portGroup.vlanId;
  }

  disconnect(): void {
    if (this.connected) this.owner.disconnectPort(this);
  }
}
