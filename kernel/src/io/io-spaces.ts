import { inject, injectable } from "tsyringe";
import { KernelTokens } from "../tokens.js";
import { AddressSpace } from "./address-space.js";
import type { FaultRecord } from "./fault-record.js";

/** The host's physical memory-mapped I/O space (48-bit, room for 64-bit BARs). */
@injectable()
export class MmioSpace extends AddressSpace {
  constructor(@inject(KernelTokens.FaultRecord) faults: FaultRecord) {
    super("mmio", 2 ** 48, faults, "mmio-unclaimed");
  }
}

/** x86 port I/O space: 64 KiB of ports. */
@injectable()
export class PortSpace extends AddressSpace {
  constructor(@inject(KernelTokens.FaultRecord) faults: FaultRecord) {
    super("port", 0x10000, faults, "port-unclaimed");
  }
}
