import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VirtualClock } from "@vmk/kernel";
import { afterAll, describe, expect, it } from "vitest";
import { EthernetWire } from "./ethernet-wire.js";
import { PCAP_MAGIC_MICROSECONDS, PCAP_MAGIC_NANOSECONDS } from "./pcap-format.js";
import { parsePcap, readPcapFile } from "./pcap-reader.js";
import { PcapWriter } from "./pcap-writer.js";
import { RecordingPort, arpRequestFrame, icmpEchoFrame } from "./testing/recording-port.js";

const dir = mkdtempSync(join(tmpdir(), "vmk-pcap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("pcap", () => {
  it("records both directions of a wire with host-clock timestamps, readable at any moment", () => {
    const clock = new VirtualClock();
    const a = new RecordingPort("a");
    const b = new RecordingPort("b");
    const wire = EthernetWire.between(a, b, { clock });
    const path = join(dir, "wire.pcap");
    const pcap = new PcapWriter(path);
    wire.addTap(pcap);

    expect(readPcapFile(path)).toMatchObject({ nanosecond: true, versionMajor: 2, versionMinor: 4, linkType: 1, snaplen: 262144, records: [], truncated: false });
    clock.advance(1_500_000_123);
    a.send(arpRequestFrame());
    // Valid before close: the record is already in the file.
    expect(readPcapFile(path).records.length).toBe(1);
    clock.advance(2_000);
    b.send(icmpEchoFrame());
    pcap.close();

    const bytes = new Uint8Array(readFileSync(path));
    expect(new DataView(bytes.buffer).getUint32(0, true)).toBe(PCAP_MAGIC_NANOSECONDS);
    const capture = parsePcap(bytes);
    expect(capture.records.map((r) => r.timeNs)).toEqual([1_500_000_123, 1_500_002_123]);
    expect(capture.records[0]!.data).toEqual(arpRequestFrame());
    expect(capture.records[1]!.data).toEqual(icmpEchoFrame());
    expect(capture.records[1]!.originalLength).toBe(icmpEchoFrame().length);
    expect(() => pcap.write(arpRequestFrame(), 0)).toThrow(/closed/);
  });

  it("writes microsecond captures, truncates to the snapshot length and filters a direction", () => {
    const clock = new VirtualClock(3_000_000_999);
    const a = new RecordingPort("a");
    const b = new RecordingPort("b");
    const wire = EthernetWire.between(a, b, { clock });
    const path = join(dir, "usec.pcap");
    const pcap = new PcapWriter(path, { nanosecond: false, snaplen: 20, direction: "b-to-a", epochOffsetSeconds: 1_700_000_000.5 });
    wire.addTap(pcap);
    a.send(arpRequestFrame());
    b.send(icmpEchoFrame());
    pcap.close();
    const capture = readPcapFile(path);
    expect(new DataView(new Uint8Array(readFileSync(path)).buffer).getUint32(0, true)).toBe(PCAP_MAGIC_MICROSECONDS);
    expect(capture.nanosecond).toBe(false);
    expect(capture.records.length).toBe(1);
    expect(capture.records[0]).toMatchObject({ seconds: 1_700_000_003, nanoseconds: 500_000_000 });
    expect(capture.records[0]!.data.length).toBe(20);
    expect(capture.records[0]!.originalLength).toBe(icmpEchoFrame().length);
  });

  it("reads big-endian files and reports a torn last record", () => {
    const header = [0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 1];
    const record = [0, 0, 0, 5, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 2, 0xaa, 0xbb];
    const capture = parsePcap(Uint8Array.from([...header, ...record, 0, 0, 0]));
    expect(capture).toMatchObject({ littleEndian: false, snaplen: 65535, truncated: true });
    expect(capture.records).toEqual([{ seconds: 5, nanoseconds: 7_000, timeNs: 5_000_007_000, originalLength: 2, data: Uint8Array.from([0xaa, 0xbb]) }]);
    expect(() => parsePcap(new Uint8Array(24))).toThrow(/not a pcap file/);
  });
});
