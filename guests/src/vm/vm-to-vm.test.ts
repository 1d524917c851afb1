import { KernelLog, NetworkStack, VirtualClock, parseMac, type PortView, type VirtualPort } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { assembleTestKernel } from "./test-kernels.js";
import { testVm } from "./test-rig.js";

/** Two VMs on one host's NetworkStack and VirtualClock, each running vm-peer.asm aimed at the other. */

const MAC_A = "00:0c:29:00:0a:01";
const MAC_B = "00:0c:29:00:0b:02";
const PAYLOAD_MAX = 32;
const RECEIVED = (0x10 << 1) | 1;
const NOTHING_RECEIVED = (0x20 << 1) | 1;

/** vm-peer.asm with its peer block (after the "VMKPEER:" marker) set to the peer's MAC and a payload. */
function peerKernel(peerMac: string, payload: string): Uint8Array {
  const image = assembleTestKernel("vm-peer.asm").slice();
  const marker = new TextEncoder().encode("VMKPEER:");
  const at = image.findIndex((_, i) => marker.every((byte, j) => image[i + j] === byte));
  if (at < 0) throw new Error("vm-peer.asm: no VMKPEER: marker");
  const text = new TextEncoder().encode(payload);
  if (text.length >= PAYLOAD_MAX) throw new Error("payload too long");
  image.set(parseMac(peerMac), at + marker.length);
  image.fill(0, at + marker.length + 6, at + marker.length + 6 + PAYLOAD_MAX);
  image.set(text, at + marker.length + 6);
  return image;
}

function host(clock: VirtualClock, portGroups: Array<[name: string, vlanId: number]>) {
  const network = new NetworkStack(clock, new KernelLog(clock), { name: "esx-vm-to-vm" });
  network.addVirtualSwitch();
  for (const [name, vlanId] of portGroups) network.addPortGroup("vSwitch0", name, vlanId);
  return network;
}

function peerVm(clock: VirtualClock, network: NetworkStack, spec: { name: string; mac: string; portGroup: string; peerMac: string }) {
  const vmx = `displayName = "${spec.name}"
ethernet0.present = "TRUE"
ethernet0.networkName = "${spec.portGroup}"
ethernet0.addressType = "static"
ethernet0.address = "${spec.mac}"
`;
  return testVm({ clock, network, vmx, images: { kernel: peerKernel(spec.peerMac, `hello from ${spec.name}`) } });
}

/**
 * Powers both VMs on, runs the shared clock until both guests have reported (they then linger 20 ms
 * with their ports still connected), snapshots the port table, and runs on until both power off.
 */
function exchange(portGroupA: string, portGroupB: string, groups: Array<[string, number]>) {
  const clock = new VirtualClock();
  const network = host(clock, groups);
  const a = peerVm(clock, network, { name: "vm-a", mac: MAC_A, portGroup: portGroupA, peerMac: MAC_B });
  const b = peerVm(clock, network, { name: "vm-b", mac: MAC_B, portGroup: portGroupB, peerMac: MAC_A });
  a.runtime.powerOn();
  b.runtime.powerOn();
  const reported = (vm: typeof a) => /received/.test(vm.com1.text());
  const end = clock.now() + 2e9;
  while (!(reported(a) && reported(b)) && clock.now() < end) clock.runUntil(clock.now() + 1_000_000);
  const ports = network.listPorts();
  const reportedAtNs = clock.now();
  while ((a.runtime.powerState === "poweredOn" || b.runtime.powerState === "poweredOn") && clock.now() < end) clock.runUntil(clock.now() + 1_000_000);
  return { clock, network, a, b, ports, reportedAtNs };
}

const port = (ports: PortView[], mac: string) => ports.find((p) => p.mac === mac);

/**
 * Two VMs on one VirtualClock: both vCPUs halt at times, and a halted vCPU must wait for the next
 * real event rather than for the other's wake-up timer (VirtualTimeVcpuLoop looks past it).
 */
describe("two VMs on one host's vSwitch", () => {
  it("on the same port group (no VLAN), exchange frames in both directions", () => {
    const { a, b, ports, network } = exchange("VM Network", "VM Network", [["VM Network", 0]]);

    expect(a.com1.text()).toBe("vmk vm-peer guest\nlink up\nsent\nreceived from peer: hello from vm-b\n");
    expect(b.com1.text()).toBe("vmk vm-peer guest\nlink up\nsent\nreceived from peer: hello from vm-a\n");
    expect(a.runtime.exitCode).toBe(RECEIVED);
    expect(b.runtime.exitCode).toBe(RECEIVED);
    expect(a.runtime.stats().nics[0]).toMatchObject({ name: "vm-a.ethernet0", mac: MAC_A, framesFromGuest: 1, framesToGuest: 1, transmitDrops: 0, dmaBlocked: 0 });
    expect(b.runtime.stats().nics[0]).toMatchObject({ name: "vm-b.ethernet0", mac: MAC_B, framesFromGuest: 1, framesToGuest: 1, transmitDrops: 0, dmaBlocked: 0 });

    // While the guests linger, the port table shows both VM ports: MAC, port group, VLAN, one frame each way.
    expect(ports).toHaveLength(2);
    expect(port(ports, MAC_A)).toMatchObject({ vswitch: "vSwitch0", portGroup: "VM Network", clientName: "vm-a.ethernet0", clientType: "vm", vlanId: 0 });
    expect(port(ports, MAC_B)).toMatchObject({ vswitch: "vSwitch0", portGroup: "VM Network", clientName: "vm-b.ethernet0", clientType: "vm", vlanId: 0 });
    for (const mac of [MAC_A, MAC_B]) expect(port(ports, mac)!.stats).toMatchObject({ rxPackets: 1, txPackets: 1 });
    // Powered off, both VMs give their ports back.
    expect(network.listPorts()).toEqual([]);
  });

  it("on port groups with different VLAN IDs (10 and 20), never reach each other; each guest times out", () => {
    const { a, b, ports, reportedAtNs } = exchange("VLAN 10", "VLAN 20", [["VLAN 10", 10], ["VLAN 20", 20]]);

    expect(a.com1.text()).toBe("vmk vm-peer guest\nlink up\nsent\nnothing received\n");
    expect(b.com1.text()).toBe("vmk vm-peer guest\nlink up\nsent\nnothing received\n");
    expect(a.runtime.exitCode).toBe(NOTHING_RECEIVED);
    expect(b.runtime.exitCode).toBe(NOTHING_RECEIVED);
    // The guests' own PIT timeout (100 ticks of about 1 ms after a 10 ms settle) decided it, not the test's limit.
    expect(reportedAtNs).toBeGreaterThan(100e6);
    // link-up (~100 ms after power-on), the 10 ms head start, then the 100-tick receive timeout
    expect(reportedAtNs).toBeLessThan(250e6);
    // The peer's MAC is in another VLAN and no uplink carries the frame elsewhere: the vSwitch drops it.
    for (const vm of [a, b]) expect(vm.runtime.stats().nics[0]).toMatchObject({ framesFromGuest: 1, framesToGuest: 0, transmitDrops: 1 });

    expect(ports).toHaveLength(2);
    expect(port(ports, MAC_A)).toMatchObject({ portGroup: "VLAN 10", clientName: "vm-a.ethernet0", vlanId: 10 });
    expect(port(ports, MAC_B)).toMatchObject({ portGroup: "VLAN 20", clientName: "vm-b.ethernet0", vlanId: 20 });
    // Nothing crossed between the VLANs in either direction.
    for (const mac of [MAC_A, MAC_B]) expect(port(ports, mac)!.stats).toMatchObject({ rxPackets: 0, txPackets: 0 });
  });

  it("on two port groups with the same VLAN ID 10, reach each other", () => {
    const { a, b, ports } = exchange("Web", "App", [["Web", 10], ["App", 10]]);

    expect(a.com1.text()).toBe("vmk vm-peer guest\nlink up\nsent\nreceived from peer: hello from vm-b\n");
    expect(b.com1.text()).toBe("vmk vm-peer guest\nlink up\nsent\nreceived from peer: hello from vm-a\n");
    expect(a.runtime.exitCode).toBe(RECEIVED);
    expect(b.runtime.exitCode).toBe(RECEIVED);

    expect(port(ports, MAC_A)).toMatchObject({ portGroup: "Web", clientName: "vm-a.ethernet0", vlanId: 10 });
    expect(port(ports, MAC_B)).toMatchObject({ portGroup: "App", clientName: "vm-b.ethernet0", vlanId: 10 });
    for (const mac of [MAC_A, MAC_B]) expect(port(ports, mac)!.stats).toMatchObject({ rxPackets: 1, txPackets: 1 });
  });
});

describe("the vm-peer guest against a station standing in for its peer (one VM: runs today)", () => {
  it("sends a unicast to the patched peer MAC and reports the peer's reply; times out on silence", () => {
    for (const answer of [true, false]) {
      const clock = new VirtualClock();
      const network = host(clock, [["VM Network", 0]]);
      const received: Uint8Array[] = [];
      let station: VirtualPort | undefined;
      station = network.connectPort({
        portGroup: "VM Network",
        clientName: "peer-station",
        mac: parseMac(MAC_B),
        client: {
          receive(frame) {
            received.push(frame);
            if (!answer) return true;
            const reply = new Uint8Array(60);
            reply.set(frame.subarray(6, 12), 0);
            reply.set(parseMac(MAC_B), 6);
            reply.set([0x88, 0xb5], 12);
            reply.set(new TextEncoder().encode("hello from vm-b"), 14);
            clock.setTimer(50_000, () => station!.transmit(reply));
            return true;
          },
        },
      });
      const a = peerVm(clock, network, { name: "vm-a", mac: MAC_A, portGroup: "VM Network", peerMac: MAC_B });
      a.runtime.powerOn();
      let ports: PortView[] = [];
      while (a.runtime.powerState === "poweredOn" && clock.now() < 2e9) {
        clock.runUntil(clock.now() + 1_000_000);
        if (a.runtime.powerState === "poweredOn") ports = network.listPorts();
      }
      expect(received).toHaveLength(1);
      expect(Array.from(received[0]!.subarray(0, 6))).toEqual(Array.from(parseMac(MAC_B)));
      expect(Array.from(received[0]!.subarray(6, 12))).toEqual(Array.from(parseMac(MAC_A)));
      expect(new TextDecoder().decode(received[0]!.subarray(14, 29))).toBe("hello from vm-a");
      expect(port(ports, MAC_A)).toMatchObject({ portGroup: "VM Network", clientName: "vm-a.ethernet0", clientType: "vm", vlanId: 0 });
      if (answer) {
        expect(a.com1.text()).toBe("vmk vm-peer guest\nlink up\nsent\nreceived from peer: hello from vm-b\n");
        expect(a.runtime.exitCode).toBe(RECEIVED);
        expect(port(ports, MAC_A)!.stats).toMatchObject({ rxPackets: 1, txPackets: 1 });
      } else {
        expect(a.com1.text()).toBe("vmk vm-peer guest\nlink up\nsent\nnothing received\n");
        expect(a.runtime.exitCode).toBe(NOTHING_RECEIVED);
        expect(port(ports, MAC_A)!.stats).toMatchObject({ rxPackets: 0, txPackets: 1 });
      }
    }
  });
});
