/**
 * Counters of one vSwitch port, seen from the port's client (a VM's vNIC, a vmknic, an uplink): tx is
 * what the client sent into the switch, rx what the switch delivered to it. Drops count frames the
 * switch discarded (tx: not forwardable; rx: the client refused them).
 */
export interface PortStatsView {
  rxPackets: number;
  rxBytes: number;
  rxDrops: number;
  rxBroadcast: number;
  rxMulticast: number;
  txPackets: number;
  txBytes: number;
  txDrops: number;
  txBroadcast: number;
  txMulticast: number;
}

export class PortStatistics implements PortStatsView {
  rxPackets = 0;
  rxBytes = 0;
  rxDrops = 0;
  rxBroadcast = 0;
  rxMulticast = 0;
  txPackets = 0;
  txBytes = 0;
  txDrops = 0;
  txBroadcast = 0;
  txMulticast = 0;

  snapshot(): PortStatsView {
    return {
      rxPackets: this.rxPackets,
      rxBytes: this.rxBytes,
      rxDrops: this.rxDrops,
      rxBroadcast: this.rxBroadcast,
      rxMulticast: this.rxMulticast,
      txPackets: this.txPackets,
      txBytes: this.txBytes,
      txDrops: this.txDrops,
      txBroadcast: this.txBroadcast,
      txMulticast: this.txMulticast,
    };
  }
}
