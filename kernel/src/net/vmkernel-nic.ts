import type { Clock } from "../clock/clock.js";
import type { KernelLog } from "../log/kernel-log.js";
import { ArpCache } from "./arp-cache.js";
import { ArpResolver } from "./arp-resolver.js";
import { ArpOperation, decodeArp, encodeArp, type ArpPacket } from "./packets/arp.js";
import { ETHERNET_HEADER_LENGTH, EtherType, buildEthernetFrame, etherTypeAt } from "./packets/ethernet.js";
import { IcmpType, decodeIcmpEcho, encodeIcmpEcho } from "./packets/icmp.js";
import { IpProtocol, decodeIpv4, encodeIpv4 } from "./packets/ipv4.js";
import { formatIpv4, parseIpv4, parseNetmask, sameSubnet } from "./packets/ipv4-address.js";
import { BROADCAST_MAC, copyMac, formatMac, isBroadcastMac, macEquals } from "./packets/mac-address.js";
import { PingSession, type EchoSender, type PingOptions, type PingReport } from "./ping-session.js";
import type { PortClient, VirtualPort } from "./virtual-port.js";

const LOG_SOURCE = "net";
const ZERO_MAC = new Uint8Array(6);

export interface VmknicAddressing {
  ipAddress: string;
  netmask: string;
  /** Default gateway for destinations outside the subnet. */
  gateway?: string;
}

/** Counters in the spirit of the IP-MIB, for `esxcli network ip interface` style views. */
export interface VmknicCounters {
  ipInReceives: number;
  ipInDiscards: number;
  ipOutRequests: number;
  ipOutNoRoutes: number;
  arpRequestsIn: number;
  arpRepliesOut: number;
  icmpEchoRequestsIn: number;
  icmpEchoRepliesOut: number;
}

/**
 * A vmkernel network interface (vmkN): the host's own IPv4 endpoint on a port group. It answers ARP
 * and ICMP echo, keeps an ARP cache and can ping, which is what ESX's vmkping does to prove a path.
 * No fragmentation or reassembly: management traffic fits one frame.
 */
export class VmkernelNic implements PortClient, EchoSender {
  readonly arpCache: ArpCache;
  readonly counters: VmknicCounters = { ipInReceives: 0, ipInDiscards: 0, ipOutRequests: 0, ipOutNoRoutes: 0, arpRequestsIn: 0, arpRepliesOut: 0, icmpEchoRequestsIn: 0, icmpEchoRepliesOut: 0 };
  private readonly macBytes: Uint8Array;
  private ip = 0;
  private mask = 0;
  private gatewayIp: number | undefined;
  private port: VirtualPort | undefined;
  private readonly resolver: ArpResolver;
  private readonly pings = new Map<number, PingSession>();
  private nextIdentifier: number;
  private identification = 0;
  private readonly reportedConflicts = new Set<string>();

  constructor(
    readonly name: string,
    readonly portGroup: string,
    mac: Uint8Array,
    addressing: VmknicAddressing,
    readonly mtu: number,
    private readonly clock: Clock,
    private readonly log: KernelLog,
  ) {
    this.macBytes = copyMac(mac);
    this.configure(addressing);
    this.arpCache = new ArpCache(clock);
    this.resolver = new ArpResolver(this.arpCache, clock, {
      sendRequest: (ip) => this.sendArp(ArpOperation.Request, BROADCAST_MAC, ZERO_MAC, ip),
      sendResolved: (datagram, nextHopMac) => this.transmitFrame(buildEthernetFrame(nextHopMac, this.macBytes, EtherType.IPv4, datagram)),
      unresolved: (ip, dropped) => {
        this.counters.ipOutNoRoutes += dropped;
        this.log.debug(LOG_SOURCE, `${this.name}: no ARP reply from ${formatIpv4(ip)}`);
      },
    });
    // Distinct hosts use distinct echo identifiers, as distinct ping processes do.
    this.nextIdentifier = (this.macBytes[4]! << 8) | this.macBytes[5]!;
  }

  get mac(): Uint8Array {
    return Uint8Array.from(this.macBytes);
  }
  get macText(): string {
    return formatMac(this.macBytes);
  }
  get ipAddress(): string {
    return formatIpv4(this.ip);
  }
  get netmask(): string {
    return formatIpv4(this.mask);
  }
  get gateway(): string | undefined {
    return this.gatewayIp === undefined ? undefined : formatIpv4(this.gatewayIp);
  }
  get virtualPort(): VirtualPort | undefined {
    return this.port;
  }

  /** The NetworkStack connects the interface to its port once the port exists. */
  attach(port: VirtualPort): void {
    this.port = port;
  }

  detach(): void {
    this.port = undefined;
    this.resolver.cancelAll();
  }

  configure(addressing: VmknicAddressing): void {
    const ip = parseIpv4(addressing.ipAddress);
    const mask = parseNetmask(addressing.netmask);
    const gateway = addressing.gateway === undefined ? undefined : parseIpv4(addressing.gateway);
    if (gateway !== undefined && !sameSubnet(gateway, ip, mask)) throw new Error(`gateway ${addressing.gateway} is not on ${addressing.ipAddress}/${addressing.netmask}`);
    this.ip = ip;
    this.mask = mask;
    this.gatewayIp = gateway;
  }

  /** vmkping: resolves when every request has been answered or has timed out. */
  ping(target: string, options: PingOptions = {}): Promise<PingReport> {
    const identifier = this.nextIdentifier;
    this.nextIdentifier = (this.nextIdentifier + 1) & 0xffff;
    const session = new PingSession(this.clock, this, this.ip, parseIpv4(target), identifier, options, (s) => this.pings.delete(s.identifier));
    this.pings.set(identifier, session);
    session.start();
    return session.done;
  }

  sendEchoRequest(target: number, identifier: number, sequence: number, payload: Uint8Array, ttl: number): boolean {
    return this.sendIpv4(target, IpProtocol.ICMP, encodeIcmpEcho({ type: IcmpType.EchoRequest, code: 0, identifier, sequence, payload }), ttl);
  }

  /** Routes a datagram: on-link or via the gateway, resolving the next hop's MAC first if needed. */
  sendIpv4(destination: number, protocol: number, payload: Uint8Array, ttl = 64): boolean {
    const datagram = encodeIpv4({ source: this.ip, destination, protocol, identification: this.identification++ & 0xffff, ttl }, payload);
    if (datagram.length > this.mtu) {
      this.counters.ipOutNoRoutes++;
      return false;
    }
    this.counters.ipOutRequests++;
    if (destination === this.ip) {
      // The loopback path: delivered after the current work, as a real stack's backlog would.
      this.clock.setTimer(0, () => this.receiveDatagram(datagram, 0, datagram.length), { label: `${this.name} loopback` });
      return true;
    }
    const nextHop = sameSubnet(destination, this.ip, this.mask) ? destination : this.gatewayIp;
    if (nextHop === undefined || this.port === undefined) {
      this.counters.ipOutNoRoutes++;
      return false;
    }
    const mac = this.arpCache.lookup(nextHop);
    if (mac === undefined) this.resolver.enqueue(nextHop, datagram);
    else this.transmitFrame(buildEthernetFrame(mac, this.macBytes, EtherType.IPv4, datagram));
    return true;
  }

  receive(frame: Uint8Array): boolean {
    if (frame.length < ETHERNET_HEADER_LENGTH) return false;
    if (!isBroadcastMac(frame, 0) && !macEquals(frame, 0, this.macBytes, 0)) return true;
    const etherType = etherTypeAt(frame);
    if (etherType === EtherType.ARP) {
      const packet = decodeArp(frame, ETHERNET_HEADER_LENGTH);
      if (packet) this.receiveArp(packet);
    } else if (etherType === EtherType.IPv4) {
      this.receiveDatagram(frame, ETHERNET_HEADER_LENGTH, frame.length - ETHERNET_HEADER_LENGTH);
    }
    return true;
  }

  /** RFC 826's merge rule: refresh what we know, learn whoever asks us, answer requests for our address. */
  private receiveArp(packet: ArpPacket): void {
    if (packet.operation !== ArpOperation.Request && packet.operation !== ArpOperation.Reply) return;
    if (packet.senderIp === this.ip && !macEquals(packet.senderMac, 0, this.macBytes, 0)) {
      const who = formatMac(packet.senderMac);
      if (!this.reportedConflicts.has(who)) {
        this.reportedConflicts.add(who);
        this.log.warn(LOG_SOURCE, `${this.name}: IP address ${this.ipAddress} is also used by ${who}`);
      }
      return;
    }
    if (packet.senderIp === 0) return;
    const known = this.arpCache.has(packet.senderIp);
    const forUs = packet.targetIp === this.ip;
    if (known || forUs || this.resolver.isResolving(packet.senderIp)) this.arpCache.update(packet.senderIp, packet.senderMac);
    if (forUs && packet.operation === ArpOperation.Request) {
      this.counters.arpRequestsIn++;
      this.counters.arpRepliesOut++;
      this.sendArp(ArpOperation.Reply, packet.senderMac, packet.senderMac, packet.senderIp);
    }
    this.resolver.resolved(packet.senderIp);
  }

  private receiveDatagram(bytes: Uint8Array, offset: number, length: number): void {
    this.counters.ipInReceives++;
    const decoded = decodeIpv4(bytes, offset, length);
    if (!decoded.ok) {
      this.counters.ipInDiscards++;
      return;
    }
    const { header, payloadOffset, payloadLength } = decoded.datagram;
    if (header.destination !== this.ip || header.moreFragments || header.fragmentOffset !== 0 || header.protocol !== IpProtocol.ICMP) {
      this.counters.ipInDiscards++;
      return;
    }
    const echo = decodeIcmpEcho(bytes, payloadOffset, payloadLength);
    if (echo === undefined) {
      this.counters.ipInDiscards++;
      return;
    }
    if (echo.type === IcmpType.EchoRequest) {
      this.counters.icmpEchoRequestsIn++;
      this.counters.icmpEchoRepliesOut++;
      this.sendIpv4(header.source, IpProtocol.ICMP, encodeIcmpEcho({ type: IcmpType.EchoReply, code: 0, identifier: echo.identifier, sequence: echo.sequence, payload: echo.payload }));
    } else if (header.source === this.pings.get(echo.identifier)?.target) {
      this.pings.get(echo.identifier)!.reply(echo.sequence, echo.payload, header.ttl);
    }
  }

  private sendArp(operation: number, destinationMac: Uint8Array, targetMac: Uint8Array, targetIp: number): void {
    const arp = encodeArp({ operation, senderMac: this.macBytes, senderIp: this.ip, targetMac, targetIp });
    this.transmitFrame(buildEthernetFrame(destinationMac, this.macBytes, EtherType.ARP, arp));
  }

  private transmitFrame(frame: Uint8Array): void {
    this.port?.transmit(frame);
  }
}
