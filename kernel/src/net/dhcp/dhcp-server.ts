import type { Clock, TimerHandle } from "../../clock/clock.js";
import type { KernelLog } from "../../log/kernel-log.js";
import { ArpOperation, decodeArp, encodeArp } from "../packets/arp.js";
import { ETHERNET_HEADER_LENGTH, EtherType, buildEthernetFrame, etherTypeAt } from "../packets/ethernet.js";
import { IcmpType, decodeIcmpEcho, encodeIcmpEcho } from "../packets/icmp.js";
import { IpProtocol, decodeIpv4, encodeIpv4 } from "../packets/ipv4.js";
import { formatIpv4, sameSubnet } from "../packets/ipv4-address.js";
import { BROADCAST_MAC, copyMac, formatMac, isBroadcastMac, macEquals } from "../packets/mac-address.js";
import type { PortClient, VirtualPort } from "../virtual-port.js";
import {
  BootpOp,
  DHCP_BROADCAST_FLAG,
  DHCP_CLIENT_PORT,
  DHCP_MESSAGE_TYPE_NAMES,
  DHCP_SERVER_PORT,
  DhcpMessageType,
  DhcpOption,
  dhcpAddressOption,
  dhcpAddressValue,
  dhcpBroadcastRequested,
  decodeDhcp,
  encodeDhcp,
  dhcpMessageType,
  dhcpTextOption,
  dhcpTextValue,
  dhcpU32Value,
  type DhcpMessage,
} from "./dhcp-message.js";
import type { DhcpPool } from "./dhcp-settings.js";
import { LeaseTable, type LeaseRecord, type LeaseView } from "./lease-table.js";
import { decodeUdp, encodeUdp } from "./udp.js";

const LOG_SOURCE = "dhcp";
const LIMITED_BROADCAST = 0xffffffff;
const HTYPE_ETHERNET = 1;
/** How long an offered address stays set aside for the client that was offered it. */
export const DEFAULT_OFFER_HOLD_NS = 60e9;
/** How long an address a client declined (found in use) stays out of the pool. */
export const DEFAULT_DECLINE_HOLD_NS = 600e9;
/**
 * Offers one station may have outstanding: a guest inventing client hardware addresses gets this many
 * addresses set aside, not the whole range. Relayed requests share their relay's source, so they are exempt.
 */
export const MAX_PENDING_OFFERS_PER_STATION = 4;
/** RFC 1542 4.1.1: relays drop requests that have crossed more hops than this. */
const MAX_HOPS = 16;
const CLIENT_MESSAGE_TYPES: ReadonlySet<number> = new Set([DhcpMessageType.Discover, DhcpMessageType.Request, DhcpMessageType.Decline, DhcpMessageType.Release, DhcpMessageType.Inform]);

/** What the server has seen and done; malformed and ignored messages are counted, never thrown. */
export interface DhcpServerCounters {
  /** DHCP requests decoded and processed. */
  received: number;
  /** Frames for the server port that failed Ethernet, IP, UDP or DHCP validation. */
  malformed: number;
  /** Well-formed frames the server does not act on (replies, other servers' sessions, VLAN-tagged, other subnets). */
  ignored: number;
  discovers: number;
  requests: number;
  declines: number;
  releases: number;
  informs: number;
  offers: number;
  acks: number;
  naks: number;
  /** DISCOVERs left unanswered because no address was free. */
  exhausted: number;
  /** DISCOVERs left unanswered because their station already holds MAX_PENDING_OFFERS_PER_STATION offers. */
  throttled: number;
  arpReplies: number;
  /** Echo requests to the server's address answered (clients and admins ping the server identifier). */
  echoReplies: number;
}

export interface DhcpServerOptions {
  pool: DhcpPool;
  /** The server's station address on the port group. */
  mac: Uint8Array;
  clock: Clock;
  log: KernelLog;
  /** A name for the client (option 12) when no reservation gives one: the vSwitch port's VM name. */
  hostNameFor?: (mac: string) => string | undefined;
  offerHoldNs?: number;
  declineHoldNs?: number;
}

/**
 * A DHCP server (RFC 2131, options of RFC 2132) attached to a vSwitch port group as a station with its
 * own MAC and address, serving the VLAN of its port group. It is authoritative for its subnet: a
 * client asking for an address it may hold gets it even without a record (after a host restart), and
 * a client asking for one it may not hold is refused with DHCPNAK. Replies follow RFC 2131 4.1:
 * to a relay through giaddr, unicast to ciaddr when the client has one, broadcast when the client set
 * the broadcast bit, else unicast to chaddr and yiaddr. They are sent after the current work, never
 * from inside the switch's delivery.
 */
export class DhcpServer implements PortClient {
  readonly counters: DhcpServerCounters = {
    received: 0,
    malformed: 0,
    ignored: 0,
    discovers: 0,
    requests: 0,
    declines: 0,
    releases: 0,
    informs: 0,
    offers: 0,
    acks: 0,
    naks: 0,
    exhausted: 0,
    throttled: 0,
    arpReplies: 0,
    echoReplies: 0,
  };
  /** Why the most recent malformed frame was refused, for the console. */
  lastMalformed: string | undefined;
  readonly leases: LeaseTable;
  readonly pool: DhcpPool;
  private readonly macBytes: Uint8Array;
  private port: VirtualPort | undefined;
  private readonly pending = new Set<TimerHandle>();
  private identification = 0;
  private exhaustionReported = false;

  constructor(private readonly options: DhcpServerOptions) {
    this.pool = options.pool;
    this.macBytes = copyMac(options.mac);
    this.leases = new LeaseTable(options.pool);
  }

  get mac(): Uint8Array {
    return Uint8Array.from(this.macBytes);
  }

  get macText(): string {
    return formatMac(this.macBytes);
  }

  get virtualPort(): VirtualPort | undefined {
    return this.port;
  }

  attach(port: VirtualPort): void {
    this.port = port;
  }

  /** Cancels replies not yet sent; the leases are kept. */
  detach(): void {
    this.port = undefined;
    for (const timer of this.pending) timer.cancel();
    this.pending.clear();
  }

  leaseList(): LeaseView[] {
    return this.leases.list(this.options.clock.now(), (record) => this.hostNameOf(record));
  }

  receive(frame: Uint8Array): boolean {
    if (frame.length < ETHERNET_HEADER_LENGTH) return this.malformed("runt frame");
    if (!isBroadcastMac(frame, 0) && !macEquals(frame, 0, this.macBytes, 0)) return true;
    const etherType = etherTypeAt(frame);
    if (etherType === EtherType.ARP) this.receiveArp(frame);
    else if (etherType === EtherType.IPv4) this.receiveIpv4(frame);
    else if (etherType === EtherType.VLAN) this.counters.ignored++;
    return true;
  }

  // ---- receive path ----

  private receiveArp(frame: Uint8Array): void {
    const arp = decodeArp(frame, ETHERNET_HEADER_LENGTH);
    // Clients unicast renewals to the server identifier, so they must be able to resolve it.
    if (arp === undefined || arp.operation !== ArpOperation.Request || arp.targetIp !== this.pool.serverAddress) return;
    this.counters.arpReplies++;
    const reply = encodeArp({ operation: ArpOperation.Reply, senderMac: this.macBytes, senderIp: this.pool.serverAddress, targetMac: arp.senderMac, targetIp: arp.senderIp });
    this.send(buildEthernetFrame(arp.senderMac, this.macBytes, EtherType.ARP, reply));
  }

  private receiveIpv4(frame: Uint8Array): void {
    const ip = decodeIpv4(frame, ETHERNET_HEADER_LENGTH, frame.length - ETHERNET_HEADER_LENGTH);
    if (!ip.ok) return void this.malformed(`IPv4: ${ip.reason}`);
    const { header, payloadOffset, payloadLength } = ip.datagram;
    if (header.protocol === IpProtocol.ICMP && header.destination === this.pool.serverAddress) return this.receiveIcmp(frame, header.source, payloadOffset, payloadLength, header.moreFragments || header.fragmentOffset !== 0);
    if (header.protocol !== IpProtocol.UDP) return;
    const destination = header.destination;
    const subnetBroadcast = (this.pool.subnet | ~this.pool.netmask) >>> 0;
    if (destination !== LIMITED_BROADCAST && destination !== this.pool.serverAddress && destination !== subnetBroadcast) return;
    if (header.moreFragments || header.fragmentOffset !== 0) return void this.malformed("fragmented datagram");
    const udp = decodeUdp(frame, payloadOffset, payloadLength, header.source, destination);
    if (!udp.ok) {
      // Only a datagram that could be ours is our business.
      if (payloadLength >= 4 && ((frame[payloadOffset + 2]! << 8) | frame[payloadOffset + 3]!) === DHCP_SERVER_PORT) this.malformed(`UDP: ${udp.reason}`);
      return;
    }
    if (udp.datagram.destinationPort !== DHCP_SERVER_PORT) return;
    const dhcp = decodeDhcp(frame, udp.datagram.payloadOffset, udp.datagram.payloadLength);
    if (!dhcp.ok) return void this.malformed(`DHCP: ${dhcp.reason}`);
    this.receiveDhcp(dhcp.message, frame);
  }

  private receiveIcmp(frame: Uint8Array, source: number, offset: number, length: number, fragment: boolean): void {
    const echo = fragment ? undefined : decodeIcmpEcho(frame, offset, length);
    if (echo?.type !== IcmpType.EchoRequest) return;
    this.counters.echoReplies++;
    const reply = encodeIcmpEcho({ type: IcmpType.EchoReply, code: 0, identifier: echo.identifier, sequence: echo.sequence, payload: echo.payload });
    const datagram = encodeIpv4({ source: this.pool.serverAddress, destination: source, protocol: IpProtocol.ICMP, identification: this.identification++ & 0xffff }, reply);
    // Answered to the MAC the request came from: the pinger is on this segment (or behind its router).
    this.send(buildEthernetFrame(frame.subarray(6, 12), this.macBytes, EtherType.IPv4, datagram));
  }

  private receiveDhcp(message: DhcpMessage, frame: Uint8Array): void {
    const type = dhcpMessageType(message);
    if (message.op !== BootpOp.Request) return void this.counters.ignored++;
    if (type === undefined) return void this.malformed("no DHCP message type (plain BOOTP is not served)");
    if (message.htype !== HTYPE_ETHERNET || message.hlen !== 6) return void this.malformed(`hardware type ${message.htype}/${message.hlen} is not Ethernet`);
    if (message.hops > MAX_HOPS) return void this.counters.ignored++;
    if (message.giaddr !== 0 && !sameSubnet(message.giaddr, this.pool.subnet, this.pool.netmask)) return void this.counters.ignored++;
    // Server-to-client types (OFFER, ACK, NAK) and types from later RFCs are not requests to serve.
    if (!CLIENT_MESSAGE_TYPES.has(type)) return void this.counters.ignored++;
    this.counters.received++;
    const session: Session = { message, frame, mac: formatMac(message.chaddr), key: "", clientId: undefined };
    const clientId = message.options.get(DhcpOption.ClientIdentifier);
    if (clientId !== undefined && clientId.length > 0) {
      session.clientId = hex(clientId);
      session.key = `id:${session.clientId}`;
    } else session.key = `mac:${session.mac}`;
    switch (type) {
      case DhcpMessageType.Discover:
        this.counters.discovers++;
        return this.discover(session);
      case DhcpMessageType.Request:
        this.counters.requests++;
        return this.request(session);
      case DhcpMessageType.Decline:
        this.counters.declines++;
        return this.decline(session);
      case DhcpMessageType.Release:
        this.counters.releases++;
        return this.release(session);
      case DhcpMessageType.Inform:
        this.counters.informs++;
        return this.inform(session);
    }
  }

  private discover(session: Session): void {
    const now = this.options.clock.now();
    const via = formatMac(session.frame, 6);
    const known = this.leases.get(session.key);
    const alreadyOffered = known?.state === "offered" && now < known.expiresAt;
    if (session.message.giaddr === 0 && !alreadyOffered && this.leases.pendingOffersVia(via, now) >= MAX_PENDING_OFFERS_PER_STATION) {
      this.counters.throttled++;
      return;
    }
    const requested = dhcpAddressOption(session.message, DhcpOption.RequestedIpAddress);
    const ip = this.leases.choose(session.key, session.mac, requested, now);
    if (ip === undefined) {
      this.counters.exhausted++;
      if (!this.exhaustionReported) {
        this.exhaustionReported = true;
        this.options.log.warn(LOG_SOURCE, `"${this.pool.portGroup}": no free address for ${session.mac} (range ${formatIpv4(this.pool.rangeStart)}-${formatIpv4(this.pool.rangeEnd)} in use)`);
      }
      return;
    }
    this.exhaustionReported = false;
    const record = this.leases.offer(session.key, session.mac, session.clientId, ip, now + (this.options.offerHoldNs ?? DEFAULT_OFFER_HOLD_NS), dhcpTextOption(session.message, DhcpOption.HostName), via);
    this.counters.offers++;
    this.reply(session, DhcpMessageType.Offer, ip, this.leaseOptions(record));
  }

  private request(session: Session): void {
    const { message } = session;
    const now = this.options.clock.now();
    const serverId = dhcpAddressOption(message, DhcpOption.ServerIdentifier);
    const requested = dhcpAddressOption(message, DhcpOption.RequestedIpAddress);
    let ip: number;
    if (serverId !== undefined) {
      // SELECTING: the client answers one server's offer, and every server hears it.
      if (serverId !== this.pool.serverAddress) {
        this.leases.withdrawOffer(session.key, now);
        this.counters.ignored++;
        return;
      }
      ip = requested ?? message.ciaddr;
    } else if (requested !== undefined) {
      // INIT-REBOOT: the client believes it still has this address.
      ip = requested;
    } else if (message.ciaddr !== 0) {
      // RENEWING (unicast to us) or REBINDING (broadcast).
      ip = message.ciaddr;
    } else {
      return void this.malformed("DHCPREQUEST names no address (no requested address, no ciaddr)");
    }
    if (!sameSubnet(ip, this.pool.subnet, this.pool.netmask)) return this.nak(session, `${formatIpv4(ip)} is not on this network`);
    if (!this.leases.usableBy(ip, session.key, session.mac, now)) return this.nak(session, `${formatIpv4(ip)} is not available`);
    const leaseEnd = now + this.pool.leaseTimeS * 1e9;
    const previous = this.leases.get(session.key);
    const renewal = previous?.state === "bound" && previous.ip === ip;
    const record = this.leases.bind(session.key, session.mac, session.clientId, ip, now, leaseEnd, dhcpTextOption(message, DhcpOption.HostName));
    this.counters.acks++;
    if (!renewal) this.options.log.info(LOG_SOURCE, `"${this.pool.portGroup}": ${formatIpv4(ip)} leased to ${session.mac}${record.clientHostName ? ` (${record.clientHostName})` : ""} for ${this.pool.leaseTimeS} s`);
    this.reply(session, DhcpMessageType.Ack, ip, this.leaseOptions(record));
  }

  private decline(session: Session): void {
    const { message } = session;
    const ip = dhcpAddressOption(message, DhcpOption.RequestedIpAddress);
    const serverId = dhcpAddressOption(message, DhcpOption.ServerIdentifier);
    if (ip === undefined || (serverId !== undefined && serverId !== this.pool.serverAddress)) return void this.counters.ignored++;
    const now = this.options.clock.now();
    if (this.leases.decline(session.key, ip, now + (this.options.declineHoldNs ?? DEFAULT_DECLINE_HOLD_NS))) {
      this.options.log.warn(LOG_SOURCE, `"${this.pool.portGroup}": ${session.mac} declined ${formatIpv4(ip)} (in use by another station); address set aside`);
    }
  }

  private release(session: Session): void {
    const serverId = dhcpAddressOption(session.message, DhcpOption.ServerIdentifier);
    if (serverId !== undefined && serverId !== this.pool.serverAddress) return void this.counters.ignored++;
    if (this.leases.release(session.key, session.message.ciaddr, this.options.clock.now())) {
      this.options.log.info(LOG_SOURCE, `"${this.pool.portGroup}": ${session.mac} released ${formatIpv4(session.message.ciaddr)}`);
    }
  }

  /** A client configured by other means asks only for parameters: no address, no lease time. */
  private inform(session: Session): void {
    if (session.message.ciaddr === 0) return void this.malformed("DHCPINFORM without ciaddr");
    this.counters.acks++;
    this.reply(session, DhcpMessageType.Ack, 0, this.networkOptions(undefined));
  }

  private nak(session: Session, why: string): void {
    this.counters.naks++;
    this.options.log.debug(LOG_SOURCE, `"${this.pool.portGroup}": DHCPNAK to ${session.mac}: ${why}`);
    this.reply(session, DhcpMessageType.Nak, 0, [[DhcpOption.Message, dhcpTextValue(why)]]);
  }

  // ---- replies ----

  private leaseOptions(record: LeaseRecord): Array<[number, Uint8Array]> {
    const pool = this.pool;
    return [
      [DhcpOption.LeaseTime, dhcpU32Value(pool.leaseTimeS)],
      [DhcpOption.RenewalTime, dhcpU32Value(pool.renewalTimeS)],
      [DhcpOption.RebindingTime, dhcpU32Value(pool.rebindingTimeS)],
      ...this.networkOptions(record),
    ];
  }

  private networkOptions(record: LeaseRecord | undefined): Array<[number, Uint8Array]> {
    const pool = this.pool;
    const options: Array<[number, Uint8Array]> = [[DhcpOption.SubnetMask, dhcpAddressValue(pool.netmask)]];
    if (pool.router !== undefined) options.push([DhcpOption.Router, dhcpAddressValue(pool.router)]);
    if (pool.dnsServers.length > 0) options.push([DhcpOption.DomainNameServer, dhcpAddressValue(...pool.dnsServers.slice(0, 63))]);
    const hostName = record === undefined ? undefined : this.assignedHostName(record.mac);
    if (hostName !== undefined) options.push([DhcpOption.HostName, dhcpTextValue(hostName)]);
    if (pool.domainName !== undefined) options.push([DhcpOption.DomainName, dhcpTextValue(pool.domainName)]);
    options.push([DhcpOption.BroadcastAddress, dhcpAddressValue((pool.subnet | ~pool.netmask) >>> 0)]);
    return options;
  }

  private reply(session: Session, type: number, yiaddr: number, options: Array<[number, Uint8Array]>): void {
    const { message, frame } = session;
    const nak = type === DhcpMessageType.Nak;
    const payload = encodeDhcp({
      xid: message.xid,
      flags: message.flags & DHCP_BROADCAST_FLAG,
      // RFC 2131 table 3: ciaddr is echoed in an ACK (it is zero otherwise, and in every OFFER and NAK).
      ciaddr: type === DhcpMessageType.Ack ? message.ciaddr : 0,
      yiaddr,
      siaddr: nak ? 0 : this.pool.serverAddress,
      giaddr: message.giaddr,
      htype: message.htype,
      hlen: message.hlen,
      chaddr: message.chaddr,
      options: [[DhcpOption.MessageType, Uint8Array.of(type)], [DhcpOption.ServerIdentifier, dhcpAddressValue(this.pool.serverAddress)], ...options],
    });
    const clientMac = message.chaddr.subarray(0, 6);
    let destinationIp: number;
    let destinationMac: Uint8Array;
    let destinationPort = DHCP_CLIENT_PORT;
    if (message.giaddr !== 0) {
      destinationIp = message.giaddr;
      destinationMac = frame.subarray(6, 12);
      destinationPort = DHCP_SERVER_PORT;
    } else if (nak) {
      destinationIp = LIMITED_BROADCAST;
      destinationMac = BROADCAST_MAC;
    } else if (message.ciaddr !== 0) {
      destinationIp = message.ciaddr;
      destinationMac = clientMac;
    } else if (dhcpBroadcastRequested(message)) {
      destinationIp = LIMITED_BROADCAST;
      destinationMac = BROADCAST_MAC;
    } else {
      destinationIp = yiaddr;
      destinationMac = clientMac;
    }
    const udp = encodeUdp(this.pool.serverAddress, destinationIp, DHCP_SERVER_PORT, destinationPort, payload);
    const datagram = encodeIpv4({ source: this.pool.serverAddress, destination: destinationIp, protocol: IpProtocol.UDP, identification: this.identification++ & 0xffff, ttl: 64 }, udp);
    this.options.log.debug(LOG_SOURCE, `"${this.pool.portGroup}": ${DHCP_MESSAGE_TYPE_NAMES[type]} ${formatIpv4(yiaddr)} to ${session.mac} via ${formatIpv4(destinationIp)}`);
    this.send(buildEthernetFrame(destinationMac, this.macBytes, EtherType.IPv4, datagram));
  }

  private send(frame: Uint8Array): void {
    const timer = this.options.clock.setTimer(
      0,
      () => {
        this.pending.delete(timer);
        this.port?.transmit(frame);
      },
      { label: `dhcp "${this.pool.portGroup}" reply` },
    );
    this.pending.add(timer);
  }

  private malformed(reason: string): true {
    this.counters.malformed++;
    this.lastMalformed = reason;
    return true;
  }

  private assignedHostName(mac: string): string | undefined {
    const reservation = this.pool.reservations.find((r) => r.mac === mac);
    return reservation?.hostName ?? sanitizeHostName(this.options.hostNameFor?.(mac));
  }

  private hostNameOf(record: LeaseRecord): string | undefined {
    return this.assignedHostName(record.mac) ?? record.clientHostName;
  }
}

interface Session {
  message: DhcpMessage;
  frame: Uint8Array;
  mac: string;
  /** The lease table's key: the client identifier when sent, else the MAC. */
  key: string;
  clientId: string | undefined;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** A VM's display name as a DNS label: letters, digits and hyphens, at most 63 characters. */
export function sanitizeHostName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const label = name.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
  return label === "" ? undefined : label;
}
