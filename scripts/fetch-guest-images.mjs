#!/usr/bin/env node
// Fetches the reference Linux guest: Debian's current i386 kernel (through the linux-image-686
// metapackage) and busybox-static:i386, and builds a busybox initramfs for it. Everything lands in a
// cache directory the loaders' tests and `vmk` look in:
//
//   <cache>/vmlinuz              the bzImage
//   <cache>/initramfs.cpio.gz    /init + busybox + applet links + /dev/console + the kernel modules
//                                the guest needs (e1000 and what it depends on), loaded by /init
//   <cache>/manifest.json        which package versions they came from
//
// Usage: node scripts/fetch-guest-images.mjs [--setup-apt] [--cache DIR] [--force]
//   --setup-apt   add the i386 architecture to dpkg and run apt-get update if it is missing
//                 (otherwise the commands are printed and nothing on the host is changed)
//   --cache DIR   cache directory (default: $VMK_CACHE, else ~/.cache/vmk/guest)
//   --force       download and rebuild even if the cache matches the current packages

import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildInitramfs, INITRAMFS_SCRIPTS_DIGEST } from "./src/initramfs.mjs";
import { collectModules } from "./src/kernel-modules.mjs";

const KERNEL_METAPACKAGE = "linux-image-686";
const BUSYBOX_PACKAGE = "busybox-static";
const ARCH = "i386";
const MANIFEST_VERSION = 2;
/** Modules Debian builds as =m that a vmk VM's hardware needs: the NIC (an 82545EM e1000). */
const GUEST_MODULES = ["e1000"];

class UserFacingError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

function parseArguments(argv) {
  const options = { setupApt: false, force: false, cache: process.env.VMK_CACHE || join(homedir(), ".cache", "vmk", "guest") };
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === "--setup-apt") options.setupApt = true;
    else if (argument === "--force") options.force = true;
    else if (argument === "--cache") options.cache = argv[++i] ?? usage(`--cache needs a directory`);
    else if (argument.startsWith("--cache=")) options.cache = argument.slice("--cache=".length);
    else if (argument === "--help" || argument === "-h") usage();
    else usage(`unknown argument ${argument}`);
  }
  return options;
}

function usage(problem) {
  const text = "usage: node scripts/fetch-guest-images.mjs [--setup-apt] [--cache DIR] [--force]";
  if (problem) throw new UserFacingError(`${problem}\n${text}`, 64);
  console.log(text);
  process.exit(0);
}

/** One status line that rewrites itself on a terminal and prints plainly into a log. */
const progress = {
  step: 0,
  total: 6,
  show(message) {
    this.step++;
    const line = `[${this.step}/${this.total}] ${message}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(`${line}\n`);
  },
  done(message) {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K`);
    console.log(message);
  },
};

function hasCommand(command) {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", ...options });
  if (result.error) throw new UserFacingError(`${command} could not run: ${result.error.message}`);
  if (result.status !== 0) {
    throw new UserFacingError(`${command} ${args.join(" ")} failed (exit ${result.status}):\n${(result.stderr || result.stdout || "").trim()}`);
  }
  return result.stdout;
}

const NO_APT_HELP =
  `Without Debian's package tools vmk cannot fetch its reference guest. Get an i386 bzImage and an ` +
  `initramfs another way (for example linux-image-*-686 and busybox-static:i386 from a Debian mirror) ` +
  `and pass them to vmk with --kernel <bzImage> --initrd <initramfs>.`;

function checkTools() {
  const missing = ["apt-get", "apt-cache", "dpkg", "dpkg-deb"].filter((tool) => !hasCommand(tool));
  if (missing.length > 0) throw new UserFacingError(`${missing.join(", ")} not found: this host has no apt/dpkg.\n${NO_APT_HELP}`, 2);
}

/**
 * Makes sure apt can see i386 packages. Returns what `apt-get update` complained about (a mirror or a
 * signature it could not check), to explain a package that then cannot be found.
 */
function ensureI386Architecture(setupApt) {
  const native = run("dpkg", ["--print-architecture"]).trim();
  const foreign = run("dpkg", ["--print-foreign-architectures"]).split(/\s+/).filter(Boolean);
  if (native === ARCH || foreign.includes(ARCH)) return [];
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? "" : "sudo ";
  const commands = [`${prefix}dpkg --add-architecture ${ARCH}`, `${prefix}apt-get update`];
  if (!setupApt) {
    throw new UserFacingError(
      `apt does not know the ${ARCH} architecture on this ${native} host, so it cannot download ${KERNEL_METAPACKAGE}:${ARCH}.\n` +
        `Either run these yourself:\n  ${commands.join("\n  ")}\n` +
        `or rerun this script with --setup-apt to let it do exactly that.`,
      3,
    );
  }
  progress.total++;
  progress.show(`adding the ${ARCH} architecture to dpkg and updating apt's package lists`);
  const withPrivilege = (args) => (asRoot ? [args[0], args.slice(1)] : ["sudo", args]);
  run(...withPrivilege(["dpkg", "--add-architecture", ARCH]));
  // apt-get update fails as a whole when any one source fails; the i386 lists may still have arrived.
  let problems = aptUpdate(withPrivilege, []);
  if (problems.some((line) => /gpgv.*required for verification/.test(line))) {
    // Without gpgv (or when apt's unprivileged sandbox user cannot run it) apt keeps its old lists and
    // never fetches the new architecture's: install gpgv and, as root, verify without the sandbox user.
    progress.show("apt cannot verify signatures: installing gpgv and updating again");
    spawnSync(...withPrivilege(["apt-get", "install", "-y", "-qq", "gpgv"]), { encoding: "utf8" });
    problems = aptUpdate(withPrivilege, asRoot ? ["-o", "APT::Sandbox::User=root"] : []);
  }
  return problems;
}

/** Runs apt-get update and returns the warning and error lines it printed. */
function aptUpdate(withPrivilege, options) {
  const update = spawnSync(...withPrivilege(["apt-get", ...options, "update"]), { encoding: "utf8" });
  if (update.error) throw new UserFacingError(`apt-get update could not run: ${update.error.message}`);
  return `${update.stdout}\n${update.stderr}`.split("\n").filter((line) => /^(W|E): /.test(line));
}

/** The kernel package the metapackage currently points at, e.g. linux-image-6.1.0-28-686 at 6.1.119-1. */
function resolveKernelPackage(updateProblems) {
  const show = spawnSync("apt-cache", ["show", "--no-all-versions", `${KERNEL_METAPACKAGE}:${ARCH}`], { encoding: "utf8" });
  if (show.status !== 0 || !show.stdout.trim()) {
    const problems = updateProblems.length > 0 ? `\napt-get update reported:\n  ${updateProblems.join("\n  ")}` : "";
    throw new UserFacingError(
      `apt has no ${KERNEL_METAPACKAGE}:${ARCH} (is this Debian, with ${ARCH} enabled and apt-get update run?).${problems}\n${NO_APT_HELP}`,
      4,
    );
  }
  const depends = /^Depends:\s*(.+)$/m.exec(show.stdout)?.[1] ?? "";
  const match = /\b(linux-image-\d[\w.+~-]*-686)(?:-unsigned)?\b(?:\s*\(=\s*([^)]+)\))?/.exec(depends);
  if (!match) throw new UserFacingError(`cannot find the kernel package in ${KERNEL_METAPACKAGE}'s Depends: ${depends}`);
  return { name: match[1], version: match[2] ?? candidateVersion(`${match[1]}:${ARCH}`) };
}

function candidateVersion(pkg) {
  const policy = run("apt-cache", ["policy", pkg]);
  const candidate = /Candidate:\s*(\S+)/.exec(policy)?.[1];
  if (!candidate || candidate === "(none)") throw new UserFacingError(`apt has no installable version of ${pkg}`);
  return candidate;
}

function download(packages, directory) {
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  run("apt-get", ["download", ...packages], { cwd: directory, stdio: ["ignore", "pipe", "pipe"] });
  const debs = readdirSync(directory).filter((f) => f.endsWith(".deb"));
  const find = (name) => {
    const deb = debs.find((f) => f.startsWith(`${name.split(":")[0]}_`));
    if (!deb) throw new UserFacingError(`apt-get download did not produce a .deb for ${name}`);
    return join(directory, deb);
  };
  return packages.map(find);
}

function extract(deb, directory) {
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  run("dpkg-deb", ["-x", deb, directory]);
}

/** Applet paths as busybox lists them; an i386 binary runs on x86-64 hosts, elsewhere /init installs them at boot. */
function listApplets(busyboxPath) {
  try {
    return execFileSync(busyboxPath, ["--list-full"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
  } catch {
    return [];
  }
}

function readManifest(path) {
  try {
    const manifest = JSON.parse(readFileSync(path, "utf8"));
    return manifest.version === MANIFEST_VERSION ? manifest : undefined;
  } catch {
    return undefined;
  }
}

function main() {
  const options = parseArguments(process.argv.slice(2));
  const cache = options.cache;
  const files = { kernel: join(cache, "vmlinuz"), initramfs: join(cache, "initramfs.cpio.gz"), manifest: join(cache, "manifest.json") };
  mkdirSync(cache, { recursive: true });

  checkTools();
  const updateProblems = ensureI386Architecture(options.setupApt);
  progress.show(`resolving ${KERNEL_METAPACKAGE}:${ARCH}`);
  const kernelPackage = resolveKernelPackage(updateProblems);
  const busyboxVersion = candidateVersion(`${BUSYBOX_PACKAGE}:${ARCH}`);

  const manifest = readManifest(files.manifest);
  const upToDate =
    manifest?.kernel?.package === kernelPackage.name &&
    manifest?.kernel?.version === kernelPackage.version &&
    manifest?.busybox?.version === busyboxVersion &&
    manifest?.initramfs?.scripts === INITRAMFS_SCRIPTS_DIGEST &&
    existsSync(files.kernel) &&
    existsSync(files.initramfs);
  if (upToDate && !options.force) {
    progress.done(`up to date in ${cache}: ${kernelPackage.name} ${kernelPackage.version}, ${BUSYBOX_PACKAGE} ${busyboxVersion}`);
    return;
  }

  const work = join(cache, "work");
  progress.show(`downloading ${kernelPackage.name}:${ARCH} ${kernelPackage.version} and ${BUSYBOX_PACKAGE}:${ARCH} ${busyboxVersion}`);
  const [kernelDeb, busyboxDeb] = download([`${kernelPackage.name}:${ARCH}=${kernelPackage.version}`, `${BUSYBOX_PACKAGE}:${ARCH}=${busyboxVersion}`], join(work, "debs"));

  progress.show(`extracting ${kernelDeb.split("/").pop()}`);
  const kernelRoot = join(work, "kernel");
  extract(kernelDeb, kernelRoot);
  const vmlinuz = readdirSync(join(kernelRoot, "boot")).find((f) => f.startsWith("vmlinuz-"));
  if (!vmlinuz) throw new UserFacingError(`${kernelDeb} has no boot/vmlinuz-*`);
  const kernelRelease = vmlinuz.slice("vmlinuz-".length);

  progress.show(`extracting ${busyboxDeb.split("/").pop()}`);
  const busyboxRoot = join(work, "busybox");
  extract(busyboxDeb, busyboxRoot);
  const busyboxPath = join(busyboxRoot, "bin", "busybox");
  if (!existsSync(busyboxPath)) throw new UserFacingError(`${busyboxDeb} has no bin/busybox`);

  progress.show("building the initramfs (cpio newc, gzip)");
  const applets = listApplets(busyboxPath);
  const moduleRoot = join(kernelRoot, "lib", "modules", kernelRelease);
  if (!existsSync(moduleRoot)) throw new UserFacingError(`${kernelDeb} has no lib/modules/${kernelRelease}`);
  const modules = collectModules(moduleRoot, GUEST_MODULES);
  const archive = buildInitramfs({ busybox: new Uint8Array(readFileSync(busyboxPath)), applets, kernelRelease, modules });
  writeFileSync(files.initramfs, gzipSync(archive, { level: 9 }));
  copyFileSync(join(kernelRoot, "boot", vmlinuz), files.kernel);

  progress.show("writing the manifest");
  writeFileSync(
    files.manifest,
    JSON.stringify(
      {
        version: MANIFEST_VERSION,
        kernel: { package: kernelPackage.name, version: kernelPackage.version, release: kernelRelease, file: "vmlinuz" },
        busybox: { package: BUSYBOX_PACKAGE, version: busyboxVersion, applets: applets.length },
        initramfs: { file: "initramfs.cpio.gz", uncompressedBytes: archive.length, modules: modules.map((module) => module.path), scripts: INITRAMFS_SCRIPTS_DIGEST },
        commandLine: "console=ttyS0 earlyprintk=serial,ttyS0,115200",
        created: new Date().toISOString(),
      },
      null,
      2,
    ) + "\n",
  );
  rmSync(work, { recursive: true, force: true });
  const size = (path) => `${(statSync(path).size / 1024 / 1024).toFixed(1)} MiB`;
  progress.done(
    `guest images in ${cache}:\n` +
      `  vmlinuz            ${kernelRelease} (${size(files.kernel)})\n` +
      `  initramfs.cpio.gz  busybox ${busyboxVersion}, ${applets.length > 0 ? `${applets.length} applet links` : "applets linked by /init at boot"}, ` +
      `modules ${modules.map((module) => module.name).join(", ")} (${size(files.initramfs)})`,
  );
}

try {
  main();
} catch (error) {
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
  if (error instanceof UserFacingError) {
    console.error(error.message);
    process.exit(error.exitCode);
  }
  throw error;
}
