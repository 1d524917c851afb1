import { VirtualClock } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { EthernetWire } from "./ethernet-wire.js";
import type { FrameDirection } from "./frame-tap.js";
import { RecordingPort, arpRequestFrame, icmpEchoFrame } from "./testing/recording-port.js";

describe("EthernetWire", () => {
  it("carries frames both ways between two ports and counts them", () => {
    const clock = new VirtualClock();
    const a = new RecordingPort("a");
    const b = new RecordingPort("b");
    const wire = EthernetWire.between(a, b, { clock });
    expect(a.carrierEvents).toEqual([true]);
    expect(b.carrierEvents).toEqual([true]);
    expect(a.medium!.carrier).toBe(true);
    const arp = arpRequestFrame();
    const icmp = icmpEchoFrame();
    a.send(arp);
    b.send(icmp);
    expect(b.received).toEqual([arp]);
    expect(a.received).toEqual([icmp]);
    expect(wire.counters()).toEqual({ aToB: { frames: 1, bytes: 60, dropped: 0 }, bToA: { frames: 1, bytes: icmp.length, dropped: 0 } });
  });

  it("propagates carrier when either end is unplugged, replugged or the link fails", () => {
    const clock = new VirtualClock();
    const a = new RecordingPort("a");
    const b = new RecordingPort("b");
    const wire = EthernetWire.between(a, b, { clock });
    wire.unplug("b");
    expect(a.carrierEvents).toEqual([true, false]);
    expect(b.carrierEvents).toEqual([true, false]);
    expect(b.medium).toBeUndefined();
    expect(a.medium!.carrier).toBe(false);
    a.send(arpRequestFrame());
    expect(wire.counters().aToB).toEqual({ frames: 0, bytes: 0, dropped: 1 });
    wire.plug("b", b);
    expect(a.carrierEvents).toEqual([true, false, true]);
    expect(b.carrierEvents).toEqual([true, false, true]);
    wire.setLinkEnabled(false);
    wire.setLinkEnabled(true);
    expect(b.carrierEvents).toEqual([true, false, true, false, true]);
    expect(() => wire.plug("a", new RecordingPort())).toThrow(/already plugged/);
  });

  it("delays frames on the host clock and loses those in flight when the cable is pulled", () => {
    const clock = new VirtualClock();
    const a = new RecordingPort("a");
    const b = new RecordingPort("b");
    const wire = EthernetWire.between(a, b, { clock, latencyNs: 5_000 });
    const seen: [FrameDirection, number][] = [];
    wire.addTap({ onFrame: (_frame, direction, time) => seen.push([direction, time]) });
    a.send(arpRequestFrame());
    a.send(icmpEchoFrame());
    expect(b.received.length).toBe(0);
    clock.advance(4_999);
    expect(b.received.length).toBe(0);
    clock.advance(1);
    expect(b.received.map((f) => f[12])).toEqual([0x08, 0x08]);
    expect(b.received[1]![13]).toBe(0x00);
    clock.advance(1_000);
    b.send(arpRequestFrame());
    wire.unplug("a");
    clock.advance(10_000);
    expect(a.received.length).toBe(0);
    expect(wire.counters().bToA).toMatchObject({ frames: 1, dropped: 1 });
    expect(seen).toEqual([
      ["a-to-b", 0],
      ["a-to-b", 0],
      ["b-to-a", 6_000],
    ]);
  });
});
