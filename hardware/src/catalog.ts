import type { PciDeviceModel } from "@vmk/kernel";
import { createHostBridge440BX, createPiix4IsaBridge } from "./platform/chipset-functions.js";
import { E1000Model } from "./e1000/e1000-model.js";
import { MegaRaidSasModel } from "./megaraid-sas/megaraid-sas-model.js";
import type { ScsiCommandTarget } from "./scsi/scsi-command.js";
import { LogicalUnit } from "./scsi/logical-unit.js";
import { MemoryLunStore } from "./scsi/memory-lun-store.js";

export interface CardOptions {
  /** MAC address for network cards ("00:0c:29:12:34:56"); a deterministic one is chosen if omitted. */
  mac?: string;
  /** Logical units behind a storage controller (a RAID card's logical drives, by target ID). */
  luns?: ScsiCommandTarget[];
  /** Without `luns`: local disks to create for a storage controller, held in memory (a server's RAID volumes). */
  disks?: LocalDiskSpec[];
}

export interface LocalDiskSpec {
  /** Unique name; the disk's NAA identifier is derived from it. */
  name: string;
  sizeMb: number;
}

function localDrives(options: CardOptions): ScsiCommandTarget[] | undefined {
  return options.luns ?? options.disks?.map((disk) => new LogicalUnit({ store: new MemoryLunStore(disk.sizeMb * 1024 * 1024), identity: { name: disk.name } }));
}

export interface CatalogEntry {
  description: string;
  /** "platform" entries are chipset functions; "card" entries go into slots. */
  kind: "platform" | "card";
  create(options: CardOptions): PciDeviceModel;
}

/** Every hardware model the harness and the console can place in a slot, by name. */
export const cardCatalog: Record<string, CatalogEntry> = {
  "i440bx-host-bridge": { description: "Intel 440BX host bridge", kind: "platform", create: () => createHostBridge440BX() },
  "piix4-isa": { description: "Intel PIIX4 ISA bridge", kind: "platform", create: () => createPiix4IsaBridge() },
  "e1000-82540em": { description: "Intel PRO/1000 MT Desktop (82540EM) gigabit Ethernet", kind: "card", create: (o) => new E1000Model({ variant: "82540EM", mac: o.mac }) },
  "e1000-82545em": { description: "Intel PRO/1000 MT Server (82545EM) gigabit Ethernet", kind: "card", create: (o) => new E1000Model({ variant: "82545EM", mac: o.mac }) },
  "megaraid-sas-1078": { description: "LSI MegaRAID SAS 1078 (8708EM2) RAID controller, MFI", kind: "card", create: (o) => new MegaRaidSasModel({ variant: "sas1078", logicalDrives: localDrives(o) }) },
  "perc5": { description: "Dell PERC 5/i Integrated RAID controller, MFI", kind: "card", create: (o) => new MegaRaidSasModel({ variant: "perc5", logicalDrives: localDrives(o) }) },
  "megaraid-sas-1064r": { description: "LSI MegaRAID SAS 1064R (8408E) RAID controller, MFI", kind: "card", create: (o) => new MegaRaidSasModel({ variant: "sas1064r", logicalDrives: localDrives(o) }) },
};

export function createCard(model: string, options: CardOptions = {}): PciDeviceModel {
  const entry = cardCatalog[model];
  if (!entry) throw new Error(`unknown hardware model "${model}" (known: ${Object.keys(cardCatalog).sort().join(", ")})`);
  return entry.create(options);
}
