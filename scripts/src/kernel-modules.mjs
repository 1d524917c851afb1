import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";

const MODULE_SUFFIXES = [".ko", ".ko.xz", ".ko.zst", ".ko.gz"];

/** Module names are compared as the kernel does: dashes and underscores are the same. */
export function canonicalModuleName(name) {
  return name.replace(/-/g, "_");
}

function moduleNameOf(fileName) {
  const suffix = MODULE_SUFFIXES.find((s) => fileName.endsWith(s));
  return suffix ? canonicalModuleName(fileName.slice(0, -suffix.length)) : undefined;
}

/**
 * The .modinfo section of a kernel module (ELF, 32- or 64-bit little-endian) as key → values: the
 * `key=value` strings modpost writes, NUL-separated.
 * @param {Uint8Array} image
 * @returns {Map<string, string[]>}
 */
export function readModinfo(image) {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (view.getUint32(0) !== 0x7f454c46) throw new Error("not an ELF file");
  const is64 = image[4] === 2;
  if (image[5] !== 1) throw new Error("not a little-endian ELF file");
  const word = (offset) => (is64 ? Number(view.getBigUint64(offset, true)) : view.getUint32(offset, true));
  const sectionTable = word(is64 ? 0x28 : 0x20);
  const entrySize = view.getUint16(is64 ? 0x3a : 0x2e, true);
  const count = view.getUint16(is64 ? 0x3c : 0x30, true);
  const namesIndex = view.getUint16(is64 ? 0x3e : 0x32, true);
  const section = (index) => {
    const base = sectionTable + index * entrySize;
    return { name: view.getUint32(base, true), offset: word(base + (is64 ? 0x18 : 0x10)), size: word(base + (is64 ? 0x20 : 0x14)) };
  };
  const names = section(namesIndex);
  const decoder = new TextDecoder();
  const cString = (offset) => {
    let end = offset;
    while (image[end] !== 0) end++;
    return decoder.decode(image.subarray(offset, end));
  };
  const info = new Map();
  for (let index = 0; index < count; index++) {
    const candidate = section(index);
    if (cString(names.offset + candidate.name) !== ".modinfo") continue;
    const text = decoder.decode(image.subarray(candidate.offset, candidate.offset + candidate.size));
    for (const entry of text.split("\0")) {
      const equals = entry.indexOf("=");
      if (equals <= 0) continue;
      const key = entry.slice(0, equals);
      info.set(key, [...(info.get(key) ?? []), entry.slice(equals + 1)]);
    }
  }
  return info;
}

/** The module's own dependencies as modpost recorded them (`depends=a,b`). */
export function moduleDependencies(image) {
  return (readModinfo(image).get("depends") ?? []).flatMap((list) => list.split(",")).filter(Boolean).map(canonicalModuleName);
}

/**
 * A module file's ELF image; compressed modules are unpacked (xz and zstd with their command-line
 * tools, which Debian's kmod depends on anyway).
 */
export function readModuleImage(path) {
  if (path.endsWith(".ko")) return new Uint8Array(readFileSync(path));
  if (path.endsWith(".ko.gz")) return new Uint8Array(gunzipSync(readFileSync(path)));
  const tool = path.endsWith(".ko.xz") ? "xz" : "zstd";
  try {
    return new Uint8Array(execFileSync(tool, ["-dc", path], { maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] }));
  } catch (error) {
    throw new Error(`cannot decompress ${path} with ${tool} (apt-get install ${tool === "xz" ? "xz-utils" : "zstd"}): ${error.message}`);
  }
}

function findModuleFiles(directory, found = new Map()) {
  for (const entry of readdirSync(directory)) {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) findModuleFiles(path, found);
    else {
      const name = moduleNameOf(entry);
      if (name && !found.has(name)) found.set(name, path);
    }
  }
  return found;
}

/**
 * The modules to load for `wanted`, dependencies first, from an extracted /lib/modules/<release>
 * tree. modules.dep is used when the tree has one (an installed system); a package's tree has none
 * (depmod writes it at install time), so each module's own .modinfo `depends=` is followed instead.
 * @param {string} moduleRoot  e.g. <root>/lib/modules/6.1.0-28-686
 * @param {string[]} wanted    module names, e.g. ["e1000"]
 * @returns {Array<{ name: string, path: string, image: Uint8Array }>}  path: relative to moduleRoot, without a compression suffix
 */
export function collectModules(moduleRoot, wanted) {
  const files = findModuleFiles(join(moduleRoot, "kernel"));
  const depFile = join(moduleRoot, "modules.dep");
  const listedDependencies = new Map();
  if (existsSync(depFile)) {
    for (const line of readFileSync(depFile, "utf8").split("\n")) {
      const [target, deps = ""] = line.split(":");
      if (!target) continue;
      const name = moduleNameOf(target.split("/").pop());
      if (name) listedDependencies.set(name, deps.trim().split(/\s+/).filter(Boolean).map((dep) => moduleNameOf(dep.split("/").pop())));
    }
  }
  const ordered = [];
  const visiting = new Set();
  const done = new Set();
  const visit = (name, wantedBy) => {
    if (done.has(name)) return;
    if (visiting.has(name)) throw new Error(`module dependency cycle through ${name}`);
    const file = files.get(name);
    if (!file) throw new Error(`kernel module ${name}${wantedBy ? ` (needed by ${wantedBy})` : ""} is not in ${moduleRoot}`);
    visiting.add(name);
    const image = readModuleImage(file);
    for (const dependency of listedDependencies.get(name) ?? moduleDependencies(image)) visit(dependency, name);
    visiting.delete(name);
    done.add(name);
    const path = relative(moduleRoot, file).replace(/\.(xz|zst|gz)$/, "");
    ordered.push({ name, path, image });
  };
  for (const name of wanted) visit(canonicalModuleName(name), undefined);
  return ordered;
}
