import { Host, PciConfigSpace, PciDeviceHandle, VirtualClock, type AccessWidth, type PciDeviceModel } from "@vmk/kernel";
import { measureRate, type BenchSuite } from "./bench-suite.js";

/** A device whose BAR0 is 4 KiB of plain registers: measures the kernel's decode path, not a model. */
function registerFile(): PciDeviceModel {
  const regs = new Uint32Array(1024);
  const config = new PciConfigSpace({
    vendorId: 0x1af4,
    deviceId: 0x10f1,
    classCode: 0xff0000,
    bars: [{ index: 0, kind: "memory", size: 4096 }],
  });
  return {
    modelName: "register file",
    config,
    barRead: (_bar: number, offset: number) => regs[offset >> 2]!,
    barWrite: (_bar: number, offset: number, _w: AccessWidth, value: number) => void (regs[offset >> 2] = value),
    barAccessWidths: () => [4],
    attach: () => {},
    reset: () => regs.fill(0),
  };
}

export const kernelIoSuite: BenchSuite = {
  name: "vmkernel hardware interface",
  async run() {
    const host = new Host({ clock: new VirtualClock(), memoryBytes: 16 << 20 });
    const fn = host.attachPci({ device: 3 }, registerFile());
    host.pci.assignResources();
    const handle = new PciDeviceHandle(fn, host.pci, host.interrupts, host.memory, "bench");
    handle.enable();
    handle.setMaster(true);
    const regs = handle.mapBar(0);
    const mmio = measureRate(() => {
      let sum = 0;
      for (let i = 0; i < 10_000; i++) {
        regs.write32((i & 255) << 2, i);
        sum += regs.read32((i & 255) << 2);
      }
      return sum >= 0 ? 20_000 : 0;
    });
    const buffer = handle.dma.allocCoherent(2048);
    const frame = new Uint8Array(1514);
    const dma = measureRate(() => {
      for (let i = 0; i < 10_000; i++) fn.dma.write(buffer.busAddress, frame);
      return 10_000;
    });
    return [
      { name: "MMIO register accesses through BAR decode", value: mmio.perSecond, unit: "accesses/s" },
      { name: "device DMA writes of 1514 bytes through the IOMMU check", value: dma.perSecond, unit: "writes/s" },
    ];
  },
};
