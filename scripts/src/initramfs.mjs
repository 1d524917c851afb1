import { CpioNewcWriter } from "./cpio-newc.mjs";

/** Directories every busybox initramfs needs before /init runs. */
const DIRECTORIES = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "root", "etc", "run", "mnt"];

/** Which modules /init loads, in order, one path a line relative to /lib/modules/<release>. */
export const MODULE_LOAD_ORDER = "vmk-load-order";

/**
 * /init: mounts the kernel filesystems, loads the modules the image carries, configures eth0 from the
 * command line, prints a banner and keeps a job-control shell on the console.
 * The address comes from `vmk.ip=ADDR/PREFIX` or `ip=ADDR/PREFIX` or the kernel's nfsroot form
 * `ip=ADDR::GATEWAY:NETMASK::DEVICE` (Debian's kernel has no IP autoconfiguration of its own, and the
 * NIC driver is a module, so /init does it); `vmk.gw=` adds a default route.
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
address=; gateway=; device=eth0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
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
fi
echo
echo "vmk guest: Linux $(uname -r) ($(uname -m)), $(busybox | head -n 1)"
echo
while true; do
  setsid cttyhack sh -l
  echo "shell exited; starting a new one"
done
`;

export const PROFILE = `export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PS1='vmk-guest:\\w\\$ '
`;

/**
 * The initramfs as an uncompressed newc archive.
 * @param {{ busybox: Uint8Array, applets: string[], extraFiles?: Array<{ path: string, data: Uint8Array, mode?: number }>,
 *   kernelRelease?: string, modules?: Array<{ path: string, image: Uint8Array }> }} input
 *   applets: paths as `busybox --list-full` prints them ("bin/ls", "usr/sbin/chroot");
 *   modules: in load order, paths relative to /lib/modules/<kernelRelease> (kernel/drivers/...)
 */
export function buildInitramfs(input) {
  const cpio = new CpioNewcWriter();
  const made = new Set();
  const ensureDirectory = (path) => {
    const parts = path.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      if (!made.has(prefix)) {
        made.add(prefix);
        cpio.directory(prefix);
      }
    }
  };
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
  cpio.file("etc/profile", PROFILE, 0o644);
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
  cpio.file("init", INIT_SCRIPT, 0o755);
  return cpio.finish();
}
