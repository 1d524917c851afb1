import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { Clock, Nanoseconds, TimerHandle } from "@vmk/kernel";
import type { EthernetMedium, EthernetPort } from "../net/ethernet.js";
import { emptyDirectionCounters, type DirectionCounters, type FrameTap } from "./frame-tap.js";

/** Only loopback: the tunnel joins processes on this machine, it is not a network service. */
export const UDP_LINK_ADDRESS = "127.0.0.1";

/**
 * Control datagrams are 8 bytes ("VMKW", type, version, 2 reserved), shorter than any Ethernet
 * header, so every other datagram is exactly one frame: the framing QEMU's `-netdev dgram` uses.
 */
const CONTROL_LENGTH = 8;
const CONTROL_MAGIC = [0x56, 0x4d, 0x4b, 0x57];
const PROTOCOL_VERSION = 1;
const ETHERNET_HEADER_LENGTH = 14;

export const UdpControl = {
  Hello: 1,
  Bye: 2,
} as const;

export interface UdpEthernetLinkOptions {
  clock: Clock;
  /** UDP port to bind on 127.0.0.1; 0 (the default) picks a free one. */
  localPort?: number;
  /** The peer's UDP port; when omitted it is learned from the first hello received. */
  remotePort?: number;
  /** Hello period on the host clock (default 1 s). */
  keepaliveIntervalNs?: Nanoseconds;
  /** Carrier drops when nothing was heard from the peer for this long (default 3 keepalives). */
  deadIntervalNs?: Nanoseconds;
}

export function encodeUdpControl(type: number): Uint8Array {
  return Uint8Array.from([...CONTROL_MAGIC, type, PROTOCOL_VERSION, 0, 0]);
}

/**
 * Connects one NIC model to a peer in another process over UDP on loopback, one frame per
 * datagram. Carrier is up while the peer's hellos (or frames) keep arriving; a "bye" or silence
 * beyond the dead interval takes it down. Frames sent without carrier are dropped, as on a cable.
 */
export class UdpEthernetLink implements EthernetMedium {
  private readonly clock: Clock;
  private readonly keepaliveNs: Nanoseconds;
  private readonly deadNs: Nanoseconds;
  private remote: number | undefined;
  private peerAlive = false;
  private lastHeard = Number.NEGATIVE_INFINITY;
  private keepalive: TimerHandle | undefined;
  private closed = false;
  private readonly taps: FrameTap[] = [];
  private readonly sent = emptyDirectionCounters();
  private readonly received = emptyDirectionCounters();
  /** Datagrams that were neither a frame nor a valid control message, or came from a stranger. */
  malformed = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly port: EthernetPort,
    readonly localPort: number,
    options: UdpEthernetLinkOptions,
  ) {
    this.clock = options.clock;
    this.remote = options.remotePort;
    this.keepaliveNs = options.keepaliveIntervalNs ?? 1e9;
    this.deadNs = options.deadIntervalNs ?? 3 * this.keepaliveNs;
  }

  /** Binds the socket, plugs `port` into the link and starts saying hello. */
  static async open(port: EthernetPort, options: UdpEthernetLinkOptions): Promise<UdpEthernetLink> {
    const socket = createSocket({ type: "udp4" });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind({ port: options.localPort ?? 0, address: UDP_LINK_ADDRESS, exclusive: true }, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    const link = new UdpEthernetLink(socket, port, socket.address().port, options);
    socket.on("message", (message, from) => link.datagram(message, from));
    socket.on("error", () => link.setPeerAlive(false));
    port.connect(link);
    link.tick();
    return link;
  }

  get carrier(): boolean {
    return this.peerAlive;
  }

  get remotePort(): number | undefined {
    return this.remote;
  }

  addTap(tap: FrameTap): void {
    this.taps.push(tap);
  }

  /** a-to-b is what this side sent, b-to-a what it received. */
  counters(): { sent: DirectionCounters; received: DirectionCounters } {
    return { sent: { ...this.sent }, received: { ...this.received } };
  }

  transmitFrame(frame: Uint8Array): void {
    if (!this.peerAlive || this.remote === undefined || this.closed) {
      this.sent.dropped++;
      return;
    }
    this.sent.frames++;
    this.sent.bytes += frame.length;
    for (const tap of this.taps) tap.onFrame(frame, "a-to-b", this.clock.now());
    this.socket.send(frame, this.remote, UDP_LINK_ADDRESS);
  }

  /** Says bye so the peer drops carrier at once, unplugs the port and closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.keepalive?.cancel();
    if (this.remote !== undefined) await new Promise<void>((resolve) => this.socket.send(encodeUdpControl(UdpControl.Bye), this.remote!, UDP_LINK_ADDRESS, () => resolve()));
    this.setPeerAlive(false);
    this.port.connect(undefined);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private datagram(message: Buffer, from: RemoteInfo): void {
    if (this.closed) return;
    if (from.address !== UDP_LINK_ADDRESS || (this.remote !== undefined && from.port !== this.remote)) {
      this.malformed++;
      return;
    }
    if (message.length < ETHERNET_HEADER_LENGTH) {
      this.control(message, from.port);
      return;
    }
    this.heard();
    // A copy: the receiver may keep the frame, and the socket owns the message buffer.
    const frame = new Uint8Array(message);
    this.received.frames++;
    this.received.bytes += frame.length;
    for (const tap of this.taps) tap.onFrame(frame, "b-to-a", this.clock.now());
    this.port.receiveFrame(frame);
  }

  private control(message: Buffer, fromPort: number): void {
    if (message.length !== CONTROL_LENGTH || CONTROL_MAGIC.some((b, i) => message[i] !== b)) {
      this.malformed++;
      return;
    }
    const type = message[4];
    if (type === UdpControl.Hello) {
      const first = this.remote === undefined || !this.peerAlive;
      this.remote ??= fromPort;
      this.heard();
      // Answer a peer that has just appeared, so both sides see carrier within one round trip.
      if (first) this.socket.send(encodeUdpControl(UdpControl.Hello), this.remote, UDP_LINK_ADDRESS);
    } else if (type === UdpControl.Bye) {
      this.lastHeard = Number.NEGATIVE_INFINITY;
      this.setPeerAlive(false);
    } else {
      this.malformed++;
    }
  }

  private heard(): void {
    this.lastHeard = this.clock.now();
    this.setPeerAlive(true);
  }

  private tick(): void {
    if (this.closed) return;
    if (this.peerAlive && this.clock.now() - this.lastHeard > this.deadNs) this.setPeerAlive(false);
    if (this.remote !== undefined) this.socket.send(encodeUdpControl(UdpControl.Hello), this.remote, UDP_LINK_ADDRESS);
    this.keepalive = this.clock.setTimer(this.keepaliveNs, () => this.tick(), { label: "udp link keepalive" });
  }

  private setPeerAlive(alive: boolean): void {
    if (alive === this.peerAlive) return;
    this.peerAlive = alive;
    this.port.carrierChanged(alive);
  }
}
