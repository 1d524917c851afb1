import { open, type FileHandle } from "node:fs/promises";
import type { BlockDevice, VirtualClock } from "@vmk/kernel";
import { bootStorageLab } from "../storage-lab.js";
import { median, type BenchFigure, type BenchSuite } from "./bench-suite.js";

const BLOCK = 4096;
const SECTORS_PER_BLOCK = BLOCK / 512;
const LUN_BYTES = 256 << 20;
const SECONDS = 2;
const WINDOWS = 8;
const WARMUP_SECONDS = 0.3;

/** xorshift32: the same random offsets on every run. */
function offsets(seed: number): () => number {
  let x = seed >>> 0 || 1;
  const blocks = LUN_BYTES / BLOCK;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % blocks;
  };
}

type Io = (block: number, buffer: Uint8Array) => Promise<unknown>;

/**
 * Keeps `depth` I/Os in flight for `seconds` of wall time; returns completions per second. `turn`
 * runs between event-loop turns (the virtual clock's due work for the path; nothing for the file).
 */
async function rate(io: Io, depth: number, seconds: number, seed: number, turn: () => Promise<void> | void): Promise<number> {
  const next = offsets(seed);
  let completed = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async (): Promise<void> => {
    const buffer = new Uint8Array(BLOCK).fill(seed & 0xff);
    while (performance.now() < end) {
      await io(next(), buffer);
      completed++;
    }
  };
  const start = performance.now();
  let settled = false;
  const all = Promise.all(Array.from({ length: depth }, worker)).finally(() => (settled = true));
  while (!settled) {
    await turn();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await all;
  return completed / ((performance.now() - start) / 1000);
}

function pathIo(disk: BlockDevice, write: boolean): Io {
  return write ? (block, buffer) => disk.write(block * SECTORS_PER_BLOCK, SECTORS_PER_BLOCK, buffer) : (block, buffer) => disk.read(block * SECTORS_PER_BLOCK, SECTORS_PER_BLOCK, buffer);
}

function fileIo(handle: FileHandle, write: boolean): Io {
  return write ? (block, buffer) => handle.write(buffer, 0, BLOCK, block * BLOCK) : (block, buffer) => handle.read(buffer, 0, BLOCK, block * BLOCK);
}

/**
 * Both ways of doing the same I/O, measured in alternating windows (the same offsets for both in each
 * window, which goes first alternating too) so that a change in the machine's load while the benchmark
 * runs weighs on both alike. The median window is reported: a window that another process's burst
 * hit says nothing about either side.
 */
async function measurePair(direct: Io, path: Io, depth: number, seed: number, pump: () => Promise<void>): Promise<{ direct: number; path: number }> {
  const idle = () => {};
  await rate(direct, depth, WARMUP_SECONDS, seed + 1, idle);
  await rate(path, depth, WARMUP_SECONDS, seed + 1, pump);
  const directRates: number[] = [];
  const pathRates: number[] = [];
  for (let window = 0; window < WINDOWS; window++) {
    const windowSeed = seed + 2 + window;
    if (window % 2 === 0) {
      directRates.push(await rate(direct, depth, SECONDS / WINDOWS, windowSeed, idle));
      pathRates.push(await rate(path, depth, SECONDS / WINDOWS, windowSeed, pump));
    } else {
      pathRates.push(await rate(path, depth, SECONDS / WINDOWS, windowSeed, pump));
      directRates.push(await rate(direct, depth, SECONDS / WINDOWS, windowSeed, idle));
    }
  }
  return { direct: median(directRates), path: median(pathRates) };
}

/**
 * 4 KiB random I/O through the whole storage path — block device → NMP path → vmhba (vmklinux) →
 * megaraid_sas frames → MegaRAID MFI model → logical unit → backing file — beside the same I/O made
 * directly on the backing file with a FileHandle, at the same queue depth, in the same run.
 */
export const storagePathSuite: BenchSuite = {
  name: "storage path (block device → NMP → megaraid_sas → MegaRAID MFI model → file)",
  async run() {
    const lab = await bootStorageLab({ builtModules: true, lunBytes: LUN_BYTES });
    try {
      const { sim } = lab;
      const clock: VirtualClock = sim.clock;
      const device = sim.host.storage.listDevices()[0];
      if (!device) throw new Error("the storage lab found no device");
      const disk = sim.host.storage.device(device.name);
      const lun = lab.luns.find((l) => `naa.${Buffer.from(l.unit.identity.naa).toString("hex")}` === device.name)!;
      const handle = await open(lun.file, "r+");
      try {
        // Reads hit written blocks, not holes of a sparse file.
        const fill = new Uint8Array(1 << 20).fill(0xa5);
        for (let at = 0; at < LUN_BYTES; at += fill.length) await handle.write(fill, 0, fill.length, at);
        // Work the clock until nothing is due, letting promise continuations (the next I/O, a logical
        // unit's answer) run in between, so stages that need no real I/O finish within one turn.
        const pump = async () => {
          for (let round = 0; round < 64; round++) {
            if (clock.advance(1_000).events === 0) return;
            await Promise.resolve();
          }
        };
        const figures: BenchFigure[] = [];
        for (const write of [false, true]) {
          for (const depth of [1, 32]) {
            const kind = `4 KiB random ${write ? "write" : "read"}, QD${depth}`;
            const { direct, path } = await measurePair(fileIo(handle, write), pathIo(disk, write), depth, 7 + depth, pump);
            figures.push({ name: `${kind}, direct FileHandle`, value: direct, unit: "IOPS" });
            figures.push({ name: `${kind}, through the storage path`, value: path, unit: "IOPS", reference: { label: "of direct file I/O", value: direct } });
          }
        }
        const stats = disk.stats();
        if (stats.failed > 0) throw new Error(`${stats.failed} I/Os failed during the benchmark`);
        return figures;
      } finally {
        await handle.close();
      }
    } finally {
      await lab.dispose();
    }
  },
};
