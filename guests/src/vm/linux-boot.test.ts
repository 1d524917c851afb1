/**
 * Debian's i386 kernel with the busybox initramfs from scripts/fetch-guest-images.mjs, booted on
 * virtual time to the shell on ttyS0: the answers to commands typed on the serial line, the whole
 * kernel log, a ping through Debian's e1000 module, and the power-off from inside.
 *
 * Runs whenever the images are in the cache ($VMK_CACHE or ~/.cache/vmk/guest; .ci/run fetches
 * them); VMK_LINUX=0 turns it off. Without images it is skipped, saying why (.ci/run records why the
 * fetch failed). VMK_LINUX_LOG=path streams the console to a file as it comes.
 */
import { gunzipSync } from "node:zlib";
import { KernelLog, NetworkStack, parseMac, VirtualClock, type VirtualPort } from "@vmk/kernel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEATURES_EDX } from "../cpu/cpuid.js";
import { LinuxGuestSession, linuxGuestAvailability, loadLinuxGuestImages } from "./linux-guest-session.js";

const availability = linuxGuestAvailability();
/** Each step's wall-clock limit: generous, because a loaded 2-core CI machine runs the guest slowly. */
const WALL_LIMIT_MS = 300_000;
const GUEST_MAC = "00:50:56:00:00:02";
const STATION_MAC = "00:50:56:00:00:01";
const GUEST_IP = [192, 168, 50, 2];
const STATION_IP = [192, 168, 50, 1];

/** Linux's names for CPUID leaf 1 EDX bits (arch/x86/include/asm/cpufeatures.h, word 0). */
const EDX_FLAG_NAMES: Record<number, string> = {
  0: "fpu", 1: "vme", 2: "de", 3: "pse", 4: "tsc", 5: "msr", 6: "pae", 7: "mce", 8: "cx8", 9: "apic", 11: "sep", 12: "mtrr",
  13: "pge", 14: "mca", 15: "cmov", 16: "pat", 17: "pse36", 18: "pn", 19: "clflush", 21: "dts", 22: "acpi", 23: "mmx",
  24: "fxsr", 25: "sse", 26: "sse2", 27: "ss", 28: "ht", 29: "tm", 30: "ia64", 31: "pbe",
};

/**
 * Lines of the kernel log that would mean our platform or CPU misbehaved: oopses and BUGs, warnings
 * with backtraces, lockups and stalls, interrupts nobody handles, clocks the kernel stops trusting,
 * and anything "unknown" or "spurious".
 */
const TROUBLE = [
  /\bOops\b/, /\bBUG[: ]/, /WARNING:/, /Call Trace/, /Kernel panic/, /\bsegfault\b/, /general protection/,
  /soft lockup/, /hard LOCKUP/, /hung_task|blocked for more than/, /rcu.*(stall|self-detected)/i,
  /nobody cared/, /irq \d+: .*disabl/i, /spurious/i, /unknown/i, /unstable/i, /calibrat\w* (failed|error)/i,
  /timed? ?out/i, /lost \d+ interrupts/i, /Firmware Bug/i, /clocksource.*(skew|watchdog)/i,
  /ACPI.*(Error|Warning|Exception)/, /Could not|can't|cannot/i, /\bfailed\b/i,
];

/**
 * What a Linux kernel says on this machine that matches TROUBLE or reads like a complaint, and why.
 * Each is what it says on such a machine, real or emulated.
 */
const EXPECTED_NOTES: Array<[RegExp, string]> = [
  [/MMIO Stale Data: Unknown: No mitigations/, "the CPU is a Pentium II (family 6 model 3), which Linux's vulnerability tables do not list; a real one says the same"],
  [/smpboot: weird, boot CPU \(#0\) not listed by the BIOS/, "the board has no MP table (and no MADT): a uniprocessor PC with 8259s only"],
  [/fail to add MMCONFIG information/, "the i440FX has no PCI Express extended configuration space, so there is no MCFG table (QEMU's i440fx says the same)"],
];

/** A host on the VM's port group that answers ARP for its address and ICMP echo requests. */
function pingableStation(network: NetworkStack, clock: VirtualClock) {
  const stationMac = parseMac(STATION_MAC);
  let port: VirtualPort | undefined;
  const reply = (frame: Uint8Array) => clock.setTimer(20_000, () => port!.transmit(frame));
  const isStationIp = (bytes: Uint8Array) => STATION_IP.every((b, i) => bytes[i] === b);
  const stats = { arpRequests: 0, echoRequests: 0 };
  port = network.connectPort({
    portGroup: "VM Network",
    clientName: "pingable station",
    mac: stationMac,
    client: {
      receive(frame) {
        const etherType = (frame[12]! << 8) | frame[13]!;
        if (etherType === 0x0806 && frame[21] === 1 && isStationIp(frame.subarray(38, 42))) {
          stats.arpRequests++;
          const answer = new Uint8Array(60);
          answer.set(frame.subarray(6, 12), 0);
          answer.set(stationMac, 6);
          answer.set(frame.subarray(12, 20), 12);
          answer[21] = 2;
          answer.set(stationMac, 22);
          answer.set(STATION_IP, 28);
          answer.set(frame.subarray(22, 32), 32);
          reply(answer);
        } else if (etherType === 0x0800 && frame[23] === 1 && isStationIp(frame.subarray(30, 34))) {
          const ipHeader = (frame[14]! & 0x0f) * 4;
          const icmp = 14 + ipHeader;
          if (frame[icmp] !== 8) return true;
          stats.echoRequests++;
          const answer = frame.slice();
          answer.set(frame.subarray(6, 12), 0);
          answer.set(stationMac, 6);
          answer.set(frame.subarray(30, 34), 26);
          answer.set(frame.subarray(26, 30), 30);
          answer[icmp] = 0;
          // Type 8 → 0 lowers the one's-complement sum by 0x0800: raise the checksum by as much.
          const sum = ((answer[icmp + 2]! << 8) | answer[icmp + 3]!) + 0x0800;
          const folded = (sum & 0xffff) + (sum >>> 16);
          answer[icmp + 2] = folded >> 8;
          answer[icmp + 3] = folded & 0xff;
          reply(answer);
        }
        return true;
      },
    },
  });
  return stats;
}

/** The names at the top of a gzip-compressed newc cpio archive, sorted (what `ls /` shows of an initramfs root). */
function initramfsRoot(initrd: Uint8Array): string[] {
  const archive = gunzipSync(initrd);
  const names = new Set<string>();
  const field = (at: number, index: number) => parseInt(archive.toString("latin1", at + 6 + index * 8, at + 14 + index * 8), 16);
  for (let at = 0; at + 110 <= archive.length; ) {
    expect(archive.toString("latin1", at, at + 6)).toBe("070701");
    const fileSize = field(at, 6);
    const nameSize = field(at, 11);
    const name = archive.toString("latin1", at + 110, at + 110 + nameSize - 1);
    if (name === "TRAILER!!!") break;
    const top = name.replace(/^\.?\//, "").split("/")[0]!;
    if (top && top !== ".") names.add(top);
    at = Math.ceil((Math.ceil((at + 110 + nameSize) / 4) * 4 + fileSize) / 4) * 4;
  }
  return [...names].sort();
}

/** The kernel's log lines ("[    1.234567] text") in the console output, without the timestamps. */
function kernelLines(console: string): string[] {
  // Not anchored at the line start: a message printed while the shell waits follows its prompt.
  return [...console.replace(/\r/g, "").matchAll(/\[\s*\d+\.\d{6}\] (.*)$/gm)].map((match) => match[1]!);
}

if (!availability.enabled) {
  console.warn(`Linux guest tests SKIPPED because: ${availability.reason}`);
  describe("Debian's Linux kernel in a vmk VM", () => {
    it.skip(`SKIPPED: ${availability.reason}`, () => {});
  });
} else {
  describe("Debian's Linux kernel in a vmk VM", () => {
    const clock = new VirtualClock();
    const network = new NetworkStack(clock, new KernelLog(clock), { name: "linux-boot" });
    network.addVirtualSwitch();
    network.addPortGroup("vSwitch0", "VM Network");
    const station = pingableStation(network, clock);
    const manifest = loadLinuxGuestImages().manifest;
    let guest: LinuxGuestSession;

    beforeAll(async () => {
      guest = new LinuxGuestSession({
        clock,
        network,
        name: "debian",
        nics: [{ mac: GUEST_MAC, portGroup: "VM Network" }],
        appendCommandLine: `vmk.ip=${GUEST_IP.join(".")}/24`,
        consoleLogPath: process.env.VMK_LINUX_LOG,
      });
      guest.powerOn();
      await guest.waitForPrompt(30e9);
      const report = guest.bootReport!;
      console.log(
        `shell after ${report.guestSeconds.toFixed(3)} s of guest time, ${(report.instructions / 1e9).toFixed(2)} G instructions in ${report.wallSeconds.toFixed(1)} s ` +
          `(${(report.instructions / 1e6 / report.wallSeconds).toFixed(0)} MIPS), halted ${report.haltedSeconds.toFixed(3)} s`,
      );
    }, 900_000);

    afterAll(() => {
      if (guest?.runtime.powerState === "poweredOn") guest.runtime.powerOff();
    });

    it("boots to the busybox shell on ttyS0 with eth0 addressed by /init", () => {
      expect(guest.bootLog).toMatch(/BusyBox v\d/);
      expect(guest.bootLog).toMatch(/init: eth0 is 192\.168\.50\.2\/24/);
      // Not reached through a panic-and-reboot: the kernel booted once.
      expect(guest.runtime.stats().resets).toBe(0);
    }, WALL_LIMIT_MS);

    it("answers uname -a with the kernel release and version of the fetched package", async () => {
      const answer = await guest.typeCommand("uname -a");
      const [sysname, nodename, release, ...rest] = answer.trim().split(/\s+/);
      expect([sysname, nodename, release]).toEqual(["Linux", "vmk-guest", manifest.kernel.release]);
      expect(rest.join(" ")).toContain(`Debian ${manifest.kernel.version}`);
      expect(rest.at(-2)).toBe("i686");
    }, WALL_LIMIT_MS);

    it("shows our CPU in /proc/cpuinfo: GenuineIntel family 6, and exactly the CPUID feature flags we report", async () => {
      const answer = await guest.typeCommand("cat /proc/cpuinfo");
      const fields = new Map([...answer.matchAll(/^([^:\n]+?)\s*: ?(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
      expect(fields.get("vendor_id")).toBe("GenuineIntel");
      expect(fields.get("cpu family")).toBe("6");
      expect(fields.get("processor")).toBe("0");
      expect(fields.get("fpu")).toBe("yes");
      const flags = new Set(fields.get("flags")!.split(" "));
      for (const [bit, name] of Object.entries(EDX_FLAG_NAMES)) {
        const reported = (FEATURES_EDX & (1 << Number(bit))) !== 0;
        expect({ name, present: flags.has(name) }).toEqual({ name, present: reported });
      }
      // The TSC runs at the nominal 1000 MIPS of virtual time; the kernel measured it against the PIT.
      expect(Number(fields.get("cpu MHz"))).toBeCloseTo(1000, 0);
    }, WALL_LIMIT_MS);

    it("lists the initramfs' root directory", async () => {
      const answer = (await guest.typeCommand("ls /")).replace(/\x1b\[[0-9;]*m/g, "");
      expect(answer.split(/\s+/).filter(Boolean).sort()).toEqual(initramfsRoot(loadLinuxGuestImages().initrd));
    }, WALL_LIMIT_MS);

    it("pings a station on the vSwitch through Debian's e1000 driver", async () => {
      // The driver's watchdog reports the link a couple of seconds after the interface comes up.
      await guest.runUntil(() => /eth0: link becomes ready\r?\n/.test(guest.output), 10e9, "eth0's link");
      const answer = await guest.typeCommand(`ping -c 1 -W 5 ${STATION_IP.join(".")}`);
      expect(answer).toMatch(/1 packets transmitted, 1 packets received/);
      expect(station.arpRequests).toBeGreaterThanOrEqual(1);
      expect(station.echoRequests).toBe(1);
    }, WALL_LIMIT_MS);

    it("keeps the kernel log: dmesg | tail shows the ring buffer's last lines, as printed on the console", async () => {
      // After the ping test, which waited for the link: no message is still on its way to the console.
      const printed = new Set(kernelLines(guest.output));
      const answer = await guest.typeCommand("dmesg | tail");
      const lines = answer.split("\n").filter(Boolean);
      expect(lines).toHaveLength(10);
      for (const line of lines) {
        const match = /^\[\s*\d+\.\d{6}\] (.*)$/.exec(line);
        expect(match, line).not.toBeNull();
        expect(printed.has(match![1]!), line).toBe(true);
      }
    }, WALL_LIMIT_MS);

    it("logs nothing our platform should have caused, and the expected notes only", async () => {
      // Linux refines the TSC against the ACPI PM timer a second after it first calibrated it,
      // which can be after the prompt: give the guest that second.
      await guest.runUntil(() => /tsc: Refined TSC clocksource calibration/.test(guest.output), 3e9, "the TSC refinement");
      const lines = kernelLines(guest.output);
      expect(lines.length).toBeGreaterThan(200);
      const notes = new Map<string, string>();
      const trouble: string[] = [];
      for (const line of lines) {
        const expected = EXPECTED_NOTES.find(([pattern]) => pattern.test(line));
        if (expected) notes.set(line, expected[1]);
        else if (TROUBLE.some((pattern) => pattern.test(line))) trouble.push(line);
      }
      expect(trouble).toEqual([]);
      // The TSC was calibrated quickly against the PIT, refined later and kept: no fallback, no
      // watchdog verdict, and nothing waited out a timeout (the whole boot is about 3 s of guest time).
      expect(lines).toContain("tsc: Fast TSC calibration using PIT");
      const clockLines = lines.filter((line) => /^(tsc|clocksource):/.test(line)).join("\n");
      expect(lines.some((line) => /^tsc: Refined TSC clocksource calibration: (?:999\.99\d|1000\.00\d) MHz$/.test(line)), clockLines).toBe(true);
      expect(guest.bootReport!.guestSeconds).toBeLessThan(6);
      expect(lines.some((line) => /^clocksource: Switched to clocksource tsc$/.test(line))).toBe(true);
      console.log(`kernel log: ${lines.length} lines; expected notes:\n${[...notes].map(([line, why]) => `  ${line}\n    (${why})`).join("\n")}`);
    }, WALL_LIMIT_MS);

    it("powers off from inside with poweroff -f, and the host sees the VM power off", async () => {
      const event = await guest.poweroff();
      expect(event).toMatchObject({ kind: "poweredOff", reason: "guest-power-off" });
      expect(guest.output).toMatch(/reboot: Power down/);
      expect(guest.runtime.powerState).toBe("poweredOff");
    }, WALL_LIMIT_MS);
  });
}
