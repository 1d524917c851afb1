import { internetChecksum } from "./internet-checksum.js";

/** RFC 792 ICMP echo request/reply. */
export const ICMP_ECHO_HEADER_LENGTH = 8;

export const IcmpType = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  EchoRequest: 8,
  TimeExceeded: 11,
} as const;

export interface IcmpEcho {
  type: number;
  code: number;
  identifier: number;
  sequence: number;
  payload: Uint8Array;
}

/** Undefined when the message is short, its checksum is wrong, or it is not an echo message. */
export function decodeIcmpEcho(bytes: Uint8Array, offset: number, length: number): IcmpEcho | undefined {
  if (length < ICMP_ECHO_HEADER_LENGTH || bytes.length < offset + length) return undefined;
  if (internetChecksum(bytes, offset, length) !== 0) return undefined;
  const type = bytes[offset]!;
  if (type !== IcmpType.EchoRequest && type !== IcmpType.EchoReply) return undefined;
  return {
    type,
    code: bytes[offset + 1]!,
    identifier: (bytes[offset + 4]! << 8) | bytes[offset + 5]!,
    sequence: (bytes[offset + 6]! << 8) | bytes[offset + 7]!,
    payload: bytes.slice(offset + ICMP_ECHO_HEADER_LENGTH, offset + length),
  };
}

export function encodeIcmpEcho(echo: IcmpEcho): Uint8Array {
  const bytes = new Uint8Array(ICMP_ECHO_HEADER_LENGTH + echo.payload.length);
  bytes[0] = echo.type;
  bytes[1] = echo.code;
  bytes[4] = (echo.identifier >>> 8) & 0xff;
  bytes[5] = echo.identifier & 0xff;
  bytes[6] = (echo.sequence >>> 8) & 0xff;
  bytes[7] = echo.sequence & 0xff;
  bytes.set(echo.payload, ICMP_ECHO_HEADER_LENGTH);
  const checksum = internetChecksum(bytes, 0, bytes.length);
  bytes[2] = checksum >>> 8;
  bytes[3] = checksum & 0xff;
  return bytes;
}
