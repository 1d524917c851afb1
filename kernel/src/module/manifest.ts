import semver from "semver";
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, normalize, relative } from "node:path";
import type { PciDeviceId } from "../pci/pci-driver.js";

export const MODULE_KINDS = ["driver", "service"] as const;
export type ModuleKind = (typeof MODULE_KINDS)[number];

/** The `vmk` section of a plugin's package.json, once validated. */
export interface ModuleManifest {
  /** npm package name. */
  readonly name: string;
  readonly version: string;
  readonly kind: ModuleKind;
  /** semver range of the kernel API the module was built for. */
  readonly kernelApi: string;
  /** Built entry, relative to the package. */
  readonly entry: string;
  /** TypeScript source entry for development runs (tests under vitest), relative to the package. */
  readonly source?: string;
  /** PCI functions the module drives; the loader loads it when one is present. */
  readonly pciClaims: readonly PciDeviceId[];
  readonly description?: string;
}

export type ManifestResult = { ok: true; manifest: ModuleManifest } | { ok: false; problems: string[] };

/**
 * Checks a package.json's `vmk` section. Every problem is reported (not just the first), in words a
 * driver author can act on.
 */
export function validateManifest(packageJson: unknown, packageDir: string): ManifestResult {
  const problems: string[] = [];
  if (!isObject(packageJson)) return { ok: false, problems: ["package.json is not a JSON object"] };
  const name = packageJson.name;
  const version = packageJson.version;
  if (typeof name !== "string" || name.length === 0) problems.push('package.json has no "name"');
  if (typeof version !== "string" || !semver.valid(version)) problems.push(`package.json "version" ${JSON.stringify(version)} is not a semver version`);
  const section = packageJson.vmk;
  if (!isObject(section)) return { ok: false, problems: [...problems, 'the "vmk" section must be an object'] };

  const kind = section.kind;
  if (typeof kind !== "string") problems.push('"vmk.kind" is missing (one of: ' + MODULE_KINDS.join(", ") + ")");
  else if (!(MODULE_KINDS as readonly string[]).includes(kind)) problems.push(`"vmk.kind" "${kind}" is unknown (one of: ${MODULE_KINDS.join(", ")})`);

  const kernelApi = section.kernelApi;
  if (typeof kernelApi !== "string") problems.push('"vmk.kernelApi" is missing: give the kernel API range you build against, e.g. "^1.0.0"');
  else problems.push(...checkApiRange(kernelApi));

  const entry = section.entry;
  if (typeof entry !== "string" || entry.length === 0) problems.push('"vmk.entry" is missing: the module file the loader imports, e.g. "./dist/index.js"');
  else problems.push(...checkPackageFile(packageDir, entry, "vmk.entry"));

  const source = section.source;
  if (source !== undefined) {
    if (typeof source !== "string") problems.push('"vmk.source" must be a path string');
    else problems.push(...checkPackageFile(packageDir, source, "vmk.source"));
  }

  const pciClaims = parseClaims(section.claims, problems);
  if (kind === "driver" && pciClaims.length === 0 && problems.every((p) => !p.startsWith('"vmk.claims'))) {
    problems.push('"vmk.claims.pci" is empty: a driver must claim at least one PCI vendor/device ID or class');
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    manifest: {
      name: name as string,
      version: version as string,
      kind: kind as ModuleKind,
      kernelApi: kernelApi as string,
      entry: entry as string,
      source: source as string | undefined,
      pciClaims,
      description: typeof packageJson.description === "string" ? packageJson.description : undefined,
    },
  };
}

/** A range is acceptable when it is valid semver and confined to one explicit major version. */
export function checkApiRange(range: string): string[] {
  if (semver.validRange(range) === null) return [`"vmk.kernelApi" "${range}" is not a valid semver range`];
  const lowest = semver.minVersion(range);
  if (!lowest) return [`"vmk.kernelApi" "${range}" matches no version`];
  const nextMajor = `>=${lowest.major + 1}.0.0`;
  if (semver.intersects(range, nextMajor)) {
    return [`"vmk.kernelApi" "${range}" must name one major version explicitly (e.g. "^${lowest.major}.0.0"): it also admits ${lowest.major + 1}.x and later`];
  }
  return [];
}

/** Whether the kernel's API satisfies the module's range, with the reason when it does not. */
export function checkApiCompatibility(range: string, kernelApi: string): string | undefined {
  if (semver.satisfies(kernelApi, range)) return undefined;
  const wanted = semver.minVersion(range);
  const have = semver.parse(kernelApi)!;
  if (wanted && wanted.major !== have.major) {
    return `needs kernel API major ${wanted.major} (range "${range}") but this kernel provides ${kernelApi}`;
  }
  return `needs kernel API "${range}" but this kernel provides ${kernelApi}`;
}

function checkPackageFile(packageDir: string, file: string, field: string): string[] {
  if (isAbsolute(file)) return [`"${field}" must be relative to the package, not ${file}`];
  const resolved = normalize(join(packageDir, file));
  if (relative(packageDir, resolved).startsWith("..")) return [`"${field}" ${file} points outside the package`];
  if (!existsSync(resolved) || !statSync(resolved).isFile()) return [`"${field}" ${file} does not exist (was the package built?)`];
  return [];
}

function parseClaims(claims: unknown, problems: string[]): PciDeviceId[] {
  if (claims === undefined) return [];
  if (!isObject(claims)) {
    problems.push('"vmk.claims" must be an object like { "pci": [{ "vendor": "0x8086", "device": "0x100e" }] }');
    return [];
  }
  if (claims.pci === undefined) return [];
  if (!Array.isArray(claims.pci)) {
    problems.push('"vmk.claims.pci" must be an array');
    return [];
  }
  const out: PciDeviceId[] = [];
  claims.pci.forEach((raw: unknown, i: number) => {
    const where = `"vmk.claims.pci[${i}]"`;
    if (!isObject(raw)) {
      problems.push(`${where} must be an object`);
      return;
    }
    const field = (key: string, max: number, required: boolean): number | undefined => {
      const value = raw[key];
      if (value === undefined) {
        if (required) problems.push(`${where}.${key} is missing`);
        return undefined;
      }
      const n = typeof value === "number" ? value : typeof value === "string" && /^(0x)?[0-9a-f]+$/i.test(value) ? parseInt(value, 16) : NaN;
      if (!Number.isInteger(n) || n < 0 || n > max) {
        problems.push(`${where}.${key} ${JSON.stringify(value)} is not a hex ID up to 0x${max.toString(16)}`);
        return undefined;
      }
      return n;
    };
    const hasClass = raw.class !== undefined;
    const id: PciDeviceId = {
      vendor: field("vendor", 0xffff, !hasClass) ?? 0xffffffff,
      device: field("device", 0xffff, !hasClass) ?? 0xffffffff,
      subvendor: field("subvendor", 0xffff, false),
      subdevice: field("subdevice", 0xffff, false),
      class: field("class", 0xffffff, false),
      classMask: field("classMask", 0xffffff, false),
    };
    out.push(id);
  });
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function formatClaim(id: PciDeviceId): string {
  const part = (v: number | undefined) => (v === undefined || v === 0xffffffff ? "*" : v.toString(16).padStart(4, "0"));
  let text = `${part(id.vendor)}:${part(id.device)}`;
  if (id.subvendor !== undefined || id.subdevice !== undefined) text += ` ${part(id.subvendor)}:${part(id.subdevice)}`;
  if (id.class !== undefined) text += ` class ${id.class.toString(16).padStart(6, "0")}`;
  return text;
}

/** Two claims collide when they name exactly the same devices. */
export function sameClaim(a: PciDeviceId, b: PciDeviceId): boolean {
  return a.vendor === b.vendor && a.device === b.device && a.subvendor === b.subvendor && a.subdevice === b.subdevice && a.class === b.class && a.classMask === b.classMask;
}
