/**
 * The wire side of a network card model. A NIC model exposes an EthernetPort; a backend (a wire to
 * another NIC, a pcap tap, a UDP tunnel, a vSwitch port for a guest's virtual NIC) connects to it.
 * Frames are whole Ethernet frames without FCS; the receiver may keep the array it is given.
 */
export interface EthernetPort {
  /** The peer delivers a frame to this port (the card's receive path). */
  receiveFrame(frame: Uint8Array): void;
  /** The peer's carrier changed (cable plugged/unplugged, peer powered down). */
  carrierChanged(up: boolean): void;
  /** Connects the port to a medium; pass undefined to unplug. */
  connect(medium: EthernetMedium | undefined): void;
  /** The card's own counters, read without side effects (for the console), where the model keeps them. */
  deviceCounters?(): { registers: Record<string, number>; internal: Record<string, number> };
}

/** What a port transmits into. */
export interface EthernetMedium {
  /** The card puts a frame on the wire. */
  transmitFrame(frame: Uint8Array): void;
  /** Whether the far end has carrier (the card's PHY sees link). */
  readonly carrier: boolean;
}
