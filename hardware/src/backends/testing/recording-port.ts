import type { EthernetMedium, EthernetPort } from "../../net/ethernet.js";

/** An EthernetPort standing in for a NIC model: records what it receives and the carrier it sees. */
export class RecordingPort implements EthernetPort {
  readonly received: Uint8Array[] = [];
  readonly carrierEvents: boolean[] = [];
  medium: EthernetMedium | undefined;

  constructor(readonly name = "port") {}

  receiveFrame(frame: Uint8Array): void {
    this.received.push(frame);
  }
  carrierChanged(up: boolean): void {
    this.carrierEvents.push(up);
  }
  connect(medium: EthernetMedium | undefined): void {
    this.medium = medium;
  }
  send(frame: Uint8Array): void {
    if (!this.medium) throw new Error(`${this.name} is not connected`);
    this.medium.transmitFrame(frame);
  }
}

/** A broadcast ARP request (who-has 10.0.0.2 tell 10.0.0.1), padded to 60 bytes. */
export function arpRequestFrame(): Uint8Array {
  const frame = new Uint8Array(60);
  frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x50, 0x56, 0x40, 0x00, 0x01, 0x08, 0x06]);
  frame.set([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, 0x00, 0x50, 0x56, 0x40, 0x00, 0x01, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2], 14);
  return frame;
}

/** An ICMP echo request from 10.0.0.1 to 10.0.0.2 with correct IPv4 and ICMP checksums. */
export function icmpEchoFrame(): Uint8Array {
  const payload = Array.from({ length: 32 }, (_, i) => i);
  const icmp = [8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, ...payload];
  setChecksum(icmp, 2, icmp);
  const ip = [0x45, 0, 0, 20 + icmp.length, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
  setChecksum(ip, 10, ip);
  const frame = [0x00, 0x50, 0x56, 0x40, 0x00, 0x02, 0x00, 0x50, 0x56, 0x40, 0x00, 0x01, 0x08, 0x00, ...ip, ...icmp];
  return Uint8Array.from(frame);
}

function setChecksum(target: number[], at: number, covered: number[]): void {
  let sum = 0;
  for (let i = 0; i < covered.length; i += 2) sum += (covered[i]! << 8) | (covered[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const checksum = ~sum & 0xffff;
  target[at] = checksum >>> 8;
  target[at + 1] = checksum & 0xff;
}
