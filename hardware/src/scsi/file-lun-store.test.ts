import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FileLunStore } from "./file-lun-store.js";
import { LogicalUnit } from "./logical-unit.js";
import { Asc, SenseKey } from "./sense.js";
import { attach, Cdb, expectGood, expectSense, pattern, unmapParameterList } from "./test-support.js";

const A = "hba0:host-a";

/** The FileHandle class is not exported by node:fs/promises; its prototype is reachable from any handle. */
async function fileHandlePrototype(path: string): Promise<{ sync(): Promise<void> }> {
  const handle = await open(path, "r");
  const prototype = Object.getPrototypeOf(handle) as { sync(): Promise<void> };
  await handle.close();
  return prototype;
}

describe("FileLunStore behind a logical unit", () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "vmk-scsi-file-"));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(directory, { recursive: true, force: true });
  });

  it("creates a sparse image of the requested size", async () => {
    const path = join(directory, "disk.img");
    const store = await FileLunStore.create(path, 8 * 1024 * 1024);
    expect(statSync(path).size).toBe(8 * 1024 * 1024);
    expect(store.byteLength).toBe(8 * 1024 * 1024);
    await store.close();
  });

  it("WRITE lands at LBA × block size in the file and READ returns the file's bytes", async () => {
    const path = join(directory, "disk.img");
    const unit = new LogicalUnit({ store: await FileLunStore.create(path, 1024 * 512), identity: { name: "file/lun0" } });
    await attach(unit, A);
    const data = pattern(8 * 512, 11);
    expectGood(await unit.execute({ cdb: Cdb.write16(1000, 8), initiator: A, dataOut: data }));
    const file = readFileSync(path);
    expect(file.length).toBe(1024 * 512);
    expect([...file.subarray(1000 * 512, 1008 * 512)]).toEqual([...data]);

    const outside = pattern(512, 12);
    writeFileSync(path, outside, { flag: "r+" }); // another writer puts block 0 there
    const read = await unit.execute({ cdb: Cdb.read10(0, 1), initiator: A });
    expect([...read.dataIn!]).toEqual([...outside]);
    expectSense(await unit.execute({ cdb: Cdb.read10(1020, 5), initiator: A }), SenseKey.ILLEGAL_REQUEST, Asc.LBA_OUT_OF_RANGE);
    await unit.close();
  });

  it("SYNCHRONIZE CACHE and FUA writes fsync the file", async () => {
    const path = join(directory, "disk.img");
    const unit = new LogicalUnit({ store: await FileLunStore.create(path, 64 * 4096), identity: { name: "file/lun1" }, blockSize: 4096 });
    await attach(unit, A);
    const sync = vi.spyOn(await fileHandlePrototype(path), "sync");
    expectGood(await unit.execute({ cdb: Cdb.write10(3, 1), initiator: A, dataOut: pattern(4096, 1) }));
    expect(sync).not.toHaveBeenCalled();
    expectGood(await unit.execute({ cdb: Cdb.synchronizeCache10(), initiator: A }));
    expect(sync).toHaveBeenCalledTimes(1);
    expectGood(await unit.execute({ cdb: Cdb.write10(4, 1, 0x08), initiator: A, dataOut: pattern(4096, 2) }));
    expect(sync).toHaveBeenCalledTimes(2);
    expect([...readFileSync(path).subarray(4 * 4096, 5 * 4096)]).toEqual([...pattern(4096, 2)]);
    await unit.close();
  });

  it("opens an existing image with its size, UNMAP zeroes file blocks, resize changes the file", async () => {
    const path = join(directory, "existing.img");
    writeFileSync(path, new Uint8Array(128 * 512).fill(0x5a));
    const unit = new LogicalUnit({ store: await FileLunStore.open(path), identity: { name: "file/lun2" } });
    expect(unit.capacityBlocks).toBe(128);
    await attach(unit, A);
    const list = unmapParameterList([{ lba: 4, blocks: 2 }]);
    expectGood(await unit.execute({ cdb: Cdb.unmap(list.length), initiator: A, dataOut: list }));
    const file = readFileSync(path);
    expect(file.subarray(4 * 512, 6 * 512).every((b) => b === 0)).toBe(true);
    expect(file[4 * 512 - 1]).toBe(0x5a);
    expect(file[6 * 512]).toBe(0x5a);
    await unit.resize(256);
    expect(statSync(path).size).toBe(256 * 512);
    await unit.close();
  });

  it("a 4096-byte-block unit on a store that is not a whole number of blocks is refused", async () => {
    const path = join(directory, "odd.img");
    writeFileSync(path, new Uint8Array(4096 + 512));
    const store = await FileLunStore.open(path);
    expect(() => new LogicalUnit({ store, identity: { name: "odd" }, blockSize: 4096 })).toThrow(/multiple/);
    await store.close();
  });

  it("sustains many concurrent 4 KiB random writes and reads", async () => {
    const path = join(directory, "qd.img");
    const blocks = 4096;
    const unit = new LogicalUnit({ store: await FileLunStore.create(path, blocks * 4096), identity: { name: "file/qd" }, blockSize: 4096 });
    await attach(unit, A);
    const lbas = Array.from({ length: 256 }, (_, i) => (i * 2654435761) % blocks);
    const unique = [...new Set(lbas)];
    await Promise.all(unique.map((lba) => unit.execute({ cdb: Cdb.write10(lba, 1), initiator: A, dataOut: pattern(4096, lba) })));
    const reads = await Promise.all(unique.map((lba) => unit.execute({ cdb: Cdb.read10(lba, 1), initiator: A, dataInBuffer: new Uint8Array(4096) })));
    reads.forEach((response, i) => expect([...response.dataIn!]).toEqual([...pattern(4096, unique[i]!)]));
    await unit.close();
  });
});
