/**
 * Test support: the VM tests' kernels, assembled with nasm from guests/test-programs/vm and cached
 * by the hash of every source there (so an edit to the shared include rebuilds them all).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const GUESTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SOURCE_DIR = join(GUESTS_DIR, "test-programs", "vm");
const CACHE_DIR = join(GUESTS_DIR, ".cache", "vm-tests");

export function assembleTestKernel(name: string): Uint8Array {
  const hash = createHash("sha256").update(name);
  for (const file of readdirSync(SOURCE_DIR).sort()) hash.update(file).update(readFileSync(join(SOURCE_DIR, file)));
  const output = join(CACHE_DIR, `${name.replace(/\W/g, "_")}-${hash.digest("hex").slice(0, 16)}.bin`);
  if (!existsSync(output)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    execFileSync("nasm", ["-f", "bin", "-I", `${SOURCE_DIR}/`, "-o", output, join(SOURCE_DIR, name)], { stdio: "pipe" });
  }
  return new Uint8Array(readFileSync(output));
}
