import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VirtualClock } from "@vmk/kernel";
import { afterAll, describe, expect, it } from "vitest";
import { EthernetWire } from "./ethernet-wire.js";
import { PcapWriter } from "./pcap-writer.js";
import { RecordingPort, arpRequestFrame, icmpEchoFrame } from "./testing/recording-port.js";

const tsharkPresent = spawnSync("tshark", ["--version"], { encoding: "utf8" }).status === 0;
// CI installs tshark (.ci/apt-packages); there a missing tshark is a failure, never a skip.
const mustRun = process.env.CI === "true" || tsharkPresent;
const dir = mkdtempSync(join(tmpdir(), "vmk-tshark-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(mustRun)("pcap files as tshark reads them", () => {
  for (const nanosecond of [true, false]) {
    it(`dissects ARP and ICMP from a ${nanosecond ? "nanosecond" : "microsecond"} capture`, () => {
      expect(tsharkPresent, "tshark is not installed (apt-get install tshark)").toBe(true);
      const clock = new VirtualClock(1_000_000_000);
      const a = new RecordingPort("a");
      const b = new RecordingPort("b");
      const wire = EthernetWire.between(a, b, { clock });
      const path = join(dir, `capture-${nanosecond ? "ns" : "us"}.pcap`);
      const pcap = new PcapWriter(path, { nanosecond });
      wire.addTap(pcap);
      a.send(arpRequestFrame());
      clock.advance(250_000);
      b.send(icmpEchoFrame());
      pcap.close();

      const run = (...fields: string[]) => {
        const result = spawnSync("tshark", ["-r", path, "-T", "fields", ...fields.flatMap((f) => ["-e", f])], { encoding: "utf8", env: { ...process.env, HOME: dir } });
        expect(result.status, result.stderr).toBe(0);
        return result.stdout.trim().split("\n");
      };
      expect(run("frame.protocols")).toEqual(["eth:ethertype:arp", "eth:ethertype:ip:icmp:data"]);
      expect(run("frame.time_epoch")).toEqual(["1.000000000", "1.000250000"]);
      expect(run("arp.dst.proto_ipv4", "icmp.type", "ip.checksum.status", "icmp.checksum.status")[1]).toBe("\t8\t2\t1");
    });
  }
});
