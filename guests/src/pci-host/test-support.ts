import { AddressSpace, PciConfigSpace, VirtualClock, type AccessWidth, type PciDeviceModel, type PciDevicePort } from "@vmk/kernel";
import { GuestMemory } from "../cpu/guest-memory.js";
import { PcPlatform } from "../platform/pc-platform.js";
import { I440fxPciHost } from "./i440fx-pci-host.js";

/** A small card for bus tests: an I/O BAR of 32 bytes, a 4 KiB memory BAR, INTA#, registers in RAM. */
export class ScratchCard implements PciDeviceModel {
  readonly modelName = "scratch card";
  readonly config = new PciConfigSpace({
    vendorId: 0x1234,
    deviceId: 0x5678,
    classCode: 0xff0000,
    interruptPin: 1,
    bars: [
      { index: 0, kind: "memory", size: 4096 },
      { index: 1, kind: "io", size: 32 },
    ],
  });
  readonly registers = [new Uint32Array(1024), new Uint32Array(8)];
  port: PciDevicePort | undefined;

  barRead(bar: number, offset: number, width: AccessWidth): number {
    const word = this.registers[bar]![offset >>> 2]!;
    return width === 4 ? word : (word >>> (8 * (offset & 3))) & ((1 << (8 * width)) - 1);
  }

  barWrite(bar: number, offset: number, width: AccessWidth, value: number): void {
    if (width === 4) this.registers[bar]![offset >>> 2] = value;
  }

  attach(port: PciDevicePort): void {
    this.port = port;
  }

  reset(): void {
    this.config.reset();
  }
}

/** The legacy platform with the i440FX PCI host on its port space, over `ramBytes` of RAM. */
export function pciMachine(ramBytes = 16 << 20) {
  const clock = new VirtualClock();
  const platform = new PcPlatform({ clock, ramBytes });
  const mmio = new AddressSpace("guest mmio", 2 ** 32, platform.faults, "mmio-unclaimed");
  const memory = new GuestMemory(ramBytes);
  const ram = memory.ram;
  const resets: boolean[] = [];
  const host = new I440fxPciHost({
    ports: platform.ports,
    mmio,
    ram,
    clock,
    faults: platform.faults,
    isaIrq: (irq) => platform.pic.line(irq),
    onResetRequest: (hard) => resets.push(hard),
  });
  const outl = (port: number, value: number) => platform.portOut(port, 4, value);
  const inl = (port: number) => platform.portIn(port, 4) >>> 0;
  return { clock, platform, mmio, memory, ram, host, resets, outl, inl };
}
