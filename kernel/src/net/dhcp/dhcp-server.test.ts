import { describe, expect, it } from "vitest";
import type { VirtualClock } from "../../clock/virtual-clock.js";
import type { KernelLog } from "../../log/kernel-log.js";
import type { NetworkStack } from "../network-stack.js";
import { ArpOperation, decodeArp, encodeArp } from "../packets/arp.js";
import { EtherType, buildEthernetFrame, etherTypeAt } from "../packets/ethernet.js";
import { internetChecksum } from "../packets/internet-checksum.js";
import { decodeIpv4 } from "../packets/ipv4.js";
import { formatIpv4, parseIpv4 } from "../packets/ipv4-address.js";
import { BROADCAST_MAC, formatMac, parseMac } from "../packets/mac-address.js";
import { makeNetwork } from "../testing/network-fixture.js";
import type { VirtualPort } from "../virtual-port.js";
import { DhcpMessageType, DhcpOption, decodeDhcp, type DhcpMessage } from "./dhcp-message.js";
import { DhcpService } from "./dhcp-service.js";
import { DhcpSettingsError, validateDhcpSettings, type DhcpSettings } from "./dhcp-settings.js";

const SETTINGS: DhcpSettings = {
  portGroup: "VM Network",
  subnet: "10.20.0.0",
  netmask: "255.255.255.0",
  rangeStart: "10.20.0.100",
  rangeEnd: "10.20.0.109",
  serverAddress: "10.20.0.2",
  router: "10.20.0.1",
  dnsServers: ["10.20.0.53", "10.20.0.54"],
  domainName: "lab.example",
  leaseTimeS: 600,
};

interface Options {
  xid?: number;
  flags?: number;
  ciaddr?: string;
  giaddr?: string;
  /** Destination IP (default the limited broadcast) and MAC (default broadcast). */
  toIp?: string;
  toMac?: Uint8Array;
  sourceIp?: string;
  options?: Array<[number, number[]]>;
  /** Replaces chaddr's first six bytes (default the port's MAC). */
  chaddr?: Uint8Array;
}

/**
 * A DHCP client's frames, laid out byte by byte here (not with the server's encoders), so the test
 * would catch an encoder and decoder that agree with each other but not with RFC 2131.
 */
function requestFrame(mac: Uint8Array, type: number, o: Options = {}): Uint8Array {
  const options: number[] = [99, 130, 83, 99, 53, 1, type];
  for (const [code, value] of o.options ?? []) options.push(code, value.length, ...value);
  options.push(255);
  const bootp = new Uint8Array(236 + options.length);
  bootp[0] = 1; // BOOTREQUEST
  bootp[1] = 1; // Ethernet
  bootp[2] = 6;
  const xid = o.xid ?? 0x12345678;
  bootp.set([xid >>> 24, (xid >>> 16) & 0xff, (xid >>> 8) & 0xff, xid & 0xff], 4);
  bootp.set([(o.flags ?? 0) >>> 8, (o.flags ?? 0) & 0xff], 10);
  bootp.set(quad(o.ciaddr ?? "0.0.0.0"), 12);
  bootp.set(quad(o.giaddr ?? "0.0.0.0"), 24);
  bootp.set(o.chaddr ?? mac, 28);
  bootp.set(options, 236);
  const source = quad(o.sourceIp ?? o.ciaddr ?? "0.0.0.0");
  const destination = quad(o.toIp ?? "255.255.255.255");
  const udpLength = 8 + bootp.length;
  const udp = new Uint8Array(udpLength);
  udp.set([0, 68, 0, 67, udpLength >>> 8, udpLength & 0xff], 0);
  udp.set(bootp, 8);
  const pseudo = new Uint8Array(12 + udpLength);
  pseudo.set(source, 0);
  pseudo.set(destination, 4);
  pseudo.set([0, 17, udpLength >>> 8, udpLength & 0xff], 8);
  pseudo.set(udp, 12);
  const udpSum = internetChecksum(pseudo, 0, pseudo.length);
  udp.set([udpSum >>> 8, udpSum & 0xff], 6);
  const ip = new Uint8Array(20 + udpLength);
  ip.set([0x45, 0, (20 + udpLength) >>> 8, (20 + udpLength) & 0xff, 0, 1, 0, 0, 64, 17, 0, 0], 0);
  ip.set(source, 12);
  ip.set(destination, 16);
  const ipSum = internetChecksum(ip, 0, 20);
  ip.set([ipSum >>> 8, ipSum & 0xff], 10);
  ip.set(udp, 20);
  return buildEthernetFrame(o.toMac ?? BROADCAST_MAC, mac, EtherType.IPv4, ip);
}

function quad(text: string): number[] {
  return text.split(".").map(Number);
}

interface Reply {
  frame: Uint8Array;
  toMac: string;
  fromIp: string;
  toIp: string;
  sourcePort: number;
  destinationPort: number;
  message: DhcpMessage;
  type: number | undefined;
  option(code: number): number[] | undefined;
}

/** Parses the server's frame and checks its IP and UDP checksums independently of the server's code. */
function parseReply(frame: Uint8Array): Reply {
  expect(etherTypeAt(frame)).toBe(EtherType.IPv4);
  const ip = decodeIpv4(frame, 14, frame.length - 14);
  if (!ip.ok) throw new Error(ip.reason);
  const { header, payloadOffset, payloadLength } = ip.datagram;
  expect(header.protocol).toBe(17);
  const udp = frame.subarray(payloadOffset, payloadOffset + payloadLength);
  expect((udp[4]! << 8) | udp[5]!).toBe(payloadLength);
  const pseudo = new Uint8Array(12 + udp.length);
  pseudo.set(frame.subarray(14 + 12, 14 + 20), 0);
  pseudo.set([0, 17, udp.length >>> 8, udp.length & 0xff], 8);
  pseudo.set(udp, 12);
  expect(internetChecksum(pseudo, 0, pseudo.length)).toBe(0);
  const decoded = decodeDhcp(udp, 8, udp.length - 8);
  if (!decoded.ok) throw new Error(decoded.reason);
  const message = decoded.message;
  return {
    frame,
    toMac: formatMac(frame, 0),
    fromIp: formatIpv4(header.source),
    toIp: formatIpv4(header.destination),
    sourcePort: (udp[0]! << 8) | udp[1]!,
    destinationPort: (udp[2]! << 8) | udp[3]!,
    message,
    type: message.options.get(DhcpOption.MessageType)?.[0],
    option: (code) => {
      const value = message.options.get(code);
      return value === undefined ? undefined : Array.from(value);
    },
  };
}

class Client {
  readonly frames: Uint8Array[] = [];
  readonly port: VirtualPort;
  readonly mac: Uint8Array;
  constructor(
    readonly stack: NetworkStack,
    readonly clock: VirtualClock,
    macText: string,
    portGroup = "VM Network",
    clientName = "client",
  ) {
    this.mac = parseMac(macText);
    this.port = stack.connectPort({ portGroup, clientName, mac: this.mac, client: { receive: (frame) => void this.frames.push(frame) }, clientType: "vm" });
  }
  /** Sends, lets the clock run the server's deferred reply, and returns the DHCP replies received. */
  exchange(type: number, o: Options = {}): Reply[] {
    this.frames.length = 0;
    this.port.transmit(requestFrame(this.mac, type, o));
    this.clock.runUntilIdle();
    return this.frames.filter((f) => etherTypeAt(f) === EtherType.IPv4).map(parseReply);
  }
  /** DISCOVER, OFFER, REQUEST, ACK; returns the ACK. */
  lease(o: Options = {}): Reply {
    const [offer] = this.exchange(DhcpMessageType.Discover, o);
    expect(offer?.type).toBe(DhcpMessageType.Offer);
    const [ack] = this.exchange(DhcpMessageType.Request, {
      ...o,
      options: [...(o.options ?? []).filter(([code]) => code !== DhcpOption.RequestedIpAddress), [DhcpOption.ServerIdentifier, offer!.option(DhcpOption.ServerIdentifier)!], [DhcpOption.RequestedIpAddress, quad(formatIpv4(offer!.message.yiaddr))]],
    });
    expect(ack?.type).toBe(DhcpMessageType.Ack);
    return ack!;
  }
}

function setup(settings: Partial<DhcpSettings> = {}, groups: Array<[string, number]> = [["VM Network", 0]]) {
  const { stack, clock, log } = makeNetwork("esx-dhcp");
  stack.addVirtualSwitch({ name: "vSwitch0" });
  for (const [name, vlan] of groups) stack.addPortGroup("vSwitch0", name, vlan);
  const dhcp = new DhcpService(clock, log as KernelLog, stack, { name: "esx-dhcp" });
  const server = dhcp.configure({ ...SETTINGS, ...settings });
  return { stack, clock, log, dhcp, server };
}

const addr = (n: number) => formatIpv4(n);

describe("DHCP server on a port group", () => {
  it("runs DISCOVER → OFFER → REQUEST → ACK with the configured options, broadcasting when the client asks", () => {
    const { stack, clock, dhcp, server } = setup();
    const client = new Client(stack, clock, "00:0c:29:aa:00:01", "VM Network", "web01.ethernet0");
    const [offer, ...more] = client.exchange(DhcpMessageType.Discover, { flags: 0x8000, xid: 0xcafe0001, options: [[DhcpOption.ParameterRequestList, [1, 3, 6, 12, 15, 28, 51]]] });
    expect(more).toEqual([]);
    expect(offer).toMatchObject({ type: DhcpMessageType.Offer, toMac: "ff:ff:ff:ff:ff:ff", toIp: "255.255.255.255", fromIp: "10.20.0.2", sourcePort: 67, destinationPort: 68 });
    expect(offer!.message).toMatchObject({ op: 2, xid: 0xcafe0001, flags: 0x8000, ciaddr: 0, yiaddr: parseIpv4("10.20.0.100"), siaddr: parseIpv4("10.20.0.2") });
    expect(Array.from(offer!.message.chaddr.subarray(0, 6))).toEqual(Array.from(client.mac));
    expect(offer!.frame.length).toBeGreaterThanOrEqual(14 + 20 + 8 + 300);
    expect(offer!.option(DhcpOption.ServerIdentifier)).toEqual([10, 20, 0, 2]);
    expect(offer!.option(DhcpOption.SubnetMask)).toEqual([255, 255, 255, 0]);
    expect(offer!.option(DhcpOption.Router)).toEqual([10, 20, 0, 1]);
    expect(offer!.option(DhcpOption.DomainNameServer)).toEqual([10, 20, 0, 53, 10, 20, 0, 54]);
    expect(offer!.option(DhcpOption.LeaseTime)).toEqual([0, 0, 0x02, 0x58]);
    expect(offer!.option(DhcpOption.RenewalTime)).toEqual([0, 0, 0x01, 0x2c]);
    expect(offer!.option(DhcpOption.RebindingTime)).toEqual([0, 0, 0x02, 0x0d]);
    expect(offer!.option(DhcpOption.BroadcastAddress)).toEqual([10, 20, 0, 255]);
    expect(String.fromCharCode(...offer!.option(DhcpOption.HostName)!)).toBe("web01");
    expect(String.fromCharCode(...offer!.option(DhcpOption.DomainName)!)).toBe("lab.example");
    expect(dhcp.leases()).toEqual([{ portGroup: "VM Network", ipAddress: "10.20.0.100", mac: "00:0c:29:aa:00:01", hostName: "web01", state: "offered", remainingS: 60 }]);

    const [ack] = client.exchange(DhcpMessageType.Request, { flags: 0x8000, xid: 0xcafe0001, options: [[DhcpOption.ServerIdentifier, [10, 20, 0, 2]], [DhcpOption.RequestedIpAddress, [10, 20, 0, 100]]] });
    expect(ack).toMatchObject({ type: DhcpMessageType.Ack, toMac: "ff:ff:ff:ff:ff:ff", toIp: "255.255.255.255" });
    expect(addr(ack!.message.yiaddr)).toBe("10.20.0.100");
    expect(ack!.option(DhcpOption.LeaseTime)).toEqual([0, 0, 0x02, 0x58]);
    expect(dhcp.leases()).toEqual([{ portGroup: "VM Network", ipAddress: "10.20.0.100", mac: "00:0c:29:aa:00:01", hostName: "web01", state: "bound", remainingS: 600 }]);
    expect(server.counters).toMatchObject({ received: 2, discovers: 1, requests: 1, offers: 1, acks: 1, naks: 0, malformed: 0 });
    // The server is a station of the port group, shown in the port table.
    expect(stack.listPorts().find((p) => p.clientName === "dhcp")).toMatchObject({ clientType: "dhcp", portGroup: "VM Network", mac: server.macText, stats: { txPackets: 2, rxPackets: 2 } });
  });

  it("unicasts to chaddr and yiaddr when the broadcast bit is clear, and to ciaddr when renewing", async () => {
    const { stack, clock } = setup();
    const client = new Client(stack, clock, "00:0c:29:aa:00:02");
    const [offer] = client.exchange(DhcpMessageType.Discover);
    expect(offer).toMatchObject({ toMac: "00:0c:29:aa:00:02", toIp: "10.20.0.100" });
    expect(offer!.message.flags).toBe(0);
    const ack = client.lease();
    expect(ack).toMatchObject({ toMac: "00:0c:29:aa:00:02", toIp: "10.20.0.100" });

    clock.advance(400e9);
    // RENEWING: unicast to the server's address and MAC (resolved by ARP first), ciaddr set, no option 50 or 54.
    client.frames.length = 0;
    client.port.transmit(buildEthernetFrame(BROADCAST_MAC, client.mac, EtherType.ARP, encodeArp({ operation: ArpOperation.Request, senderMac: client.mac, senderIp: parseIpv4("10.20.0.100"), targetMac: new Uint8Array(6), targetIp: parseIpv4("10.20.0.2") })));
    clock.runUntilIdle();
    const arp = decodeArp(client.frames[0]!, 14)!;
    expect(arp).toMatchObject({ operation: ArpOperation.Reply, senderIp: parseIpv4("10.20.0.2"), targetIp: parseIpv4("10.20.0.100") });
    // The server identifier answers ping, as a station on the segment should.
    const vmk = stack.addVmknic({ portGroup: "VM Network", ipAddress: "10.20.0.9", netmask: "255.255.255.0" });
    const ping = vmk.ping("10.20.0.2", { count: 2 });
    clock.runUntilIdle();
    expect(await ping).toMatchObject({ transmitted: 2, received: 2 });
    const [renewed] = client.exchange(DhcpMessageType.Request, { ciaddr: "10.20.0.100", toIp: "10.20.0.2", toMac: arp.senderMac });
    expect(renewed).toMatchObject({ type: DhcpMessageType.Ack, toMac: "00:0c:29:aa:00:02", toIp: "10.20.0.100" });
    expect(addr(renewed!.message.ciaddr)).toBe("10.20.0.100");
    expect(addr(renewed!.message.yiaddr)).toBe("10.20.0.100");
  });

  it("keys leases by client identifier when one is sent, else by MAC, and gives a returning client its address", () => {
    const { stack, clock, dhcp } = setup();
    const a = new Client(stack, clock, "00:0c:29:aa:00:03");
    expect(addr(a.lease().message.yiaddr)).toBe("10.20.0.100");
    // Another identity behind the same MAC (a second client-id) is another client.
    expect(addr(a.lease({ options: [[DhcpOption.ClientIdentifier, [0xff, 1, 2, 3, 4]]] }).message.yiaddr)).toBe("10.20.0.101");
    // The MAC-keyed client releases, then comes back: it gets its old address, not a new one.
    a.exchange(DhcpMessageType.Release, { ciaddr: "10.20.0.100", toIp: "10.20.0.2", options: [[DhcpOption.ServerIdentifier, [10, 20, 0, 2]]] });
    expect(dhcp.leases().find((l) => l.ipAddress === "10.20.0.100")?.state).toBe("released");
    expect(addr(a.lease().message.yiaddr)).toBe("10.20.0.100");
    // The client-id moves to another NIC: the lease follows the identifier.
    const b = new Client(stack, clock, "00:0c:29:bb:00:03");
    expect(addr(b.lease({ options: [[DhcpOption.ClientIdentifier, [0xff, 1, 2, 3, 4]]] }).message.yiaddr)).toBe("10.20.0.101");
    expect(dhcp.leases().map((l) => [l.ipAddress, l.mac, l.clientId ?? "-", l.state])).toEqual([
      ["10.20.0.100", "00:0c:29:aa:00:03", "-", "bound"],
      ["10.20.0.101", "00:0c:29:bb:00:03", "ff:01:02:03:04", "bound"],
    ]);
  });

  it("NAKs requests for addresses the client may not have and stays silent when another server was chosen", () => {
    const { stack, clock, server } = setup();
    const a = new Client(stack, clock, "00:0c:29:aa:00:04");
    const b = new Client(stack, clock, "00:0c:29:aa:00:05");
    a.lease();
    // INIT-REBOOT for a's address.
    const [nak] = b.exchange(DhcpMessageType.Request, { options: [[DhcpOption.RequestedIpAddress, [10, 20, 0, 100]]] });
    expect(nak).toMatchObject({ type: DhcpMessageType.Nak, toMac: "ff:ff:ff:ff:ff:ff", toIp: "255.255.255.255" });
    expect(nak!.message.yiaddr).toBe(0);
    expect(nak!.option(DhcpOption.LeaseTime)).toBeUndefined();
    expect(String.fromCharCode(...nak!.option(DhcpOption.Message)!)).toMatch(/not available/);
    // INIT-REBOOT from another network.
    expect(b.exchange(DhcpMessageType.Request, { options: [[DhcpOption.RequestedIpAddress, [192, 168, 1, 7]]] })[0]?.type).toBe(DhcpMessageType.Nak);
    // INIT-REBOOT with a free address of ours: the authoritative server grants it without a record.
    const [granted] = b.exchange(DhcpMessageType.Request, { options: [[DhcpOption.RequestedIpAddress, [10, 20, 0, 105]]] });
    expect(granted?.type).toBe(DhcpMessageType.Ack);
    expect(addr(granted!.message.yiaddr)).toBe("10.20.0.105");
    // SELECTING another server's offer: our own offer is withdrawn, nothing is sent.
    const c = new Client(stack, clock, "00:0c:29:aa:00:06");
    const [offer] = c.exchange(DhcpMessageType.Discover);
    const ignoredBefore = server.counters.ignored;
    expect(c.exchange(DhcpMessageType.Request, { options: [[DhcpOption.ServerIdentifier, [10, 20, 0, 3]], [DhcpOption.RequestedIpAddress, quad(addr(offer!.message.yiaddr))]] })).toEqual([]);
    expect(server.counters.ignored).toBe(ignoredBefore + 1);
    expect(server.leaseList().find((l) => l.mac === "00:0c:29:aa:00:06")?.state).toBe("expired");
    expect(server.counters.naks).toBe(2);
  });

  it("sets a declined address aside and answers DHCPINFORM with parameters only", () => {
    const { stack, clock, log } = setup();
    const a = new Client(stack, clock, "00:0c:29:aa:00:07");
    a.lease();
    a.exchange(DhcpMessageType.Decline, { options: [[DhcpOption.RequestedIpAddress, [10, 20, 0, 100]], [DhcpOption.ServerIdentifier, [10, 20, 0, 2]]] });
    expect(log.entries({ source: "dhcp" }).some((e) => /declined 10\.20\.0\.100/.test(e.message))).toBe(true);
    expect(addr(a.lease().message.yiaddr)).toBe("10.20.0.101");
    const b = new Client(stack, clock, "00:0c:29:aa:00:08");
    expect(addr(b.lease().message.yiaddr)).toBe("10.20.0.102");

    const static1 = new Client(stack, clock, "00:0c:29:aa:00:09");
    const [inform] = static1.exchange(DhcpMessageType.Inform, { ciaddr: "10.20.0.50", toIp: "255.255.255.255" });
    expect(inform).toMatchObject({ type: DhcpMessageType.Ack, toMac: "00:0c:29:aa:00:09", toIp: "10.20.0.50" });
    expect(inform!.message.yiaddr).toBe(0);
    expect(addr(inform!.message.ciaddr)).toBe("10.20.0.50");
    expect(inform!.option(DhcpOption.LeaseTime)).toBeUndefined();
    expect(inform!.option(DhcpOption.Router)).toEqual([10, 20, 0, 1]);
  });

  it("stops offering when the range is exhausted and takes addresses back when offers and leases lapse", () => {
    const { stack, clock, server, log } = setup({ rangeStart: "10.20.0.100", rangeEnd: "10.20.0.101", leaseTimeS: 120 });
    const a = new Client(stack, clock, "00:0c:29:aa:00:0a");
    const b = new Client(stack, clock, "00:0c:29:aa:00:0b");
    const c = new Client(stack, clock, "00:0c:29:aa:00:0c");
    a.lease();
    expect(b.exchange(DhcpMessageType.Discover)).toHaveLength(1);
    expect(c.exchange(DhcpMessageType.Discover)).toEqual([]);
    expect(server.counters.exhausted).toBe(1);
    expect(log.entries({ source: "dhcp", level: "warn" }).map((e) => e.message)).toEqual([expect.stringMatching(/no free address for 00:0c:29:aa:00:0c/)]);
    // b never requested: its offer lapses after the hold time and c gets the address.
    clock.advance(61e9);
    expect(addr(c.lease().message.yiaddr)).toBe("10.20.0.101");
    // a's lease runs out (nobody renews): b gets it.
    clock.advance(120e9);
    expect(server.leaseList().find((l) => l.mac === "00:0c:29:aa:00:0a")?.state).toBe("expired");
    expect(addr(b.lease().message.yiaddr)).toBe("10.20.0.100");
  });

  it("keeps one station inventing client addresses from taking the whole range", () => {
    const { stack, clock, server } = setup({ rangeStart: "10.20.0.100", rangeEnd: "10.20.0.119" });
    const guest = new Client(stack, clock, "00:0c:29:aa:00:50");
    const offers = [];
    for (let i = 0; i < 10; i++) offers.push(...guest.exchange(DhcpMessageType.Discover, { flags: 0x8000, chaddr: Uint8Array.of(0x02, 0, 0, 0, 0, i) }));
    expect(offers).toHaveLength(4);
    expect(server.counters.throttled).toBe(6);
    // A retransmitted DISCOVER of a client already offered an address is still answered.
    expect(guest.exchange(DhcpMessageType.Discover, { flags: 0x8000, chaddr: Uint8Array.of(0x02, 0, 0, 0, 0, 0) })).toHaveLength(1);
    // Other stations are unaffected, and once requested (bound), offers no longer count.
    expect(addr(new Client(stack, clock, "00:0c:29:aa:00:51").lease().message.yiaddr)).toBe("10.20.0.104");
    guest.exchange(DhcpMessageType.Request, { flags: 0x8000, chaddr: Uint8Array.of(0x02, 0, 0, 0, 0, 1), options: [[DhcpOption.ServerIdentifier, [10, 20, 0, 2]], [DhcpOption.RequestedIpAddress, [10, 20, 0, 101]]] });
    expect(guest.exchange(DhcpMessageType.Discover, { flags: 0x8000, chaddr: Uint8Array.of(0x02, 0, 0, 0, 0, 7) })).toHaveLength(1);
    // Offers lapse after the hold time.
    clock.advance(61e9);
    expect(guest.exchange(DhcpMessageType.Discover, { flags: 0x8000, chaddr: Uint8Array.of(0x02, 0, 0, 0, 0, 8) })).toHaveLength(1);
  });

  it("gives reserved MACs their address and host name and keeps reserved addresses from others", () => {
    const { stack, clock } = setup({ reservations: [{ mac: "00:0c:29:aa:00:10", ipAddress: "10.20.0.100", hostName: "db01" }] });
    const other = new Client(stack, clock, "00:0c:29:aa:00:11");
    expect(addr(other.lease().message.yiaddr)).toBe("10.20.0.101");
    const reserved = new Client(stack, clock, "00:0c:29:aa:00:10");
    const ack = reserved.lease({ options: [[DhcpOption.RequestedIpAddress, [10, 20, 0, 107]]] });
    expect(addr(ack.message.yiaddr)).toBe("10.20.0.100");
    expect(String.fromCharCode(...ack.option(DhcpOption.HostName)!)).toBe("db01");
    expect(other.exchange(DhcpMessageType.Request, { options: [[DhcpOption.RequestedIpAddress, [10, 20, 0, 100]]] })[0]?.type).toBe(DhcpMessageType.Nak);
  });

  it("serves only its port group's VLAN", () => {
    const { stack, clock, server } = setup({ portGroup: "Web" }, [["Web", 10], ["App", 10], ["Db", 20]]);
    const sameGroup = new Client(stack, clock, "00:0c:29:aa:00:21", "Web");
    const sameVlan = new Client(stack, clock, "00:0c:29:aa:00:22", "App");
    const otherVlan = new Client(stack, clock, "00:0c:29:aa:00:23", "Db");
    expect(sameGroup.exchange(DhcpMessageType.Discover)).toHaveLength(1);
    expect(sameVlan.exchange(DhcpMessageType.Discover)).toHaveLength(1);
    expect(otherVlan.exchange(DhcpMessageType.Discover)).toEqual([]);
    expect(server.counters.discovers).toBe(2);
    // The port group moves to VLAN 20: the server follows it.
    stack.setPortGroupVlan("Web", 20);
    expect(otherVlan.exchange(DhcpMessageType.Discover)).toHaveLength(1);
    expect(sameVlan.exchange(DhcpMessageType.Discover)).toEqual([]);
  });

  it("counts hostile and broken packets without throwing, and keeps serving", () => {
    const { stack, clock, server } = setup();
    const client = new Client(stack, clock, "00:0c:29:aa:00:30");
    const good = requestFrame(client.mac, DhcpMessageType.Discover);
    const udpAt = 14 + 20;
    const optionsAt = udpAt + 8 + 240;
    const broken: Uint8Array[] = [];
    // Cut inside the fixed BOOTP part (IP and UDP lengths shrunk to match, checksums redone).
    broken.push(resize(good, udpAt + 8 + 100));
    // An option whose length runs past the end of the message.
    const overrun = good.slice();
    overrun[optionsAt + 1] = 200;
    broken.push(fixChecksums(overrun));
    // No magic cookie.
    const cookie = good.slice();
    cookie[udpAt + 8 + 236] = 0;
    broken.push(fixChecksums(cookie));
    // UDP length longer than the datagram.
    const udpLength = good.slice();
    udpLength[udpAt + 4] = 0x7f;
    broken.push(udpLength);
    // Bad UDP checksum.
    const checksum = good.slice();
    checksum[udpAt + 6]! ^= 0x55;
    broken.push(checksum);
    // Bad IP header checksum, IP total length beyond the frame.
    const ipSum = good.slice();
    ipSum[14 + 10]! ^= 1;
    broken.push(ipSum);
    const ipLength = good.slice();
    ipLength[14 + 2] = 0xff;
    broken.push(ipLength);
    // A message-type option of the wrong length; an option with no length byte at the very end.
    const typeLength = good.slice();
    typeLength[optionsAt + 1] = 0;
    broken.push(fixChecksums(typeLength));
    broken.push(resize(good, optionsAt + 1, 12));
    // Runts.
    broken.push(good.slice(0, 10), good.slice(0, 20));
    for (const frame of broken) expect(() => client.port.transmit(frame)).not.toThrow();
    clock.runUntilIdle();
    expect(client.frames).toEqual([]);
    expect(server.counters.malformed).toBe(broken.length - 1);
    expect(server.counters.offers).toBe(0);
    expect(server.lastMalformed).toBeDefined();

    // Random bytes after valid headers: never a throw, every frame accounted for.
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    const before = server.counters.malformed + server.counters.received + server.counters.ignored;
    for (let i = 0; i < 300; i++) {
      const frame = good.slice(0, 14 + 20 + 8 + (random() * 2 + (i % 60)));
      for (let j = udpAt + 8; j < frame.length; j++) frame[j] = random();
      frame[udpAt + 8 + 236] = 99;
      frame[udpAt + 8 + 237] = 130;
      frame[udpAt + 8 + 238] = 83;
      frame[udpAt + 8 + 239] = 99;
      expect(() => client.port.transmit(fixChecksums(resize(frame, frame.length)))).not.toThrow();
    }
    expect(() => clock.runUntilIdle()).not.toThrow();
    expect(server.counters.malformed + server.counters.received + server.counters.ignored - before).toBeGreaterThan(250);
    // Still serving.
    expect(addr(client.lease().message.yiaddr)).toMatch(/^10\.20\.0\.1\d\d$/);
  });

  it("validates settings and reports every problem at once", () => {
    expect(validateDhcpSettings(SETTINGS)).toMatchObject({ leaseTimeS: 600, renewalTimeS: 300, rebindingTimeS: 525 });
    expect(validateDhcpSettings({ ...SETTINGS, serverAddress: undefined }).serverAddress).toBe(parseIpv4("10.20.0.254"));
    try {
      validateDhcpSettings({ ...SETTINGS, subnet: "10.20.0.1", rangeStart: "10.30.0.5", rangeEnd: "10.20.0.2", router: "10.20.0.255", leaseTimeS: 10, dnsServers: ["dns"] });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DhcpSettingsError);
      expect((error as DhcpSettingsError).problems).toEqual([
        'dnsServers[0] "dns" is not an IPv4 address',
        "subnet 10.20.0.1 has host bits set for netmask 255.255.255.0",
        "rangeStart 10.30.0.5 is outside 10.20.0.1/255.255.255.0",
        "router 10.20.0.255 is the subnet's network or broadcast address",
        "rangeStart 10.30.0.5 is above rangeEnd 10.20.0.2",
        "leaseTimeS 10 must be a whole number of seconds from 60 to 4294967294",
      ]);
    }
    const { dhcp } = setup();
    expect(() => dhcp.configure({ ...SETTINGS, portGroup: "Nowhere" })).toThrow(/no port group "Nowhere"/);
  });

  it("replaces a port group's server on reconfiguration and gives its port back on removal", () => {
    const { stack, clock, dhcp } = setup();
    const client = new Client(stack, clock, "00:0c:29:aa:00:40");
    client.lease();
    const replaced = dhcp.configure({ ...SETTINGS, rangeStart: "10.20.0.150", rangeEnd: "10.20.0.160" });
    expect(stack.listPorts().filter((p) => p.clientType === "dhcp")).toHaveLength(1);
    expect(addr(client.lease().message.yiaddr)).toBe("10.20.0.150");
    expect(dhcp.views()).toEqual([expect.objectContaining({ portGroup: "VM Network", vswitch: "vSwitch0", vlanId: 0, mac: replaced.macText, rangeStart: "10.20.0.150", leases: [expect.objectContaining({ ipAddress: "10.20.0.150", state: "bound" })] })]);
    dhcp.remove("VM Network");
    expect(stack.listPorts().filter((p) => p.clientType === "dhcp")).toEqual([]);
    expect(client.exchange(DhcpMessageType.Discover)).toEqual([]);
    expect(() => dhcp.server("VM Network")).toThrow(/no DHCP server/);
  });
});

/** Truncates or pads the frame's IP datagram to `frameLength`, fixing IP/UDP lengths and checksums. */
function resize(frame: Uint8Array, frameLength: number, padTo = 0): Uint8Array {
  const out = new Uint8Array(Math.max(frameLength, padTo));
  out.set(frame.subarray(0, Math.min(frame.length, frameLength)));
  const ipLength = frameLength - 14;
  out[14 + 2] = ipLength >>> 8;
  out[14 + 3] = ipLength & 0xff;
  out[14 + 20 + 4] = (ipLength - 20) >>> 8;
  out[14 + 20 + 5] = (ipLength - 20) & 0xff;
  return fixChecksums(out);
}

function fixChecksums(frame: Uint8Array): Uint8Array {
  const ipLength = (frame[16]! << 8) | frame[17]!;
  frame[24] = 0;
  frame[25] = 0;
  const ipSum = internetChecksum(frame, 14, 20);
  frame[24] = ipSum >>> 8;
  frame[25] = ipSum & 0xff;
  const udpLength = ipLength - 20;
  const pseudo = new Uint8Array(12 + udpLength);
  pseudo.set(frame.subarray(26, 34), 0);
  pseudo.set([0, 17, udpLength >>> 8, udpLength & 0xff], 8);
  pseudo.set(frame.subarray(34, 34 + udpLength), 12);
  pseudo[12 + 6] = 0;
  pseudo[12 + 7] = 0;
  const sum = internetChecksum(pseudo, 0, pseudo.length) || 0xffff;
  frame[34 + 6] = sum >>> 8;
  frame[34 + 7] = sum & 0xff;
  return frame;
}
