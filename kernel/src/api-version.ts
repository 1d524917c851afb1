/**
 * The version of the kernel API that modules build against. Plugins declare a semver range for it in
 * their manifest; the loader refuses a module whose range this version does not satisfy.
 * Bump the major for any incompatible change to an exported token's contract.
 */
export const KERNEL_API_VERSION = "1.0.0";

/** The vmkernel release itself (what `vmk host info` prints), independent of the API version. */
export const KERNEL_RELEASE = "0.1.0";
