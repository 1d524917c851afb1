import { describe, expect, it } from "vitest";
import type { VirtualClock } from "../clock/virtual-clock.js";
import type { NetworkStack } from "./network-stack.js";
import { ArpOperation, decodeArp } from "./packets/arp.js";
import { EtherType, etherTypeAt } from "./packets/ethernet.js";
import { decodeIpv4 } from "./packets/ipv4.js";
import { FakeUplink } from "./testing/fake-uplink.js";
import { makeNetwork } from "./testing/network-fixture.js";

const MS = 1e6;

function host(name: string, ip: string, mac: number, vlan = 0) {
  const net = makeNetwork(name);
  const nic = new FakeUplink(`0000:00:0${mac}.0`, [0, 0x0c, 0x29, 0, 0, mac]);
  net.stack.configureDefaults();
  if (vlan !== 0) net.stack.setPortGroupVlan("Management Network", vlan);
  const vmk0 = net.stack.addVmknic({ portGroup: "Management Network", ipAddress: ip, netmask: "255.255.255.0", gateway: "10.0.0.254" });
  return { ...net, nic, vmk0 };
}

/** Two hosts on one virtual clock, their vmnic0s cabled back to back. */
function twoHosts(latencyNs = 0, vlan = 0) {
  const one = host("esx01", "10.0.0.1", 1, vlan);
  const two = host("esx02", "10.0.0.2", 2, vlan);
  // Shared time: host two's stack runs on host one's clock.
  const clock = one.clock;
  const stack2 = new (one.stack.constructor as new (...args: unknown[]) => NetworkStack)(clock, two.log, { name: "esx02" });
  stack2.configureDefaults();
  if (vlan !== 0) stack2.setPortGroupVlan("Management Network", vlan);
  const vmk0b = stack2.addVmknic({ portGroup: "Management Network", ipAddress: "10.0.0.2", netmask: "255.255.255.0" });
  FakeUplink.cable(one.nic, two.nic, clock, latencyNs);
  one.nic.registered = one.stack.uplinks.register(one.nic);
  two.nic.registered = stack2.uplinks.register(two.nic);
  clock.runUntilIdle();
  return { clock, a: { stack: one.stack, vmk0: one.vmk0, nic: one.nic }, b: { stack: stack2, vmk0: vmk0b, nic: two.nic } };
}

async function run<T>(clock: VirtualClock, pending: Promise<T>): Promise<T> {
  clock.runUntilIdle();
  return pending;
}

describe("vmkernel NIC", () => {
  it("gets a deterministic MAC from the host name", () => {
    const a = host("esx01", "10.0.0.1", 1);
    const again = host("esx01", "10.0.0.1", 1);
    const other = host("esx02", "10.0.0.1", 1);
    expect(a.vmk0.name).toBe("vmk0");
    expect(a.vmk0.macText).toMatch(/^00:50:56:/);
    expect(again.vmk0.macText).toBe(a.vmk0.macText);
    expect(other.vmk0.macText).not.toBe(a.vmk0.macText);
    expect(() => a.stack.addVmknic({ portGroup: "Management Network", ipAddress: "10.0.0.9", netmask: "255.255.255.0", gateway: "10.1.0.1" })).toThrow(/not on/);
  });

  it("resolves ARP and pings another host end to end through both vSwitches", async () => {
    const { clock, a, b } = twoHosts(50_000);
    const report = await run(clock, a.vmk0.ping("10.0.0.2", { count: 4, intervalNs: 1000 * MS, timeoutNs: 500 * MS }));
    expect(report).toMatchObject({ source: "10.0.0.1", target: "10.0.0.2", transmitted: 4, received: 4, lossPercent: 0 });
    // The first request waits for ARP: request and reply each cross the cable once more.
    expect(report.results.map((r) => r.rttNs)).toEqual([200_000, 100_000, 100_000, 100_000]);
    expect(report.results.map((r) => r.sequence)).toEqual([0, 1, 2, 3]);
    expect(report.results.every((r) => r.received && r.ttl === 64 && r.duplicates === 0)).toBe(true);
    expect(report.rttMinNs).toBe(100_000);

    expect(a.stack.listNeighbors()).toEqual([{ vmknic: "vmk0", ipAddress: "10.0.0.2", mac: b.vmk0.macText, ageNs: expect.any(Number) }]);
    expect(b.stack.listNeighbors().map((n) => n.mac)).toEqual([a.vmk0.macText]);
    expect(b.vmk0.counters).toMatchObject({ arpRequestsIn: 1, arpRepliesOut: 1, icmpEchoRequestsIn: 4, icmpEchoRepliesOut: 4 });

    // What went over the wire is well-formed: one ARP request, then IPv4 with valid checksums.
    const wire = a.nic.transmitted;
    const arp = decodeArp(wire.find((f) => etherTypeAt(f) === EtherType.ARP)!, 14)!;
    expect(arp).toMatchObject({ operation: ArpOperation.Request, senderIp: 0x0a000001, targetIp: 0x0a000002 });
    const ip = wire.filter((f) => etherTypeAt(f) === EtherType.IPv4);
    expect(ip.length).toBe(4);
    for (const frame of ip) expect(decodeIpv4(frame, 14, frame.length - 14).ok).toBe(true);

    // Besides ARP and echo, each host sent a RARP for vmk0 when its uplink opened; host one's
    // crossed the cable after host two's NIC was open too, and was flooded to vmk0.
    const ports = b.stack.listPorts();
    expect(ports.find((p) => p.clientName === "vmk0")!.stats).toMatchObject({ rxPackets: 6, txPackets: 5, rxBroadcast: 2 });
    expect(ports.find((p) => p.clientName === "vmnic0")!.stats).toMatchObject({ rxPackets: 6, txPackets: 6, rxBroadcast: 2, txBroadcast: 1 });
  });

  it("pings across a tagged management VLAN", async () => {
    const { clock, a } = twoHosts(0, 42);
    const report = await run(clock, a.vmk0.ping("10.0.0.2", { count: 2 }));
    expect(report.received).toBe(2);
    expect(a.nic.transmitted.filter((f) => etherTypeAt(f) === EtherType.VLAN).length).toBe(a.nic.transmitted.length);
  });

  it("reports loss when the peer's link is down, and recovers after failback", async () => {
    const { clock, a, b } = twoHosts(10_000);
    b.nic.setLink(false);
    const lost = await run(clock, a.vmk0.ping("10.0.0.2", { count: 3, intervalNs: 200 * MS, timeoutNs: 100 * MS }));
    expect(lost).toMatchObject({ transmitted: 3, received: 0, lossPercent: 100 });
    expect(lost.results.every((r) => !r.received && r.rttNs === undefined)).toBe(true);
    b.nic.setLink(true);
    const back = await run(clock, a.vmk0.ping("10.0.0.2", { count: 2, intervalNs: 200 * MS, timeoutNs: 100 * MS }));
    expect(back.received).toBe(2);
  });

  it("pings its own address and a neighbour on the same vSwitch, and refuses what has no route", async () => {
    const { stack, clock, vmk0 } = host("esx01", "10.0.0.1", 1);
    stack.addPortGroup("vSwitch0", "vMotion");
    const vmk1 = stack.addVmknic({ portGroup: "vMotion", ipAddress: "10.0.0.5", netmask: "255.255.255.0" });
    expect(vmk1.name).toBe("vmk1");
    const self = await run(clock, vmk0.ping("10.0.0.1", { count: 1 }));
    expect(self.results[0]).toMatchObject({ received: true, rttNs: 0 });
    const neighbour = await run(clock, vmk0.ping("10.0.0.5", { count: 2 }));
    expect(neighbour.received).toBe(2);
    const offLink = await run(clock, vmk1.ping("192.168.1.1", { count: 1, timeoutNs: 10 * MS }));
    expect(offLink.lossPercent).toBe(100);
    expect(vmk1.counters.ipOutNoRoutes).toBe(1);
    expect(stack.listVmknics()).toMatchObject([
      { name: "vmk0", portGroup: "Management Network", vswitch: "vSwitch0", ipAddress: "10.0.0.1", netmask: "255.255.255.0", gateway: "10.0.0.254", mtu: 1500 },
      { name: "vmk1", portGroup: "vMotion", ipAddress: "10.0.0.5" },
    ]);
  });

  it("warns about another station using its address", () => {
    const { stack, clock, nic, log } = host("esx01", "10.0.0.1", 1);
    nic.registered = stack.uplinks.register(nic);
    clock.runUntilIdle();
    // A gratuitous ARP from another MAC claiming 10.0.0.1.
    const garp = new Uint8Array(60);
    garp.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x1b, 0x21, 0, 0, 9, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1, 0, 0x1b, 0x21, 0, 0, 9, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1]);
    nic.fromWire(garp);
    expect(log.entries({ level: "warn" }).map((e) => e.message)).toContain("vmk0: IP address 10.0.0.1 is also used by 00:1b:21:00:00:09");
  });
});
