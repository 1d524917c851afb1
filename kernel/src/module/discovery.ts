import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

/** A package found on disk that carries a `vmk` section. */
export interface DiscoveredPackage {
  readonly dir: string;
  readonly packageJson: unknown;
  /** Where it was found: a node_modules folder or an explicit package path. */
  readonly origin: string;
}

export interface DiscoveryProblem {
  readonly dir: string;
  readonly reason: string;
}

/**
 * Finds plugin packages: every package directly under a node_modules folder (scoped or not) whose
 * package.json has a `vmk` section. In-tree drivers are workspace packages linked into node_modules,
 * so they are found exactly like third-party packages installed with npm. Packages reached twice
 * (a symlink and its target) are reported once.
 */
export function discoverPackages(searchPaths: readonly string[]): { packages: DiscoveredPackage[]; problems: DiscoveryProblem[] } {
  const packages: DiscoveredPackage[] = [];
  const problems: DiscoveryProblem[] = [];
  const seen = new Set<string>();

  const consider = (dir: string, origin: string) => {
    const manifestPath = join(dir, "package.json");
    if (!existsSync(manifestPath)) return;
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(manifestPath, "utf8"));
    } catch (error) {
      problems.push({ dir: real, reason: `package.json is not valid JSON: ${(error as Error).message}` });
      return;
    }
    if (typeof parsed === "object" && parsed !== null && "vmk" in parsed) packages.push({ dir: real, packageJson: parsed, origin });
  };

  for (const path of searchPaths) {
    if (!existsSync(path)) continue;
    if (existsSync(join(path, "package.json")) && !path.endsWith("node_modules")) {
      consider(path, path);
      continue;
    }
    for (const entry of safeList(path)) {
      if (entry.startsWith(".")) continue;
      const full = join(path, entry);
      if (entry.startsWith("@")) {
        for (const scoped of safeList(full)) consider(join(full, scoped), path);
      } else {
        consider(full, path);
      }
    }
  }
  return { packages, problems };
}

function safeList(dir: string): string[] {
  try {
    if (!statSync(dir).isDirectory()) return [];
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * The node_modules folders a host should search by default: every one from `startDir` up to the
 * filesystem root (as Node's own resolution walks), then the working directory's.
 */
export function defaultModuleSearchPaths(startDir: string, cwd = process.cwd()): string[] {
  const paths = new Set<string>();
  let dir = startDir;
  for (;;) {
    const candidate = join(dir, "node_modules");
    if (existsSync(candidate)) paths.add(candidate);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const local = join(cwd, "node_modules");
  if (existsSync(local)) paths.add(local);
  return [...paths];
}
