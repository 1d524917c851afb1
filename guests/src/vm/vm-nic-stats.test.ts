import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Host, parseMac, parseVmConfig, type VirtualClock } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { PcVmm } from "./pc-vmm.js";
import { assembleTestKernel } from "./test-kernels.js";

/**
 * The management API's per-VM NIC view on a host whose VMs run real guest code: two vm-peer guests
 * (their own e1000 driver in assembly) registered in the host's VM registry exchange one frame each
 * way over vSwitch0, and the counters of both ends of each virtual cable show it.
 */

const MAC_A = "00:0c:29:00:1a:01";
const MAC_B = "00:0c:29:00:1b:02";

/** vm-peer.asm with the peer block after its "VMKPEER:" marker set to the peer's MAC and a payload. */
function peerKernelFile(dir: string, name: string, peerMac: string): string {
  const image = assembleTestKernel("vm-peer.asm").slice();
  const marker = new TextEncoder().encode("VMKPEER:");
  const at = image.findIndex((_, i) => marker.every((byte, j) => image[i + j] === byte));
  if (at < 0) throw new Error("vm-peer.asm: no VMKPEER: marker");
  image.set(parseMac(peerMac), at + marker.length);
  image.fill(0, at + marker.length + 6, at + marker.length + 6 + 32);
  image.set(new TextEncoder().encode(`hi from ${name}`), at + marker.length + 6);
  const path = join(dir, `${name}.bin`);
  writeFileSync(path, image);
  return path;
}

function vmx(name: string, mac: string, kernel: string): string {
  return `displayName = "${name}"
memsize = "16"
ethernet0.present = "TRUE"
ethernet0.networkName = "VM Network"
ethernet0.addressType = "static"
ethernet0.address = "${mac}"
vmk.kernel = "${kernel}"
`;
}

describe("VM NIC statistics from guests exchanging frames", () => {
  it("show one frame each way on the vSwitch port and in the e1000's own counters", () => {
    const dir = mkdtempSync(join(tmpdir(), "vmk-nic-stats-"));
    const host = new Host({ name: "esx-nics", vmm: new PcVmm() });
    const clock = host.clock as VirtualClock;
    const api = host.management;
    host.vms.create(parseVmConfig(vmx("vm-a", MAC_A, peerKernelFile(dir, "vm-a", MAC_B))));
    host.vms.create(parseVmConfig(vmx("vm-b", MAC_B, peerKernelFile(dir, "vm-b", MAC_A))));

    host.vms.powerOn("vm-a");
    host.vms.powerOn("vm-b");
    // Before the guests' drivers bring their links up and send, nothing has crossed.
    clock.runUntil(clock.now() + 5e6);
    for (const nic of api.vmNics()) {
      expect(nic).toMatchObject({ connected: true, powerState: "poweredOn", port: { txPackets: 0, rxPackets: 0 }, device: { framesFromGuest: 0, framesToGuest: 0 } });
    }
    const reported = (name: string) => /received from peer/.test(new TextDecoder().decode(host.vms.get(name).serial(0)!.scrollback()));
    const end = clock.now() + 2e9;
    while (!(reported("vm-a") && reported("vm-b")) && clock.now() < end) clock.runUntil(clock.now() + 1e6);

    // While the guests linger, both ends of each virtual cable show one frame out and one in.
    const nics = api.vmNics();
    expect(nics.map((n) => [n.vm, n.nic, n.mac, n.portGroup, n.vswitch, n.vlanId, n.connected])).toEqual([
      ["vm-a", "ethernet0", MAC_A, "VM Network", "vSwitch0", 0, true],
      ["vm-b", "ethernet0", MAC_B, "VM Network", "vSwitch0", 0, true],
    ]);
    for (const nic of nics) {
      expect(nic.port).toMatchObject({ txPackets: 1, txBytes: 60, txDrops: 0, rxPackets: 1, rxBytes: 60, rxDrops: 0 });
      expect(nic.device).toMatchObject({ framesFromGuest: 1, framesToGuest: 1, transmitDrops: 0, dmaBlocked: 0 });
      // The guest driver never reads the clear-on-read statistics, so they are totals; octets include the FCS.
      expect(nic.device!.counters!.registers).toMatchObject({ GPTC: 1, GPRC: 1, GOTC: 64, GORC: 64, TPT: 1, TPR: 1, MPC: 0, RNBC: 0 });
      expect(nic.device!.counters!.internal).toMatchObject({ dmaErrors: 0, rxDmaDrops: 0 });
    }
    // The port table names the VM and NIC behind each port.
    expect(api.ports().filter((p) => p.clientType === "vm").map((p) => [p.clientName, p.vm, p.nic, p.stats.txPackets, p.stats.rxPackets])).toEqual([
      ["vm-a.ethernet0", "vm-a", "ethernet0", 1, 1],
      ["vm-b.ethernet0", "vm-b", "ethernet0", 1, 1],
    ]);

    while (api.vms().some((vm) => vm.powerState === "poweredOn") && clock.now() < end) clock.runUntil(clock.now() + 1e6);
    // Powered off: the ports are gone, the device's counters of the last run stay readable.
    for (const nic of api.vmNics()) {
      expect(nic).toMatchObject({ connected: false, powerState: "poweredOff", device: { framesFromGuest: 1, framesToGuest: 1 } });
      expect(nic.port).toBeUndefined();
    }
    expect(api.ports().filter((p) => p.clientType === "vm")).toEqual([]);
  });
});
