import * as R from "./registers.js";
import { REGISTER_WINDOW } from "./registers.js";
import type { RegisterFlavour } from "./variants.js";

export type RegisterRead = () => number;
export type RegisterWrite = (value: number) => void;

export interface RegisterDefinition {
  name: string;
  offset: number;
  /** Register sets that decode it; both when omitted. */
  only?: RegisterFlavour;
  /** Reads of a register without a reader return 0. */
  read?: RegisterRead;
  /** Writes to a register without a writer are ignored. */
  write?: RegisterWrite;
}

/** Behaviour behind the registers. */
export interface MegaRaidRegisterHandlers {
  readInboundMessage(index: 0 | 1): number;
  writeInboundMessage(index: 0 | 1, value: number): void;
  readStatusWord(): number;
  writeInboundDoorbell(value: number): void;
  readInboundInterruptMask(): number;
  writeInboundInterruptMask(value: number): void;
  readInterruptCauses(): number;
  clearInterruptCauses(value: number): void;
  readOutboundInterruptMask(): number;
  writeOutboundInterruptMask(value: number): void;
  writeInboundQueuePort(value: number): void;
  writeLowQueuePort(value: number): void;
  writeHighQueuePort(value: number): void;
}

/**
 * The MFI register map. On xscale the interrupt causes are read and cleared (write one) at the
 * outbound interrupt status; on the 1078 they live in outbound doorbell 0, which the status register
 * reflects, and are cleared through the doorbell clear register.
 */
export function megaRaidRegisterMap(h: MegaRaidRegisterHandlers, flavour: RegisterFlavour): RegisterDefinition[] {
  const map: RegisterDefinition[] = [
    { name: "IMSG0", offset: R.INBOUND_MSG_0, read: () => h.readInboundMessage(0), write: (v) => h.writeInboundMessage(0, v) },
    { name: "IMSG1", offset: R.INBOUND_MSG_1, read: () => h.readInboundMessage(1), write: (v) => h.writeInboundMessage(1, v) },
    { name: "OMSG0", offset: R.OUTBOUND_MSG_0, read: () => h.readStatusWord() },
    { name: "OMSG1", offset: R.OUTBOUND_MSG_1 },
    { name: "IDB", offset: R.INBOUND_DOORBELL, write: (v) => h.writeInboundDoorbell(v) },
    { name: "ISTS", offset: R.INBOUND_INTR_STATUS },
    { name: "IMSK", offset: R.INBOUND_INTR_MASK, read: () => h.readInboundInterruptMask(), write: (v) => h.writeInboundInterruptMask(v) },
    { name: "ODB", offset: R.OUTBOUND_DOORBELL },
    {
      name: "OSTS",
      offset: R.OUTBOUND_INTR_STATUS,
      read: () => h.readInterruptCauses(),
      write: flavour === "xscale" ? (v) => h.clearInterruptCauses(v) : undefined,
    },
    { name: "OMSK", offset: R.OUTBOUND_INTR_MASK, read: () => h.readOutboundInterruptMask(), write: (v) => h.writeOutboundInterruptMask(v) },
    { name: "IQP", offset: R.INBOUND_QUEUE_PORT, write: (v) => h.writeInboundQueuePort(v) },
    { name: "OQP", offset: R.OUTBOUND_QUEUE_PORT, read: () => R.OUTBOUND_QUEUE_EMPTY },
    { name: "ODR0", offset: R.OUTBOUND_DOORBELL_0, only: "ppc", read: () => h.readInterruptCauses() },
    { name: "ODCR0", offset: R.OUTBOUND_DOORBELL_CLEAR_0, only: "ppc", read: () => h.readInterruptCauses(), write: (v) => h.clearInterruptCauses(v) },
    { name: "OSP0", offset: R.OUTBOUND_SCRATCH_PAD_0, only: "ppc", read: () => h.readStatusWord() },
    { name: "OSP1", offset: R.OUTBOUND_SCRATCH_PAD_1, only: "ppc" },
    { name: "IQPL", offset: R.INBOUND_LOW_QUEUE_PORT, only: "ppc", write: (v) => h.writeLowQueuePort(v) },
    { name: "IQPH", offset: R.INBOUND_HIGH_QUEUE_PORT, only: "ppc", write: (v) => h.writeHighQueuePort(v) },
  ];
  return map.filter((definition) => definition.only === undefined || definition.only === flavour);
}

/** Dispatch by dword: one array load and one call per access. Undecoded offsets read 0 and ignore writes. */
export class RegisterFile {
  private readonly readers: RegisterRead[];
  private readonly writers: RegisterWrite[];
  private readonly names: (string | undefined)[];

  constructor(definitions: readonly RegisterDefinition[]) {
    const dwords = REGISTER_WINDOW / 4;
    this.readers = new Array<RegisterRead>(dwords).fill(() => 0);
    this.writers = new Array<RegisterWrite>(dwords).fill(() => {});
    this.names = new Array<string | undefined>(dwords).fill(undefined);
    for (const definition of definitions) {
      const index = definition.offset >>> 2;
      if (this.names[index] !== undefined) throw new Error(`register map: ${definition.name} overlaps ${this.names[index]}`);
      this.names[index] = definition.name;
      if (definition.read) this.readers[index] = definition.read;
      if (definition.write) this.writers[index] = definition.write;
    }
  }

  read(offset: number): number {
    if (offset >= REGISTER_WINDOW) return 0;
    return this.readers[offset >>> 2]!() >>> 0;
  }

  write(offset: number, value: number): void {
    if (offset >= REGISTER_WINDOW) return;
    this.writers[offset >>> 2]!(value >>> 0);
  }

  nameOf(offset: number): string | undefined {
    return offset < REGISTER_WINDOW ? this.names[offset >>> 2] : undefined;
  }
}
