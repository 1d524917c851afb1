import { formatMac, type NetworkStack, type PortClient, type VirtualPort, type VmNicStats } from "@vmk/kernel";
import type { EthernetMedium, EthernetPort } from "@vmk/hardware";
import type { GuestDmaPort } from "../pci-host/guest-dma-port.js";

export interface VirtualNicBackendOptions {
  /** The card's wire side (the e1000 model). */
  nic: EthernetPort;
  /** "web01.ethernet0", shown in the vSwitch's port table. */
  name: string;
  mac: Uint8Array;
  portGroup: string;
  /** The card's bus-master DMA port, for the blocked-DMA count. */
  dma?: GuestDmaPort;
}

/**
 * Cables a guest's virtual NIC to a vSwitch port: frames the switch delivers go into the card's receive
 * path, frames the card transmits go into the switch. The card sees carrier exactly while the port is
 * connected, so the guest's driver reports link down when the VM's network is unplugged.
 */
export class VirtualNicBackend implements EthernetMedium, PortClient {
  framesFromGuest = 0;
  framesToGuest = 0;
  transmitDrops = 0;
  private port: VirtualPort | undefined;

  constructor(private readonly options: VirtualNicBackendOptions) {}

  get carrier(): boolean {
    return this.port?.connected ?? false;
  }

  get virtualPort(): VirtualPort | undefined {
    return this.port;
  }

  /** Takes a port on the NIC's port group; throws when the port group does not exist. */
  plugInto(network: NetworkStack): VirtualPort {
    this.unplug();
    const { name, mac, portGroup, nic } = this.options;
    this.port = network.connectPort({ portGroup, clientName: name, mac, client: this, clientType: "vm" });
    nic.connect(this);
    return this.port;
  }

  unplug(): void {
    const port = this.port;
    if (!port) return;
    this.port = undefined;
    port.disconnect();
    this.options.nic.connect(undefined);
  }

  // ---- EthernetMedium (the card transmits) ----

  transmitFrame(frame: Uint8Array): void {
    this.framesFromGuest++;
    if (!this.port?.transmit(frame)) this.transmitDrops++;
  }

  // ---- PortClient (the switch delivers) ----

  receive(frame: Uint8Array): boolean {
    this.framesToGuest++;
    // The card copies what it keeps into guest RAM by DMA; the switch's array is never modified.
    this.options.nic.receiveFrame(frame);
    return true;
  }

  stats(): VmNicStats {
    return {
      name: this.options.name,
      mac: formatMac(this.options.mac),
      portGroup: this.options.portGroup,
      connected: this.carrier,
      framesFromGuest: this.framesFromGuest,
      framesToGuest: this.framesToGuest,
      transmitDrops: this.transmitDrops,
      dmaBlocked: this.options.dma?.blocked ?? 0,
      ...(this.options.nic.deviceCounters ? { deviceCounters: this.options.nic.deviceCounters() } : {}),
    };
  }
}
