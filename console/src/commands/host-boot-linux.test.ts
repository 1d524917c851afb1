/**
 * The README's main job as it runs for a user: `vmk host boot --virtual-time` with Debian's kernel and
 * busybox initramfs from the fetch script's cache. Like the other Linux guest tests it runs whenever
 * the images are cached (VMK_LINUX=0 turns it off); about a minute of one core.
 */
import { describe, expect, it } from "vitest";
import { linuxGuestAvailability } from "@vmk/guests";
import { main } from "../cli.js";

const availability = linuxGuestAvailability();

describe("vmk host boot with the Debian guest", () => {
  if (!availability.enabled) {
    it.skip(`SKIPPED: ${availability.reason}`, () => {});
    return;
  }

  it("boots Debian on VM Network to its prompt, pings vmk0, lists the VM in the inventory and has it power itself off", async () => {
    const lines: string[] = [];
    const code = await main(["host", "boot", "--virtual-time", "--no-fetch"], (text) => lines.push(text));
    const text = lines.join("\n");
    expect(code, text).toBe(0);
    expect(text).toMatch(/^\[ +\d+\.\d{6}\] debian: com1\| \[ +0\.000000\] Linux version \S+-686 /m);
    expect(text).toMatch(/debian: com1\| .*e1000 0000:00:03\.0 eth0: \(PCI:33MHz:32-bit\) 00:50:56:00:01:01/);
    expect(text).toMatch(/debian: com1\| .*e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex/);
    expect(text).toMatch(/^default guest: shell prompt after [\d.]+ s of guest time .*, eth0 192\.0\.2\.1\d\d$/m);
    expect(text).toMatch(/debian: com1\| 3 packets transmitted, 3 packets received, 0% packet loss/);
    expect(text).toMatch(/^default guest: 3 of 3 echo requests to 192\.0\.2\.10 answered$/m);
    expect(text).toMatch(/^1 +debian +poweredOn +debian12 +128 MiB /m);
    expect(text).toMatch(/^\d+ +vSwitch0 +VM Network +debian\.ethernet0 +vm +00:50:56:00:01:01 /m);
    expect(text).toMatch(/^default guest: powered off \(guest-power-off: the guest powered the machine off \(ACPI S5\)\)$/m);
  }, 600_000);
});
