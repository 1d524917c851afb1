/**
 * Opt-in (VMK_LINUX=1): boots Debian's i386 kernel with the busybox initramfs from
 * scripts/fetch-guest-images.mjs ($VMK_CACHE or ~/.cache/vmk/guest) on virtual time and expects the
 * busybox shell's banner on COM1. VMK_LINUX_LOG=path streams the serial output there as it comes and
 * a progress line per 10 ms of guest time to path.progress; VMK_LINUX_SECONDS bounds the guest time
 * (default 60 s).
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testVm } from "./test-rig.js";

const CACHE = process.env.VMK_CACHE || join(homedir(), ".cache", "vmk", "guest");
const KERNEL = join(CACHE, "vmlinuz");
const INITRD = join(CACHE, "initramfs.cpio.gz");
const enabled = process.env.VMK_LINUX === "1" && existsSync(KERNEL) && existsSync(INITRD);
const GUEST_SECONDS = Number(process.env.VMK_LINUX_SECONDS ?? 60);
const BUSYBOX_BANNER = /BusyBox v\d/;

describe.skipIf(!enabled)("Debian's Linux kernel in a vmk VM", () => {
  it("boots to the busybox shell on ttyS0", () => {
    const vm = testVm({
      vmx: 'memsize = "256"',
      images: {
        kernel: new Uint8Array(readFileSync(KERNEL)),
        initrd: new Uint8Array(readFileSync(INITRD)),
        commandLine: "console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 loglevel=8 panic=-1",
      },
    });
    const logPath = process.env.VMK_LINUX_LOG;
    if (logPath) {
      writeFileSync(logPath, "");
      writeFileSync(`${logPath}.progress`, "");
      vm.com1.onOutput((bytes) => appendFileSync(logPath, bytes));
    }
    vm.runtime.powerOn();
    const started = Date.now();
    const deadline = vm.clock.now() + GUEST_SECONDS * 1e9;
    while (vm.runtime.powerState === "poweredOn" && vm.clock.now() < deadline && !BUSYBOX_BANNER.test(vm.com1.text())) {
      vm.clock.runUntil(Math.min(deadline, vm.clock.now() + 10_000_000));
      vm.com1.flush();
      if (logPath) {
        const cpu = vm.runtime.machine.cpu;
        const stats = vm.runtime.stats();
        appendFileSync(`${logPath}.progress`, `${(vm.clock.now() / 1e9).toFixed(3)} s: ${stats.instructions} instructions, EIP 0x${(cpu.eip >>> 0).toString(16)}, CR0 0x${(cpu.cr0 >>> 0).toString(16)}, halted ${stats.haltedNs}, resets ${stats.resets}, ${((Date.now() - started) / 1000).toFixed(1)} s wall\n`);
      }
    }
    const stats = vm.runtime.stats();
    const cpu = vm.runtime.machine.cpu;
    console.log(
      `guest time ${(stats.guestTimeNs / 1e9).toFixed(3)} s, ${stats.instructions} instructions in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(${(stats.instructions / 1e3 / (Date.now() - started)).toFixed(1)} MIPS), halted ${(stats.haltedNs / 1e9).toFixed(3)} s, resets ${stats.resets}, ` +
        `EIP 0x${(cpu.eip >>> 0).toString(16)}, power ${vm.runtime.powerState}`,
    );
    console.log(vm.log.entries().map((e) => `${e.level} ${e.message}`).join("\n"));
    expect(vm.com1.text()).toMatch(BUSYBOX_BANNER);
  }, 3_600_000);
});
