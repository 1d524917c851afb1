import { Host, PciDeviceHandle, type NetUplink, type UplinkLinkState, type UplinkStats, type VirtualClock, type VirtualPort } from "@vmk/kernel";
import { E1000Model, type EthernetMedium } from "@vmk/hardware";
import { simulatedHost, type SimulatedHost } from "../simulated-host.js";
import { cpuSeconds, measureRate, type BenchFigure, type BenchSuite } from "./bench-suite.js";

/** 1 GbE line rate: a frame of `size` bytes (FCS included) plus 8 bytes of preamble and a 12-byte gap, at 1 ns a bit. */
function wireTimeNs(size: number): number {
  return (size + 20) * 8;
}
const LINE_RATE_64 = 1_488_095;
const LINE_RATE_1518 = 81_274;
const FCS_LENGTH = 4;
/** Frames a guest hands its port before virtual time moves on (one burst of a virtual NIC's TX ring). */
const BATCH = 64;
/** Bursts per timed step, so that reading the CPU clock costs nothing measurable. */
const BURSTS = 8;
/**
 * Rates are per second of this process's CPU time: this machine runs other work, and wall-clock
 * rates would measure that load as much as this code. On an idle machine the two agree (CPU time also
 * counts the garbage collector's threads, so it can only make a figure lower).
 */
const RATE_UNIT = "frames/s CPU";
function measureFrames(body: () => number): number {
  return measureRate(body, 1, cpuSeconds).perSecond;
}

const CARD_MAC = "00:1b:21:0b:00:01";
const VM_MAC = Uint8Array.from([0x00, 0x50, 0x56, 0x0b, 0x00, 0x01]);
const REMOTE_MAC = Uint8Array.from([0x02, 0x00, 0x00, 0x0b, 0x00, 0x99]);

/** An Ethernet frame of `size` bytes on the wire (FCS included), as frames travel here: without the FCS. */
function frameOfWireSize(destination: Uint8Array, source: Uint8Array, size: number): Uint8Array {
  const frame = new Uint8Array(size - FCS_LENGTH);
  frame.set(destination, 0);
  frame.set(source, 6);
  frame[12] = 0x08;
  frame[13] = 0x00;
  for (let i = 14; i < frame.length; i++) frame[i] = (i * 7 + 3) & 0xff;
  return frame;
}

/** The far end of the cable: counts what the card puts on the wire, checking each frame's length. */
class CountingSink implements EthernetMedium {
  readonly carrier = true;
  frames = 0;
  bytes = 0;
  wrongLength = 0;
  expectedLength = 0;
  transmitFrame(frame: Uint8Array): void {
    this.frames++;
    this.bytes += frame.length;
    if (frame.length !== this.expectedLength) this.wrongLength++;
  }
}

/** A VM's side of a vSwitch port: counts what the switch delivers to it. */
class CountingPortClient {
  frames = 0;
  receive(_frame: Uint8Array): boolean {
    this.frames++;
    return true;
  }
}

interface NetHost {
  sim: SimulatedHost;
  model: E1000Model;
  sink: CountingSink;
  port: VirtualPort;
  client: CountingPortClient;
}

/** A booted host whose e1000 is vSwitch0's active uplink with link up, and a VM port on "VM Network". */
async function bootNetHost(): Promise<NetHost> {
  const sim = await simulatedHost().named("bench-net").withCard("e1000-82545em", { slot: 3, mac: CARD_MAC }).usingBuiltModules().boot();
  const model = sim.card<E1000Model>(3);
  const sink = new CountingSink();
  model.connect(sink);
  const network = sim.host.network;
  await sim.runUntil(() => network.virtualSwitch("vSwitch0").portGroupNamed("VM Network").activeUplink !== undefined, 10e9, 10e6);
  const client = new CountingPortClient();
  const port = network.connectPort({ portGroup: "VM Network", clientName: "bench-vm.eth0", mac: VM_MAC, client });
  return { sim, model, sink, port, client };
}

/**
 * Guest → port → vSwitch → vmnic0 (vmklinux) → e1000 driver → 82545EM model → sink. The guest sends
 * bursts of BATCH frames; after each burst virtual time moves by the time the wire needs for them, so
 * the transmit-delay timers, ITR throttling, the interrupt, NAPI and TX cleaning run as they would at
 * line rate. Only frames the sink received count.
 */
function transmitThroughPath(net: NetHost, wireSize: number): { perSecond: number; refused: number } {
  const frame = frameOfWireSize(REMOTE_MAC, VM_MAC, wireSize);
  const { sink, port, sim } = net;
  sink.expectedLength = frame.length;
  const burstNs = BATCH * wireTimeNs(wireSize);
  const sentBefore = port.stats.txPackets;
  const sinkBefore = sink.frames;
  const refusedBefore = port.stats.txDrops;
  const perSecond = measureFrames(() => {
    const before = sink.frames;
    for (let burst = 0; burst < BURSTS; burst++) {
      for (let i = 0; i < BATCH; i++) if (!port.transmit(frame)) break;
      sim.clock.advance(burstNs);
    }
    return sink.frames - before;
  });
  // Let completions run, then check that every frame the port accepted reached the wire intact.
  sim.clock.advance(1e6);
  const accepted = port.stats.txPackets - sentBefore;
  const arrived = sink.frames - sinkBefore;
  if (accepted !== arrived) throw new Error(`${wireSize}-byte transmit: the port accepted ${accepted} frames but ${arrived} reached the wire`);
  if (sink.wrongLength !== 0) throw new Error(`${wireSize}-byte transmit: ${sink.wrongLength} frames reached the wire with the wrong length`);
  return { perSecond, refused: port.stats.txDrops - refusedBefore };
}

/** Wire → 82545EM model RX → e1000 NAPI → vmnic0 → vSwitch → the VM's port, in bursts paced like transmit. */
function receiveThroughPath(net: NetHost, wireSize: number): { perSecond: number; lost: number } {
  const frame = frameOfWireSize(VM_MAC, REMOTE_MAC, wireSize);
  const { model, client, sim } = net;
  const burstNs = BATCH * wireTimeNs(wireSize);
  const deliveredBefore = client.frames;
  let injected = 0;
  const perSecond = measureFrames(() => {
    const before = client.frames;
    for (let burst = 0; burst < BURSTS; burst++) {
      for (let i = 0; i < BATCH; i++) model.receiveFrame(frame);
      injected += BATCH;
      sim.clock.advance(burstNs);
    }
    return client.frames - before;
  });
  sim.clock.advance(1e6);
  return { perSecond, lost: injected - (client.frames - deliveredBefore) };
}

/** A NetUplink that counts what it is given: the vSwitch's forwarding cost without a driver behind it. */
class CountingUplink implements NetUplink {
  readonly driver = "counting";
  readonly busAddress = "bench:uplink";
  readonly macAddress = Uint8Array.from([0x02, 0, 0, 0x0b, 0, 0x01]);
  readonly mtu = 1500;
  isOpen = false;
  frames = 0;
  link(): UplinkLinkState {
    return { up: this.isOpen, speedMbps: 1000, fullDuplex: true };
  }
  open(): void {
    this.isOpen = true;
  }
  close(): void {
    this.isOpen = false;
  }
  transmit(_frame: Uint8Array): boolean {
    this.frames++;
    return true;
  }
  setPromiscuous(): void {}
  setMulticastList(): void {}
  stats(): UplinkStats {
    return { rxPackets: 0, txPackets: this.frames, rxBytes: 0, txBytes: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0, multicast: 0, collisions: 0 };
  }
}

function vswitchAlone(wireSize: number): number {
  const host = new Host({ name: "bench-vswitch", memoryBytes: 1 << 20 });
  const uplink = new CountingUplink();
  host.network.uplinks.register(uplink);
  (host.clock as VirtualClock).runUntil(host.clock.now());
  const port = host.network.connectPort({ portGroup: "VM Network", clientName: "bench-vm.eth0", mac: VM_MAC, client: new CountingPortClient() });
  const frame = frameOfWireSize(REMOTE_MAC, VM_MAC, wireSize);
  return measureFrames(() => {
    const before = uplink.frames;
    for (let i = 0; i < 1000; i++) port.transmit(frame);
    return uplink.frames - before;
  });
}

/**
 * The 82545EM alone, driven as a driver would but with nothing of one: a 256-descriptor TX ring of
 * prepared legacy descriptors (EOP, IFCS, RS), TDT moved by BATCH, the DD bits cleared again. No
 * interrupts are enabled, so this is descriptor fetch, buffer DMA, write-back and the sink.
 */
function modelAlone(wireSize: number): number {
  const host = new Host({ name: "bench-model", memoryBytes: 16 << 20 });
  const model = new E1000Model({ variant: "82545EM", mac: CARD_MAC });
  const fn = host.attachPci({ device: 3 }, model);
  host.pci.assignResources();
  const handle = new PciDeviceHandle(fn, host.pci, host.interrupts, host.memory, "bench");
  handle.enable();
  handle.setMaster(true);
  const regs = handle.mapBar(0);
  const sink = new CountingSink();
  const clock = host.clock as VirtualClock;
  model.connect(sink);
  regs.write32(0x0000, regs.read32(0x0000) | (1 << 6) | (1 << 5)); // CTRL.SLU | ASDE
  clock.advance(1e9);
  const descriptors = 256;
  const ring = handle.dma.allocCoherent(descriptors * 16);
  const buffers = handle.dma.allocCoherent(descriptors * 2048);
  const frame = frameOfWireSize(REMOTE_MAC, VM_MAC, wireSize);
  sink.expectedLength = frame.length;
  for (let i = 0; i < descriptors; i++) {
    buffers.bytes.set(frame, i * 2048);
    ring.view.setUint32(i * 16, buffers.busAddress + i * 2048, true);
    ring.view.setUint32(i * 16 + 4, 0, true);
    // EOP | IFCS | RS in the command byte
    ring.view.setUint32(i * 16 + 8, frame.length | (0x0b << 24), true);
  }
  regs.write32(0x3800, ring.busAddress); // TDBAL
  regs.write32(0x3804, 0);
  regs.write32(0x3808, descriptors * 16); // TDLEN
  regs.write32(0x3810, 0); // TDH
  regs.write32(0x3818, 0); // TDT
  regs.write32(0x0400, (1 << 1) | (1 << 3) | (0x0f << 4) | (0x40 << 12)); // TCTL.EN | PSP, CT, COLD
  let tail = 0;
  const perSecond = measureFrames(() => {
    const before = sink.frames;
    for (let round = 0; round < 16; round++) {
      const first = tail;
      tail = (tail + BATCH) % descriptors;
      regs.write32(0x3818, tail);
      for (let i = 0; i < BATCH; i++) ring.view.setUint8(((first + i) % descriptors) * 16 + 12, 0);
    }
    return sink.frames - before;
  });
  if (sink.wrongLength !== 0) throw new Error(`model alone: ${sink.wrongLength} frames of the wrong length`);
  return perSecond;
}

export const netPathSuite: BenchSuite = {
  name: "network path (vSwitch → vmklinux → e1000 driver → 82545EM model)",
  async run() {
    const figures: BenchFigure[] = [];
    const net = await bootNetHost();
    const tx64 = transmitThroughPath(net, 64);
    const tx1518 = transmitThroughPath(net, 1518);
    figures.push(
      { name: "TX 64-byte frames, VM port → sink", value: tx64.perSecond, unit: RATE_UNIT, reference: { label: "of 1 GbE line rate", value: LINE_RATE_64 } },
      { name: "TX 1518-byte frames, VM port → sink", value: tx1518.perSecond, unit: RATE_UNIT, reference: { label: "of 1 GbE line rate", value: LINE_RATE_1518 } },
    );
    if (tx64.refused + tx1518.refused > 0) figures.push({ name: "TX frames refused at the port (driver queue stopped)", value: tx64.refused + tx1518.refused, unit: "frames" });
    const rx64 = receiveThroughPath(net, 64);
    const rx1518 = receiveThroughPath(net, 1518);
    figures.push(
      { name: "RX 64-byte frames, wire → VM port", value: rx64.perSecond, unit: RATE_UNIT, reference: { label: "of 1 GbE line rate", value: LINE_RATE_64 } },
      { name: "RX 1518-byte frames, wire → VM port", value: rx1518.perSecond, unit: RATE_UNIT, reference: { label: "of 1 GbE line rate", value: LINE_RATE_1518 } },
    );
    if (rx64.lost + rx1518.lost > 0) figures.push({ name: "RX frames lost between wire and VM port", value: rx64.lost + rx1518.lost, unit: "frames" });
    await net.sim.shutdown();
    figures.push(
      { name: "vSwitch alone, 64-byte frames, port → counting uplink", value: vswitchAlone(64), unit: RATE_UNIT, reference: { label: "of 1 GbE line rate", value: LINE_RATE_64 } },
      { name: "82545EM model alone, 64-byte frames, TX ring → sink", value: modelAlone(64), unit: RATE_UNIT, reference: { label: "of 1 GbE line rate", value: LINE_RATE_64 } },
      { name: "82545EM model alone, 1518-byte frames, TX ring → sink", value: modelAlone(1518), unit: RATE_UNIT, reference: { label: "of 1 GbE line rate", value: LINE_RATE_1518 } },
    );
    return figures;
  },
};
