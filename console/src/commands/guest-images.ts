import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";
import { guestImageCache } from "./run.js";

/** Where the default guest's images came from, or why there are none. */
export type GuestImageChoice =
  | { kind: "images"; kernel: string; initrd?: string; fetched: boolean }
  | { kind: "skipped"; reason: string };

export const FETCH_HINT = "fetch with node scripts/fetch-guest-images.mjs --setup-apt or pass --kernel/--initrd";

/**
 * The default guest's kernel and initramfs: the ones given, else the fetch script's cache. A cache
 * that is empty is filled by running the fetch script when this machine can (apt, and root or sudo
 * without a password, since it may have to enable i386 packages); `say` announces that in one line
 * because it downloads packages and takes a while.
 */
export function chooseGuestImages(options: { kernel?: string; initrd?: string; fetch: boolean; say: (line: string) => void }): GuestImageChoice {
  if (options.kernel) {
    for (const file of [options.kernel, options.initrd]) if (file && !existsSync(file)) return { kind: "skipped", reason: `${file} does not exist` };
    return { kind: "images", kernel: options.kernel, ...(options.initrd ? { initrd: options.initrd } : {}), fetched: false };
  }
  if (options.initrd) return { kind: "skipped", reason: "--initrd needs --kernel" };
  const cache = guestImageCache();
  const kernel = join(cache, "vmlinuz");
  const initrd = join(cache, "initramfs.cpio.gz");
  const cached = () => existsSync(kernel) && existsSync(initrd);
  if (cached()) return { kind: "images", kernel, initrd, fetched: false };
  const missing = `no Debian guest images in ${cache}`;
  if (!options.fetch) return { kind: "skipped", reason: `${missing} (--no-fetch)` };
  const script = findFetchScript();
  if (!script) return { kind: "skipped", reason: `${missing}, and the fetch script is not beside this vmk` };
  const privilege = fetchPrivilege();
  if (privilege === undefined) return { kind: "skipped", reason: `${missing}; fetching needs apt-get and root or sudo` };
  const args = [script, ...(privilege === "root" ? ["--setup-apt"] : []), "--cache", cache];
  options.say(`default guest: ${missing}; fetching Debian's linux-image-686 and busybox-static (i386) with node ${args.join(" ")}`);
  const started = Date.now();
  const result = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: FETCH_TIMEOUT_MS });
  if (result.status === 0 && cached()) {
    options.say(`default guest: images fetched into ${cache} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { kind: "images", kernel, initrd, fetched: true };
  }
  const why = result.error?.message ?? firstMeaningfulLine(`${result.stderr ?? ""}\n${result.stdout ?? ""}`) ?? `exit status ${result.status}`;
  return { kind: "skipped", reason: `fetching the Debian images failed: ${why}` };
}

/** apt downloads of ~30 MB and an apt-get update; beyond this something is stuck. */
const FETCH_TIMEOUT_MS = 20 * 60 * 1000;

/** The fetch script of the checkout this vmk runs from (an installed vmk has none). */
function findFetchScript(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 6; level++) {
    const candidate = join(dir, "scripts", "fetch-guest-images.mjs");
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function fetchPrivilege(): "root" | "sudo" | undefined {
  const has = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
  if (!has("apt-get")) return undefined;
  if (process.getuid?.() === 0) return "root";
  // -n: never stop at a password prompt in the middle of a boot.
  return has("sudo") && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0 ? "sudo" : undefined;
}

function firstMeaningfulLine(text: string): string | undefined {
  // The script's "[n/m] step" progress lines say where it was, not what went wrong.
  return text
    .split("\n")
    .map((line) => line.trim())
    .find((line) => line !== "" && !/^\[\d+\/\d+\]/.test(line));
}

/**
 * Whether the initramfs' /init configures eth0 by DHCP when the command line names no address. Older
 * caches hold an /init that only knows `vmk.ip=`; a guest booted from one needs a static address. The
 * archive may be several concatenated newc archives (a later /init replaces an earlier one, as the
 * kernel unpacks them in order), gzip-compressed or not.
 */
export function initramfsUsesDhcp(path: string): boolean {
  let init: Uint8Array | undefined;
  try {
    const data = new Uint8Array(readFileSync(path));
    let offset = 0;
    while (offset < data.length) {
      if (data[offset] === 0x1f && data[offset + 1] === 0x8b) {
        const member = gunzipMember(data, offset);
        init = scanNewc(member.data, 0, "init").found ?? init;
        offset = member.end;
        continue;
      }
      const scan = scanNewc(data, offset, "init");
      init = scan.found ?? init;
      if (scan.end === offset) break;
      offset = scan.end;
    }
  } catch {
    return false;
  }
  return init !== undefined && /\budhcpc\b/.test(Buffer.from(init).toString("latin1"));
}

/**
 * One gzip member (RFC 1952) at `start`, and where it ends. gunzip itself cannot say: after a member
 * it takes any following non-zero byte for the next member's header and fails on an archive there.
 */
function gunzipMember(data: Uint8Array, start: number): { data: Uint8Array; end: number } {
  const flags = data[start + 3]!;
  let at = start + 10;
  if (flags & 0x04) at += 2 + (data[at]! | (data[at + 1]! << 8));
  if (flags & 0x08) at = data.indexOf(0, at) + 1;
  if (flags & 0x10) at = data.indexOf(0, at) + 1;
  if (flags & 0x02) at += 2;
  const { buffer, engine } = inflateRawSync(data.subarray(at), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
  // The deflate stream, then CRC-32 and ISIZE.
  return { data: new Uint8Array(buffer), end: at + engine.bytesWritten + 8 };
}

const NEWC_MAGIC = "070701";
const NEWC_HEADER_BYTES = 110;

/** The contents of the last entry named `name` in a run of newc archives (padding between them skipped). */
export function lastCpioFile(data: Uint8Array, name: string): Uint8Array | undefined {
  return scanNewc(data, 0, name).found;
}

/**
 * Reads consecutive newc archives from `start` (and the zero padding between them) up to anything
 * else; returns the last entry named `name` and where the reading stopped.
 */
function scanNewc(data: Uint8Array, start: number, name: string): { found?: Uint8Array; end: number } {
  const text = (at: number, length: number) => Buffer.from(data.subarray(at, at + length)).toString("latin1");
  const align = (at: number) => (at + 3) & ~3;
  let found: Uint8Array | undefined;
  let offset = start;
  let end = start;
  while (offset + NEWC_HEADER_BYTES <= data.length) {
    if (data[offset] === 0) {
      offset++;
      continue;
    }
    if (text(offset, 6) !== NEWC_MAGIC) break;
    const field = (index: number) => parseInt(text(offset + 6 + index * 8, 8), 16);
    const fileSize = field(6);
    const nameSize = field(11);
    if (!Number.isFinite(fileSize) || !Number.isFinite(nameSize) || nameSize < 1) break;
    const entryName = text(offset + NEWC_HEADER_BYTES, nameSize - 1);
    const dataStart = align(offset + NEWC_HEADER_BYTES + nameSize);
    if (entryName === name || entryName === `./${name}`) found = data.subarray(dataStart, dataStart + fileSize);
    offset = end = align(dataStart + fileSize);
  }
  // Padding after the archive: neither a gzip member nor a newc header starts with a zero byte.
  while (end < data.length && data[end] === 0) end++;
  return { ...(found ? { found } : {}), end };
}
