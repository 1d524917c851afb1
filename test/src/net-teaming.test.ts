import { describe, expect, it } from "vitest";
import { VirtualClock, type PingResult } from "@vmk/kernel";
import { E1000Model, EthernetWire } from "@vmk/hardware";
import { simulatedHost, type SimulatedHost } from "./simulated-host.js";

const MS = 1e6;

async function teamedHost(name: string, clock: VirtualClock, ip: string, macPrefix: string): Promise<SimulatedHost> {
  const sim = await simulatedHost()
    .named(name)
    .withClock(clock)
    .withCard("e1000-82545em", { slot: 3, mac: `${macPrefix}:01` })
    .withCard("e1000-82545em", { slot: 4, mac: `${macPrefix}:02` })
    .withNetwork({ management: { ipAddress: ip, netmask: "255.255.255.0" } })
    .boot();
  sim.host.network.addUplink("vSwitch0", "vmnic1");
  sim.host.network.setTeaming("vSwitch0", { activeUplinks: ["vmnic0"], standbyUplinks: ["vmnic1"] });
  return sim;
}

describe("NIC teaming over two e1000 uplinks", () => {
  it("fails over to the standby uplink when the active link goes down; the driver saw LSC and dropped carrier", async () => {
    const clock = new VirtualClock();
    const a = await teamedHost("esx-a", clock, "198.51.100.1", "00:1b:21:0a:00");
    const b = await teamedHost("esx-b", clock, "198.51.100.2", "00:1b:21:0b:00");
    const primary = EthernetWire.between(a.card<E1000Model>(3), b.card<E1000Model>(3), { clock, latencyNs: 2_000 });
    const secondary = EthernetWire.between(a.card<E1000Model>(4), b.card<E1000Model>(4), { clock, latencyNs: 2_000 });
    const allUp = (sim: SimulatedHost) => sim.host.network.listUplinks().every((u) => u.linkUp);
    await a.runUntil(() => allUp(a) && allUp(b), 10e9);
    expect(a.host.network.listUplinks().map((u) => [u.name, u.role])).toEqual([
      ["vmnic0", "active"],
      ["vmnic1", "standby"],
    ]);

    const pingStart = clock.now();
    const pings = a.host.management.ping("vmk0", "198.51.100.2", { count: 30, intervalNs: 100 * MS, timeoutNs: 500 * MS });
    a.runFor(1_000 * MS);
    const beforeCut = secondary.counters().aToB.frames + secondary.counters().bToA.frames;
    const cutAt = clock.now();
    primary.setLinkEnabled(false);
    const report = await a.complete(pings);

    // The driver took the link-status-change interrupt and turned its carrier off.
    const driverLog = a.log().filter((e) => e.source === "@vmk/driver-e1000").map((e) => e.message);
    expect(driverLog.some((m) => /vmnic0.*NIC Link is Down|NIC Link is Down/.test(m))).toBe(true);
    const vmnic0 = a.host.network.listUplinks().find((u) => u.name === "vmnic0")!;
    expect(vmnic0.linkUp).toBe(false);
    const failoverLine = a.log().find((e) => /now uses vmnic1 instead of vmnic0/.test(e.message));
    expect(failoverLine).toBeDefined();
    const failoverNs = failoverLine!.time - cutAt;
    expect(failoverNs).toBeLessThan(100 * MS);

    // Traffic went on over the standby: every echo sent well after the cut was answered through wire 2.
    const firstSequence = report.results[0]!.sequence;
    const sentAt = (r: PingResult) => pingStart + (r.sequence - firstSequence) * 100 * MS;
    const sentAfter = (r: PingResult) => sentAt(r) >= cutAt + 200 * MS;
    const late = report.results.filter(sentAfter);
    expect(late.length).toBeGreaterThan(10);
    expect(late.every((r) => r.received)).toBe(true);
    expect(report.lossPercent).toBeLessThanOrEqual(10);
    expect(secondary.counters().aToB.frames + secondary.counters().bToA.frames - beforeCut).toBeGreaterThanOrEqual(2 * late.length);
  });
});
