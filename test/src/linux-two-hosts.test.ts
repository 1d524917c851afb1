/**
 * A Debian Linux VM on host A pings one on host B. Each host's vSwitch0 has its physical e1000 as
 * uplink (the 8254x model driven by the e1000 driver through vmklinux), and the two cards share one
 * wire with a pcap tap: the guests' echoes leave host A through its card, cross the wire and enter
 * host B through its card, and the capture shows them with the VMs' own MAC and IP addresses.
 *
 * Runs when the guest images are cached (scripts/fetch-guest-images.mjs); VMK_LINUX=0 skips it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VirtualClock } from "@vmk/kernel";
import { E1000Model, EthernetWire, PcapWriter, readPcapFile } from "@vmk/hardware";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM script module without type declarations
import { withCurrentScripts } from "../../scripts/src/initramfs.mjs";
import { LinuxGuest, LinuxGuestRunner, linuxGuestsEnabled, pingSummary } from "./linux-guest.js";
import { simulatedHost } from "./simulated-host.js";

const tsharkPresent = spawnSync("tshark", ["--version"], { encoding: "utf8" }).status === 0;
// CI installs tshark (.ci/apt-packages): there a missing tshark fails the check instead of skipping it.
const tsharkRequired = process.env.CI === "true" || tsharkPresent;

const A = { ip: "192.168.60.11", mac: "00:50:56:00:60:0a" };
const B = { ip: "192.168.60.12", mac: "00:50:56:00:60:0b" };
const ipBytes = (ip: string) => ip.split(".").map(Number);
const macBytes = (mac: string) => mac.split(":").map((byte) => parseInt(byte, 16));

describe.skipIf(!linuxGuestsEnabled)("Linux VMs on two hosts joined by their physical e1000s", () => {
  it("ping each other through host A's uplink, the wire and host B's uplink; the wire's pcap shows the echoes", async () => {
    const clock = new VirtualClock();
    const boot = (name: string, cardMac: string) => simulatedHost().named(name).withClock(clock).withCard("e1000-82545em", { slot: 3, mac: cardMac }).boot();
    const hostA = await boot("esx-a", "00:1b:21:0a:00:01");
    const hostB = await boot("esx-b", "00:1b:21:0b:00:01");
    const wire = EthernetWire.between(hostA.card<E1000Model>(3), hostB.card<E1000Model>(3), { clock, latencyNs: 5_000 });
    const dir = mkdtempSync(join(tmpdir(), "vmk-linux-two-hosts-"));
    const capture = join(dir, "wire.pcap");
    const pcap = new PcapWriter(capture);
    wire.addTap(pcap);
    const uplinksUp = () => [hostA, hostB].every((sim) => sim.host.network.listUplinks().every((u) => u.linkUp));
    await hostA.runUntil(uplinksUp, 10e9);

    const vmA = new LinuxGuest({ clock, network: hostA.host.network, name: "vm-a", mac: A.mac, portGroup: "VM Network", address: `${A.ip}/24`, initrd: withCurrentScripts });
    const vmB = new LinuxGuest({ clock, network: hostB.host.network, name: "vm-b", mac: B.mac, portGroup: "VM Network", address: `${B.ip}/24`, initrd: withCurrentScripts });
    const runner = new LinuxGuestRunner(clock, [vmA, vmB]);
    await runner.boot();
    const bootedWall = runner.wallSeconds();
    const [aToB, bToA] = await runner.runTogether(
      [
        [vmA, `ping -c 20 ${B.ip}`],
        [vmB, `ping -c 5 ${A.ip}`],
      ],
      120e9,
    );
    pcap.close();
    console.log(`linux-two-hosts: both shells after ${bootedWall.toFixed(1)} s wall, pings done after ${runner.wallSeconds().toFixed(1)} s wall, ${(clock.now() / 1e9).toFixed(2)} s guest`);
    for (const vm of [vmA, vmB]) vm.runtime.powerOff();

    expect(pingSummary(aToB!), aToB).toEqual({ transmitted: 20, received: 20, lossPercent: 0 });
    expect(pingSummary(bToA!), bToA).toEqual({ transmitted: 5, received: 5, lossPercent: 0 });

    // Each host's e1000 driver sent and received the echoes (plus ARP) on the VMs' behalf.
    const uplinkA = hostA.host.network.listUplinks()[0]!;
    const uplinkB = hostB.host.network.listUplinks()[0]!;
    expect(uplinkA).toMatchObject({ name: "vmnic0", driver: "e1000" });
    expect(uplinkA.deviceStats!.txPackets).toBeGreaterThanOrEqual(25);
    expect(uplinkB.deviceStats!.rxPackets).toBeGreaterThanOrEqual(25);
    expect(wire.counters().aToB.frames).toBeGreaterThanOrEqual(25);
    expect(wire.counters().bToA.frames).toBeGreaterThanOrEqual(25);

    // The capture: ICMP between the two VMs' addresses, in the VMs' own Ethernet frames.
    const frames = readPcapFile(capture).records.map((record) => record.data);
    const icmp = frames.filter((f) => ((f[12]! << 8) | f[13]!) === 0x0800 && f[23] === 1);
    const echo = (type: number, from: typeof A, to: typeof A) =>
      icmp.filter((f) => f[14 + (f[14]! & 0x0f) * 4] === type && [...f.subarray(26, 30)].join() === ipBytes(from.ip).join() && [...f.subarray(30, 34)].join() === ipBytes(to.ip).join() && [...f.subarray(6, 12)].join() === macBytes(from.mac).join());
    expect(echo(8, A, B)).toHaveLength(20);
    expect(echo(0, B, A)).toHaveLength(20);
    expect(echo(8, B, A)).toHaveLength(5);
    expect(echo(0, A, B)).toHaveLength(5);

    if (tsharkRequired) {
      expect(tsharkPresent, "tshark is not installed (apt-get install tshark)").toBe(true);
      const tshark = spawnSync("tshark", ["-r", capture, "-Y", "icmp", "-T", "fields", "-e", "eth.src", "-e", "ip.src", "-e", "ip.dst", "-e", "icmp.type"], {
        encoding: "utf8",
        env: { ...process.env, HOME: dir },
      });
      expect(tshark.status, tshark.stderr).toBe(0);
      const lines = tshark.stdout.trim().split("\n");
      expect(lines).toHaveLength(50);
      expect(lines.filter((line) => line === `${A.mac}\t${A.ip}\t${B.ip}\t8`)).toHaveLength(20);
      expect(lines.filter((line) => line === `${B.mac}\t${B.ip}\t${A.ip}\t0`)).toHaveLength(20);
    }
  }, 1_800_000);
});
