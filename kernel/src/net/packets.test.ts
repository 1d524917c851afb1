import { describe, expect, it } from "vitest";
import { ArpOperation, decodeArp, encodeArp } from "./packets/arp.js";
import { EtherType, buildEthernetFrame, etherTypeAt } from "./packets/ethernet.js";
import { IcmpType, decodeIcmpEcho, encodeIcmpEcho } from "./packets/icmp.js";
import { internetChecksum } from "./packets/internet-checksum.js";
import { IpProtocol, decodeIpv4, encodeIpv4 } from "./packets/ipv4.js";
import { formatIpv4, parseIpv4, parseNetmask, prefixLength, sameSubnet } from "./packets/ipv4-address.js";
import { formatMac, isBroadcastMac, isGroupMac, macHigh, macLow, parseMac } from "./packets/mac-address.js";
import { innerEtherType, insertVlanTag, isVlanTagged, stripVlanTag, vlanIdOf, vlanTciOf } from "./packets/vlan-tag.js";
import { vmknicMac } from "./vmknic-mac.js";

describe("packet codec", () => {
  it("computes the RFC 1071 checksum of a known IPv4 header", () => {
    // The worked example from Wikipedia's "IPv4 header checksum" article: checksum 0xb861.
    const header = Uint8Array.from([0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7]);
    expect(internetChecksum(header, 0, header.length)).toBe(0xb861);
    header[10] = 0xb8;
    header[11] = 0x61;
    expect(internetChecksum(header, 0, header.length)).toBe(0);
    expect(internetChecksum(Uint8Array.from([0x01]), 0, 1)).toBe(~0x0100 & 0xffff);
  });

  it("parses and formats MAC and IPv4 addresses", () => {
    const mac = parseMac("00:50:56:AB:cd:0f");
    expect(formatMac(mac)).toBe("00:50:56:ab:cd:0f");
    expect(macHigh(mac, 0)).toBe(0x0050);
    expect(macLow(mac, 0)).toBe(0x56abcd0f);
    expect(isGroupMac(parseMac("01:00:5e:00:00:01"))).toBe(true);
    expect(isBroadcastMac(parseMac("ff:ff:ff:ff:ff:ff"))).toBe(true);
    expect(() => parseMac("00:50:56:ab:cd")).toThrow(/invalid MAC/);
    expect(parseIpv4("192.168.1.200")).toBe(0xc0a801c8);
    expect(formatIpv4(0xc0a801c8)).toBe("192.168.1.200");
    expect(() => parseIpv4("10.0.0.256")).toThrow();
    expect(prefixLength(parseNetmask("255.255.254.0"))).toBe(23);
    expect(() => parseNetmask("255.0.255.0")).toThrow(/netmask/);
    expect(sameSubnet(parseIpv4("10.0.1.5"), parseIpv4("10.0.0.9"), parseNetmask("255.255.254.0"))).toBe(true);
  });

  it("round-trips ARP inside a padded Ethernet frame", () => {
    const sender = parseMac("00:50:56:40:00:01");
    const arp = encodeArp({ operation: ArpOperation.Request, senderMac: sender, senderIp: parseIpv4("10.0.0.1"), targetMac: new Uint8Array(6), targetIp: parseIpv4("10.0.0.2") });
    const frame = buildEthernetFrame(parseMac("ff:ff:ff:ff:ff:ff"), sender, EtherType.ARP, arp);
    expect(frame.length).toBe(60);
    expect(etherTypeAt(frame)).toBe(EtherType.ARP);
    const decoded = decodeArp(frame, 14)!;
    expect(decoded.operation).toBe(ArpOperation.Request);
    expect(formatMac(decoded.senderMac)).toBe("00:50:56:40:00:01");
    expect(formatIpv4(decoded.targetIp)).toBe("10.0.0.2");
    frame[14 + 1] = 6; // hardware type IEEE 802
    expect(decodeArp(frame, 14)).toBeUndefined();
  });

  it("encodes IPv4 with a valid checksum and rejects a corrupted header", () => {
    const icmp = encodeIcmpEcho({ type: IcmpType.EchoRequest, code: 0, identifier: 0x1234, sequence: 7, payload: Uint8Array.from([1, 2, 3]) });
    expect(internetChecksum(icmp, 0, icmp.length)).toBe(0);
    const datagram = encodeIpv4({ source: parseIpv4("10.0.0.1"), destination: parseIpv4("10.0.0.2"), protocol: IpProtocol.ICMP, identification: 42 }, icmp);
    const frame = buildEthernetFrame(new Uint8Array(6), new Uint8Array(6), EtherType.IPv4, datagram);
    const result = decodeIpv4(frame, 14, frame.length - 14);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { header, payloadOffset, payloadLength } = result.datagram;
    expect(header).toMatchObject({ headerLength: 20, totalLength: 31, identification: 42, ttl: 64, protocol: 1, source: 0x0a000001, destination: 0x0a000002 });
    expect(payloadLength).toBe(11);
    const echo = decodeIcmpEcho(frame, payloadOffset, payloadLength)!;
    expect(echo).toMatchObject({ type: IcmpType.EchoRequest, identifier: 0x1234, sequence: 7 });
    expect([...echo.payload]).toEqual([1, 2, 3]);
    frame[14 + 8] = 1; // TTL changed without fixing the checksum
    expect(decodeIpv4(frame, 14, frame.length - 14)).toEqual({ ok: false, reason: "header checksum mismatch" });
    const badIcmp = Uint8Array.from(icmp);
    badIcmp[8] ^= 0xff;
    expect(decodeIcmpEcho(badIcmp, 0, badIcmp.length)).toBeUndefined();
  });

  it("inserts and strips 802.1Q tags", () => {
    const frame = buildEthernetFrame(parseMac("00:50:56:00:00:02"), parseMac("00:50:56:00:00:01"), EtherType.IPv4, new Uint8Array(46).fill(0xaa));
    const tagged = insertVlanTag(frame, (5 << 13) | 100);
    expect(tagged.length).toBe(frame.length + 4);
    expect(isVlanTagged(tagged)).toBe(true);
    expect(vlanIdOf(tagged)).toBe(100);
    expect(vlanTciOf(tagged) >>> 13).toBe(5);
    expect(etherTypeAt(tagged)).toBe(0x8100);
    expect(innerEtherType(tagged)).toBe(EtherType.IPv4);
    expect(stripVlanTag(tagged)).toEqual(frame);
    expect(isVlanTagged(frame)).toBe(false);
  });

  it("derives vmknic MACs in VMware's OUI from the host name", () => {
    const a = vmknicMac("esx01", "vmk0");
    expect(formatMac(a)).toMatch(/^00:50:56:[4-7][0-9a-f]:/);
    expect(vmknicMac("esx01", "vmk0")).toEqual(a);
    expect(vmknicMac("esx02", "vmk0")).not.toEqual(a);
    expect(vmknicMac("esx01", "vmk1")).not.toEqual(a);
  });
});
