/** Builds (once, into guests/.cache) and drives the native runner that executes cases on the host CPU. */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CODE_MAX, DATA_SIZE, type OracleCase } from "./generator.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(HERE, "native-runner.c");
const CACHE = join(HERE, "..", "..", "..", ".cache", "cpu-oracle");

export interface CaseResult {
  regs: Int32Array;
  eflags: number;
  eip: number;
  /** Host signal number (0: ran to the end). */
  signal: number;
  data: Uint8Array;
}

/** Returns the runner binary path, or an error message explaining why it cannot be built. */
export function buildNativeRunner(): { path: string } | { error: string } {
  const source = readFileSync(SOURCE);
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12);
  mkdirSync(CACHE, { recursive: true });
  const binary = join(CACHE, `native-runner-${hash}`);
  if (existsSync(binary)) return { path: binary };
  try {
    execFileSync("gcc", ["-m32", "-O1", "-no-pie", "-fno-pic", "-o", binary, SOURCE], { stdio: "pipe" });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    return { error: `cannot build the native oracle runner with "gcc -m32" (install gcc-multilib): ${stderr.slice(0, 400)}` };
  }
  return { path: binary };
}

const INPUT_RECORD = 4 + CODE_MAX + 36 + DATA_SIZE;
const OUTPUT_RECORD = 44 + DATA_SIZE;

export function runNative(binary: string, cases: OracleCase[]): CaseResult[] {
  const input = Buffer.alloc(INPUT_RECORD * cases.length);
  cases.forEach((c, i) => {
    const at = i * INPUT_RECORD;
    input.writeUInt32LE(c.code.length, at);
    input.set(c.code, at + 4);
    for (let r = 0; r < 8; r++) input.writeInt32LE(c.regs[r], at + 4 + CODE_MAX + r * 4);
    input.writeUInt32LE(c.eflags >>> 0, at + 4 + CODE_MAX + 32);
    input.set(c.data, at + 4 + CODE_MAX + 36);
  });
  const result = spawnSync(binary, [], { input, maxBuffer: OUTPUT_RECORD * cases.length + 1024 });
  if (result.status !== 0) throw new Error(`native runner failed with status ${result.status}: ${result.stderr?.toString()}`);
  const out = result.stdout;
  if (out.length !== OUTPUT_RECORD * cases.length) throw new Error(`native runner returned ${out.length} bytes`);
  return cases.map((_, i) => {
    const at = i * OUTPUT_RECORD;
    const regs = new Int32Array(8);
    for (let r = 0; r < 8; r++) regs[r] = out.readInt32LE(at + r * 4);
    return {
      regs,
      eflags: out.readUInt32LE(at + 32),
      eip: out.readUInt32LE(at + 36),
      signal: out.readUInt32LE(at + 40),
      data: new Uint8Array(out.subarray(at + 44, at + 44 + DATA_SIZE)),
    };
  });
}
