import { VirtualClock } from "../../clock/virtual-clock.js";
import { KernelLog } from "../../log/kernel-log.js";
import { NetworkStack } from "../network-stack.js";
import { EtherType, buildEthernetFrame } from "../packets/ethernet.js";
import { parseMac } from "../packets/mac-address.js";
import type { PortClient, VirtualPort } from "../virtual-port.js";
import { FakeUplink } from "./fake-uplink.js";

/** A NetworkStack on a virtual clock, without a Host. */
export function makeNetwork(hostName = "esx-test"): { stack: NetworkStack; clock: VirtualClock; log: KernelLog } {
  const clock = new VirtualClock();
  const log = new KernelLog(clock);
  return { stack: new NetworkStack(clock, log, { name: hostName }), clock, log };
}

/** Registers a fake NIC as a driver would and lets the registry open it. */
export function registerFake(stack: NetworkStack, clock: VirtualClock, busAddress: string, lastMacByte: number): FakeUplink {
  const nic = new FakeUplink(busAddress, [0x00, 0x0c, 0x29, 0x00, 0x00, lastMacByte]);
  nic.registered = stack.uplinks.register(nic);
  clock.runUntilIdle();
  return nic;
}

/** A port client that keeps what it receives. */
export class RecordingClient implements PortClient {
  readonly frames: Uint8Array[] = [];
  refuse = false;
  receive(frame: Uint8Array): boolean {
    if (this.refuse) return false;
    this.frames.push(frame);
    return true;
  }
}

export function connectRecorder(stack: NetworkStack, portGroup: string, name: string, mac: string): { port: VirtualPort; client: RecordingClient } {
  const client = new RecordingClient();
  return { port: stack.connectPort({ portGroup, clientName: name, mac: parseMac(mac), client }), client };
}

/** A 60-byte frame with an experimental EtherType and a marker byte in the payload. */
export function testFrame(destination: string, source: string, marker = 0): Uint8Array {
  const payload = new Uint8Array(46);
  payload[0] = marker;
  return buildEthernetFrame(parseMac(destination), parseMac(source), 0x88b5, payload);
}

export { EtherType };
