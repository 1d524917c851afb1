import { VirtualClock } from "../clock/virtual-clock.js";
import { FaultRecord } from "../io/fault-record.js";
import { MmioSpace, PortSpace } from "../io/io-spaces.js";
import { InterruptController } from "../irq/interrupt-controller.js";
import { KernelLog } from "../log/kernel-log.js";
import { MachineMemory } from "../memory/machine-memory.js";
import { PciBus } from "../pci/pci-bus.js";

/** The hardware-interface services wired by hand, for tests below the Host level. */
export function hardwareFixture(memoryBytes = 4 << 20) {
  const clock = new VirtualClock();
  const log = new KernelLog(clock);
  const faults = new FaultRecord(clock);
  const mmio = new MmioSpace(faults);
  const ports = new PortSpace(faults);
  const irq = new InterruptController(clock, log);
  const memory = new MachineMemory(memoryBytes);
  const bus = new PciBus(mmio, ports, irq, memory, faults, clock, log);
  return { clock, log, faults, mmio, ports, irq, memory, bus };
}
