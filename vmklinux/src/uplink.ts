import type { NetUplink, RegisteredUplink, UplinkLinkState, UplinkStats } from "@vmk/kernel";
import { LinuxError } from "./errno.js";
import { dev_ethtool_get_link_ksettings, DUPLEX_FULL } from "./ethtool.js";
import { dev_close, dev_get_stats, dev_mc_set, dev_open, dev_set_promiscuity, NETDEV_TX_OK, type net_device } from "./netdevice.js";
import { __netdev_alloc_skb, kfree_skb, NET_IP_ALIGN, type sk_buff } from "./skbuff.js";

/**
 * A registered net_device as the vmkernel sees it (a vmnic): the kernel's NetUplink calls become the
 * stack's calls into the driver, and the driver's carrier changes and received frames become the
 * uplink's events.
 */
export class NetdevUplink implements NetUplink {
  registration: RegisteredUplink | null = null;
  private reportedUp = false;

  constructor(
    readonly netdev: net_device,
    readonly driver: string,
    readonly busAddress: string,
  ) {}

  get macAddress(): Uint8Array {
    return this.netdev.perm_addr;
  }
  get mtu(): number {
    return this.netdev.mtu;
  }
  get isOpen(): boolean {
    return this.netdev.running;
  }
  get name(): string {
    return this.registration?.name ?? this.netdev.name;
  }

  link(): UplinkLinkState {
    const dev = this.netdev;
    const up = dev.running && dev.carrier && !dev.linux.dead;
    if (!up) return { up: false, speedMbps: 0, fullDuplex: false };
    const settings = dev_ethtool_get_link_ksettings(dev);
    const speed = settings?.base.speed ?? 0;
    return { up: true, speedMbps: speed > 0 ? speed : 0, fullDuplex: settings?.base.duplex === DUPLEX_FULL };
  }

  open(): void {
    const rc = dev_open(this.netdev);
    if (rc < 0) throw new LinuxError(rc, `${this.name}: ndo_open failed`);
  }

  close(): void {
    dev_close(this.netdev);
  }

  /**
   * The packet path: copy the frame into an skb in machine memory and hand it to ndo_start_xmit.
   * NETDEV_TX_OK means the driver owns the skb (it may still have dropped it, and counts that);
   * NETDEV_TX_BUSY returns it to us, and with no queue to hold it the frame is dropped here.
   */
  transmit(frame: Uint8Array): boolean {
    const dev = this.netdev;
    if (!dev.running || dev.queue_stopped || !dev.carrier || !dev.present) return false;
    const linux = dev.linux;
    if (linux.dead) return false;
    const skb = __netdev_alloc_skb(dev, frame.length + NET_IP_ALIGN);
    if (skb === null) {
      dev.stats.tx_dropped++;
      return false;
    }
    fill(skb, frame);
    let rc: number;
    try {
      rc = dev.netdev_ops.ndo_start_xmit!(skb, dev);
    } catch (error) {
      throw linux.driver_fault(error, `ndo_start_xmit of ${dev.name}`);
    }
    if (rc === NETDEV_TX_OK) return true;
    kfree_skb(skb);
    return false;
  }

  setPromiscuous(on: boolean): void {
    dev_set_promiscuity(this.netdev, on);
  }

  setMulticastList(addresses: readonly Uint8Array[]): void {
    dev_mc_set(this.netdev, addresses);
  }

  stats(): UplinkStats {
    const s = dev_get_stats(this.netdev);
    return {
      rxPackets: s.rx_packets,
      txPackets: s.tx_packets,
      rxBytes: s.rx_bytes,
      txBytes: s.tx_bytes,
      rxErrors: s.rx_errors,
      txErrors: s.tx_errors,
      rxDropped: s.rx_dropped,
      txDropped: s.tx_dropped,
      multicast: s.multicast,
      collisions: s.collisions,
    };
  }

  /** Tells the kernel about a change of the link it sees (running and carrier). */
  report_link(): void {
    const registration = this.registration;
    if (!registration) return;
    const state = this.link();
    if (state.up === this.reportedUp) return;
    this.reportedUp = state.up;
    registration.events.linkChanged(state);
  }

  /** A received frame for the kernel; a failure there is the kernel's, so the frame is dropped and logged, not blamed on the driver. */
  deliver(frame: Uint8Array): boolean {
    const registration = this.registration;
    if (!registration) return false;
    try {
      registration.events.receive(frame);
      return true;
    } catch (error) {
      this.netdev.stats.rx_dropped++;
      this.netdev.linux.log_line(3, `${this.name}: the kernel's receive path threw (frame dropped): ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }
}

function fill(skb: sk_buff, frame: Uint8Array): void {
  const length = frame.length;
  const at = skb.tail - skb.head;
  skb.bytes.set(frame, at);
  skb.tail += length;
  skb.len = length;
  skb.mac_header = at;
  skb.network_header = at + 14;
  skb.protocol = length >= 14 ? frame[12]! | (frame[13]! << 8) : 0;
}
