import { parseMac } from "../net/packets/mac-address.js";
import { parseVmx, type VmxEntry } from "./vmx-file.js";

export type NicVirtualDevice = "e1000";

export interface VmNicConfig {
  /** ethernetN */
  index: number;
  virtualDev: NicVirtualDevice;
  /** Port group the NIC connects to. */
  networkName: string;
  /** 6-byte MAC; generated deterministically from the VM's identity when the file names none. */
  mac: Uint8Array;
  addressType: "static" | "generated";
  startConnected: boolean;
}

export type SerialBackendConfig =
  | { kind: "terminal" }
  | { kind: "file"; path: string }
  | { kind: "pipe"; path: string }
  | { kind: "none" };

export interface VmSerialConfig {
  /** serialN → COM(N+1) */
  index: number;
  backend: SerialBackendConfig;
}

export interface VmBootConfig {
  /** A bzImage (Linux boot protocol) or a multiboot kernel. */
  kernel?: string;
  initrd?: string;
  cmdline: string;
}

/** A virtual machine's configuration, validated, as the kernel uses it. */
export interface VmConfig {
  displayName: string;
  guestOS: string;
  memoryBytes: number;
  numVcpus: number;
  nics: VmNicConfig[];
  serials: VmSerialConfig[];
  boot: VmBootConfig;
  /** Every entry of the file, for keys the kernel does not interpret (kept on save). */
  raw: Map<string, VmxEntry>;
}

export class VmConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid VM configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

const MIN_MEMORY_MB = 4;
const MAX_MEMORY_MB = 3584;
const MAX_VCPUS = 1;
const MAX_NICS = 10;
const MAX_SERIALS = 4;

/**
 * Turns .vmx text into a VmConfig. Keys follow VMware's (memsize, numvcpus, ethernetN.*, serialN.*);
 * how to boot a kernel directly is under the vmk.* namespace (vmk.kernel, vmk.initrd, vmk.cmdline).
 * Every problem is reported at once.
 */
export function parseVmConfig(text: string, options: { baseDir?: string } = {}): VmConfig {
  const raw = parseVmx(text);
  const problems: string[] = [];
  const get = (key: string) => raw.get(key.toLowerCase())?.value;
  const bool = (key: string, fallback: boolean): boolean => {
    const value = get(key);
    if (value === undefined) return fallback;
    if (/^(true|yes|1)$/i.test(value)) return true;
    if (/^(false|no|0)$/i.test(value)) return false;
    problems.push(`${key} = "${value}" is not TRUE or FALSE`);
    return fallback;
  };
  const int = (key: string, fallback: number, min: number, max: number, unit = ""): number => {
    const value = get(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key} = "${value}" must be a whole number from ${min} to ${max}${unit}`);
      return fallback;
    }
    return n;
  };
  const resolvePath = (path: string | undefined) => (path && options.baseDir && !path.startsWith("/") ? `${options.baseDir}/${path}` : path);

  const displayName = get("displayName") ?? "vm";
  const memoryMb = int("memsize", 256, MIN_MEMORY_MB, MAX_MEMORY_MB, " MB");
  const numVcpus = int("numvcpus", 1, 1, MAX_VCPUS, " (this VMM runs one vCPU per VM)");

  const nics: VmNicConfig[] = [];
  for (let index = 0; index < MAX_NICS; index++) {
    const prefix = `ethernet${index}`;
    if (!bool(`${prefix}.present`, false)) continue;
    const virtualDev = (get(`${prefix}.virtualDev`) ?? "e1000").toLowerCase();
    if (virtualDev !== "e1000") problems.push(`${prefix}.virtualDev = "${virtualDev}" is not supported (supported: e1000)`);
    const addressType = (get(`${prefix}.addressType`) ?? "generated").toLowerCase();
    let mac: Uint8Array | undefined;
    if (addressType === "static") {
      const text = get(`${prefix}.address`);
      mac = text === undefined ? undefined : macOrUndefined(text);
      if (!mac) problems.push(`${prefix}.address = "${text ?? ""}" is not a MAC address (aa:bb:cc:dd:ee:ff)`);
      else if (mac[0]! & 1) problems.push(`${prefix}.address ${text} is a multicast address`);
    } else if (addressType === "generated" || addressType === "vpx") {
      const text = get(`${prefix}.generatedAddress`);
      mac = (text && macOrUndefined(text)) || generatedMac(displayName, index);
    } else {
      problems.push(`${prefix}.addressType = "${addressType}" must be static or generated`);
    }
    nics.push({
      index,
      virtualDev: "e1000",
      networkName: get(`${prefix}.networkName`) ?? "VM Network",
      mac: mac ?? generatedMac(displayName, index),
      addressType: addressType === "static" ? "static" : "generated",
      startConnected: bool(`${prefix}.startConnected`, true),
    });
  }

  const serials: VmSerialConfig[] = [];
  for (let index = 0; index < MAX_SERIALS; index++) {
    const prefix = `serial${index}`;
    if (!bool(`${prefix}.present`, false)) continue;
    const fileType = (get(`${prefix}.fileType`) ?? "terminal").toLowerCase();
    const fileName = resolvePath(get(`${prefix}.fileName`));
    let backend: SerialBackendConfig;
    if (fileType === "terminal" || fileType === "stdio") backend = { kind: "terminal" };
    else if ((fileType === "file" || fileType === "pipe") && fileName) backend = { kind: fileType, path: fileName };
    else {
      problems.push(`${prefix}.fileType = "${fileType}" needs ${fileType === "file" || fileType === "pipe" ? `${prefix}.fileName` : "one of terminal, file, pipe"}`);
      backend = { kind: "none" };
    }
    serials.push({ index, backend });
  }

  const boot: VmBootConfig = { kernel: resolvePath(get("vmk.kernel")), initrd: resolvePath(get("vmk.initrd")), cmdline: get("vmk.cmdline") ?? "console=ttyS0" };
  if (boot.initrd && !boot.kernel) problems.push("vmk.initrd is set but vmk.kernel is not");

  if (problems.length > 0) throw new VmConfigError(problems);
  return { displayName, guestOS: get("guestOS") ?? "debian10", memoryBytes: memoryMb * 1024 * 1024, numVcpus, nics, serials, boot, raw };
}

function macOrUndefined(text: string): Uint8Array | undefined {
  try {
    return parseMac(text);
  } catch {
    return undefined;
  }
}

/**
 * A MAC in VMware's generated range 00:0c:29 (as Workstation and unmanaged ESX hosts use), derived
 * from the VM name and NIC index so a VM keeps its address across runs.
 */
export function generatedMac(vmName: string, nicIndex: number): Uint8Array {
  let hash = 2166136261;
  for (const ch of `${vmName}#${nicIndex}`) hash = Math.imul(hash ^ ch.charCodeAt(0), 16777619) >>> 0;
  return Uint8Array.of(0x00, 0x0c, 0x29, (hash >>> 16) & 0xff, (hash >>> 8) & 0xff, hash & 0xff);
}
