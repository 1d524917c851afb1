import { describe, expect, it } from "vitest";
import type { CpuBus } from "../cpu/bus.js";
import { Cpu } from "../cpu/cpu.js";
import { runInstructions } from "../cpu/interpreter.js";
import { assemble } from "../cpu/test-support.js";
import { applyInitialCpuState } from "../loaders/apply-initial-cpu-state.js";
import { loadMultibootKernel } from "../loaders/multiboot/multiboot-loader.js";
import { ScratchCard, pciMachine } from "./test-support.js";
import { setupPciLikeFirmware } from "./pci-firmware-setup.js";

describe("a guest kernel on the i440FX board", () => {
  it("finds the chipset and a card by configuration mechanism #1 and reaches the card's BAR by MMIO", () => {
    const machine = pciMachine(8 << 20);
    const card = new ScratchCard();
    card.registers[0]![0] = 0x0badcafe;
    machine.host.bus.attach({ device: 3 }, card);
    setupPciLikeFirmware(machine.platform.ports, { ramBytes: 8 << 20 });
    const bus: CpuBus = {
      memory: machine.memory,
      mmioRead: (address, size) => machine.mmio.read(address >>> 0, size),
      mmioWrite: (address, size, value) => machine.mmio.write(address >>> 0, size, value),
      portIn: (port, size) => machine.platform.portIn(port, size),
      portOut: (port, size, value) => machine.platform.portOut(port, size, value),
    };
    const reports: number[] = [];
    machine.platform.ports.map("test report", 0xec, 4, { read: () => 0, write: (_o, _w, v) => reports.push(v >>> 0) });
    const image = assemble(`
      bits 32
      org 0x100000
        dd 0x1badb002, 0x00010000, -(0x1badb002 + 0x00010000)
        dd 0x100000, 0x100000, 0, 0, start
      start:
        mov dx, 0xcf8
        mov eax, 0x80000000          ; 00:00.0 vendor/device
        out dx, eax
        mov dx, 0xcfc
        in eax, dx
        out 0xec, eax
        mov dx, 0xcf8
        mov eax, 0x80000800          ; 00:01.0
        out dx, eax
        mov dx, 0xcfc
        in eax, dx
        out 0xec, eax
        mov dx, 0xcf8
        mov eax, 0x80001810          ; 00:03.0 BAR0
        out dx, eax
        mov dx, 0xcfc
        in eax, dx
        out 0xec, eax
        mov ebx, eax
        and ebx, 0xfffffff0
        mov eax, [ebx]
        out 0xec, eax
        mov dx, 0xcf8
        mov eax, 0x8000183c          ; interrupt line
        out dx, eax
        mov dx, 0xcfc
        in al, dx
        movzx eax, al
        out 0xec, eax
        hlt
    `);
    const boot = loadMultibootKernel({ ram: machine.ram, image });
    const cpu = new Cpu(bus);
    applyInitialCpuState(cpu, boot.cpu);
    for (let i = 0; i < 50 && !cpu.halted; i++) runInstructions(cpu, 1000);
    expect(reports).toEqual([0x12378086, 0x70008086, 0xe0000000, 0x0badcafe, 11]);
  });
});
