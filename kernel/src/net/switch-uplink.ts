import { PortStatistics } from "./port-statistics.js";
import type { UplinkConsumer, UplinkHandle } from "./uplink-handle.js";

/** The vSwitch's side of an uplink. */
export interface UplinkIngress {
  receiveFromUplink(uplink: SwitchUplink, frame: Uint8Array): void;
}

/**
 * An uplink configured on a vSwitch, by vmnic name. The device behind it may be absent (not yet
 * registered, or unregistered after its driver was removed); the configuration stays.
 *
 * Its port counters are seen from the physical network: tx counts frames sent out to the wire, rx
 * frames received from it.
 */
export class SwitchUplink implements UplinkConsumer {
  handle: UplinkHandle | undefined;
  readonly stats = new PortStatistics();
  /** Received on this uplink while it is standby for the addressed ports (ESX ignores those). */
  standbyIgnored = 0;
  /** Unicast for no port on this switch (the physical switch flooded it). */
  unknownUnicast = 0;
  /** Carrying a source MAC of one of this switch's ports: our own frame came back. */
  loopDrops = 0;

  constructor(
    private readonly ingress: UplinkIngress,
    readonly name: string,
    readonly id: number,
    readonly slot: number,
  ) {}

  receiveFromUplink(frame: Uint8Array): void {
    this.ingress.receiveFromUplink(this, frame);
  }
}
