import { createHash } from "node:crypto";
import { CpioNewcWriter } from "./cpio-newc.mjs";

/** Directories every busybox initramfs needs before /init runs. */
const DIRECTORIES = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "root", "etc", "run", "mnt"];

/** Where /init points udhcpc (Debian's busybox default too): busybox ships no script of its own. */
export const UDHCPC_SCRIPT = "/etc/udhcpc/default.script";

/** Which modules /init loads, in order, one path a line relative to /lib/modules/<release>. */
export const MODULE_LOAD_ORDER = "vmk-load-order";

/**
 * /init: mounts the kernel filesystems, loads the modules the image carries, configures eth0 from the
 * command line, prints a banner and keeps a job-control shell on the console.
 * The address comes from `vmk.ip=ADDR/PREFIX` or `ip=ADDR/PREFIX` or the kernel's nfsroot form
 * `ip=ADDR::GATEWAY:NETMASK::DEVICE` (Debian's kernel has no IP autoconfiguration of its own, and the
 * NIC driver is a module, so /init does it); `vmk.gw=` adds a default route. Without an address (or
 * with `ip=dhcp`) busybox udhcpc asks the port group's DHCP server once the link is up, and keeps the
 * lease in the background; `ip=off` (or `vmk.ip=off`) leaves eth0 down.
 * cttyhack opens the real terminal behind /dev/console (ttyS0 with console=ttyS0) as the controlling
 * tty of the new session, which /dev/console itself cannot be; the loop keeps init alive when the
 * shell exits, because the kernel panics when PID 1 does.
 */
export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
hostname vmk-guest
modules=/lib/modules/$(uname -r)
if [ -f "$modules/${MODULE_LOAD_ORDER}" ]; then
  while read -r module; do
    insmod "$modules/$module" || echo "init: insmod $module failed"
  done < "$modules/${MODULE_LOAD_ORDER}"
fi
ip link set lo up
address=; gateway=; device=eth0; dhcp=yes
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    vmk.ip=off|vmk.ip=none|ip=off|ip=none) dhcp= ;;
    vmk.ip=dhcp|ip=dhcp) ;;
    vmk.ip=*) address="\${arg#vmk.ip=}" ;;
    vmk.gw=*) gateway="\${arg#vmk.gw=}" ;;
    ip=*/*) [ -n "$address" ] || address="\${arg#ip=}" ;;
    ip=*:*)
      if [ -z "$address" ]; then
        IFS=: read -r client server gw mask host dev rest <<EOF_IP
\${arg#ip=}
EOF_IP
        [ -n "$client" ] && address="$client/$(ipcalc -p "$client" "\${mask:-255.255.255.0}" | cut -d= -f2)"
        [ -n "$gw" ] && gateway="$gw"
        [ -n "$dev" ] && device="$dev"
      fi ;;
  esac
done
if [ -n "$address" ]; then
  ip link set "$device" up && ip addr add "$address" dev "$device" && echo "init: $device is $address"
  [ -n "$gateway" ] && ip route add default via "$gateway" dev "$device"
elif [ -n "$dhcp" ] && [ -e "/sys/class/net/$device" ]; then
  ip link set "$device" up
  # Discovers sent before the driver reports carrier are lost (about 2 s after it comes up).
  tries=0
  while [ "$(cat "/sys/class/net/$device/carrier" 2>/dev/null)" != 1 ] && [ $tries -lt 100 ]; do
    sleep 0.1; tries=$((tries + 1))
  done
  # udhcpc stays behind in the background to renew (or, without an answer yet, to keep asking).
  udhcpc -i "$device" -s ${UDHCPC_SCRIPT} -b -t 5 -T 1 -A 5 || echo "init: udhcpc on $device failed"
fi
echo
echo "vmk guest: Linux $(uname -r) ($(uname -m)), $(busybox | head -n 1)"
echo
while true; do
  setsid cttyhack sh -l
  echo "shell exited; starting a new one"
done
`;

/**
 * What udhcpc runs at each DHCP event ($1) with the lease in its environment (interface, ip, subnet,
 * broadcast, router, dns, domain, lease, serverid): the address and mask, the first router as the
 * default route and /etc/resolv.conf ($RESOLV_CONF when set, for testing the script outside a
 * guest). A renewal that keeps the address leaves it alone, so open connections survive it.
 */
export const UDHCPC_DEFAULT_SCRIPT = `#!/bin/sh
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    prefix=$(ipcalc -p "$ip" "\${subnet:-255.255.255.0}" | cut -d= -f2)
    if [ "$1" = bound ] || ! ip -4 addr show dev "$interface" | grep -q "inet $ip/$prefix "; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/$prefix" \${broadcast:+broadcast "$broadcast"} dev "$interface"
    fi
    if [ -n "$router" ]; then
      while ip route del default dev "$interface" 2>/dev/null; do :; done
      for gateway in $router; do
        ip route add default via "$gateway" dev "$interface" && break
      done
    fi
    resolv=\${RESOLV_CONF:-/etc/resolv.conf}
    : > "$resolv"
    [ -n "$domain" ] && echo "search $domain" >> "$resolv"
    for server in $dns; do echo "nameserver $server" >> "$resolv"; done
    echo "udhcpc: $interface is $ip/$prefix\${router:+ via \${gateway:-$router}} (lease \${lease:-?} s from \${serverid:-?})"
    ;;
  leasefail)
    echo "udhcpc: no lease for $interface yet"
    ;;
  nak)
    echo "udhcpc: $interface: the server refused the request\${message:+ ($message)}"
    ;;
esac
exit 0
`;

export const PROFILE = `export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PS1='vmk-guest:\\w\\$ '
`;

/**
 * Writes each directory of a path into `cpio` once, parents first (newc needs a directory entry
 * before the files in it).
 * @param {CpioNewcWriter} cpio
 * @returns {(path: string) => void}
 */
function directoryWriter(cpio) {
  const made = new Set();
  return (path) => {
    const parts = path.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      if (!made.has(prefix)) {
        made.add(prefix);
        cpio.directory(prefix);
      }
    }
  };
}

/**
 * The initramfs as an uncompressed newc archive.
 * @param {{ busybox: Uint8Array, applets: string[], extraFiles?: Array<{ path: string, data: Uint8Array, mode?: number }>,
 *   kernelRelease?: string, modules?: Array<{ path: string, image: Uint8Array }> }} input
 *   applets: paths as `busybox --list-full` prints them ("bin/ls", "usr/sbin/chroot");
 *   modules: in load order, paths relative to /lib/modules/<kernelRelease> (kernel/drivers/...)
 */
export function buildInitramfs(input) {
  const cpio = new CpioNewcWriter();
  const ensureDirectory = directoryWriter(cpio);
  for (const directory of DIRECTORIES) ensureDirectory(directory);
  cpio.characterDevice("dev/console", 5, 1, 0o600);
  cpio.characterDevice("dev/null", 1, 3, 0o666);
  cpio.characterDevice("dev/ttyS0", 4, 64, 0o660);
  cpio.file("bin/busybox", input.busybox, 0o755);
  const linked = new Set(["bin/busybox"]);
  for (const applet of input.applets) {
    const path = applet.replace(/^\/+/, "");
    if (linked.has(path) || !/^[\w./[-]+$/.test(path)) continue;
    linked.add(path);
    const slash = path.lastIndexOf("/");
    if (slash > 0) ensureDirectory(path.slice(0, slash));
    cpio.symlink(path, "/bin/busybox");
  }
  for (const extra of input.extraFiles ?? []) {
    const slash = extra.path.lastIndexOf("/");
    if (slash > 0) ensureDirectory(extra.path.slice(0, slash));
    cpio.file(extra.path, extra.data, extra.mode ?? 0o644);
  }
  if (input.modules?.length) {
    if (!input.kernelRelease) throw new Error("modules need the kernel release they were built for");
    const root = `lib/modules/${input.kernelRelease}`;
    for (const module of input.modules) {
      const path = `${root}/${module.path}`;
      ensureDirectory(path.slice(0, path.lastIndexOf("/")));
      cpio.file(path, module.image, 0o644);
    }
    cpio.file(`${root}/${MODULE_LOAD_ORDER}`, input.modules.map((module) => `${module.path}\n`).join(""), 0o644);
  }
  writeScripts(cpio, ensureDirectory);
  return cpio.finish();
}

/** The files this module writes itself (as opposed to busybox and the modules), parents first. */
const SCRIPTS = [
  { path: "etc/profile", data: PROFILE, mode: 0o644 },
  { path: UDHCPC_SCRIPT.slice(1), data: UDHCPC_DEFAULT_SCRIPT, mode: 0o755 },
  { path: "init", data: INIT_SCRIPT, mode: 0o755 },
];

function writeScripts(cpio, ensureDirectory) {
  for (const script of SCRIPTS) {
    const slash = script.path.lastIndexOf("/");
    if (slash > 0) ensureDirectory(script.path.slice(0, slash));
    cpio.file(script.path, script.data, script.mode);
  }
}

/**
 * A digest of /init and the scripts beside it: the fetch script keeps it in its manifest and rebuilds a
 * cached initramfs whose scripts are older than this file's.
 */
export const INITRAMFS_SCRIPTS_DIGEST = SCRIPTS.reduce((hash, script) => hash.update(`${script.path}\0${script.mode}\0${script.data}\0`), createHash("sha256"))
  .digest("hex")
  .slice(0, 16);

/**
 * An archive of just /init and its scripts. Appended to an initramfs built by an older version of this
 * module (the kernel unpacks concatenated archives in order, and a later file replaces an earlier
 * one), it gives that initramfs the current scripts without rebuilding it from the packages.
 */
export function buildScriptsOverlay() {
  const cpio = new CpioNewcWriter();
  const ensureDirectory = directoryWriter(cpio);
  writeScripts(cpio, ensureDirectory);
  return cpio.finish();
}

/**
 * `initramfs` (compressed or not) followed by the scripts overlay, the overlay starting on the 4-byte
 * boundary where the kernel looks for the next archive's header.
 * @param {Uint8Array} initramfs
 */
export function withCurrentScripts(initramfs) {
  const overlay = buildScriptsOverlay();
  const start = Math.ceil(initramfs.length / 4) * 4;
  const combined = new Uint8Array(start + overlay.length);
  combined.set(initramfs, 0);
  combined.set(overlay, start);
  return combined;
}
