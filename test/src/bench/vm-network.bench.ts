/**
 * TCP between two Debian Linux VMs on one host's vSwitch: busybox `dd | nc` pushes 32 MiB from one
 * guest to a `nc -l` in the other, through both guests' kernels and e1000 drivers, the e1000 models
 * and the vSwitch. Figures: MB/s over wall-clock time and over this process's CPU time (what it costs
 * on a loaded machine), and MB/s over guest time (what the guests see: the throughput a guest would
 * measure itself), beside 1 GbE's line rate, the speed the guests' e1000 claims.
 *
 * Needs the guest images of scripts/fetch-guest-images.mjs; without them the suite says so and
 * reports nothing. Booting the two guests comes first and is not part of any figure.
 */
import { KernelLog, NetworkStack, VirtualClock } from "@vmk/kernel";
import { LINUX_GUEST_CACHE } from "@vmk/guests";
import { LinuxGuest, LinuxGuestRunner, linuxGuestImagesPresent } from "../linux-guest.js";
import { cpuSeconds, wallSeconds, type BenchFigure, type BenchSuite } from "./bench-suite.js";

const MIB = 32;
const BYTES = MIB * 1024 * 1024;
const PORT = 5001;
/** 1000 Mb/s in MB/s (10^6 bytes): the link speed the guests' e1000 reports. */
const GIGABIT_MB_PER_S = 125;
const SENDER = { name: "bench-tx", mac: "00:50:56:00:70:0a", ip: "192.168.70.11" };
const RECEIVER = { name: "bench-rx", mac: "00:50:56:00:70:0b", ip: "192.168.70.12" };

function note(line: string): void {
  process.stdout.write(`   ${line}\n`);
}

export interface VmNetworkResult {
  bytes: number;
  wallSeconds: number;
  cpuSeconds: number;
  guestSeconds: number;
  bootWallSeconds: number;
  framesFromSender: number;
}

/** Boots the two guests, then times one transfer of `mib` MiB; checks the receiver counted every byte. */
export async function measureVmToVmTcp(mib = MIB, cache = LINUX_GUEST_CACHE): Promise<VmNetworkResult> {
  const bytes = mib * 1024 * 1024;
  const clock = new VirtualClock();
  const network = new NetworkStack(clock, new KernelLog(clock), { name: "bench-vm-network" });
  network.addVirtualSwitch();
  network.addPortGroup("vSwitch0", "VM Network");
  const guest = (spec: typeof SENDER) => new LinuxGuest({ clock, network, cache, name: spec.name, mac: spec.mac, portGroup: "VM Network", address: `${spec.ip}/24` });
  const sender = guest(SENDER);
  const receiver = guest(RECEIVER);
  const runner = new LinuxGuestRunner(clock, [sender, receiver]);
  try {
    await runner.boot();
    const bootWallSeconds = runner.wallSeconds();
    // The listener's stdin is a pipe that stays open: nc ends its connection when its stdin ends.
    await runner.run(receiver, `sleep 100000 | nc -l -p ${PORT} | wc -c > /tmp/received &`);
    // A warm-up exchange, so that ARP and the first connection's set-up stay out of the timing.
    await runner.run(sender, `ping -c 1 ${RECEIVER.ip}`);

    const framesBefore = sender.runtime.stats().nics[0]!.framesFromGuest;
    const wallStart = wallSeconds();
    const cpuStart = cpuSeconds();
    const guestStart = clock.now();
    const sent = await runner.run(sender, `dd if=/dev/zero bs=1M count=${mib} | nc ${RECEIVER.ip} ${PORT}; echo "nc exit $?"`, 600e9);
    const result = {
      bytes,
      wallSeconds: wallSeconds() - wallStart,
      cpuSeconds: cpuSeconds() - cpuStart,
      guestSeconds: (clock.now() - guestStart) / 1e9,
      bootWallSeconds,
      framesFromSender: sender.runtime.stats().nics[0]!.framesFromGuest - framesBefore,
    };
    if (!sent.includes("nc exit 0")) throw new Error(`the sender's nc failed:\n${sent}`);
    // The receiving nc has seen the end of the stream when the sender's nc returns (it waits for the close).
    let received = "";
    for (let attempt = 0; attempt < 20 && !/^\s*\d+\s*$/m.test(received); attempt++) received = await runner.run(receiver, "sleep 0.1; cat /tmp/received");
    const count = Number(/^\s*(\d+)\s*$/m.exec(received)?.[1]);
    if (count !== bytes) throw new Error(`the receiver counted ${count} bytes of ${bytes}:\n${received}`);
    return result;
  } finally {
    for (const vm of [sender, receiver]) if (vm.runtime.powerState === "poweredOn") vm.runtime.powerOff();
  }
}

/** The suite, looking for the guest images in `cache`. */
export function vmNetworkBench(cache = LINUX_GUEST_CACHE): BenchSuite {
  return {
    name: "vm-to-vm: Linux VM to Linux VM over the vSwitch (busybox nc, TCP)",
    run: () => runVmNetworkBench(cache),
  };
}

export const vmNetworkSuite: BenchSuite = vmNetworkBench();

async function runVmNetworkBench(cache: string): Promise<BenchFigure[]> {
  if (!linuxGuestImagesPresent(cache)) {
    note(`skipped: no Linux guest images in ${cache}; node scripts/fetch-guest-images.mjs --setup-apt fetches them`);
    return [];
  }
  const result = await measureVmToVmTcp(MIB, cache);
  const mb = result.bytes / 1e6;
  note(
    `booting both guests took ${result.bootWallSeconds.toFixed(1)} s wall; ${MIB} MiB in ${result.wallSeconds.toFixed(1)} s wall, ` +
      `${result.cpuSeconds.toFixed(1)} s CPU, ${result.guestSeconds.toFixed(3)} s guest time, ${result.framesFromSender} frames from the sender`,
  );
  const line = { label: "1 GbE line rate", value: GIGABIT_MB_PER_S };
  return [
    { name: `VM→VM TCP ${MIB} MiB (busybox nc), wall time`, value: mb / result.wallSeconds, unit: "MB/s", reference: line },
    { name: `VM→VM TCP ${MIB} MiB (busybox nc), CPU time`, value: mb / result.cpuSeconds, unit: "MB/s CPU", reference: line },
    { name: `VM→VM TCP ${MIB} MiB (busybox nc), guest time`, value: mb / result.guestSeconds, unit: "MB/s guest", reference: line },
  ];
}
