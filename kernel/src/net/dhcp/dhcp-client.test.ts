import { describe, expect, it } from "vitest";
import { parseMac } from "../packets/mac-address.js";
import { makeNetwork } from "../testing/network-fixture.js";
import { DhcpClient, type DhcpClientLease } from "./dhcp-client.js";
import { DhcpService } from "./dhcp-service.js";
import type { DhcpSettings } from "./dhcp-settings.js";

const SETTINGS: DhcpSettings = {
  portGroup: "VM Network",
  subnet: "172.16.5.0",
  netmask: "255.255.255.0",
  rangeStart: "172.16.5.10",
  rangeEnd: "172.16.5.20",
  router: "172.16.5.1",
  dnsServers: ["172.16.5.1"],
  leaseTimeS: 800,
};

function setup(broadcast = false) {
  const { stack, clock, log } = makeNetwork("esx-client");
  stack.addVirtualSwitch({ name: "vSwitch0" });
  stack.addPortGroup("vSwitch0", "VM Network");
  const dhcp = new DhcpService(clock, log, stack, { name: "esx-client" });
  const server = dhcp.configure(SETTINGS);
  const mac = parseMac("00:0c:29:c1:00:01");
  const client = new DhcpClient({ mac, clock, hostName: "probe", broadcast });
  client.attach(stack.connectPort({ portGroup: "VM Network", clientName: "probe.ethernet0", mac, client, clientType: "vm" }));
  const leases: Array<DhcpClientLease | undefined> = [];
  client.onLease((lease) => leases.push(lease));
  return { stack, clock, dhcp, server, client, leases };
}

describe("kernel-side DHCP client against the host's DHCP server", () => {
  for (const broadcast of [false, true]) {
    it(`gets a lease through raw frames on a vSwitch port (${broadcast ? "broadcast" : "unicast"} replies)`, () => {
      const { clock, client, server, dhcp } = setup(broadcast);
      client.start();
      clock.runUntil(1e6);
      expect(client.state).toBe("bound");
      expect(client.lease).toEqual({
        address: "172.16.5.10",
        netmask: "255.255.255.0",
        router: "172.16.5.1",
        dnsServers: ["172.16.5.1"],
        hostName: "probe",
        server: "172.16.5.254",
        leaseTimeS: 800,
        renewalTimeS: 400,
        rebindingTimeS: 700,
        boundAt: 0,
      });
      expect(server.counters).toMatchObject({ discovers: 1, offers: 1, requests: 1, acks: 1 });
      expect(dhcp.leases()).toEqual([{ portGroup: "VM Network", ipAddress: "172.16.5.10", mac: "00:0c:29:c1:00:01", hostName: "probe", state: "bound", remainingS: 800 }]);
    });
  }

  it("renews at T1 by unicast, rebinds at T2 when its server is gone, and starts over when the lease ends", () => {
    const { clock, client, server, dhcp, leases, stack } = setup();
    client.start();
    clock.runUntil(1e6);
    clock.runUntil(400e9 + 1e6);
    expect(client.state).toBe("bound");
    expect(client.lease!.boundAt).toBe(400e9);
    expect(server.counters.requests).toBe(2);
    expect(dhcp.leases()[0]!.remainingS).toBe(800);
    // The server goes away: renewing gets no answer, rebinding neither, and the lease runs out.
    dhcp.remove("VM Network");
    clock.runUntil(800e9 + 2e6);
    expect(client.state).toBe("renewing");
    clock.runUntil(1100e9 + 2e6);
    expect(client.state).toBe("rebinding");
    clock.runUntil(1200e9 + 2e6);
    expect(client.state).toBe("selecting");
    expect(client.lease).toBeUndefined();
    expect(leases.map((l) => l?.address)).toEqual(["172.16.5.10", "172.16.5.10", undefined]);
    // A new server on another subnet: the client's retransmitted DISCOVER finds it.
    dhcp.configure({ ...SETTINGS, subnet: "172.16.6.0", rangeStart: "172.16.6.10", rangeEnd: "172.16.6.20", router: "172.16.6.1", dnsServers: [] });
    clock.runUntil(1300e9);
    expect(client.state).toBe("bound");
    expect(client.lease!.address).toBe("172.16.6.10");
    expect(stack.listPorts().map((p) => p.clientName).sort()).toEqual(["dhcp", "probe.ethernet0"]);
  });

  it("goes back to INIT on DHCPNAK when its address is no longer valid", () => {
    const { clock, client, dhcp } = setup();
    client.start();
    clock.runUntil(1e6);
    dhcp.configure({ ...SETTINGS, rangeStart: "172.16.5.100", rangeEnd: "172.16.5.110" });
    clock.runUntil(400e9 + 1e6);
    expect(client.counters.naks).toBe(1);
    expect(client.state).toBe("bound");
    expect(client.lease!.address).toBe("172.16.5.100");
  });

  it("sends DHCPRELEASE when it lets its lease go", () => {
    const { clock, client, dhcp } = setup();
    client.start();
    clock.runUntil(1e6);
    client.release();
    clock.runUntil(2e6);
    expect(client.state).toBe("stopped");
    expect(dhcp.leases()[0]!.state).toBe("released");
  });
});
