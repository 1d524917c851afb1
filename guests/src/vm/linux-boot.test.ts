/**
 * Opt-in (VMK_LINUX=1): boots Debian's i386 kernel with the busybox initramfs from
 * scripts/fetch-guest-images.mjs ($VMK_CACHE or ~/.cache/vmk/guest) on virtual time, expects the
 * busybox shell on COM1, types a command into it over the serial line, and pings a station on the
 * vSwitch through the e1000 (Debian's module, loaded by /init, addressed from `vmk.ip=`).
 * VMK_LINUX_LOG=path streams the serial output there as it comes and a progress line per 10 ms of
 * guest time to path.progress; VMK_LINUX_SECONDS bounds the guest time (default 60 s).
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KernelLog, NetworkStack, parseMac, VirtualClock, type VirtualPort } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { testVm } from "./test-rig.js";

const CACHE = process.env.VMK_CACHE || join(homedir(), ".cache", "vmk", "guest");
const KERNEL = join(CACHE, "vmlinuz");
const INITRD = join(CACHE, "initramfs.cpio.gz");
const enabled = process.env.VMK_LINUX === "1" && existsSync(KERNEL) && existsSync(INITRD);
const GUEST_SECONDS = Number(process.env.VMK_LINUX_SECONDS ?? 60);
const BUSYBOX_BANNER = /BusyBox v\d/;
/** ash's prompt (PS1 from /etc/profile), possibly followed by its cursor-position query. */
const SHELL_PROMPT = /vmk-guest:[^\n]*# (?:\x1b\[6n)?$/;
const GUEST_MAC = "00:50:56:00:00:02";
const STATION_MAC = "00:50:56:00:00:01";
const GUEST_IP = [192, 168, 50, 2];
const STATION_IP = [192, 168, 50, 1];

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

describe.skipIf(!enabled)("Debian's Linux kernel in a vmk VM", () => {
  it("boots to the busybox shell on ttyS0, runs a command typed on the serial line and pings over its e1000", () => {
    const clock = new VirtualClock();
    const network = new NetworkStack(clock, new KernelLog(clock), { name: "linux-boot" });
    network.addVirtualSwitch();
    network.addPortGroup("vSwitch0", "VM Network");
    const station = pingableStation(network, clock);
    const vm = testVm({
      clock,
      network,
      vmx: `memsize = "256"\nethernet0.present = "TRUE"\nethernet0.networkName = "VM Network"\nethernet0.addressType = "static"\nethernet0.address = "${GUEST_MAC}"`,
      images: {
        kernel: new Uint8Array(readFileSync(KERNEL)),
        initrd: new Uint8Array(readFileSync(INITRD)),
        commandLine: `console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 loglevel=8 panic=-1 vmk.ip=${GUEST_IP.join(".")}/24`,
      },
    });
    const logPath = process.env.VMK_LINUX_LOG;
    let output = "";
    vm.com1.onOutput((bytes) => (output += Buffer.from(bytes).toString("latin1")));
    if (logPath) {
      writeFileSync(logPath, "");
      writeFileSync(`${logPath}.progress`, "");
      vm.com1.onOutput((bytes) => appendFileSync(logPath, bytes));
    }
    vm.runtime.powerOn();
    const started = Date.now();
    const deadline = clock.now() + GUEST_SECONDS * 1e9;
    /** Runs the guest until `done` holds for the serial output (or the guest time is used up). */
    const runUntil = (done: (text: string) => boolean) => {
      while (vm.runtime.powerState === "poweredOn" && clock.now() < deadline && !done(output)) {
        clock.runUntil(Math.min(deadline, clock.now() + 10_000_000));
        vm.com1.flush();
        if (logPath) {
          const cpu = vm.runtime.machine.cpu;
          const stats = vm.runtime.stats();
          appendFileSync(`${logPath}.progress`, `${(clock.now() / 1e9).toFixed(3)} s: ${stats.instructions} instructions, EIP 0x${(cpu.eip >>> 0).toString(16)}, halted ${stats.haltedNs}, ${((Date.now() - started) / 1000).toFixed(1)} s wall\n`);
        }
      }
    };
    const typed = (command: string, answer: RegExp) => {
      const from = output.length;
      vm.com1.send(`${command}\n`);
      runUntil((text) => answer.test(text.slice(from)) && SHELL_PROMPT.test(text));
      if (!answer.test(output.slice(from))) {
        console.log(`no answer to "${command}" by ${(clock.now() / 1e9).toFixed(3)} s, ${vm.runtime.powerState}:\n${vm.log.entries().map((e) => `${e.level} ${e.message}`).join("\n")}`);
      }
      return output.slice(from);
    };

    runUntil((text) => BUSYBOX_BANNER.test(text) && SHELL_PROMPT.test(text));
    const booted = output;
    const stats = vm.runtime.stats();
    console.log(
      `shell after ${(stats.guestTimeNs / 1e9).toFixed(3)} s of guest time, ${stats.instructions} instructions in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(${(stats.instructions / 1e3 / (Date.now() - started)).toFixed(1)} MIPS), halted ${(stats.haltedNs / 1e9).toFixed(3)} s`,
    );
    console.log(vm.log.entries().map((e) => `${e.level} ${e.message}`).join("\n"));
    expect(booted).toMatch(BUSYBOX_BANNER);
    expect(booted).toMatch(SHELL_PROMPT);
    // The TSC survives the clocksource watchdog: timer ticks lost while the console held interrupts
    // off are caught up, so the PIT agrees with it.
    expect(booted).not.toMatch(/Marking clocksource 'tsc(-early)?' as unstable/);
    expect(booted).toMatch(/init: eth0 is 192\.168\.50\.2\/24/);

    expect(typed("echo hello", /\nhello\r?\n/)).toMatch(/\nhello\r?\n/);
    // The driver's watchdog reports the link a couple of seconds after the interface comes up. The
    // kernel prints that on the console with interrupts off, and characters typed meanwhile overrun
    // the UART's FIFO as they would on a real serial line, so the command waits for the last line.
    runUntil((text) => /eth0: link becomes ready\r?\n/.test(text));
    const quietUntil = clock.now() + 100_000_000;
    runUntil(() => clock.now() >= quietUntil);
    expect(typed(`ping -c 1 -W 5 ${STATION_IP.join(".")}`, /packets received/)).toMatch(/1 packets transmitted, 1 packets received/);
    expect(station.arpRequests).toBeGreaterThanOrEqual(1);
    expect(station.echoRequests).toBe(1);
  }, 3_600_000);
});
