import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "@vmk/kernel";
import { E1000Model, EthernetWire, PcapWriter, readPcapFile } from "@vmk/hardware";
import { simulatedHost } from "./simulated-host.js";

const tsharkPresent = spawnSync("tshark", ["--version"], { encoding: "utf8" }).status === 0;
// CI installs tshark (.ci/apt-packages): there a missing tshark fails the test instead of skipping it.
const tsharkRequired = process.env.CI === "true" || tsharkPresent;

async function twoHostsOnOneWire(capturePath: string) {
  const clock = new VirtualClock();
  const hostA = await simulatedHost()
    .named("esx-a")
    .withClock(clock)
    .withCard("e1000-82545em", { slot: 3, mac: "00:1b:21:0a:00:01" })
    .withNetwork({ management: { ipAddress: "192.0.2.11", netmask: "255.255.255.0" } })
    .boot();
  const hostB = await simulatedHost()
    .named("esx-b")
    .withClock(clock)
    .withCard("e1000-82545em", { slot: 3, mac: "00:1b:21:0b:00:01" })
    .withNetwork({ management: { ipAddress: "192.0.2.12", netmask: "255.255.255.0" } })
    .boot();
  const wire = EthernetWire.between(hostA.card<E1000Model>(3), hostB.card<E1000Model>(3), { clock, latencyNs: 5_000 });
  const pcap = new PcapWriter(capturePath);
  wire.addTap(pcap);
  // autonegotiation, then the e1000 watchdog notices link and turns the carrier on
  await hostA.runUntil(() => hostA.host.network.listUplinks().every((u) => u.linkUp) && hostB.host.network.listUplinks().every((u) => u.linkUp), 10e9);
  return { clock, hostA, hostB, wire, pcap };
}

describe("two hosts, each with an e1000 uplink, on one wire", () => {
  it("host A's vmk0 pings host B's vmk0 through vSwitch, vmklinux, the e1000 driver and the 8254x model", async () => {
    const capture = join(mkdtempSync(join(tmpdir(), "vmk-two-hosts-")), "wire.pcap");
    const { hostA, hostB, wire, pcap } = await twoHostsOnOneWire(capture);
    expect(hostA.pciTree().find((d) => d.address === "0000:00:03.0")).toMatchObject({ driver: "e1000", module: "@vmk/driver-e1000" });
    expect(hostA.host.network.listUplinks()[0]).toMatchObject({ name: "vmnic0", driver: "e1000" });

    const report = await hostA.complete(hostA.host.management.ping("vmk0", "192.0.2.12", { count: 5, intervalNs: 100e6 }));
    pcap.close();
    expect(report).toMatchObject({ transmitted: 5, received: 5, lossPercent: 0 });
    expect(report.rttMaxNs).toBeGreaterThan(10_000); // two wire crossings of 5 µs plus interrupt moderation

    // B's driver and model saw the traffic too
    const bStats = hostB.host.network.listUplinks()[0]!;
    expect(bStats.deviceStats!.rxPackets).toBeGreaterThanOrEqual(6);
    expect(wire.counters().aToB.frames).toBeGreaterThanOrEqual(6);

    const frames = readPcapFile(capture).records.map((r) => r.data);
    const ethertypes = frames.map((f) => (f[12]! << 8) | f[13]!);
    expect(ethertypes).toContain(0x0806);
    expect(ethertypes.filter((t) => t === 0x0800).length).toBeGreaterThanOrEqual(10);
  });

  it.runIf(tsharkRequired)("leaves a capture that tshark dissects as ARP and ICMP echo", async () => {
    expect(tsharkPresent, "tshark is not installed (apt-get install tshark)").toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "vmk-two-hosts-"));
    const capture = join(dir, "wire.pcap");
    const { hostA, pcap } = await twoHostsOnOneWire(capture);
    await hostA.complete(hostA.host.management.ping("vmk0", "192.0.2.12", { count: 2, intervalNs: 100e6 }));
    pcap.close();
    const tshark = spawnSync("tshark", ["-r", capture, "-T", "fields", "-e", "frame.protocols", "-e", "arp.opcode", "-e", "icmp.type", "-e", "ip.src", "-e", "ip.dst"], {
      encoding: "utf8",
      env: { ...process.env, HOME: dir },
    });
    expect(tshark.status, tshark.stderr).toBe(0);
    const lines = tshark.stdout.trim().split("\n").map((l) => l.split("\t"));
    const arp = lines.filter((l) => l[0] === "eth:ethertype:arp").map((l) => l[1]);
    expect(arp).toEqual(expect.arrayContaining(["1", "2"]));
    const icmp = lines.filter((l) => l[0] === "eth:ethertype:ip:icmp:data");
    expect(icmp.map((l) => [l[2], l[3], l[4]])).toEqual(
      expect.arrayContaining([
        ["8", "192.0.2.11", "192.0.2.12"],
        ["0", "192.0.2.12", "192.0.2.11"],
      ]),
    );
    expect(icmp.length).toBe(4);
  });
});
