import { describe, expect, it } from "vitest";
import { Cpu } from "../../cpu/cpu.js";
import { runInstructions } from "../../cpu/interpreter.js";
import { RecordingBus } from "../../cpu/system-harness.js";
import { assemble } from "../../cpu/test-support.js";
import { applyInitialCpuState } from "../apply-initial-cpu-state.js";
import { buildE820Map } from "../e820.js";
import { BOOT_CS, BOOT_DS } from "../initial-cpu-state.js";
import { findMultibootHeader } from "./multiboot-header.js";
import { MULTIBOOT_BOOTLOADER_MAGIC, MultibootInfoFlag, MultibootInfoOffset } from "./multiboot-info.js";
import { loadMultibootKernel } from "./multiboot-loader.js";

const MiB = 1 << 20;

interface ElfSegment {
  vaddr: number;
  paddr: number;
  data: Uint8Array;
  memsz: number;
}

/** An ELF32 i386 executable: header, program headers, each segment's bytes at a page-aligned file offset. */
function elf32(entry: number, segments: ElfSegment[], machine = 3): Uint8Array {
  const offsets = segments.map((_, i) => 0x1000 * (i + 1));
  const file = new Uint8Array(0x1000 * (segments.length + 1));
  const view = new DataView(file.buffer);
  file.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  view.setUint16(16, 2, true);
  view.setUint16(18, machine, true);
  view.setUint32(20, 1, true);
  view.setUint32(24, entry, true);
  view.setUint32(28, 52, true);
  view.setUint16(40, 52, true);
  view.setUint16(42, 32, true);
  view.setUint16(44, segments.length, true);
  segments.forEach((segment, i) => {
    const at = 52 + i * 32;
    for (const [k, value] of [1, offsets[i]!, segment.vaddr, segment.paddr, segment.data.length, segment.memsz, 7, 0x1000].entries()) view.setUint32(at + k * 4, value, true);
    file.set(segment.data, offsets[i]!);
  });
  return file;
}

function header(flags: number, fields: number[] = []): Uint8Array {
  const bytes = new Uint8Array(12 + fields.length * 4);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x1badb002, true);
  view.setUint32(4, flags, true);
  view.setUint32(8, -(0x1badb002 + flags) >>> 0, true);
  fields.forEach((value, i) => view.setUint32(12 + i * 4, value, true));
  return bytes;
}

const REPORTING_KERNEL = `
  bits 32
  org 0x100000
  data_word equ 0x101000
  bss_probe equ 0x101800
    dd 0x1badb002, 0x00000003, -(0x1badb002 + 3)
  start:
    out 0xec, eax
    mov eax, ebx
    out 0xec, eax
    mov eax, [ebx]
    out 0xec, eax
    mov eax, [ebx + 4]
    out 0xec, eax
    mov eax, [ebx + 8]
    out 0xec, eax
    mov esi, [ebx + 16]
    movzx eax, byte [esi]
    out 0xec, eax
    mov eax, [ebx + 20]
    out 0xec, eax
    mov esi, [ebx + 24]
    mov esi, [esi]
    mov eax, [esi]
    out 0xec, eax
    mov eax, [ebx + 44]
    out 0xec, eax
    mov eax, [data_word]
    out 0xec, eax
    mov eax, [bss_probe]
    out 0xec, eax
    xor eax, eax
    mov ax, cs
    out 0xec, eax
    mov ax, ss
    out 0xec, eax
    hlt
`;

function run(ram: RecordingBus, boot: ReturnType<typeof loadMultibootKernel>): number[] {
  const cpu = new Cpu(ram);
  applyInitialCpuState(cpu, boot.cpu);
  for (let i = 0; i < 100 && !cpu.halted; i++) runInstructions(cpu, 1000);
  return ram.events.filter((e) => e.kind === "value").map((e) => e.value);
}

function reportingElf(vaddrOffset = 0): Uint8Array {
  return elf32(0x10000c + vaddrOffset, [
    { vaddr: 0x100000 + vaddrOffset, paddr: 0x100000, data: assemble(REPORTING_KERNEL), memsz: 0x1000 },
    { vaddr: 0x101000 + vaddrOffset, paddr: 0x101000, data: new Uint8Array([0xed, 0xfe, 0x0d, 0xd0]), memsz: 0x2000 },
  ]);
}

describe("multiboot header", () => {
  it("is found 32-bit aligned in the first 8 KiB with a valid checksum", () => {
    const image = new Uint8Array(8192);
    image.set(header(0x3), 0x1ff0);
    expect(findMultibootHeader(image)).toMatchObject({ offset: 0x1ff0, flags: 3, addressFields: undefined });
    const beyond = new Uint8Array(9000);
    beyond.set(header(0x3), 8192);
    expect(() => findMultibootHeader(beyond)).toThrow("not a multiboot image: no header with magic 0x1badb002 and a valid checksum in the first 8 KiB");
    const badChecksum = header(0x3);
    badChecksum[8]! ^= 1;
    expect(() => findMultibootHeader(badChecksum)).toThrow(/not a multiboot image/);
  });

  it("refuses requirement bits it cannot satisfy", () => {
    expect(() => findMultibootHeader(header(0x0000000b))).toThrow("the multiboot header requires features 0x8 that vmk's loader does not provide");
  });
});

describe("multiboot loader", () => {
  it("loads an ELF kernel at its physical addresses, zeroes bss and enters it with EAX/EBX set", () => {
    const bus = new RecordingBus(32 * MiB);
    bus.ram.fill(0xcc, 0x101000, 0x103000);
    const boot = loadMultibootKernel({ ram: bus.ram, image: reportingElf(), commandLine: "kernel quiet", modules: [{ data: new Uint8Array([1, 2, 3, 4, 5]), commandLine: "initrd" }] });
    expect(boot.format).toBe("elf");
    expect(boot.entry).toBe(0x10000c);
    expect(boot.kernel).toEqual({ start: 0x100000, end: 0x103000 });
    expect(boot.cpu.registers).toMatchObject({ eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: boot.infoAddress });
    expect(boot.cpu.segments.cs.selector).toBe(BOOT_CS);
    expect(boot.cpu.segments.ds.selector).toBe(BOOT_DS);
    expect(boot.cpu.cr0 & 0x80000001).toBe(1);
    expect(run(bus, boot)).toEqual([
      0x2badb002,
      boot.infoAddress,
      MultibootInfoFlag.Memory | MultibootInfoFlag.Cmdline | MultibootInfoFlag.Modules | MultibootInfoFlag.MemoryMap | MultibootInfoFlag.BootLoaderName,
      639,
      31 * 1024,
      "k".charCodeAt(0),
      1,
      0x04030201,
      3 * 24,
      0xd00dfeed,
      0,
      BOOT_CS,
      BOOT_DS,
    ]);
  });

  it("translates a higher-half ELF entry point to its physical address", () => {
    const boot = loadMultibootKernel({ ram: new ArrayBuffer(16 * MiB), image: reportingElf(0xc0000000) });
    expect(boot.entry).toBe(0x10000c);
    expect(boot.kernel).toEqual({ start: 0x100000, end: 0x103000 });
  });

  it("loads an a.out-kludge image by its header's address fields", () => {
    const image = assemble(`
      bits 32
      org 0x200000
      load_start:
        db "padding before the header"
        align 4, db 0
      mb:
        dd 0x1badb002, 0x00010002, -(0x1badb002 + 0x00010002)
        dd mb, load_start, load_end, bss_end, entry
      entry:
        out 0xec, eax
        mov eax, [load_end]
        out 0xec, eax
        mov eax, [marker]
        out 0xec, eax
        hlt
      marker: dd 0xa0a0a0a0
      load_end:
        times 64 db 0xee
      bss_end equ load_end + 0x1000
    `);
    const bus = new RecordingBus(16 * MiB);
    bus.ram.fill(0xcc, 0x200000, 0x202000);
    const boot = loadMultibootKernel({ ram: bus.ram, image });
    expect(boot.format).toBe("a.out kludge");
    expect(boot.kernel).toEqual({ start: 0x200000, end: 0x200000 + image.length - 64 + 0x1000 });
    expect(bus.ram.subarray(0x200000, 0x200000 + 25)).toEqual(image.subarray(0, 25));
    expect(run(bus, boot)).toEqual([0x2badb002, 0, 0xa0a0a0a0]);
  });

  it("places modules page-aligned after the kernel with their command lines", () => {
    const ram = new ArrayBuffer(32 * MiB);
    const first = new Uint8Array(5000).fill(0x11);
    const second = new Uint8Array(10).fill(0x22);
    const boot = loadMultibootKernel({ ram, image: reportingElf(), modules: [{ data: first, commandLine: "/boot/initrd.img" }, { data: second }] });
    expect(boot.modules).toEqual([
      { start: 0x103000, end: 0x103000 + 5000, commandLine: "/boot/initrd.img" },
      { start: 0x105000, end: 0x10500a, commandLine: "" },
    ]);
    const view = new DataView(ram);
    const bytes = new Uint8Array(ram);
    const info = (offset: number) => view.getUint32(boot.infoAddress + offset, true);
    expect(info(MultibootInfoOffset.ModsCount)).toBe(2);
    const table = info(MultibootInfoOffset.ModsAddr);
    expect([view.getUint32(table, true), view.getUint32(table + 4, true), view.getUint32(table + 16, true), view.getUint32(table + 20, true)]).toEqual([
      0x103000, 0x103000 + 5000, 0x105000, 0x10500a,
    ]);
    const cString = (address: number) => new TextDecoder().decode(bytes.subarray(address, bytes.indexOf(0, address)));
    expect(cString(view.getUint32(table + 8, true))).toBe("/boot/initrd.img");
    expect(cString(view.getUint32(table + 24, true))).toBe("");
    expect(cString(info(MultibootInfoOffset.BootLoaderName))).toBe("vmk");
    expect(bytes.subarray(0x103000, 0x103000 + 5000).every((b) => b === 0x11)).toBe(true);
    expect(bytes.subarray(0x105000, 0x10500a).every((b) => b === 0x22)).toBe(true);
  });

  it("passes the e820 map as the multiboot memory map", () => {
    const ram = new ArrayBuffer(32 * MiB);
    const e820 = buildE820Map({ ramBytes: 32 * MiB, firmwareRomBytes: 0x40000 });
    const boot = loadMultibootKernel({ ram, image: reportingElf(), e820 });
    const view = new DataView(ram);
    const length = view.getUint32(boot.infoAddress + MultibootInfoOffset.MmapLength, true);
    let at = view.getUint32(boot.infoAddress + MultibootInfoOffset.MmapAddr, true);
    const end = at + length;
    const read = [];
    while (at < end) {
      const size = view.getUint32(at, true);
      read.push({
        address: view.getUint32(at + 4, true) + view.getUint32(at + 8, true) * 2 ** 32,
        size: view.getUint32(at + 12, true) + view.getUint32(at + 16, true) * 2 ** 32,
        type: view.getUint32(at + 20, true),
      });
      at += size + 4;
    }
    expect(read).toEqual(e820);
    expect(view.getUint32(boot.infoAddress + MultibootInfoOffset.MemUpper, true)).toBe(31 * 1024);
  });

  it("warns that a requested video mode is not provided, and boots anyway", () => {
    const image = elf32(0x100000, [{ vaddr: 0x100000, paddr: 0x100000, data: header(0x7, [0, 0, 0, 0, 0, 1, 80, 25, 0]), memsz: 0x100 }]);
    expect(loadMultibootKernel({ ram: new ArrayBuffer(8 * MiB), image }).warnings).toEqual([
      "the kernel asked for a video mode; vmk leaves the display in text mode and passes no video information",
    ]);
  });

  it("rejects images it cannot place, saying why", () => {
    const ram = () => new ArrayBuffer(16 * MiB);
    expect(() => loadMultibootKernel({ ram: ram(), image: header(0x3) })).toThrow("not an ELF executable, and the multiboot header has no address fields (flag 16)");
    const at = (paddr: number) => elf32(paddr, [{ vaddr: paddr, paddr, data: header(0x3), memsz: 0x1000 }]);
    expect(() => loadMultibootKernel({ ram: ram(), image: at(0x2000000) })).toThrow(
      "kernel segment [0x2000000, 0x2001000) is not in guest RAM (RAM ends at 0x1000000, 16 MiB)",
    );
    expect(() => loadMultibootKernel({ ram: ram(), image: at(0x8000) })).toThrow("kernel segment [0x8000, 0x9000) overlaps the boot data area [0x5000, 0x80000)");
    expect(() => loadMultibootKernel({ ram: ram(), image: elf32(0x100000, [{ vaddr: 0x100000, paddr: 0x100000, data: header(0x3), memsz: 0x10 }], 62) })).toThrow(
      "cannot load the kernel: ELF file is not for i386 (e_machine 62)",
    );
    expect(() => loadMultibootKernel({ ram: ram(), image: at(0x100000), modules: [{ data: new Uint8Array(15 * MiB) }] })).toThrow(
      "too little memory for module 0 (15 MiB): it would end at 0x1001000, RAM ends at 0x1000000",
    );
    const kludge = header(0x00010000, [0x100010, 0x100000, 0x200000, 0, 0x100000]);
    expect(() => loadMultibootKernel({ ram: ram(), image: kludge })).toThrow(/load_addr 0x100000 would start 16 bytes before the beginning of the file/);
  });
});

