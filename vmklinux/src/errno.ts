/**
 * Linux error numbers. Functions return them negated (`return -ENOMEM`), exactly as in Linux, so a
 * ported driver's error paths read the same.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ERANGE = 34;
export const ENOSYS = 38;
export const EOPNOTSUPP = 95;
export const EADDRINUSE = 98;
export const EADDRNOTAVAIL = 99;
export const ENETDOWN = 100;
export const ETIMEDOUT = 110;

const NAMES: Record<number, string> = {
  [EPERM]: "EPERM",
  [ENOENT]: "ENOENT",
  [EINTR]: "EINTR",
  [EIO]: "EIO",
  [ENXIO]: "ENXIO",
  [E2BIG]: "E2BIG",
  [EAGAIN]: "EAGAIN",
  [ENOMEM]: "ENOMEM",
  [EFAULT]: "EFAULT",
  [EBUSY]: "EBUSY",
  [EEXIST]: "EEXIST",
  [ENODEV]: "ENODEV",
  [EINVAL]: "EINVAL",
  [ENOSPC]: "ENOSPC",
  [ERANGE]: "ERANGE",
  [ENOSYS]: "ENOSYS",
  [EOPNOTSUPP]: "EOPNOTSUPP",
  [EADDRINUSE]: "EADDRINUSE",
  [EADDRNOTAVAIL]: "EADDRNOTAVAIL",
  [ENETDOWN]: "ENETDOWN",
  [ETIMEDOUT]: "ETIMEDOUT",
};

/** "-ENOMEM" for -12 (either sign accepted), "error -N" for numbers Linux has no name for here. */
export function errname(err: number): string {
  const name = NAMES[Math.abs(err)];
  return name ? `${err < 0 ? "-" : ""}${name}` : `error ${err}`;
}

/** An error code turned into an exception where the kernel's interface has no return code (module init, uplink open). */
export class LinuxError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(`${message}: ${errname(errno)}`);
    this.name = "LinuxError";
  }
}
