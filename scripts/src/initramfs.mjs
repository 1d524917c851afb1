import { CpioNewcWriter } from "./cpio-newc.mjs";

/** Directories every busybox initramfs needs before /init runs. */
const DIRECTORIES = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "root", "etc", "run", "mnt"];

/**
 * /init: mounts the kernel filesystems, prints a banner and keeps a job-control shell on the console.
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
 * @param {{ busybox: Uint8Array, applets: string[], extraFiles?: Array<{ path: string, data: Uint8Array, mode?: number }> }} input
 *   applets: paths as `busybox --list-full` prints them ("bin/ls", "usr/sbin/chroot")
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
  cpio.file("init", INIT_SCRIPT, 0o755);
  return cpio.finish();
}
