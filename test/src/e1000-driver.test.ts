import { describe, expect, it } from "vitest";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Host, defaultModuleSearchPaths, type VirtualClock } from "@vmk/kernel";
import { E1000Model, type EthernetMedium } from "@vmk/hardware";

const MAC = "00:1b:21:aa:bb:cc";
const MAC_BYTES = Uint8Array.from([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]);
const MS = 1_000_000;

/** The far end of the cable: records what the card puts on the wire. */
class Wire implements EthernetMedium {
  readonly frames: Uint8Array[] = [];
  carrier = true;
  transmitFrame(frame: Uint8Array): void {
    this.frames.push(frame);
  }
}

/** Takes vmnic0's received frames in place of a vSwitch. */
class RecordingConsumer {
  readonly frames: Uint8Array[] = [];
  receiveFromUplink(frame: Uint8Array): void {
    this.frames.push(frame);
  }
}

function frame(dst: Uint8Array, src: Uint8Array, length: number, fill: number): Uint8Array {
  const bytes = new Uint8Array(length).fill(fill);
  bytes.set(dst, 0);
  bytes.set(src, 6);
  bytes[12] = 0x08;
  bytes[13] = 0x00;
  return bytes;
}

async function bootWithE1000() {
  // vSwitch0 is told to wait for another NIC, so that the test itself consumes vmnic0.
  const host = new Host({ name: "e1000-host", memoryBytes: 64 << 20, modules: { searchPaths: defaultModuleSearchPaths(dirname(fileURLToPath(import.meta.url))), preferSource: true }, network: { uplink: "vmnic9" } });
  const links: boolean[] = [];
  host.log.subscribe((entry) => {
    const change = /^vmnic0: link (up|down)/.exec(entry.message);
    if (entry.source === "net" && change) links.push(change[1] === "up");
  });
  const model = new E1000Model({ variant: "82540EM", mac: MAC });
  const fn = host.attachPci({ device: 3 }, model);
  const wire = new Wire();
  model.connect(wire);
  await host.boot();
  const clock = host.clock as VirtualClock;
  const run = (ms: number) => clock.advance(ms * MS);
  const received = new RecordingConsumer();
  const handle = host.network.uplinks.get("vmnic0");
  if (handle) handle.consumer = received;
  return { host, model, fn, wire, clock, run, handle, links, received };
}

/** Opens vmnic0 and lets autonegotiation and the watchdog bring the link up. */
async function bootAndOpen() {
  const rig = await bootWithE1000();
  // The registry opens a new uplink right after it registered; autonegotiation takes 100 ms.
  rig.run(500);
  return { ...rig, uplink: rig.handle!.uplink };
}

describe("e1000 driver on the 82540EM model", () => {
  it("is loaded for the card, binds it and registers vmnic0 with the EEPROM's address", async () => {
    const { host, fn, handle } = await bootWithE1000();
    expect(host.loader.get("@vmk/driver-e1000")).toMatchObject({ state: "loaded", devices: [fn.name] });
    expect(host.loader.bindingOf(fn.name)).toEqual({ module: "@vmk/driver-e1000", driver: "e1000" });
    expect(host.network.uplinks.list().map((h) => h.name)).toEqual(["vmnic0"]);
    const uplink = handle!.uplink;
    expect(uplink.driver).toBe("e1000");
    expect(uplink.busAddress).toBe(fn.name);
    expect(Array.from(uplink.macAddress)).toEqual(Array.from(MAC_BYTES));
    expect(uplink.isOpen).toBe(false);
    expect(uplink.link().up).toBe(false);
    const lines = host.log.entries().map((e) => e.message);
    expect(lines.some((l) => l.includes("Intel(R) PRO/1000 Network Connection"))).toBe(true);
  });

  it("brings the link up after open and reports it once", async () => {
    const { uplink, links, handle } = await bootAndOpen();
    expect(uplink.isOpen).toBe(true);
    expect(links).toEqual([true]);
    expect(handle!.link).toEqual({ up: true, speedMbps: 1000, fullDuplex: true });
    expect(uplink.link()).toEqual({ up: true, speedMbps: 1000, fullDuplex: true });
  });

  it("transmits a frame onto the wire through the TX ring", async () => {
    const { uplink, wire, run } = await bootAndOpen();
    const out = frame(Uint8Array.from([0x02, 0, 0, 0, 0, 1]), MAC_BYTES, 64, 0x5a);
    expect(uplink.transmit(out)).toBe(true);
    run(1);
    expect(wire.frames).toHaveLength(1);
    expect(Array.from(wire.frames[0]!)).toEqual(Array.from(out));
    // Completions are reclaimed by NAPI and counted.
    run(10);
    expect(uplink.stats()).toMatchObject({ txPackets: 1, txBytes: 64 });
  });

  it("pads a short frame to the Ethernet minimum", async () => {
    const { uplink, wire, run } = await bootAndOpen();
    const out = frame(Uint8Array.from([0x02, 0, 0, 0, 0, 1]), MAC_BYTES, 42, 0x11);
    expect(uplink.transmit(out)).toBe(true);
    run(1);
    expect(wire.frames[0]!.length).toBe(60);
    expect(Array.from(wire.frames[0]!.subarray(0, 42))).toEqual(Array.from(out));
    expect(Array.from(wire.frames[0]!.subarray(42))).toEqual(new Array(18).fill(0));
  });

  it("keeps many frames in flight and recycles the ring", async () => {
    const { uplink, wire, run } = await bootAndOpen();
    let sent = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 100; i++) if (uplink.transmit(frame(Uint8Array.from([0x02, 0, 0, 0, 0, 1]), MAC_BYTES, 64, (sent + i) & 0xff))) sent++;
      run(2);
    }
    run(10);
    expect(sent).toBe(2000);
    expect(wire.frames).toHaveLength(2000);
    expect(uplink.stats().txPackets).toBe(2000);
  });

  it("receives a frame from the wire and hands it to the kernel", async () => {
    const { model, received, run, uplink } = await bootAndOpen();
    const incoming = frame(MAC_BYTES, Uint8Array.from([0x02, 0, 0, 0, 0, 9]), 128, 0xa5);
    model.receiveFrame(incoming);
    run(5);
    expect(received.frames).toHaveLength(1);
    expect(Array.from(received.frames[0]!)).toEqual(Array.from(incoming));
    expect(uplink.stats()).toMatchObject({ rxPackets: 1, rxBytes: 128 });
  });

  it("filters by address until the uplink is made promiscuous, and accepts listed multicast", async () => {
    const { model, received, run, uplink } = await bootAndOpen();
    const other = frame(Uint8Array.from([0x02, 0, 0, 0, 0, 0x77]), Uint8Array.from([0x02, 0, 0, 0, 0, 9]), 64, 1);
    model.receiveFrame(other);
    run(5);
    expect(received.frames).toHaveLength(0);
    uplink.setPromiscuous(true);
    model.receiveFrame(other);
    run(5);
    expect(received.frames).toHaveLength(1);
    uplink.setPromiscuous(false);
    const group = Uint8Array.from([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]);
    const mcast = frame(group, Uint8Array.from([0x02, 0, 0, 0, 0, 9]), 64, 2);
    model.receiveFrame(mcast);
    run(5);
    expect(received.frames).toHaveLength(1);
    uplink.setMulticastList([group]);
    model.receiveFrame(mcast);
    run(5);
    expect(received.frames).toHaveLength(2);
  });

  it("reports carrier loss and return as link changes", async () => {
    const { model, links, handle, run, uplink, wire } = await bootAndOpen();
    wire.carrier = false;
    model.carrierChanged(false);
    run(50);
    expect(handle!.link).toEqual({ up: false, speedMbps: 0, fullDuplex: false });
    expect(uplink.transmit(frame(Uint8Array.from([2, 0, 0, 0, 0, 1]), MAC_BYTES, 64, 0))).toBe(false);
    wire.carrier = true;
    model.carrierChanged(true);
    run(500);
    expect(handle!.link).toMatchObject({ up: true });
    expect(links).toEqual([true, false, true]);
  });

  it("reads the chip's statistics counters into the uplink's", async () => {
    const { model, run, uplink } = await bootAndOpen();
    model.receiveFrame(frame(Uint8Array.from([0x01, 0x00, 0x5e, 0, 0, 1]), Uint8Array.from([2, 0, 0, 0, 0, 9]), 64, 3));
    uplink.setMulticastList([Uint8Array.from([0x01, 0x00, 0x5e, 0, 0, 1])]);
    model.receiveFrame(frame(Uint8Array.from([0x01, 0x00, 0x5e, 0, 0, 1]), Uint8Array.from([2, 0, 0, 0, 0, 9]), 64, 3));
    run(5);
    expect(uplink.stats().multicast).toBe(1);
  });

  it("closes and reopens", async () => {
    const { uplink, links, run, wire } = await bootAndOpen();
    await uplink.close();
    expect(uplink.isOpen).toBe(false);
    expect(links.at(-1)).toBe(false);
    await uplink.open();
    run(500);
    expect(links.at(-1)).toBe(true);
    expect(uplink.transmit(frame(Uint8Array.from([2, 0, 0, 0, 0, 1]), MAC_BYTES, 64, 7))).toBe(true);
    run(1);
    expect(wire.frames).toHaveLength(1);
  });

  it("unbinds cleanly when the module unloads", async () => {
    const { host, fn } = await bootAndOpen();
    await host.loader.unload("@vmk/driver-e1000");
    expect(host.network.uplinks.list()).toHaveLength(0);
    expect(host.loader.bindingOf(fn.name)).toBeUndefined();
    expect(host.memory.usageByOwner().get("@vmk/driver-e1000") ?? 0).toBe(0);
    expect(host.log.entries({ level: "warn" }).map((e) => e.message).filter((m) => m.includes("still"))).toEqual([]);
  });

  it("quarantines the module when its receive path throws, and the host stays up", async () => {
    const { host, run, fn, handle, links } = await bootAndOpen();
    // A stray write corrupts the receive ring: descriptor 0 claims a finished 65535-byte frame. The
    // driver trusts the length, as Linux's does, and skb_put overruns the buffer (skb_over_panic) in
    // the NAPI poll that the watchdog's periodic receive interrupt schedules.
    const bar0 = fn.config.barAddress(0);
    const ring = host.mmio.read(bar0 + 0x2800, 4);
    host.memory.view.setUint16(ring + 8, 0xffff, true);
    host.memory.view.setUint8(ring + 12, 0x03);
    expect(() => run(3000)).not.toThrow();
    const info = host.loader.get("@vmk/driver-e1000")!;
    expect(info.state).toBe("quarantined");
    expect(info.reason).toMatch(/NET_RX softirq threw: skb_over_panic/);
    expect(host.loader.bindingOf(fn.name)).toBeUndefined();
    expect(host.network.uplinks.list()).toHaveLength(0);
    expect(handle!.registered).toBe(false);
    expect(links.at(-1)).toBe(false);
    expect(host.hostState).toBe("running");
    // Nothing of the driver runs any more: time goes on quietly.
    expect(() => run(5000)).not.toThrow();
    expect(host.management.hostInfo()).toMatchObject({ state: "running" });
  });

  it("runs two hosts in one process without sharing driver state", async () => {
    const a = await bootAndOpen();
    const b = await bootAndOpen();
    const out = frame(Uint8Array.from([2, 0, 0, 0, 0, 1]), MAC_BYTES, 64, 9);
    expect(a.uplink.transmit(out)).toBe(true);
    a.run(1);
    b.run(1);
    expect(a.wire.frames).toHaveLength(1);
    expect(b.wire.frames).toHaveLength(0);
    expect(b.handle!.name).toBe("vmnic0");
  });
});
