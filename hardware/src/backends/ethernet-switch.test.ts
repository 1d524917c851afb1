import { describe, expect, it } from "vitest";
import { EthernetSwitch } from "./ethernet-switch.js";
import type { EthernetMedium, EthernetPort } from "../net/ethernet.js";

class Nic implements EthernetPort {
  readonly received: Uint8Array[] = [];
  medium: EthernetMedium | undefined;
  carrier = false;
  receiveFrame(frame: Uint8Array): void {
    this.received.push(frame);
  }
  carrierChanged(up: boolean): void {
    this.carrier = up;
  }
  connect(medium: EthernetMedium | undefined): void {
    this.medium = medium;
    this.carrier = medium?.carrier ?? false;
  }
  send(dst: number, src: number): void {
    const frame = new Uint8Array(60);
    frame.set([0, 0x1b, 0x21, 0, 0, dst], 0);
    if (dst === 0xff) frame.fill(0xff, 0, 6);
    frame.set([0, 0x1b, 0x21, 0, 0, src], 6);
    this.medium!.transmitFrame(frame);
  }
}

describe("EthernetSwitch", () => {
  it("floods unknown and broadcast destinations, then forwards learned unicast to one port", () => {
    const sw = new EthernetSwitch("tor");
    const [a, b, c] = [new Nic(), new Nic(), new Nic()];
    for (const nic of [a, b, c]) sw.plug(nic);
    expect(a.carrier && b.carrier && c.carrier).toBe(true);
    a.send(0xff, 1);
    expect([a.received.length, b.received.length, c.received.length]).toEqual([0, 1, 1]);
    b.send(1, 2); // a is known: only a receives
    expect([a.received.length, b.received.length, c.received.length]).toEqual([1, 1, 1]);
    c.send(9, 3); // unknown unicast floods
    expect([a.received.length, b.received.length, c.received.length]).toEqual([2, 2, 1]);
    expect(sw.addressTable()).toEqual([
      { mac: "00:1b:21:00:00:01", port: 0 },
      { mac: "00:1b:21:00:00:02", port: 1 },
      { mac: "00:1b:21:00:00:03", port: 2 },
    ]);
  });

  it("drops carrier on a shut port, forgets what it learned there and stops delivering to it", () => {
    const sw = new EthernetSwitch("tor");
    const [a, b] = [new Nic(), new Nic()];
    sw.plug(a);
    const bPort = sw.plug(b);
    b.send(1, 2);
    sw.setPortLink(bPort, false);
    expect(b.carrier).toBe(false);
    a.send(2, 1);
    expect(b.received.length).toBe(0);
    expect(sw.addressTable().map((e) => e.port)).toEqual([0]);
    sw.setPortLink(bPort, true);
    a.send(2, 1);
    expect(b.received.length).toBe(1);
  });
});
