/**
 * Two Debian Linux VMs on one host's vSwitch, booted once and checked in order: vm-b takes its address
 * from the port group's DHCP server, the two ping each other (busybox ping, 20 echoes each way), each
 * pings the host's vmk0, a megabyte crosses with busybox nc, and port-group VLANs set at run time cut
 * them apart (different IDs) and join them again (the same ID).
 *
 * Runs when the guest images are cached (scripts/fetch-guest-images.mjs); VMK_LINUX=0 skips it.
 * The initramfs gets the current /init and udhcpc script appended (scripts/src/initramfs.mjs), so a
 * cache built before them still tests today's scripts.
 */
import type { DhcpService } from "@vmk/kernel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM script module without type declarations
import { withCurrentScripts } from "../../scripts/src/initramfs.mjs";
import { LinuxGuest, LinuxGuestRunner, linuxGuestsEnabled, pingSummary } from "./linux-guest.js";
import { simulatedHost, type SimulatedHost } from "./simulated-host.js";

const VMK0 = "192.168.50.10";
const A_ADDRESS = "192.168.50.11";
const A_MAC = "00:50:56:00:50:0a";
const B_MAC = "00:50:56:00:50:0b";
/** Per check: wall time on a loaded 2-core machine, far above what the guest-time limits allow. */
const CHECK_TIMEOUT_MS = 900_000;
const POOL = { rangeStart: "192.168.50.100", rangeEnd: "192.168.50.199", router: "192.168.50.1", server: "192.168.50.254" };

describe.skipIf(!linuxGuestsEnabled)("two Linux VMs on one host's vSwitch", () => {
  let sim: SimulatedHost;
  let a: LinuxGuest;
  let b: LinuxGuest;
  let runner: LinuxGuestRunner;
  let bAddress = "";
  let dhcp: DhcpService;
  const wall: string[] = [];
  const timed = async <T>(label: string, body: () => Promise<T>): Promise<T> => {
    const wallStart = Date.now();
    const guestStart = sim.clock.now();
    const result = await body();
    wall.push(`${label}: ${((Date.now() - wallStart) / 1000).toFixed(1)} s wall, ${((sim.clock.now() - guestStart) / 1e9).toFixed(2)} s guest`);
    return result;
  };

  beforeAll(async () => {
    sim = await simulatedHost()
      .named("esx-linux")
      .withNetwork({ management: { ipAddress: VMK0, netmask: "255.255.255.0" } })
      .boot();
    const network = sim.host.network;
    network.addPortGroup("vSwitch0", "Web");
    network.addPortGroup("vSwitch0", "App");
    dhcp = sim.host.dhcp;
    dhcp.configure({
      portGroup: "App",
      subnet: "192.168.50.0",
      netmask: "255.255.255.0",
      rangeStart: POOL.rangeStart,
      rangeEnd: POOL.rangeEnd,
      serverAddress: POOL.server,
      router: POOL.router,
      dnsServers: ["192.168.50.53"],
      domainName: "lab.vmk",
    });
    const clock = sim.clock;
    a = new LinuxGuest({ clock, network, name: "vm-a", mac: A_MAC, portGroup: "Web", address: `${A_ADDRESS}/24`, initrd: withCurrentScripts });
    b = new LinuxGuest({ clock, network, name: "vm-b", mac: B_MAC, portGroup: "App", initrd: withCurrentScripts });
    runner = new LinuxGuestRunner(clock, [a, b]);
    await timed("boot both", () => runner.boot());
  }, CHECK_TIMEOUT_MS * 2);

  afterAll(() => {
    for (const guest of [a, b]) if (guest?.runtime.powerState === "poweredOn") guest.runtime.powerOff();
    if (wall.length) console.log(`linux-vm-network: ${wall.join("; ")}; total ${runner?.wallSeconds().toFixed(1)} s wall`);
  }, CHECK_TIMEOUT_MS);

  it("both VMs booted on one clock in full-length slices, not in lockstep with each other", () => {
    // Each VM's slices used to end at the other's next slice: 64-instruction slices, 150 times as many.
    for (const guest of [a, b]) {
      const stats = guest.runtime.stats();
      expect(stats.slices).toBeLessThan(stats.instructions / 500);
    }
  }, CHECK_TIMEOUT_MS);

  it("vm-b (no address on its command line) leases one from the DHCP server on its port group", async () => {
    expect(a.output).toMatch(new RegExp(`init: eth0 is ${A_ADDRESS.replace(/\./g, "\\.")}/24`));
    const bound = /udhcpc: eth0 is (\d+\.\d+\.\d+\.\d+)\/24 via (\S+) \(lease (\d+) s from (\S+)\)/.exec(b.output);
    expect(bound, b.output.slice(-2000)).not.toBeNull();
    bAddress = bound![1]!;
    expect(bound!.slice(2)).toEqual([POOL.router, "3600", POOL.server]);
    const [low, high] = [POOL.rangeStart, POOL.rangeEnd].map((ip) => Number(ip.split(".")[3]));
    expect(Number(bAddress.split(".")[3])).toBeGreaterThanOrEqual(low!);
    expect(Number(bAddress.split(".")[3])).toBeLessThanOrEqual(high!);

    // What the guest's kernel holds is what the server leased, and the server knows the VM by name.
    const config = await runner.run(b, "ip -4 addr show dev eth0; ip route; cat /etc/resolv.conf");
    expect(config).toContain(`inet ${bAddress}/24`);
    expect(config).toMatch(new RegExp(`default via ${POOL.router.replace(/\./g, "\\.")} dev eth0`));
    expect(config).toContain("search lab.vmk");
    expect(config).toContain("nameserver 192.168.50.53");
    expect(dhcp.leases("App")).toEqual([expect.objectContaining({ ipAddress: bAddress, mac: B_MAC, hostName: "vm-b", state: "bound" })]);
  }, CHECK_TIMEOUT_MS);

  it("the VMs ping each other through the vSwitch, 20 echoes each way without loss", async () => {
    expect(bAddress).not.toBe("");
    const [aToB, bToA] = await timed("ping 20 each way", () =>
      runner.runTogether(
        [
          [a, `ping -c 20 ${bAddress}`],
          [b, `ping -c 20 ${A_ADDRESS}`],
        ],
        120e9,
      ),
    );
    expect(pingSummary(aToB!), aToB).toEqual({ transmitted: 20, received: 20, lossPercent: 0 });
    expect(pingSummary(bToA!), bToA).toEqual({ transmitted: 20, received: 20, lossPercent: 0 });
    expect(aToB).toContain(`64 bytes from ${bAddress}: seq=19`);
    // The frames went through both VMs' e1000s and the vSwitch, with nothing dropped on the way.
    for (const guest of [a, b]) {
      const nic = guest.runtime.stats().nics[0]!;
      expect(nic.framesFromGuest).toBeGreaterThanOrEqual(40);
      expect(nic.framesToGuest).toBeGreaterThanOrEqual(40);
      expect(nic).toMatchObject({ transmitDrops: 0, dmaBlocked: 0 });
    }
  }, CHECK_TIMEOUT_MS);

  it("each VM pings the host's vmk0", async () => {
    const vmk0 = sim.host.network.vmknic("vmk0");
    const before = vmk0.counters.icmpEchoRepliesOut;
    const outputs = await timed("ping vmk0", () =>
      runner.runTogether(
        [
          [a, `ping -c 5 ${VMK0}`],
          [b, `ping -c 5 ${VMK0}`],
        ],
        60e9,
      ),
    );
    for (const output of outputs) expect(pingSummary(output), output).toEqual({ transmitted: 5, received: 5, lossPercent: 0 });
    expect(vmk0.counters.icmpEchoRepliesOut - before).toBe(10);
  }, CHECK_TIMEOUT_MS);

  it("busybox nc carries a megabyte from vm-a to vm-b intact", async () => {
    // The listener's stdin is a pipe that stays open: nc gives up its connection when its stdin ends.
    await runner.run(b, "sleep 600 | nc -l -p 5001 | md5sum > /tmp/received &");
    const sent = await timed("nc 1 MiB", () => runner.run(a, `dd if=/dev/urandom of=/tmp/payload bs=1024 count=1024 2>/dev/null; md5sum < /tmp/payload; nc ${bAddress} 5001 < /tmp/payload; echo "nc exit $?"`, 120e9));
    expect(sent).toContain("nc exit 0");
    const sentSum = /^([0-9a-f]{32})/m.exec(sent)?.[1];
    expect(sentSum, sent).toBeDefined();
    let received = "";
    for (let attempt = 0; attempt < 20 && !/[0-9a-f]{32}/.test(received); attempt++) received = await runner.run(b, "sleep 0.2; cat /tmp/received");
    expect(received).toContain(sentSum!);
  }, CHECK_TIMEOUT_MS);

  it("port-group VLANs isolate the VMs (IDs 10 and 20) and join them again (both 10)", async () => {
    const network = sim.host.network;
    network.setPortGroupVlan("Web", 10);
    network.setPortGroupVlan("App", 20);
    const ports = network.listPorts();
    expect(ports.find((p) => p.mac === A_MAC)).toMatchObject({ portGroup: "Web", vlanId: 10 });
    expect(ports.find((p) => p.mac === B_MAC)).toMatchObject({ portGroup: "App", vlanId: 20 });
    const dropsBefore = a.runtime.stats().nics[0]!.transmitDrops;
    const apart = await timed("ping across VLANs", () => runner.run(a, `ping -c 3 -W 2 ${bAddress}`, 60e9));
    expect(pingSummary(apart), apart).toEqual({ transmitted: 3, received: 0, lossPercent: 100 });
    // vm-a's echoes (and any ARP) found no port in VLAN 10 to go to: the vSwitch dropped them.
    expect(a.runtime.stats().nics[0]!.transmitDrops - dropsBefore).toBeGreaterThanOrEqual(3);
    // vmk0 stayed on the untagged management network: out of vm-a's reach now as well.
    const toVmk0 = await runner.run(a, `ping -c 2 -W 2 ${VMK0}`, 60e9);
    expect(pingSummary(toVmk0), toVmk0).toMatchObject({ received: 0, lossPercent: 100 });

    network.setPortGroupVlan("App", 10);
    const together = await timed("ping within VLAN 10", () => runner.run(a, `ping -c 3 ${bAddress}`, 60e9));
    expect(pingSummary(together), together).toEqual({ transmitted: 3, received: 3, lossPercent: 0 });
  }, CHECK_TIMEOUT_MS);
});
