/**
 * The vmkernel's native network device class. A physical NIC driver (through vmklinux's net_device,
 * or natively) implements NetUplink; the vSwitch consumes it. Frames are whole Ethernet frames without
 * FCS, as Uint8Array the callee may keep (the sender must not reuse the buffer).
 */
export interface UplinkStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
  multicast: number;
  collisions: number;
}

export interface UplinkLinkState {
  up: boolean;
  /** Mb/s; 0 when down or unknown. */
  speedMbps: number;
  fullDuplex: boolean;
}

export interface NetUplink {
  /** Driver name ("e1000") and bus address ("0000:00:03.0") for inventories. */
  readonly driver: string;
  readonly busAddress: string;
  /** Permanent MAC address (6 bytes). */
  readonly macAddress: Uint8Array;
  readonly mtu: number;
  link(): UplinkLinkState;
  /** Brings the device up (ndo_open); link may come up later. */
  open(): void | Promise<void>;
  close(): void | Promise<void>;
  readonly isOpen: boolean;
  /**
   * Queues a frame for transmission. Returns false if the device dropped it (queue stopped, link
   * down, device closed); the caller counts the drop.
   */
  transmit(frame: Uint8Array): boolean;
  /** The vSwitch wants every frame (it forwards for many MACs) or only the device's own. */
  setPromiscuous(on: boolean): void;
  /** Multicast addresses to accept (each 6 bytes) when not promiscuous. */
  setMulticastList(addresses: readonly Uint8Array[]): void;
  stats(): UplinkStats;
}

/** How an uplink reports to the kernel: received frames and link changes. */
export interface UplinkEvents {
  receive(frame: Uint8Array): void;
  linkChanged(state: UplinkLinkState): void;
}

export interface RegisteredUplink {
  /** vmnicN */
  readonly name: string;
  readonly uplink: NetUplink;
  /** The driver calls these; the kernel routes them to whatever consumes the uplink (a vSwitch). */
  readonly events: UplinkEvents;
}

/** Exported to modules (Tokens.NetUplinks): drivers register their net devices here. */
export interface UplinkRegistry {
  register(uplink: NetUplink): RegisteredUplink;
  unregister(registered: RegisteredUplink): void;
}

export function emptyUplinkStats(): UplinkStats {
  return { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0, multicast: 0, collisions: 0 };
}
