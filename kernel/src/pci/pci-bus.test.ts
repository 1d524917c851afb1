import { describe, expect, it } from "vitest";
import { hardwareFixture } from "../test-support/kernel-fixture.js";
import { ScratchDevice, SCRATCH_REGS } from "../test-support/scratch-device.js";
import { PciDeviceHandle } from "./pci-device-handle.js";
import { IrqReturn } from "../irq/interrupt-controller.js";
import * as R from "./config-registers.js";

describe("PCI bus", () => {
  it("enumerates by configuration cycles: empty slots read all-ones, function 0 gates multi-function scanning", () => {
    const hw = hardwareFixture();
    hw.bus.attach({ device: 5 }, new ScratchDevice({ deviceId: 0x1111 }));
    hw.bus.attach({ device: 2, function: 0 }, new ScratchDevice({ multiFunction: true, deviceId: 0x2220 }));
    hw.bus.attach({ device: 2, function: 3 }, new ScratchDevice({ deviceId: 0x2223 }));
    // a function behind a single-function device 0 is invisible to a scan, as on real hardware
    hw.bus.attach({ device: 7, function: 1 }, new ScratchDevice({ deviceId: 0x7771 }));
    expect(hw.bus.configRead({ segment: 0, bus: 0, device: 9, function: 0 }, 0, 4)).toBe(0xffffffff);
    expect(hw.bus.configRead({ segment: 0, bus: 0, device: 9, function: 0 }, 0, 2)).toBe(0xffff);
    expect(hw.bus.enumerate().map((f) => f.name)).toEqual(["0000:00:02.0", "0000:00:02.3", "0000:00:05.0"]);
    expect(() => hw.bus.attach({ device: 5 }, new ScratchDevice())).toThrow(/occupied/);
    expect(() => hw.bus.attach({ device: 32 }, new ScratchDevice())).toThrow(/invalid PCI slot/);
  });

  it("assigns naturally aligned BARs by sizing them and decodes them only while the command bits allow", () => {
    const hw = hardwareFixture();
    const dev = new ScratchDevice();
    const fn = hw.bus.attach({ device: 3 }, dev);
    hw.bus.assignResources();
    const mem = fn.config.barAddress(0);
    const io = fn.config.barAddress(1);
    expect(mem % 4096).toBe(0);
    expect(mem).toBeGreaterThanOrEqual(0xe0000000);
    expect(io % 32).toBe(0);
    expect(fn.config.interruptLine).toBe(fn.gsi);
    // firmware leaves decoding off: the registers are unreachable
    expect(hw.mmio.read(mem + SCRATCH_REGS.ID, 4)).toBe(0xffffffff);
    hw.bus.configWrite(fn.address, R.PCI_COMMAND, 2, R.PCI_COMMAND_MEMORY);
    expect(hw.mmio.read(mem + SCRATCH_REGS.ID, 4)).toBe(0x5c4a7c11);
    expect(hw.ports.read(io + SCRATCH_REGS.ID, 4)).toBe(0xffffffff);
    hw.bus.configWrite(fn.address, R.PCI_COMMAND, 2, R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_IO);
    expect(hw.ports.read(io + SCRATCH_REGS.ID, 2)).toBe(0x7c11);
    // moving the BAR moves the decoder
    hw.bus.configWrite(fn.address, R.PCI_BASE_ADDRESS_0, 4, 0xf0000000);
    expect(hw.mmio.read(mem, 4)).toBe(0xffffffff);
    expect(hw.mmio.read(0xf0000000, 4)).toBe(0x5c4a7c11);
    hw.bus.configWrite(fn.address, R.PCI_COMMAND, 2, 0);
    expect(hw.mmio.read(0xf0000000, 4)).toBe(0xffffffff);
  });

  it("decodes restored BARs after a configuration-space snapshot is restored", () => {
    const hw = hardwareFixture();
    const source = new ScratchDevice();
    const fn = hw.bus.attach({ device: 3 }, source);
    hw.bus.assignResources();
    hw.bus.configWrite(fn.address, R.PCI_COMMAND, 2, R.PCI_COMMAND_MEMORY);
    hw.bus.configWrite(fn.address, R.PCI_BASE_ADDRESS_0, 4, 0xf1000000);
    const snapshot = JSON.parse(JSON.stringify(fn.config.snapshot()));

    const other = hardwareFixture();
    const target = other.bus.attach({ device: 3 }, new ScratchDevice());
    expect(other.mmio.read(0xf1000000, 4)).toBe(0xffffffff);
    target.config.restore(snapshot);
    expect(other.mmio.read(0xf1000000 + SCRATCH_REGS.ID, 4)).toBe(0x5c4a7c11);
  });

  it("gates device DMA on the bus master bit and on the device's IOMMU mappings", () => {
    const hw = hardwareFixture();
    const dev = new ScratchDevice();
    const fn = hw.bus.attach({ device: 3 }, dev);
    hw.bus.assignResources();
    const handle = new PciDeviceHandle(fn, hw.bus, hw.irq, hw.memory, "test");
    handle.enable();
    const regs = handle.mapBar(0);
    const buffer = handle.dma.allocCoherent(128);
    buffer.bytes.set([1, 2, 3, 4]);
    regs.write32(SCRATCH_REGS.DMA_ADDR, buffer.busAddress);
    regs.write32(SCRATCH_REGS.DMA_LEN, 4);
    regs.write32(SCRATCH_REGS.DMA_CMD, 1);
    expect(regs.read32(SCRATCH_REGS.DMA_STATUS)).toBe(2);
    expect(hw.faults.count("dma-bus-master-disabled")).toBe(1);
    handle.setMaster(true);
    regs.write32(SCRATCH_REGS.DMA_CMD, 1);
    expect(regs.read32(SCRATCH_REGS.DMA_STATUS)).toBe(1);
    expect(Array.from(dev.buffer.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    // a hostile address: memory that exists but was never mapped for this device
    const other = hw.memory.allocPages(1, "someone-else");
    regs.write32(SCRATCH_REGS.DMA_ADDR, other.address);
    regs.write32(SCRATCH_REGS.DMA_CMD, 2);
    expect(regs.read32(SCRATCH_REGS.DMA_STATUS)).toBe(2);
    // and one beyond the end of machine memory
    regs.write32(SCRATCH_REGS.DMA_ADDR, 0xfff00000);
    regs.write32(SCRATCH_REGS.DMA_CMD, 2);
    expect(regs.read32(SCRATCH_REGS.DMA_STATUS)).toBe(2);
    expect(hw.faults.entries("dma-blocked").map((f) => [f.address, f.requester, f.write])).toEqual([
      [other.address, "0000:00:03.0", true],
      [0xfff00000, "0000:00:03.0", true],
    ]);
    expect(fn.dma.blocked).toBe(3);
    expect(hw.memory.bytes[other.address]).toBe(0);
  });

  it("shares one INTx line between devices: both handlers run, the line stays up until both deassert", () => {
    const hw = hardwareFixture();
    const a = new ScratchDevice();
    const b = new ScratchDevice();
    // devices 3 and 7 both land on GSI 16 + (dev + pin - 1) % 4 = 19
    const fa = hw.bus.attach({ device: 3 }, a);
    const fb = hw.bus.attach({ device: 7 }, b);
    expect(fa.gsi).toBe(fb.gsi);
    const vector = hw.irq.lineVector(fa.gsi!);
    const calls: string[] = [];
    hw.irq.requestIrq(vector, () => {
      calls.push("a");
      if (!a.port) return IrqReturn.None;
      const mine = fa.config.status & R.PCI_STATUS_INTERRUPT;
      if (mine) a.reset();
      return mine ? IrqReturn.Handled : IrqReturn.None;
    }, { name: "drv-a", shared: true });
    hw.irq.requestIrq(vector, () => {
      calls.push("b");
      const mine = fb.config.status & R.PCI_STATUS_INTERRUPT;
      if (mine) b.reset();
      return mine ? IrqReturn.Handled : IrqReturn.None;
    }, { name: "drv-b", shared: true });
    expect(() => hw.irq.requestIrq(vector, () => IrqReturn.None, { name: "greedy" })).toThrow(/not shareable/);
    b.port!.setInterrupt(true);
    expect(calls).toEqual([]); // delivery is deferred, never re-entrant
    hw.clock.runUntilIdle();
    expect(calls).toEqual(["a", "b"]);
    expect(hw.irq.isLineAsserted(fa.gsi!)).toBe(false);
    const info = hw.irq.info().find((v) => v.vector === vector)!;
    expect(info.handlers).toEqual([
      { name: "drv-a", count: 0, shared: true },
      { name: "drv-b", count: 1, shared: true },
    ]);
  });

  it("honours INTx-disable and sends MSI messages instead when MSI is enabled", () => {
    const hw = hardwareFixture();
    const dev = new ScratchDevice({ msi: true });
    const fn = hw.bus.attach({ device: 4 }, dev);
    hw.bus.assignResources();
    const handle = new PciDeviceHandle(fn, hw.bus, hw.irq, hw.memory, "test");
    handle.enable();
    handle.setMaster(true);
    const vector = handle.enableMsi();
    expect(fn.config.intxDisabled).toBe(true);
    let hits = 0;
    hw.irq.requestIrq(vector, () => {
      hits++;
      return IrqReturn.Handled;
    }, { name: "msi" });
    const regs = handle.mapBar(0);
    regs.write32(SCRATCH_REGS.IRQ, 1);
    hw.clock.runUntilIdle();
    expect(hits).toBe(1);
    expect(hw.irq.isLineAsserted(fn.gsi!)).toBe(false);
    // MSI is edge-triggered: holding the condition does not re-send
    regs.write32(SCRATCH_REGS.IRQ, 1);
    hw.clock.runUntilIdle();
    expect(hits).toBe(1);
    regs.write32(SCRATCH_REGS.IRQ, 0);
    // masked: the edge is held and delivered on unmask
    hw.irq.mask(vector);
    regs.write32(SCRATCH_REGS.IRQ, 1);
    hw.clock.runUntilIdle();
    expect(hits).toBe(1);
    hw.irq.unmask(vector);
    hw.clock.runUntilIdle();
    expect(hits).toBe(2);
    // without bus mastering an MSI (a memory write) cannot leave the device
    regs.write32(SCRATCH_REGS.IRQ, 0);
    handle.setMaster(false);
    regs.write32(SCRATCH_REGS.IRQ, 1);
    hw.clock.runUntilIdle();
    expect(hits).toBe(2);
    expect(hw.faults.count("dma-bus-master-disabled")).toBe(1);
    // MSI off again: the function drives its INTx line, level-triggered
    handle.setMaster(true);
    handle.disableMsi();
    expect(fn.config.msiEnabled).toBe(false);
    regs.write32(SCRATCH_REGS.IRQ, 0);
    regs.write32(SCRATCH_REGS.IRQ, 1);
    expect(hw.irq.isLineAsserted(fn.gsi!)).toBe(true);
    regs.write32(SCRATCH_REGS.IRQ, 0);
    expect(hw.irq.isLineAsserted(fn.gsi!)).toBe(false);
  });
});
