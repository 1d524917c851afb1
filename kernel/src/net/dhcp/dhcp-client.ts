import type { Clock, Nanoseconds, TimerHandle } from "../../clock/clock.js";
import { ETHERNET_HEADER_LENGTH, EtherType, buildEthernetFrame, etherTypeAt } from "../packets/ethernet.js";
import { IpProtocol, decodeIpv4, encodeIpv4 } from "../packets/ipv4.js";
import { formatIpv4, parseIpv4 } from "../packets/ipv4-address.js";
import { BROADCAST_MAC, copyMac, isBroadcastMac, macEquals } from "../packets/mac-address.js";
import type { PortClient, VirtualPort } from "../virtual-port.js";
import {
  BootpOp,
  DHCP_BROADCAST_FLAG,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  DhcpMessageType,
  DhcpOption,
  dhcpAddressOption,
  dhcpAddressValue,
  decodeDhcp,
  encodeDhcp,
  dhcpMessageType,
  dhcpTextOption,
  dhcpTextValue,
  type DhcpMessage,
} from "./dhcp-message.js";
import { decodeUdp, encodeUdp } from "./udp.js";

export type DhcpClientState = "init" | "selecting" | "requesting" | "bound" | "renewing" | "rebinding" | "stopped";

export interface DhcpClientLease {
  address: string;
  netmask: string;
  router?: string;
  dnsServers: string[];
  hostName?: string;
  domainName?: string;
  server: string;
  leaseTimeS: number;
  renewalTimeS: number;
  rebindingTimeS: number;
  /** Host clock time of the DHCPACK. */
  boundAt: Nanoseconds;
}

export interface DhcpClientOptions {
  mac: Uint8Array;
  clock: Clock;
  /** Sent as option 12. */
  hostName?: string;
  /** Sent as option 61; without it the server knows the client by its MAC. */
  clientId?: Uint8Array;
  /** Ask for broadcast replies (for stacks that cannot receive unicast before they have an address). */
  broadcast?: boolean;
  /** First retransmission timeout; it doubles per attempt (RFC 2131 4.1). Default 4 s. */
  retransmitNs?: Nanoseconds;
  /** Attempts per exchange before starting over. Default 4. */
  attempts?: number;
  /** Seeds the transaction IDs (default from the MAC). */
  xidSeed?: number;
}

const LIMITED_BROADCAST = 0xffffffff;

/**
 * A DHCP client for a station on a vSwitch port (RFC 2131 section 4.4): INIT → SELECTING →
 * REQUESTING → BOUND, then RENEWING at T1 (unicast to its server) and REBINDING at T2 (broadcast),
 * back to INIT when the lease runs out or the server says DHCPNAK. It takes the first offer.
 */
export class DhcpClient implements PortClient {
  private currentState: DhcpClientState = "stopped";
  private currentLease: DhcpClientLease | undefined;
  private readonly macBytes: Uint8Array;
  private port: VirtualPort | undefined;
  private xid: number;
  private timer: TimerHandle | undefined;
  private attempt = 0;
  private offered: { address: number; server: number } | undefined;
  private serverMac: Uint8Array | undefined;
  private identification = 0;
  private readonly listeners = new Set<(lease: DhcpClientLease | undefined) => void>();
  /** DHCP messages sent and accepted, and NAKs; for tests and the console. */
  readonly counters = { sent: 0, accepted: 0, naks: 0, ignored: 0 };

  constructor(private readonly options: DhcpClientOptions) {
    this.macBytes = copyMac(options.mac);
    this.xid = (options.xidSeed ?? ((this.macBytes[2]! << 24) | (this.macBytes[3]! << 16) | (this.macBytes[4]! << 8) | this.macBytes[5]!)) >>> 0;
  }

  get state(): DhcpClientState {
    return this.currentState;
  }

  get lease(): DhcpClientLease | undefined {
    return this.currentLease;
  }

  attach(port: VirtualPort): void {
    this.port = port;
  }

  /** Calls `listener` with each new lease, and with undefined when the lease is lost. */
  onLease(listener: (lease: DhcpClientLease | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.enterInit();
  }

  /** DHCPRELEASE if bound, then stop. */
  release(): void {
    const lease = this.currentLease;
    if (lease && (this.currentState === "bound" || this.currentState === "renewing" || this.currentState === "rebinding")) {
      this.send(DhcpMessageType.Release, { ciaddr: parseIpv4(lease.address), unicastTo: parseIpv4(lease.server), options: [[DhcpOption.ServerIdentifier, dhcpAddressValue(parseIpv4(lease.server))]] });
    }
    this.stop();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.currentState = "stopped";
    this.setLease(undefined);
  }

  receive(frame: Uint8Array): boolean {
    if (this.currentState === "stopped" || frame.length < ETHERNET_HEADER_LENGTH) return true;
    if (!isBroadcastMac(frame, 0) && !macEquals(frame, 0, this.macBytes, 0)) return true;
    if (etherTypeAt(frame) !== EtherType.IPv4) return true;
    const ip = decodeIpv4(frame, ETHERNET_HEADER_LENGTH, frame.length - ETHERNET_HEADER_LENGTH);
    if (!ip.ok || ip.datagram.header.protocol !== IpProtocol.UDP) return true;
    const { header, payloadOffset, payloadLength } = ip.datagram;
    const udp = decodeUdp(frame, payloadOffset, payloadLength, header.source, header.destination);
    if (!udp.ok || udp.datagram.destinationPort !== DHCP_CLIENT_PORT) return true;
    const decoded = decodeDhcp(frame, udp.datagram.payloadOffset, udp.datagram.payloadLength);
    if (!decoded.ok) return true;
    const message = decoded.message;
    if (message.op !== BootpOp.Reply || message.xid !== this.xid || !macEquals(message.chaddr, 0, this.macBytes, 0)) {
      this.counters.ignored++;
      return true;
    }
    this.handle(message, frame.subarray(6, 12));
    return true;
  }

  private handle(message: DhcpMessage, sourceMac: Uint8Array): void {
    const type = dhcpMessageType(message);
    const server = dhcpAddressOption(message, DhcpOption.ServerIdentifier);
    if (type === DhcpMessageType.Offer && this.currentState === "selecting" && server !== undefined && message.yiaddr !== 0) {
      this.counters.accepted++;
      this.offered = { address: message.yiaddr, server };
      this.serverMac = sourceMac.slice();
      this.currentState = "requesting";
      this.attempt = 0;
      this.transmitCurrent();
    } else if (type === DhcpMessageType.Ack && (this.currentState === "requesting" || this.currentState === "renewing" || this.currentState === "rebinding")) {
      this.counters.accepted++;
      if (this.currentState === "rebinding") this.serverMac = sourceMac.slice();
      this.bind(message, server ?? this.offered?.server ?? 0);
    } else if (type === DhcpMessageType.Nak && this.currentState !== "selecting" && this.currentState !== "bound") {
      this.counters.naks++;
      this.enterInit();
    } else {
      this.counters.ignored++;
    }
  }

  private bind(message: DhcpMessage, server: number): void {
    const now = this.options.clock.now();
    const u32 = (code: number) => dhcpAddressOption(message, code);
    const leaseTimeS = u32(DhcpOption.LeaseTime) ?? 3600;
    const renewalTimeS = u32(DhcpOption.RenewalTime) ?? Math.floor(leaseTimeS / 2);
    const rebindingTimeS = u32(DhcpOption.RebindingTime) ?? Math.floor((leaseTimeS * 7) / 8);
    const dns = message.options.get(DhcpOption.DomainNameServer);
    const router = u32(DhcpOption.Router);
    const hostName = dhcpTextOption(message, DhcpOption.HostName);
    const domainName = dhcpTextOption(message, DhcpOption.DomainName);
    const lease: DhcpClientLease = {
      address: formatIpv4(message.yiaddr),
      netmask: formatIpv4(u32(DhcpOption.SubnetMask) ?? 0xffffff00),
      ...(router !== undefined ? { router: formatIpv4(router) } : {}),
      dnsServers: dns === undefined ? [] : Array.from({ length: dns.length >>> 2 }, (_, i) => formatIpv4(((dns[4 * i]! << 24) | (dns[4 * i + 1]! << 16) | (dns[4 * i + 2]! << 8) | dns[4 * i + 3]!) >>> 0)),
      ...(hostName !== undefined ? { hostName } : {}),
      ...(domainName !== undefined ? { domainName } : {}),
      server: formatIpv4(server),
      leaseTimeS,
      renewalTimeS,
      rebindingTimeS,
      boundAt: now,
    };
    this.currentState = "bound";
    this.timer?.cancel();
    this.timer = this.options.clock.setTimer(renewalTimeS * 1e9, () => this.enterRenewing(), { label: "dhcp client T1" });
    this.setLease(lease);
  }

  private enterInit(): void {
    this.setLease(undefined);
    this.offered = undefined;
    this.xid = (this.xid + 1) >>> 0;
    this.currentState = "selecting";
    this.attempt = 0;
    this.transmitCurrent();
  }

  private enterRenewing(): void {
    const lease = this.currentLease!;
    this.xid = (this.xid + 1) >>> 0;
    this.currentState = "renewing";
    this.attempt = 0;
    this.transmitCurrent();
    this.timer = this.options.clock.setTimer((lease.rebindingTimeS - lease.renewalTimeS) * 1e9, () => this.enterRebinding(), { label: "dhcp client T2" });
  }

  private enterRebinding(): void {
    const lease = this.currentLease!;
    this.currentState = "rebinding";
    this.attempt = 0;
    this.transmitCurrent();
    this.timer = this.options.clock.setTimer((lease.leaseTimeS - lease.rebindingTimeS) * 1e9, () => this.enterInit(), { label: "dhcp client lease end" });
  }

  /** Sends the message of the current state; SELECTING and REQUESTING retransmit with backoff. */
  private transmitCurrent(): void {
    const common: Array<[number, Uint8Array]> = [[DhcpOption.ParameterRequestList, Uint8Array.of(1, 3, 6, 12, 15, 28, 51, 58, 59)]];
    if (this.options.hostName) common.push([DhcpOption.HostName, dhcpTextValue(this.options.hostName)]);
    if (this.options.clientId) common.push([DhcpOption.ClientIdentifier, this.options.clientId]);
    const lease = this.currentLease;
    switch (this.currentState) {
      case "selecting":
        this.send(DhcpMessageType.Discover, { options: common });
        break;
      case "requesting":
        this.send(DhcpMessageType.Request, {
          options: [[DhcpOption.ServerIdentifier, dhcpAddressValue(this.offered!.server)], [DhcpOption.RequestedIpAddress, dhcpAddressValue(this.offered!.address)], ...common],
        });
        break;
      case "renewing":
        this.send(DhcpMessageType.Request, { ciaddr: parseIpv4(lease!.address), unicastTo: parseIpv4(lease!.server), options: common });
        return;
      case "rebinding":
        this.send(DhcpMessageType.Request, { ciaddr: parseIpv4(lease!.address), options: common });
        return;
      default:
        return;
    }
    const attempts = this.options.attempts ?? 4;
    const delay = (this.options.retransmitNs ?? 4e9) * 2 ** this.attempt;
    this.timer?.cancel();
    this.timer = this.options.clock.setTimer(delay, () => {
      this.attempt++;
      if (this.attempt < attempts) this.transmitCurrent();
      else this.enterInit();
    }, { label: "dhcp client retransmit" });
  }

  private send(type: number, spec: { ciaddr?: number; unicastTo?: number; options: Array<[number, Uint8Array]> }): void {
    const payload = encodeDhcp({
      op: BootpOp.Request,
      xid: this.xid,
      flags: this.options.broadcast ? DHCP_BROADCAST_FLAG : 0,
      ciaddr: spec.ciaddr ?? 0,
      yiaddr: 0,
      siaddr: 0,
      giaddr: 0,
      htype: 1,
      hlen: 6,
      chaddr: this.macBytes,
      options: [[DhcpOption.MessageType, Uint8Array.of(type)], ...spec.options],
    });
    const source = spec.ciaddr ?? 0;
    const destination = spec.unicastTo ?? LIMITED_BROADCAST;
    const destinationMac = spec.unicastTo !== undefined && this.serverMac ? this.serverMac : BROADCAST_MAC;
    const datagram = encodeIpv4({ source, destination, protocol: IpProtocol.UDP, identification: this.identification++ & 0xffff }, encodeUdp(source, destination, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, payload));
    this.counters.sent++;
    this.port?.transmit(buildEthernetFrame(destinationMac, this.macBytes, EtherType.IPv4, datagram));
  }

  private setLease(lease: DhcpClientLease | undefined): void {
    const changed = lease !== this.currentLease;
    this.currentLease = lease;
    if (changed) for (const listener of [...this.listeners]) listener(lease);
  }
}
