import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VirtualClock } from "@vmk/kernel";
import { FileLunStore, LogicalUnit, MegaRaidSasModel, ScsiTarget, type MegaRaidVariantName } from "@vmk/hardware";
import { simulatedHost, type SimulatedHost } from "./simulated-host.js";

export interface StorageLabOptions {
  /** MegaRAID variant of both cards (default: the SAS1078, ppc register set). */
  variant?: MegaRaidVariantName;
  /** Size of each LUN's backing file (default 64 MiB). */
  lunBytes?: number;
  /** Load the driver from its built entry (benchmarks). */
  builtModules?: boolean;
}

export interface LabLun {
  unit: LogicalUnit;
  store: FileLunStore;
  file: string;
}

/**
 * A host with two MegaRAID SAS cards (slots 5 and 6), each reaching the same two file-backed LUNs
 * through one shared SCSI target port, the way a dual-pathed array is cabled. Each card is its own
 * initiator (its SAS address), so a path can be cut for one card alone.
 */
export interface StorageLab {
  sim: SimulatedHost;
  clock: VirtualClock;
  target: ScsiTarget;
  luns: LabLun[];
  cards: MegaRaidSasModel[];
  dir: string;
  /** Closes the backing files and deletes them. */
  dispose(): Promise<void>;
}

export async function bootStorageLab(options: StorageLabOptions = {}): Promise<StorageLab> {
  const dir = mkdtempSync(join(tmpdir(), "vmk-storage-"));
  const clock = new VirtualClock();
  const target = new ScsiTarget("array0");
  const luns: LabLun[] = [];
  for (let i = 0; i < 2; i++) {
    const file = join(dir, `lun${i}.img`);
    const store = await FileLunStore.create(file, options.lunBytes ?? 64 << 20);
    const unit = new LogicalUnit({ store, identity: { name: `array0/lun${i}` }, clock });
    target.map(i, unit);
    luns.push({ unit, store, file });
  }
  const cards = [0, 1].map(
    () => new MegaRaidSasModel({ variant: options.variant ?? "sas1078", logicalDrives: luns.map((_, lun) => target.lunTarget(lun)) }),
  );
  let builder = simulatedHost()
    .named("esx-storage")
    .withClock(clock)
    .withMemory(64 << 20)
    .pacedByRealTimeIo()
    .withDevice(cards[0]!, { slot: 5 })
    .withDevice(cards[1]!, { slot: 6 });
  if (options.builtModules) builder = builder.usingBuiltModules();
  const sim = await builder.boot();
  await sim.complete(sim.host.storage.scansComplete());
  return {
    sim,
    clock,
    target,
    luns,
    cards,
    dir,
    async dispose() {
      await Promise.all(luns.map((lun) => lun.store.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
