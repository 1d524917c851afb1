/**
 * The classic libpcap file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html): a 24-byte
 * global header, then per packet a 16-byte record header and the captured bytes. Written in little
 * endian; readers detect the byte order from the magic.
 */
export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_GLOBAL_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
export const LINKTYPE_ETHERNET = 1;
/** tcpdump's default snapshot length. */
export const PCAP_DEFAULT_SNAPLEN = 262144;

export function encodeGlobalHeader(nanosecond: boolean, snaplen: number, linkType = LINKTYPE_ETHERNET): Uint8Array {
  const bytes = new Uint8Array(PCAP_GLOBAL_HEADER_LENGTH);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, nanosecond ? PCAP_MAGIC_NANOSECONDS : PCAP_MAGIC_MICROSECONDS, true);
  view.setUint16(4, PCAP_VERSION_MAJOR, true);
  view.setUint16(6, PCAP_VERSION_MINOR, true);
  view.setInt32(8, 0, true); // thiszone: timestamps are UTC
  view.setUint32(12, 0, true); // sigfigs
  view.setUint32(16, snaplen, true);
  view.setUint32(20, linkType, true);
  return bytes;
}

/** One record (header and captured bytes) in a single buffer, so it reaches the file in one write. */
export function encodeRecord(seconds: number, nanoseconds: number, frame: Uint8Array, nanosecond: boolean, snaplen: number): Uint8Array {
  const captured = Math.min(frame.length, snaplen);
  const bytes = new Uint8Array(PCAP_RECORD_HEADER_LENGTH + captured);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, seconds >>> 0, true);
  view.setUint32(4, nanosecond ? nanoseconds : Math.floor(nanoseconds / 1000), true);
  view.setUint32(8, captured, true);
  view.setUint32(12, frame.length, true);
  bytes.set(frame.subarray(0, captured), PCAP_RECORD_HEADER_LENGTH);
  return bytes;
}
