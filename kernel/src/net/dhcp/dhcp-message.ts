import { readIpv4, writeIpv4 } from "../packets/ipv4-address.js";

/**
 * DHCP messages (RFC 2131) in BOOTP framing (RFC 951), with the options of RFC 2132. Decoding treats
 * every byte as hostile: lengths are checked before each read and a bad message yields a reason,
 * never an exception.
 */

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
/** op, htype, hlen, hops, xid, secs, flags, four addresses, chaddr, sname, file. */
export const BOOTP_FIXED_LENGTH = 236;
const MAGIC_COOKIE = 0x63825363;
const OPTIONS_OFFSET = BOOTP_FIXED_LENGTH + 4;
/** RFC 1542 2.1: relays and old clients expect BOOTP messages of at least 300 bytes. */
export const BOOTP_MIN_LENGTH = 300;
const SNAME_OFFSET = 44;
const SNAME_LENGTH = 64;
const FILE_OFFSET = 108;
const FILE_LENGTH = 128;
const BROADCAST_FLAG = 0x8000;

export const BootpOp = { Request: 1, Reply: 2 } as const;

export const DhcpMessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;

export const DHCP_MESSAGE_TYPE_NAMES: Record<number, string> = {
  1: "DHCPDISCOVER",
  2: "DHCPOFFER",
  3: "DHCPREQUEST",
  4: "DHCPDECLINE",
  5: "DHCPACK",
  6: "DHCPNAK",
  7: "DHCPRELEASE",
  8: "DHCPINFORM",
};

export const DhcpOption = {
  Pad: 0,
  SubnetMask: 1,
  Router: 3,
  DomainNameServer: 6,
  HostName: 12,
  DomainName: 15,
  BroadcastAddress: 28,
  RequestedIpAddress: 50,
  LeaseTime: 51,
  Overload: 52,
  MessageType: 53,
  ServerIdentifier: 54,
  ParameterRequestList: 55,
  Message: 56,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  ClientIdentifier: 61,
  End: 255,
} as const;

export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  /** The 16-byte client hardware address field as sent (the MAC is its first `hlen` bytes). */
  chaddr: Uint8Array;
  /** Options by code; a code sent more than once is concatenated, as RFC 3396 says. */
  options: Map<number, Uint8Array>;
}

export type DhcpDecodeResult = { ok: true; message: DhcpMessage } | { ok: false; reason: string };

export function decodeDhcp(bytes: Uint8Array, offset: number, length: number): DhcpDecodeResult {
  if (length < OPTIONS_OFFSET || offset + length > bytes.length) return { ok: false, reason: `message of ${length} bytes is shorter than BOOTP's fixed part` };
  if (readIpv4(bytes, offset + BOOTP_FIXED_LENGTH) !== MAGIC_COOKIE) return { ok: false, reason: "no DHCP magic cookie" };
  const options = new Map<number, Uint8Array>();
  const main = parseOptions(bytes, offset + OPTIONS_OFFSET, offset + length, options);
  if (main !== undefined) return { ok: false, reason: main };
  // Option 52 moves further options into the file and/or sname fields (file is parsed first).
  const overload = options.get(DhcpOption.Overload);
  if (overload !== undefined) {
    if (overload.length !== 1 || overload[0]! < 1 || overload[0]! > 3) return { ok: false, reason: "bad option overload value" };
    if (overload[0]! & 1) {
      const problem = parseOptions(bytes, offset + FILE_OFFSET, offset + FILE_OFFSET + FILE_LENGTH, options);
      if (problem !== undefined) return { ok: false, reason: `in file field: ${problem}` };
    }
    if (overload[0]! & 2) {
      const problem = parseOptions(bytes, offset + SNAME_OFFSET, offset + SNAME_OFFSET + SNAME_LENGTH, options);
      if (problem !== undefined) return { ok: false, reason: `in sname field: ${problem}` };
    }
  }
  return {
    ok: true,
    message: {
      op: bytes[offset]!,
      htype: bytes[offset + 1]!,
      hlen: bytes[offset + 2]!,
      hops: bytes[offset + 3]!,
      xid: readIpv4(bytes, offset + 4),
      secs: (bytes[offset + 8]! << 8) | bytes[offset + 9]!,
      flags: (bytes[offset + 10]! << 8) | bytes[offset + 11]!,
      ciaddr: readIpv4(bytes, offset + 12),
      yiaddr: readIpv4(bytes, offset + 16),
      siaddr: readIpv4(bytes, offset + 20),
      giaddr: readIpv4(bytes, offset + 24),
      chaddr: bytes.slice(offset + 28, offset + 44),
      options,
    },
  };
}

/** Reads TLV options up to the End option; undefined when well formed, else what is wrong. */
function parseOptions(bytes: Uint8Array, start: number, end: number, into: Map<number, Uint8Array>): string | undefined {
  let i = start;
  while (i < end) {
    const code = bytes[i]!;
    if (code === DhcpOption.End) return undefined;
    if (code === DhcpOption.Pad) {
      i++;
      continue;
    }
    if (i + 1 >= end) return `option ${code} has no length byte`;
    const length = bytes[i + 1]!;
    if (i + 2 + length > end) return `option ${code} claims ${length} bytes, ${end - i - 2} remain`;
    const value = bytes.subarray(i + 2, i + 2 + length);
    const earlier = into.get(code);
    if (earlier === undefined) into.set(code, value.slice());
    else {
      const joined = new Uint8Array(earlier.length + length);
      joined.set(earlier);
      joined.set(value, earlier.length);
      into.set(code, joined);
    }
    i += 2 + length;
  }
  // RFC 2131 requires an End option; a message that simply stops is accepted as long as no option is cut.
  return undefined;
}

export function dhcpMessageType(message: DhcpMessage): number | undefined {
  const value = message.options.get(DhcpOption.MessageType);
  return value?.length === 1 ? value[0] : undefined;
}

export function dhcpBroadcastRequested(message: DhcpMessage): boolean {
  return (message.flags & BROADCAST_FLAG) !== 0;
}

/** A 4-byte option as an address; undefined when absent or of another length. */
export function dhcpAddressOption(message: DhcpMessage, code: number): number | undefined {
  const value = message.options.get(code);
  return value?.length === 4 ? readIpv4(value, 0) : undefined;
}

export function dhcpTextOption(message: DhcpMessage, code: number): string | undefined {
  const value = message.options.get(code);
  if (value === undefined || value.length === 0) return undefined;
  // NUL-terminated names exist in the wild (RFC 2132 says they should not be).
  let end = value.indexOf(0);
  if (end < 0) end = value.length;
  let text = "";
  for (let i = 0; i < end; i++) {
    const c = value[i]!;
    text += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : "?";
  }
  return text;
}

export interface DhcpEncodeFields {
  /** BOOTREPLY unless given. */
  op?: number;
  xid: number;
  secs?: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  chaddr: Uint8Array;
  htype: number;
  hlen: number;
  /** In the order they are written; the End option and padding are added. */
  options: Array<[code: number, value: Uint8Array]>;
}

/** A BOOTP message with the magic cookie and the options, padded to BOOTP's 300-byte minimum. */
export function encodeDhcp(fields: DhcpEncodeFields): Uint8Array {
  let optionsLength = 1;
  for (const [, value] of fields.options) {
    if (value.length > 255) throw new RangeError(`option value of ${value.length} bytes does not fit one option`);
    optionsLength += 2 + value.length;
  }
  const bytes = new Uint8Array(Math.max(BOOTP_MIN_LENGTH, OPTIONS_OFFSET + optionsLength));
  bytes[0] = fields.op ?? BootpOp.Reply;
  bytes[1] = fields.htype;
  bytes[2] = fields.hlen;
  writeIpv4(bytes, 4, fields.xid);
  bytes[8] = ((fields.secs ?? 0) >>> 8) & 0xff;
  bytes[9] = (fields.secs ?? 0) & 0xff;
  bytes[10] = fields.flags >>> 8;
  bytes[11] = fields.flags & 0xff;
  writeIpv4(bytes, 12, fields.ciaddr);
  writeIpv4(bytes, 16, fields.yiaddr);
  writeIpv4(bytes, 20, fields.siaddr);
  writeIpv4(bytes, 24, fields.giaddr);
  bytes.set(fields.chaddr.subarray(0, 16), 28);
  writeIpv4(bytes, BOOTP_FIXED_LENGTH, MAGIC_COOKIE);
  let i = OPTIONS_OFFSET;
  for (const [code, value] of fields.options) {
    bytes[i] = code;
    bytes[i + 1] = value.length;
    bytes.set(value, i + 2);
    i += 2 + value.length;
  }
  bytes[i] = DhcpOption.End;
  return bytes;
}

export function dhcpAddressValue(...addresses: number[]): Uint8Array {
  const bytes = new Uint8Array(4 * addresses.length);
  addresses.forEach((address, i) => writeIpv4(bytes, 4 * i, address));
  return bytes;
}

export function dhcpU32Value(value: number): Uint8Array {
  return dhcpAddressValue(value >>> 0);
}

export function dhcpTextValue(text: string): Uint8Array {
  return Uint8Array.from(text.slice(0, 255), (c) => c.charCodeAt(0) & 0x7f);
}

export { MAGIC_COOKIE as DHCP_MAGIC_COOKIE, OPTIONS_OFFSET as DHCP_OPTIONS_OFFSET, BROADCAST_FLAG as DHCP_BROADCAST_FLAG };
