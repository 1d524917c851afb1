import { readFileSync } from "node:fs";
import { PCAP_GLOBAL_HEADER_LENGTH, PCAP_MAGIC_MICROSECONDS, PCAP_MAGIC_NANOSECONDS, PCAP_RECORD_HEADER_LENGTH } from "./pcap-format.js";

export interface PcapRecord {
  seconds: number;
  /** The fraction of the second (microsecond files are multiplied up). */
  nanoseconds: number;
  /** Both as nanoseconds; exact only below 2^53 ns (about 104 days), so not for wall-clock captures. */
  timeNs: number;
  /** Length of the frame on the wire; `data` may be shorter when the snapshot length cut it. */
  originalLength: number;
  data: Uint8Array;
}

export interface PcapCapture {
  nanosecond: boolean;
  littleEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: number;
  records: PcapRecord[];
  /** A partial record at the end (a writer caught mid-write); it is not in `records`. */
  truncated: boolean;
}

/** Parses a classic pcap capture of either byte order and either timestamp resolution. */
export function parsePcap(bytes: Uint8Array): PcapCapture {
  if (bytes.length < PCAP_GLOBAL_HEADER_LENGTH) throw new Error(`not a pcap file: ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let littleEndian = true;
  let magic = view.getUint32(0, true);
  if (magic !== PCAP_MAGIC_MICROSECONDS && magic !== PCAP_MAGIC_NANOSECONDS) {
    littleEndian = false;
    magic = view.getUint32(0, false);
    if (magic !== PCAP_MAGIC_MICROSECONDS && magic !== PCAP_MAGIC_NANOSECONDS) throw new Error(`not a pcap file: magic 0x${view.getUint32(0, false).toString(16)}`);
  }
  const nanosecond = magic === PCAP_MAGIC_NANOSECONDS;
  const records: PcapRecord[] = [];
  let offset = PCAP_GLOBAL_HEADER_LENGTH;
  let truncated = false;
  while (offset < bytes.length) {
    if (offset + PCAP_RECORD_HEADER_LENGTH > bytes.length) {
      truncated = true;
      break;
    }
    const seconds = view.getUint32(offset, littleEndian);
    const fraction = view.getUint32(offset + 4, littleEndian);
    const capturedLength = view.getUint32(offset + 8, littleEndian);
    const originalLength = view.getUint32(offset + 12, littleEndian);
    const start = offset + PCAP_RECORD_HEADER_LENGTH;
    if (start + capturedLength > bytes.length) {
      truncated = true;
      break;
    }
    const nanoseconds = nanosecond ? fraction : fraction * 1000;
    records.push({ seconds, nanoseconds, timeNs: seconds * 1e9 + nanoseconds, originalLength, data: bytes.slice(start, start + capturedLength) });
    offset = start + capturedLength;
  }
  return {
    nanosecond,
    littleEndian,
    versionMajor: view.getUint16(4, littleEndian),
    versionMinor: view.getUint16(6, littleEndian),
    snaplen: view.getUint32(16, littleEndian),
    linkType: view.getUint32(20, littleEndian),
    records,
    truncated,
  };
}

export function readPcapFile(path: string): PcapCapture {
  return parsePcap(new Uint8Array(readFileSync(path)));
}
