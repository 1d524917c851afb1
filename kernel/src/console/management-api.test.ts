import { describe, expect, it } from "vitest";
import type { VirtualClock } from "../clock/virtual-clock.js";
import { parseVmConfig, type VmConfig } from "../guest/vm-config.js";
import type { VmConsoleLine, Vmm, VmRuntime, VmRuntimeEvent, VmRuntimePowerState, VmRuntimeServices, VmRuntimeStats } from "../guest/vmm.js";
import { Host } from "../host.js";
import { DhcpClient } from "../net/dhcp/dhcp-client.js";
import { formatMac } from "../net/packets/mac-address.js";
import type { VirtualPort } from "../net/virtual-port.js";

/**
 * A monitor whose guests are kernel-side DHCP clients: each NIC takes a vSwitch port at power-on and
 * asks for an address, so frames really flow through the switch and the DHCP server.
 */
class DhcpGuestVmm implements Vmm {
  readonly name = "dhcp-guests";
  createRuntime(config: VmConfig, services: VmRuntimeServices): VmRuntime {
    return new DhcpGuestRuntime(config, services);
  }
}

class DhcpGuestRuntime implements VmRuntime {
  powerState: VmRuntimePowerState = "poweredOff";
  readonly exitCode = undefined;
  private readonly listeners = new Set<(event: VmRuntimeEvent) => void>();
  private readonly nics: Array<{ name: string; mac: Uint8Array; portGroup: string; port?: VirtualPort; fromGuest: number; toGuest: number; drops: number }> = [];
  constructor(
    private readonly config: VmConfig,
    private readonly services: VmRuntimeServices,
  ) {}
  powerOn(): void {
    this.powerState = "poweredOn";
    for (const nic of this.config.nics) {
      const record: (typeof this.nics)[number] = { name: `${this.config.displayName}.ethernet${nic.index}`, mac: nic.mac, portGroup: nic.networkName, fromGuest: 0, toGuest: 0, drops: 0 };
      this.nics.push(record);
      const client = new DhcpClient({ mac: nic.mac, clock: this.services.clock });
      const port = this.services.network!.connectPort({
        portGroup: nic.networkName,
        clientName: record.name,
        mac: nic.mac,
        clientType: "vm",
        client: {
          receive: (frame) => {
            record.toGuest++;
            return client.receive(frame);
          },
        },
      });
      record.port = port;
      // The guest's transmissions go through the "device" so its counters see them.
      client.attach({
        transmit: (frame: Uint8Array) => {
          record.fromGuest++;
          const ok = port.transmit(frame);
          if (!ok) record.drops++;
          return ok;
        },
      } as VirtualPort);
      client.start();
    }
    this.emit({ kind: "poweredOn", time: this.services.clock.now() });
  }
  powerOff(): void {
    for (const nic of this.nics) nic.port?.disconnect();
    this.nics.length = 0;
    this.powerState = "poweredOff";
    this.emit({ kind: "poweredOff", time: this.services.clock.now(), reason: "requested" });
  }
  reset(): void {}
  serial(): VmConsoleLine | undefined {
    return undefined;
  }
  stats(): VmRuntimeStats {
    return {
      instructions: 0,
      guestTimeNs: 0,
      haltedNs: 0,
      stalledNs: 0,
      slices: 0,
      resets: 0,
      nics: this.nics.map((n) => ({
        name: n.name,
        mac: formatMac(n.mac),
        portGroup: n.portGroup,
        connected: n.port?.connected ?? false,
        framesFromGuest: n.fromGuest,
        framesToGuest: n.toGuest,
        transmitDrops: n.drops,
        dmaBlocked: 0,
        deviceCounters: { registers: { GPTC: n.fromGuest, GPRC: n.toGuest }, internal: {} },
      })),
    };
  }
  onEvent(listener: (event: VmRuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  private emit(event: VmRuntimeEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}

const VMX = `displayName = "web01"
memsize = "16"
ethernet0.present = "TRUE"
ethernet0.networkName = "VM Network"
ethernet0.addressType = "static"
ethernet0.address = "00:50:56:0a:00:01"
ethernet1.present = "TRUE"
ethernet1.networkName = "Management Network"
ethernet1.addressType = "static"
ethernet1.address = "00:50:56:0a:00:02"
`;

function host() {
  const h = new Host({ name: "esx-api", vmm: new DhcpGuestVmm(), network: { management: { ipAddress: "192.0.2.10", netmask: "255.255.255.0" } } });
  h.network.setPortGroupVlan("Management Network", 7);
  return { host: h, api: h.management, clock: h.clock as VirtualClock };
}

describe("management API: port table, VM NICs, DHCP", () => {
  it("shows each VM NIC with its port, VLAN, DHCP address and counters that move as frames flow", () => {
    const { host: h, api, clock } = host();
    api.configureDhcp({ portGroup: "VM Network", subnet: "10.1.0.0", netmask: "255.255.0.0", rangeStart: "10.1.0.100", rangeEnd: "10.1.0.199", router: "10.1.0.1" });
    h.vms.create(parseVmConfig(VMX));

    const off = api.vmNics("web01");
    expect(off.map((n) => [n.nic, n.mac, n.portGroup, n.connected, n.powerState])).toEqual([
      ["ethernet0", "00:50:56:0a:00:01", "VM Network", false, "poweredOff"],
      ["ethernet1", "00:50:56:0a:00:02", "Management Network", false, "poweredOff"],
    ]);
    expect(off[0]!.port).toBeUndefined();
    expect(off[0]!.device).toBeUndefined();

    h.vms.powerOn("web01");
    clock.runUntil(1e9);
    const [eth0, eth1] = api.vmNics("web01");
    // DISCOVER and REQUEST out; OFFER and ACK in (unicast to the NIC), on both ends of the cable.
    expect(eth0).toMatchObject({ vm: "web01", vmId: 1, powerState: "poweredOn", connected: true, vswitch: "vSwitch0", vlanId: 0, ipAddress: "10.1.0.100" });
    expect(eth0!.port).toMatchObject({ txPackets: 2, txBroadcast: 2, rxPackets: 2, rxBroadcast: 0, txDrops: 0, rxDrops: 0 });
    expect(eth0!.port!.txBytes).toBeGreaterThan(2 * 300);
    expect(eth0!.device).toEqual({ framesFromGuest: 2, framesToGuest: 2, transmitDrops: 0, dmaBlocked: 0, counters: { registers: { GPTC: 2, GPRC: 2 }, internal: {} } });
    // VLAN 7 has no DHCP server: the NIC keeps retransmitting DISCOVERs, nobody answers.
    expect(eth1).toMatchObject({ connected: true, vlanId: 7 });
    expect(eth1!.ipAddress).toBeUndefined();
    expect(eth1!.port!.rxPackets).toBe(0);
    const sent = eth1!.port!.txPackets;
    clock.runUntil(20e9);
    expect(api.vmNics("web01")[1]!.port!.txPackets).toBeGreaterThan(sent);

    const ports = api.ports();
    expect(ports.map((p) => [p.clientName, p.clientType, p.portGroup, p.vlanId, p.vm ?? "-", p.nic ?? "-"])).toEqual([
      ["vmnic0", "uplink", "", 0, "-", "-"],
      ["vmk0", "vmknic", "Management Network", 7, "-", "-"],
      ["dhcp", "dhcp", "VM Network", 0, "-", "-"],
      ["web01.ethernet0", "vm", "VM Network", 0, "web01", "ethernet0"],
      ["web01.ethernet1", "vm", "Management Network", 7, "web01", "ethernet1"],
    ]);
    expect(ports.find((p) => p.clientType === "dhcp")!.stats).toMatchObject({ rxPackets: 2, txPackets: 2 });
    expect(api.dhcpLeases()).toEqual([{ portGroup: "VM Network", ipAddress: "10.1.0.100", mac: "00:50:56:0a:00:01", hostName: "web01", state: "bound", remainingS: 3580 }]);
    expect(api.dhcpServers()[0]).toMatchObject({ portGroup: "VM Network", serverAddress: "10.1.255.254", counters: { discovers: 1, acks: 1 } });
    for (const view of [api.vmNics(), api.ports(), api.dhcpServers()]) expect(JSON.parse(JSON.stringify(view))).toEqual(view);

    h.vms.powerOff("web01");
    expect(api.vmNics().map((n) => n.connected)).toEqual([false, false]);
    expect(api.ports().some((p) => p.clientType === "vm")).toBe(false);
    expect(() => api.vmNics("db01")).toThrow(/no VM "db01"/);
  });

  it("reports no VM NICs on a host without a monitor, and refuses to name one", () => {
    const h = new Host({ name: "esx-novmm" });
    expect(h.management.vmNics()).toEqual([]);
    expect(() => h.management.vmNics("web01")).toThrow(/runs no virtual machines/);
    expect(h.management.dhcpServers()).toEqual([]);
  });
});
