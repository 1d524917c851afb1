import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM script module without type declarations
import { parseCpioNewc, S_IFDIR, S_IFREG } from "./cpio-newc.mjs";
// @ts-expect-error -- plain ESM script module without type declarations
import { buildInitramfs, buildScriptsOverlay, INIT_SCRIPT, INITRAMFS_SCRIPTS_DIGEST, UDHCPC_DEFAULT_SCRIPT, UDHCPC_SCRIPT, withCurrentScripts } from "./initramfs.mjs";

interface Entry {
  name: string;
  mode: number;
  data: Uint8Array;
}
const text = (entry: Entry | undefined) => new TextDecoder().decode(entry?.data);

describe("the initramfs's DHCP client set-up", () => {
  const archive = buildInitramfs({ busybox: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]), applets: ["bin/sh", "sbin/udhcpc"] });
  const entries: Entry[] = parseCpioNewc(archive);
  const byName = new Map(entries.map((e) => [e.name, e]));

  it("carries udhcpc's event script, executable, where /init tells udhcpc to look", () => {
    expect(UDHCPC_SCRIPT).toBe("/etc/udhcpc/default.script");
    const script = byName.get("etc/udhcpc/default.script");
    expect(script?.mode).toBe(S_IFREG | 0o755);
    expect(text(script)).toBe(UDHCPC_DEFAULT_SCRIPT);
    expect(byName.get("etc/udhcpc")?.mode).toBe(S_IFDIR | 0o755);
    expect(INIT_SCRIPT).toContain(`udhcpc -i "$device" -s ${UDHCPC_SCRIPT} -b`);
  });

  it("asks DHCP only without an address on the command line and unless told ip=off", () => {
    // The static branch comes first; DHCP is the fallback, and ip=off clears it.
    const staticAt = INIT_SCRIPT.indexOf('if [ -n "$address" ]; then');
    const dhcpAt = INIT_SCRIPT.indexOf('elif [ -n "$dhcp" ]');
    expect(staticAt).toBeGreaterThan(0);
    expect(dhcpAt).toBeGreaterThan(staticAt);
    expect(INIT_SCRIPT).toMatch(/vmk\.ip=off\|vmk\.ip=none\|ip=off\|ip=none\) dhcp= ;;/);
    // ip=dhcp must not fall into the ip=*:* or vmk.ip=* patterns that would take "dhcp" for an address.
    expect(INIT_SCRIPT.indexOf("vmk.ip=dhcp|ip=dhcp)")).toBeLessThan(INIT_SCRIPT.indexOf("vmk.ip=*)"));
  });

  it("can be appended to an older initramfs: the overlay holds only the scripts and starts 4-byte aligned", () => {
    const overlayEntries: Entry[] = parseCpioNewc(buildScriptsOverlay());
    expect(overlayEntries.map((e) => e.name)).toEqual(["etc", "etc/profile", "etc/udhcpc", "etc/udhcpc/default.script", "init"]);
    expect(text(overlayEntries.find((e) => e.name === "init"))).toBe(INIT_SCRIPT);

    const older = gzipSync(new Uint8Array(1001).fill(7)); // any length: the overlay is padded to the next boundary
    const combined: Uint8Array = withCurrentScripts(older);
    const start = Math.ceil(older.length / 4) * 4;
    expect([...combined.subarray(0, older.length)]).toEqual([...older]);
    expect([...combined.subarray(older.length, start)].every((b) => b === 0)).toBe(true);
    expect(new TextDecoder().decode(combined.subarray(start, start + 6))).toBe("070701");
    expect(parseCpioNewc(combined.subarray(start)).map((e: Entry) => e.name)).toContain("etc/udhcpc/default.script");
    expect(gunzipSync(combined.subarray(0, older.length)).length).toBe(1001);
  });

  it("has a digest of its scripts for the fetch script's manifest", () => {
    expect(INITRAMFS_SCRIPTS_DIGEST).toMatch(/^[0-9a-f]{16}$/);
    const fetchScript = readFileSync(new URL("../fetch-guest-images.mjs", import.meta.url), "utf8");
    expect(fetchScript).toContain("INITRAMFS_SCRIPTS_DIGEST");
  });
});

/**
 * The event script run by the host's POSIX sh (the guest's is busybox ash) with `ip` and `ipcalc`
 * replaced by stand-ins that log their arguments, so nothing on this machine is configured.
 */
describe("udhcpc's event script", () => {
  function runEvent(event: string, env: Record<string, string>, ipAddrShow = "") {
    const dir = mkdtempSync(join(tmpdir(), "vmk-udhcpc-"));
    const log = join(dir, "calls");
    writeFileSync(join(dir, "ip"), `#!/bin/sh\necho "ip $*" >> "${log}"\n[ "$1 $2 $3" = "-4 addr show" ] && printf '%s\\n' "$IP_ADDR_SHOW"\n[ "$1 $2" = "route del" ] && exit 1\nexit 0\n`);
    // ipcalc -p ADDR MASK: PREFIX=<bits set in MASK>
    writeFileSync(join(dir, "ipcalc"), `#!/bin/sh\nbits=0\nfor octet in $(echo "$3" | tr . ' '); do\n  while [ "$octet" -gt 0 ]; do bits=$((bits + (octet & 1))); octet=$((octet >> 1)); done\ndone\necho "PREFIX=$bits"\n`);
    for (const tool of ["ip", "ipcalc"]) chmodSync(join(dir, tool), 0o755);
    writeFileSync(join(dir, "default.script"), UDHCPC_DEFAULT_SCRIPT);
    const result = spawnSync("sh", [join(dir, "default.script"), event], {
      encoding: "utf8",
      env: { PATH: `${dir}:/usr/bin:/bin`, RESOLV_CONF: join(dir, "resolv.conf"), IP_ADDR_SHOW: ipAddrShow, ...env },
    });
    const read = (name: string) => {
      try {
        return readFileSync(join(dir, name), "utf8");
      } catch {
        return "";
      }
    };
    return { status: result.status, stdout: result.stdout, calls: read("calls").trim().split("\n").filter(Boolean), resolv: read("resolv.conf") };
  }
  const lease = { interface: "eth0", ip: "192.168.50.100", subnet: "255.255.255.0", broadcast: "192.168.50.255", router: "192.168.50.1 192.168.50.2", dns: "192.168.50.53 192.168.50.54", domain: "lab.vmk", lease: "3600", serverid: "192.168.50.254" };

  it("on bound: sets the address with its prefix, the first router as default route, and resolv.conf", () => {
    const run = runEvent("bound", lease);
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([
      "ip -4 addr flush dev eth0",
      "ip addr add 192.168.50.100/24 broadcast 192.168.50.255 dev eth0",
      "ip route del default dev eth0",
      "ip route add default via 192.168.50.1 dev eth0",
    ]);
    expect(run.resolv).toBe("search lab.vmk\nnameserver 192.168.50.53\nnameserver 192.168.50.54\n");
    expect(run.stdout).toBe("udhcpc: eth0 is 192.168.50.100/24 via 192.168.50.1 (lease 3600 s from 192.168.50.254)\n");
  });

  it("on renew with the same address: leaves the address alone (open connections keep it)", () => {
    const run = runEvent("renew", lease, "    inet 192.168.50.100/24 brd 192.168.50.255 scope global eth0");
    expect(run.calls.filter((c) => c.startsWith("ip addr") || c.includes("flush"))).toEqual([]);
    expect(run.calls).toContain("ip route add default via 192.168.50.1 dev eth0");
  });

  it("on renew with a new address, or a lease without router: replaces the address, touches no route", () => {
    const run = runEvent("renew", { ...lease, ip: "192.168.50.101", router: "", subnet: "255.255.0.0", broadcast: "" }, "    inet 192.168.50.100/24 scope global eth0");
    expect(run.calls).toEqual(["ip -4 addr show dev eth0", "ip -4 addr flush dev eth0", "ip addr add 192.168.50.101/16 dev eth0"]);
    expect(run.stdout).toBe("udhcpc: eth0 is 192.168.50.101/16 (lease 3600 s from 192.168.50.254)\n");
  });

  it("on deconfig: drops the addresses and keeps the link up for the next discover", () => {
    expect(runEvent("deconfig", { interface: "eth0" }).calls).toEqual(["ip -4 addr flush dev eth0", "ip link set eth0 up"]);
  });

  it("is valid sh", () => {
    const dir = mkdtempSync(join(tmpdir(), "vmk-udhcpc-"));
    writeFileSync(join(dir, "s"), UDHCPC_DEFAULT_SCRIPT);
    writeFileSync(join(dir, "init"), INIT_SCRIPT);
    expect(() => execFileSync("sh", ["-n", join(dir, "s")])).not.toThrow();
    expect(() => execFileSync("sh", ["-n", join(dir, "init")])).not.toThrow();
  });
});
