import type { AccessWidth } from "../io/address-space.js";
import { PciConfigSpace } from "../pci/config-space.js";
import type { PciDeviceModel, PciDevicePort } from "../pci/pci-device-model.js";

/**
 * A minimal PCI function for the kernel's own tests: a scratch register, an interrupt trigger and a
 * DMA engine, on a 4 KiB memory BAR mirrored by a 32-byte I/O BAR.
 */
export const SCRATCH_REGS = {
  ID: 0x00,
  SCRATCH: 0x04,
  IRQ: 0x08,
  DMA_ADDR: 0x0c,
  DMA_LEN: 0x10,
  /** 1 = read memory into the device buffer, 2 = write the device buffer to memory. */
  DMA_CMD: 0x14,
  /** 1 = last DMA succeeded, 2 = last DMA was blocked. */
  DMA_STATUS: 0x18,
} as const;

export class ScratchDevice implements PciDeviceModel {
  readonly modelName = "vmk scratch test device";
  readonly config: PciConfigSpace;
  port: PciDevicePort | undefined;
  readonly buffer = new Uint8Array(256);
  private readonly regs = new Uint32Array(8);
  resets = 0;

  constructor(options: { vendorId?: number; deviceId?: number; msi?: boolean; multiFunction?: boolean; subsystemId?: number } = {}) {
    this.config = new PciConfigSpace({
      vendorId: options.vendorId ?? 0x1af4,
      deviceId: options.deviceId ?? 0x10f0,
      classCode: 0xff0000,
      subsystemVendorId: 0x1af4,
      subsystemId: options.subsystemId ?? 0x0001,
      interruptPin: 1,
      multiFunction: options.multiFunction,
      bars: [
        { index: 0, kind: "memory", size: 4096 },
        { index: 1, kind: "io", size: 32 },
      ],
    });
    if (options.msi) this.config.addMsiCapability({ is64: true });
    this.regs[0] = 0x5c4a7c11;
  }

  barAccessWidths(bar: number): AccessWidth[] {
    return bar === 0 ? [4] : [1, 2, 4];
  }

  barRead(_bar: number, offset: number, width: AccessWidth): number {
    const value = this.regs[offset >> 2] ?? 0xffffffff;
    return width === 4 ? value : (value >>> ((offset & 3) * 8)) & ((1 << (width * 8)) - 1);
  }

  barWrite(_bar: number, offset: number, _width: AccessWidth, value: number): void {
    const index = offset >> 2;
    if (index === 0 || index >= this.regs.length) return;
    this.regs[index] = value;
    if (offset === SCRATCH_REGS.IRQ) this.port?.setInterrupt(value !== 0);
    if (offset === SCRATCH_REGS.DMA_CMD) this.runDma(value);
  }

  attach(port: PciDevicePort): void {
    this.port = port;
  }

  reset(): void {
    this.resets++;
    this.regs.fill(0, 1);
    this.port?.setInterrupt(false);
  }

  private runDma(command: number): void {
    const port = this.port!;
    const address = this.regs[SCRATCH_REGS.DMA_ADDR >> 2]!;
    const length = Math.min(this.regs[SCRATCH_REGS.DMA_LEN >> 2]!, this.buffer.length);
    const window = this.buffer.subarray(0, length);
    const ok = command === 1 ? port.dma.read(address, window) : command === 2 ? port.dma.write(address, window) : false;
    this.regs[SCRATCH_REGS.DMA_STATUS >> 2] = ok ? 1 : 2;
  }
}
