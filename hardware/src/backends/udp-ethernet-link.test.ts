import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { RealTimeClock } from "@vmk/kernel";
import { afterEach, describe, expect, it } from "vitest";
import { RecordingPort, arpRequestFrame, icmpEchoFrame } from "./testing/recording-port.js";
import { UdpControl, UdpEthernetLink, encodeUdpControl } from "./udp-ethernet-link.js";

const MS = 1e6;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function realClock(): RealTimeClock {
  const clock = new RealTimeClock();
  cleanups.push(() => clock.stop());
  return clock;
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("UdpEthernetLink", () => {
  it("joins two ports over loopback UDP with carrier from hellos", async () => {
    const clock = realClock();
    const a = new RecordingPort("a");
    const b = new RecordingPort("b");
    const left = await UdpEthernetLink.open(a, { clock, keepaliveIntervalNs: 20 * MS });
    cleanups.push(() => left.close());
    expect(left.carrier).toBe(false);
    const right = await UdpEthernetLink.open(b, { clock, remotePort: left.localPort, keepaliveIntervalNs: 20 * MS });
    cleanups.push(() => right.close());
    await until(() => left.carrier && right.carrier);
    expect(left.remotePort).toBe(right.localPort);
    expect(a.carrierEvents).toEqual([true]);
    expect(b.medium).toBe(right);

    a.send(arpRequestFrame());
    b.send(icmpEchoFrame());
    await until(() => a.received.length === 1 && b.received.length === 1);
    expect(b.received[0]).toEqual(arpRequestFrame());
    expect(a.received[0]).toEqual(icmpEchoFrame());
    expect(left.counters()).toEqual({ sent: { frames: 1, bytes: 60, dropped: 0 }, received: { frames: 1, bytes: icmpEchoFrame().length, dropped: 0 } });

    await right.close();
    await until(() => !left.carrier);
    expect(a.carrierEvents).toEqual([true, false]);
    expect(b.carrierEvents).toEqual([true, false]);
    expect(b.medium).toBeUndefined();
    a.send(arpRequestFrame());
    expect(left.counters().sent.dropped).toBe(1);
  });

  it("drops carrier when the peer falls silent and ignores strangers", async () => {
    const clock = realClock();
    const port = new RecordingPort();
    const peer = createSocket("udp4");
    cleanups.push(() => new Promise<void>((resolve) => peer.close(() => resolve())));
    peer.bind(0, "127.0.0.1");
    await once(peer, "listening");
    const link = await UdpEthernetLink.open(port, { clock, remotePort: peer.address().port, keepaliveIntervalNs: 10 * MS, deadIntervalNs: 40 * MS });
    cleanups.push(() => link.close());
    const hellos: number[] = [];
    peer.on("message", (m) => hellos.push(m.length));
    peer.send(encodeUdpControl(UdpControl.Hello), link.localPort, "127.0.0.1");
    await until(() => link.carrier);
    await until(() => !link.carrier, 1000);
    expect(port.carrierEvents).toEqual([true, false]);
    expect(hellos.length).toBeGreaterThan(0);
    expect(new Set(hellos)).toEqual(new Set([8]));

    const stranger = createSocket("udp4");
    cleanups.push(() => new Promise<void>((resolve) => stranger.close(() => resolve())));
    stranger.send(arpRequestFrame(), link.localPort, "127.0.0.1");
    await until(() => link.malformed === 1);
    expect(port.received.length).toBe(0);
  });

  it("talks to a peer in another process", async () => {
    const clock = realClock();
    const port = new RecordingPort();
    const link = await UdpEthernetLink.open(port, { clock, keepaliveIntervalNs: 20 * MS });
    cleanups.push(() => link.close());
    // A minimal peer in plain JavaScript: answers hellos, echoes every frame back with the MACs swapped.
    const peerSource = `
      const dgram = require("node:dgram");
      const s = dgram.createSocket("udp4");
      const linkPort = Number(process.argv[1]);
      s.on("message", (m) => {
        if (m.length === 8 && m[4] === 2) { clearInterval(keepalive); s.close(); return; }
        if (m.length < 14) return;
        const reply = Buffer.concat([m.subarray(6, 12), m.subarray(0, 6), m.subarray(12)]);
        s.send(reply, linkPort, "127.0.0.1");
      });
      s.bind(0, "127.0.0.1", () => s.send(Buffer.from([0x56, 0x4d, 0x4b, 0x57, 1, 1, 0, 0]), linkPort, "127.0.0.1"));
      const keepalive = setInterval(() => s.send(Buffer.from([0x56, 0x4d, 0x4b, 0x57, 1, 1, 0, 0]), linkPort, "127.0.0.1"), 20);
      keepalive.unref();
    `;
    const child = spawn(process.execPath, ["-e", peerSource, String(link.localPort)], { stdio: "inherit" });
    cleanups.push(() => child.kill());
    await until(() => link.carrier);
    const frame = icmpEchoFrame();
    port.send(frame);
    await until(() => port.received.length === 1);
    expect([...port.received[0]!.subarray(0, 6)]).toEqual([...frame.subarray(6, 12)]);
    expect([...port.received[0]!.subarray(12)]).toEqual([...frame.subarray(12)]);
    await link.close();
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(0);
  });
});
