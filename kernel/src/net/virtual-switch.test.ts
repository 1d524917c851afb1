import { describe, expect, it } from "vitest";
import { EtherType, etherTypeAt } from "./packets/ethernet.js";
import { formatMac } from "./packets/mac-address.js";
import { insertVlanTag, isVlanTagged, vlanIdOf } from "./packets/vlan-tag.js";
import { connectRecorder, makeNetwork, registerFake, testFrame } from "./testing/network-fixture.js";

const A = "00:50:56:00:00:0a";
const B = "00:50:56:00:00:0b";
const C = "00:50:56:00:00:0c";
const T = "00:50:56:00:00:0f";
const REMOTE = "00:1b:21:00:00:01";
const BROADCAST = "ff:ff:ff:ff:ff:ff";

function switchWithOneUplink() {
  const net = makeNetwork();
  const { stack, clock } = net;
  stack.addVirtualSwitch();
  stack.addUplink("vSwitch0", "vmnic0");
  const nic = registerFake(stack, clock, "0000:00:03.0", 1);
  return { ...net, nic };
}

describe("VirtualSwitch forwarding", () => {
  it("switches unicast between ports of a VLAN without touching the uplink", () => {
    const { stack, nic } = switchWithOneUplink();
    expect(nic.promiscuous).toBe(true);
    stack.addPortGroup("vSwitch0", "VM Network");
    const a = connectRecorder(stack, "VM Network", "vm-a.eth0", A);
    const b = connectRecorder(stack, "VM Network", "vm-b.eth0", B);
    const frame = testFrame(B, A, 1);
    expect(a.port.transmit(frame)).toBe(true);
    expect(b.client.frames).toEqual([frame]);
    expect(b.client.frames[0]).toBe(frame); // no copy on the untagged fast path
    expect(a.client.frames).toEqual([]);
    expect(nic.transmitted).toEqual([]);

    // Unknown unicast leaves through the uplink only.
    a.port.transmit(testFrame(REMOTE, A, 2));
    expect(nic.transmitted.map((f) => f[14])).toEqual([2]);
    expect(b.client.frames.length).toBe(1);

    // Frames from the wire reach the addressed port only; frames for nobody are counted and dropped.
    nic.fromWire(testFrame(A, REMOTE, 3));
    nic.fromWire(testFrame("00:50:56:99:99:99", REMOTE, 4));
    expect(a.client.frames.map((f) => f[14])).toEqual([3]);
    expect(b.client.frames.length).toBe(1);
    expect(stack.listUplinks()[0]!.unknownUnicast).toBe(1);
  });

  it("keeps VLANs apart and tags at the port group edge", () => {
    const { stack, nic } = switchWithOneUplink();
    stack.addPortGroup("vSwitch0", "VLAN10", 10);
    stack.addPortGroup("vSwitch0", "VLAN10-b", 10);
    stack.addPortGroup("vSwitch0", "VLAN20", 20);
    const a = connectRecorder(stack, "VLAN10", "a", A);
    const b = connectRecorder(stack, "VLAN10-b", "b", B);
    const c = connectRecorder(stack, "VLAN20", "c", C);

    a.port.transmit(testFrame(BROADCAST, A, 1));
    expect(b.client.frames.length).toBe(1); // same VLAN, another port group
    expect(isVlanTagged(b.client.frames[0]!)).toBe(false);
    expect(c.client.frames.length).toBe(0);
    expect(nic.transmitted.length).toBe(1);
    expect(vlanIdOf(nic.transmitted[0]!)).toBe(10);
    expect(nic.transmitted[0]!.length).toBe(64);

    // Unicast to a local MAC in another VLAN is not switched locally: it goes to the physical network.
    a.port.transmit(testFrame(C, A, 2));
    expect(c.client.frames.length).toBe(0);
    expect(vlanIdOf(nic.transmitted[1]!)).toBe(10);

    // From the wire: VLAN 20's frame reaches only VLAN 20's port, untagged.
    nic.fromWire(insertVlanTag(testFrame(BROADCAST, REMOTE, 3), 20));
    expect(c.client.frames.length).toBe(1);
    expect(isVlanTagged(c.client.frames[0]!)).toBe(false);
    expect(c.client.frames[0]![14]).toBe(3);
    expect(a.client.frames.length + b.client.frames.length).toBe(1);
    // An untagged frame belongs to no port group here.
    nic.fromWire(testFrame(BROADCAST, REMOTE, 4));
    expect(a.client.frames.length + b.client.frames.length + c.client.frames.length).toBe(2);

    // A guest may not tag on a VST port group.
    expect(a.port.transmit(insertVlanTag(testFrame(BROADCAST, A), 20))).toBe(false);
    expect(a.port.stats.txDrops).toBe(1);
    expect(c.client.frames.length).toBe(1);
  });

  it("gives a VLAN 4095 port group every VLAN, tagged (guest tagging)", () => {
    const { stack, nic } = switchWithOneUplink();
    stack.addPortGroup("vSwitch0", "VLAN10", 10);
    stack.addPortGroup("vSwitch0", "Native", 0);
    stack.addPortGroup("vSwitch0", "Trunk", 4095);
    const a = connectRecorder(stack, "VLAN10", "a", A);
    const n = connectRecorder(stack, "Native", "n", B);
    const t = connectRecorder(stack, "Trunk", "t", T);

    a.port.transmit(testFrame(BROADCAST, A, 1));
    expect(t.client.frames.length).toBe(1);
    expect(vlanIdOf(t.client.frames[0]!)).toBe(10);
    expect(n.client.frames.length).toBe(0);

    nic.fromWire(insertVlanTag(testFrame(T, REMOTE, 2), 300));
    expect(vlanIdOf(t.client.frames[1]!)).toBe(300);

    // The guest tags VLAN 10 itself: the VLAN 10 port gets it untagged, the uplink tagged as sent.
    t.port.transmit(insertVlanTag(testFrame(BROADCAST, T, 3), 10));
    expect(a.client.frames.length).toBe(1);
    expect(isVlanTagged(a.client.frames[0]!)).toBe(false);
    expect(vlanIdOf(nic.transmitted.at(-1)!)).toBe(10);
    // Untagged from the trunk is the native VLAN.
    t.port.transmit(testFrame(B, T, 4));
    expect(n.client.frames.map((f) => f[14])).toEqual([4]);
    // Unicast into VLAN 10 from the trunk reaches the access port untagged.
    t.port.transmit(insertVlanTag(testFrame(A, T, 5), 10));
    expect(a.client.frames.at(-1)![14]).toBe(5);
    expect(etherTypeAt(a.client.frames.at(-1)!)).toBe(0x88b5);
  });

  it("floods broadcast and multicast to every other port of the VLAN and once to the uplink", () => {
    const { stack, nic } = switchWithOneUplink();
    stack.addPortGroup("vSwitch0", "VM Network");
    const a = connectRecorder(stack, "VM Network", "a", A);
    const b = connectRecorder(stack, "VM Network", "b", B);
    const c = connectRecorder(stack, "VM Network", "c", C);
    a.port.transmit(testFrame(BROADCAST, A));
    a.port.transmit(testFrame("01:00:5e:00:00:fb", A));
    expect(a.client.frames.length).toBe(0);
    expect(b.client.frames.length).toBe(2);
    expect(c.client.frames.length).toBe(2);
    expect(nic.transmitted.length).toBe(2);
    nic.fromWire(testFrame(BROADCAST, REMOTE));
    expect([a, b, c].map((p) => p.client.frames.length)).toEqual([1, 3, 3]);
    expect(nic.transmitted.length).toBe(2); // never back out
    expect(a.port.stats.snapshot()).toMatchObject({ txPackets: 2, txBroadcast: 1, txMulticast: 1, rxPackets: 1, rxBroadcast: 1 });
    expect(b.port.stats.snapshot()).toMatchObject({ rxPackets: 3, rxBroadcast: 2, rxMulticast: 1, rxBytes: 180, txPackets: 0 });
  });

  it("counts per-port statistics, refused frames and drops", () => {
    const { stack, nic } = switchWithOneUplink();
    stack.addPortGroup("vSwitch0", "VM Network");
    const a = connectRecorder(stack, "VM Network", "a", A);
    const b = connectRecorder(stack, "VM Network", "b", B);
    b.client.refuse = true;
    a.port.transmit(testFrame(B, A));
    expect(b.port.stats.rxDrops).toBe(1);
    expect(b.port.stats.rxPackets).toBe(0);
    expect(a.port.transmit(new Uint8Array(10))).toBe(false); // runt
    expect(a.port.transmit(testFrame(A, A))).toBe(false); // to itself
    nic.setLink(false);
    expect(a.port.transmit(testFrame(REMOTE, A))).toBe(false); // no uplink with link
    expect(a.port.stats.snapshot()).toMatchObject({ txPackets: 1, txBytes: 60, txDrops: 3 });
    nic.setLink(true);
    a.port.transmit(testFrame(REMOTE, A));
    const ports = stack.listPorts();
    expect(ports.map((p) => [p.clientName, p.clientType])).toEqual([
      ["vmnic0", "uplink"],
      ["a", "vm"],
      ["b", "vm"],
    ]);
    expect(ports[0]!.portId).toBe(0x2000001);
    expect(ports[1]).toMatchObject({ portId: 0x2000002, mac: A, portGroup: "VM Network", vlanId: 0, activeUplink: "vmnic0" });
    // RARP on failback, then the frame.
    expect(ports[0]!.stats).toMatchObject({ txPackets: 1 + 2, rxPackets: 0 });
  });

  it("rejects duplicate MACs and frees them on disconnect", () => {
    const { stack } = switchWithOneUplink();
    stack.addPortGroup("vSwitch0", "VM Network");
    const a = connectRecorder(stack, "VM Network", "a", A);
    expect(() => connectRecorder(stack, "VM Network", "a2", A)).toThrow(/already in use/);
    a.port.disconnect();
    const again = connectRecorder(stack, "VM Network", "a2", A);
    expect(again.port.id).toBe(a.port.id);
    expect(a.port.transmit(testFrame(B, A))).toBe(false);
    again.port.setMac(new Uint8Array([0, 0x50, 0x56, 0, 0, 0x77]));
    const b = connectRecorder(stack, "VM Network", "b", B);
    b.port.transmit(testFrame("00:50:56:00:00:77", B, 9));
    expect(again.client.frames.map((f) => f[14])).toEqual([9]);
    expect(formatMac(again.port.mac)).toBe("00:50:56:00:00:77");
  });
});

describe("uplinks without loops", () => {
  function teamOfTwo() {
    const net = makeNetwork();
    const { stack, clock } = net;
    stack.addVirtualSwitch();
    stack.addUplink("vSwitch0", "vmnic0");
    stack.addUplink("vSwitch0", "vmnic1");
    stack.setTeaming("vSwitch0", { activeUplinks: ["vmnic0"], standbyUplinks: ["vmnic1"] });
    const nic0 = registerFake(stack, clock, "0000:00:03.0", 1);
    const nic1 = registerFake(stack, clock, "0000:00:04.0", 2);
    stack.addPortGroup("vSwitch0", "VM Network");
    const a = connectRecorder(stack, "VM Network", "a", A);
    const b = connectRecorder(stack, "VM Network", "b", B);
    return { ...net, nic0, nic1, a, b };
  }

  it("never forwards from one uplink to another and transmits on one uplink only", () => {
    const { stack, nic0, nic1, a, b } = teamOfTwo();
    a.port.transmit(testFrame(BROADCAST, A));
    expect(nic0.transmitted.length).toBe(1);
    expect(nic1.transmitted.length).toBe(0);

    // A broadcast from the physical network on the active uplink reaches the ports and no uplink.
    nic0.fromWire(testFrame(BROADCAST, REMOTE, 7));
    expect(nic0.transmitted.length + nic1.transmitted.length).toBe(1);
    expect(b.client.frames.map((f) => f[14])).toEqual([0, 7]);

    // The same broadcast flooded back by the physical switch on the standby uplink is ignored.
    nic1.fromWire(testFrame(BROADCAST, REMOTE, 7));
    nic1.fromWire(testFrame(A, REMOTE, 8));
    expect(b.client.frames.length).toBe(2);
    expect(a.client.frames.length).toBe(1);
    expect(nic0.transmitted.length + nic1.transmitted.length).toBe(1);
    const standby = stack.listUplinks().find((u) => u.name === "vmnic1")!;
    expect(standby.standbyIgnored).toBe(2);
    expect(standby.role).toBe("standby");

    // Our own frame reflected back by the physical network is dropped.
    nic0.fromWire(testFrame(BROADCAST, A, 9));
    expect(b.client.frames.length).toBe(2);
    expect(stack.listUplinks()[0]!.loopDrops).toBe(1);
  });

  it("learns remote MACs per VLAN and uplink", () => {
    const { stack, clock, nic0 } = teamOfTwo();
    nic0.fromWire(testFrame(A, REMOTE));
    nic0.fromWire(insertVlanTag(testFrame(BROADCAST, "00:1b:21:00:00:02"), 30));
    clock.advance(10e9);
    const view = stack.listVirtualSwitches()[0]!;
    expect(view.remoteMacs).toEqual([
      { mac: REMOTE, vlanId: 0, uplink: "vmnic0", ageNs: 10e9 },
      { mac: "00:1b:21:00:00:02", vlanId: 30, uplink: "vmnic0", ageNs: 10e9 },
    ]);
    clock.advance(300e9);
    expect(stack.listVirtualSwitches()[0]!.remoteMacs).toEqual([]);
  });

  it("sends RARPs for the group's MACs out of the uplink it fails over to", () => {
    const { nic0, nic1 } = teamOfTwo();
    nic0.setLink(false);
    expect(nic1.transmitted.map((f) => etherTypeAt(f))).toEqual([EtherType.RARP, EtherType.RARP]);
    expect(nic1.transmitted.map((f) => formatMac(f, 6))).toEqual([A, B]);
  });
});
