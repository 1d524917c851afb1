import { describe, expect, it } from "vitest";
import { internetChecksum } from "../packets/internet-checksum.js";
import { BootpOp, DhcpOption, dhcpAddressOption, decodeDhcp, encodeDhcp, dhcpMessageType, dhcpTextOption } from "./dhcp-message.js";
import { decodeUdp, encodeUdp } from "./udp.js";

/** A BOOTREQUEST laid out by hand: the fixed part, the cookie, then `options` verbatim. */
function message(options: number[], patch: (bytes: Uint8Array) => void = () => {}): Uint8Array {
  const bytes = new Uint8Array(240 + options.length);
  bytes.set([1, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef], 0);
  bytes.set([0x00, 0x0c, 0x29, 0x01, 0x02, 0x03], 28);
  bytes.set([99, 130, 83, 99], 236);
  bytes.set(options, 240);
  patch(bytes);
  return bytes;
}

describe("DHCP message codec", () => {
  it("decodes the fixed fields and options, joining an option sent in pieces (RFC 3396)", () => {
    const bytes = message([53, 1, 3, 0, 0, 12, 3, 0x77, 0x65, 0x62, 50, 2, 10, 1, 12, 2, 0x30, 0x31, 50, 2, 0, 7, 255, 1, 2, 3]);
    const decoded = decodeDhcp(bytes, 0, bytes.length);
    if (!decoded.ok) throw new Error(decoded.reason);
    const m = decoded.message;
    expect(m).toMatchObject({ op: BootpOp.Request, htype: 1, hlen: 6, xid: 0xdeadbeef, ciaddr: 0 });
    expect(dhcpMessageType(m)).toBe(3);
    expect(dhcpTextOption(m, DhcpOption.HostName)).toBe("web01");
    expect(dhcpAddressOption(m, DhcpOption.RequestedIpAddress)).toBe(0x0a010007);
  });

  it("reads options the overload option moved into the file and sname fields", () => {
    const bytes = message([53, 1, 1, 52, 1, 3, 255], (b) => {
      b.set([12, 4, 0x66, 0x69, 0x6c, 0x65, 255], 108);
      b.set([15, 3, 0x6c, 0x61, 0x62, 255], 44);
    });
    const decoded = decodeDhcp(bytes, 0, bytes.length);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(dhcpTextOption(decoded.message, DhcpOption.HostName)).toBe("file");
    expect(dhcpTextOption(decoded.message, DhcpOption.DomainName)).toBe("lab");
    const broken = message([53, 1, 1, 52, 1, 1, 255], (b) => b.set([12, 200], 108));
    expect(decodeDhcp(broken, 0, broken.length)).toMatchObject({ ok: false, reason: expect.stringMatching(/in file field: option 12 claims 200 bytes/) });
  });

  it("refuses what does not fit, without reading past the buffer", () => {
    const good = message([53, 1, 1, 255]);
    expect(decodeDhcp(good, 0, 239)).toMatchObject({ ok: false });
    expect(decodeDhcp(good, 0, good.length + 1)).toMatchObject({ ok: false });
    expect(decodeDhcp(message([53, 1, 1, 61]), 0, 244)).toMatchObject({ ok: false, reason: "option 61 has no length byte" });
    expect(decodeDhcp(message([53, 1, 1, 52, 1, 9]), 0, 246)).toMatchObject({ ok: false, reason: "bad option overload value" });
    // Names with NUL padding or bytes outside printable ASCII stay printable.
    const odd = message([53, 1, 1, 12, 5, 0x61, 0x0a, 0x62, 0, 0x63]);
    const decoded = decodeDhcp(odd, 0, odd.length);
    expect(decoded.ok && dhcpTextOption(decoded.message, DhcpOption.HostName)).toBe("a?b");
  });

  it("encodes a BOOTP message of at least 300 bytes that decodes to the same fields", () => {
    const bytes = encodeDhcp({ xid: 7, flags: 0x8000, ciaddr: 1, yiaddr: 2, siaddr: 3, giaddr: 0, htype: 1, hlen: 6, chaddr: Uint8Array.of(0, 0x0c, 0x29, 9, 9, 9), options: [[53, Uint8Array.of(5)], [1, Uint8Array.of(255, 255, 255, 0)]] });
    expect(bytes.length).toBe(300);
    const decoded = decodeDhcp(bytes, 0, bytes.length);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.message).toMatchObject({ op: BootpOp.Reply, xid: 7, flags: 0x8000, ciaddr: 1, yiaddr: 2, siaddr: 3 });
    expect(Array.from(decoded.message.options.get(1)!)).toEqual([255, 255, 255, 0]);
  });

  it("checks UDP lengths and checksums over the pseudo-header; zero means none", () => {
    const datagram = encodeUdp(0x0a000001, 0xffffffff, 67, 68, Uint8Array.of(1, 2, 3));
    const pseudo = Uint8Array.of(10, 0, 0, 1, 255, 255, 255, 255, 0, 17, 0, datagram.length, ...datagram);
    expect(internetChecksum(pseudo, 0, pseudo.length)).toBe(0);
    expect(decodeUdp(datagram, 0, datagram.length, 0x0a000001, 0xffffffff)).toMatchObject({ ok: true, datagram: { sourcePort: 67, destinationPort: 68, payloadOffset: 8, payloadLength: 3 } });
    expect(decodeUdp(datagram, 0, datagram.length, 0x0a000002, 0xffffffff)).toMatchObject({ ok: false, reason: "UDP checksum mismatch" });
    const unchecked = datagram.slice();
    unchecked[6] = 0;
    unchecked[7] = 0;
    expect(decodeUdp(unchecked, 0, unchecked.length, 0x0a000002, 0xffffffff).ok).toBe(true);
    expect(decodeUdp(datagram, 0, 10, 0x0a000001, 0xffffffff)).toMatchObject({ ok: false, reason: "bad UDP length 11" });
    expect(decodeUdp(datagram, 4, 8, 0x0a000001, 0xffffffff)).toMatchObject({ ok: false });
  });
});
