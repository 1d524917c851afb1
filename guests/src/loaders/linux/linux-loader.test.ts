import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Cpu } from "../../cpu/cpu.js";
import { runInstructions } from "../../cpu/interpreter.js";
import { RecordingBus } from "../../cpu/system-harness.js";
import { assemble } from "../../cpu/test-support.js";
import { applyInitialCpuState } from "../apply-initial-cpu-state.js";
import { BootMemory } from "../boot-memory-layout.js";
import { buildE820Map, E820Type } from "../e820.js";
import { BOOT_CS, BOOT_DS, FLAT_CODE_ATTRIBUTES, FLAT_DATA_ATTRIBUTES } from "../initial-cpu-state.js";
import { BootParamsOffset, readBootParamsE820 } from "./boot-params.js";
import { loadLinuxKernel } from "./linux-loader.js";
import { LoadFlag, parseSetupHeader, SetupHeaderOffset } from "./setup-header.js";
import { buildSyntheticBzImage } from "./synthetic-bzimage.js";

const MiB = 1 << 20;
const payload = new Uint8Array(0x3000).map((_, i) => (i * 7) & 0xff);

function bootParamsOf(ram: ArrayBuffer) {
  const bytes = new Uint8Array(ram, BootMemory.BootParams, 4096);
  return { bytes, view: new DataView(ram, BootMemory.BootParams, 4096) };
}

describe("bzImage setup header", () => {
  it("reads the header fields of a 2.15 kernel", () => {
    const header = parseSetupHeader(
      buildSyntheticBzImage({ payload, setupSects: 0, kernelVersion: "6.1.0-test (vmk) #1", prefAddress: 0x1000000, initSize: 0x1234000, cmdlineSize: 2047 }),
    );
    expect(header).toMatchObject({
      setupSects: 4,
      protectedModeOffset: 5 * 512,
      protectedModeSize: payload.length,
      syssizeBytes: payload.length,
      version: 0x020f,
      kernelVersion: "6.1.0-test (vmk) #1",
      loadflags: LoadFlag.LoadedHigh,
      code32Start: 0x100000,
      initrdAddrMax: 0x7fffffff,
      kernelAlignment: 0x200000,
      relocatable: true,
      cmdlineSize: 2047,
      prefAddress: 0x1000000,
      initSize: 0x1234000,
      headerEnd: 0x26c,
    });
  });

  it("uses the protocol's defaults for fields older headers do not have", () => {
    const header = parseSetupHeader(buildSyntheticBzImage({ payload, version: 0x0204, setupSects: 10 }));
    expect(header).toMatchObject({ setupSects: 10, protectedModeOffset: 11 * 512, cmdlineSize: 255, relocatable: false, prefAddress: 0x100000, initSize: undefined });
  });

  it("rejects what it cannot boot, saying why", () => {
    expect(() => parseSetupHeader(new Uint8Array(100))).toThrow(/not a bzImage: 100 bytes is too short/);
    expect(() => parseSetupHeader(buildSyntheticBzImage({ payload, bootFlag: 0x1234 }))).toThrow(/not a bzImage: boot flag at 0x1FE is 0x1234/);
    expect(() => parseSetupHeader(buildSyntheticBzImage({ payload, magic: 0x12345678 }))).toThrow(/not a bzImage: no "HdrS" magic/);
    expect(() => parseSetupHeader(buildSyntheticBzImage({ payload, version: 0x0203 }))).toThrow("Linux boot protocol 2.03 is too old: vmk needs 2.04 or newer");
    expect(() => parseSetupHeader(buildSyntheticBzImage({ payload, loadflags: 0 }))).toThrow(/zImage \(LOADED_HIGH clear/);
    expect(() => parseSetupHeader(buildSyntheticBzImage({ payload, syssizeBytes: payload.length + 16 }))).toThrow(/truncated/);
  });
});

describe("Linux boot protocol loader", () => {
  it("loads the protected-mode kernel at 1 MiB and fills boot_params at the documented offsets", () => {
    const ram = new ArrayBuffer(64 * MiB);
    const kernel = buildSyntheticBzImage({ payload });
    const initrd = new Uint8Array(5000).fill(0x5a);
    const boot = loadLinuxKernel({ ram, kernel, initrd, commandLine: "console=ttyS0 earlyprintk=serial" });
    expect(new Uint8Array(ram, 0x100000, payload.length)).toEqual(payload);
    expect(boot.layout.kernel).toEqual({ start: 0x100000, end: 0x100000 + payload.length });

    const { bytes, view } = bootParamsOf(ram);
    expect(bytes[SetupHeaderOffset.SetupSects]).toBe(4);
    expect(view.getUint16(SetupHeaderOffset.BootFlag, true)).toBe(0xaa55);
    expect(view.getUint32(SetupHeaderOffset.Header, true)).toBe(0x53726448);
    expect(view.getUint16(SetupHeaderOffset.Version, true)).toBe(0x020f);
    expect(bytes[SetupHeaderOffset.TypeOfLoader]).toBe(0xff);
    expect(bytes[SetupHeaderOffset.Loadflags]).toBe(LoadFlag.LoadedHigh | LoadFlag.CanUseHeap);
    expect(view.getUint16(SetupHeaderOffset.HeapEndPtr, true)).toBe(0xfe00);
    expect(view.getUint32(SetupHeaderOffset.Code32Start, true)).toBe(0x100000);
    expect(view.getUint32(SetupHeaderOffset.CmdLinePtr, true)).toBe(BootMemory.CommandLine);
    expect(new TextDecoder().decode(new Uint8Array(ram, BootMemory.CommandLine, 33))).toBe("console=ttyS0 earlyprintk=serial\0");
    expect(view.getUint32(SetupHeaderOffset.RamdiskImage, true)).toBe(64 * MiB - 0x2000);
    expect(view.getUint32(SetupHeaderOffset.RamdiskSize, true)).toBe(5000);
    expect(new Uint8Array(ram, 64 * MiB - 0x2000, 5000).every((b) => b === 0x5a)).toBe(true);
    expect(view.getUint32(SetupHeaderOffset.CmdlineSize, true)).toBe(2047);
    // screen_info all zero (no VGA: the console is serial), the sentinel clear, nothing copied past the header.
    expect(bytes.subarray(0, 0x40).every((b) => b === 0 || b === bytes[BootParamsOffset.ScreenInfoExtMemK] || b === bytes[BootParamsOffset.ScreenInfoExtMemK + 1])).toBe(true);
    expect(bytes[BootParamsOffset.ScreenInfoOrigVideoIsVga]).toBe(0);
    expect(view.getUint16(BootParamsOffset.ScreenInfoExtMemK, true)).toBe(0xfc00);
    expect(view.getUint32(BootParamsOffset.AltMemK, true)).toBe(63 * 1024);
    expect(bytes[BootParamsOffset.Sentinel]).toBe(0);
    expect(bytes.subarray(0x26c, 0x290).every((b) => b === 0)).toBe(true);

    expect(bytes[BootParamsOffset.E820Entries]).toBe(3);
    expect(view.getUint32(BootParamsOffset.E820Table + 40, true)).toBe(0x100000);
    expect(view.getUint32(BootParamsOffset.E820Table + 48, true)).toBe(63 * MiB);
    expect(view.getUint32(BootParamsOffset.E820Table + 56, true)).toBe(E820Type.Ram);
    expect(readBootParamsE820(bytes)).toEqual(buildE820Map({ ramBytes: 64 * MiB }));
  });

  it("produces the 32-bit boot protocol entry state with a GDT backing __BOOT_CS and __BOOT_DS", () => {
    const ram = new ArrayBuffer(32 * MiB);
    const boot = loadLinuxKernel({ ram, kernel: buildSyntheticBzImage({ payload }) });
    const flatCode = { selector: BOOT_CS, base: 0, limit: 0xffffffff, attributes: FLAT_CODE_ATTRIBUTES };
    const flatData = { selector: BOOT_DS, base: 0, limit: 0xffffffff, attributes: FLAT_DATA_ATTRIBUTES };
    expect(boot.cpu).toEqual({
      registers: { eax: 0, ecx: 0, edx: 0, ebx: 0, esp: BootMemory.StackTop, ebp: 0, esi: BootMemory.BootParams, edi: 0 },
      eip: 0x100000,
      eflags: 0x2,
      segments: { es: flatData, cs: flatCode, ss: flatData, ds: flatData, fs: flatData, gs: flatData },
      gdtr: { base: BootMemory.Gdt, limit: 31 },
      idtr: { base: 0, limit: 0 },
      cr0: 0x11,
      a20Enabled: true,
    });
    const gdt = new DataView(ram, BootMemory.Gdt, 32);
    expect([gdt.getUint32(0x10, true), gdt.getUint32(0x14, true), gdt.getUint32(0x18, true), gdt.getUint32(0x1c, true)]).toEqual([
      0x0000ffff, 0x00cf9b00, 0x0000ffff, 0x00cf9300,
    ]);
    expect(boot.layout.initrd).toBeUndefined();
    expect(new DataView(ram).getUint32(BootMemory.BootParams + SetupHeaderOffset.RamdiskImage, true)).toBe(0);
  });

  it("places the initrd page-aligned as high as RAM and initrd_addr_max allow", () => {
    const kernel = buildSyntheticBzImage({ payload, initrdAddrMax: 0x00ffffff });
    const atTop = loadLinuxKernel({ ram: new ArrayBuffer(12 * MiB), kernel, initrd: new Uint8Array(0x1800) });
    expect(atTop.layout.initrd).toEqual({ start: 12 * MiB - 0x2000, end: 12 * MiB - 0x800 });
    const capped = loadLinuxKernel({ ram: new ArrayBuffer(64 * MiB), kernel, initrd: new Uint8Array(0x1800) });
    expect(capped.layout.initrd).toEqual({ start: 16 * MiB - 0x2000, end: 16 * MiB - 0x800 });
  });

  it("keeps the initrd clear of where a relocatable kernel decompresses (pref_address + init_size)", () => {
    const kernel = buildSyntheticBzImage({ payload, prefAddress: 0x1000000, initSize: 0x800000 });
    const boot = loadLinuxKernel({ ram: new ArrayBuffer(32 * MiB), kernel, initrd: new Uint8Array(4 * MiB) });
    expect(boot.layout.runtime).toEqual({ start: 0x1000000, end: 0x1800000 });
    expect(boot.layout.initrd!.start).toBeGreaterThanOrEqual(0x1800000);
    expect(() => loadLinuxKernel({ ram: new ArrayBuffer(32 * MiB), kernel, initrd: new Uint8Array(9 * MiB) })).toThrow(
      "too little memory for kernel + initrd: they need 0x2100000 (33 MiB) of RAM; this VM's RAM ends at 0x2000000 (32 MiB)",
    );
  });

  it("says so when the kernel alone does not fit", () => {
    const kernel = buildSyntheticBzImage({ payload, prefAddress: 0x1000000, initSize: 0x1000000 });
    expect(() => loadLinuxKernel({ ram: new ArrayBuffer(16 * MiB), kernel })).toThrow(
      "too little memory: the kernel needs RAM up to 0x2000000 (32 MiB) while it boots; this VM's RAM ends at 0x1000000 (16 MiB)",
    );
  });

  it("refuses an initrd that does not fit below initrd_addr_max", () => {
    const kernel = buildSyntheticBzImage({ payload, initrdAddrMax: 0x00ffffff, prefAddress: 0x1000000, initSize: 0x400000 });
    expect(() => loadLinuxKernel({ ram: new ArrayBuffer(64 * MiB), kernel, initrd: new Uint8Array(MiB) })).toThrow(
      "the initrd (1 MiB) does not fit below initrd_addr_max 0xffffff above the kernel, which occupies memory up to 0x1400000",
    );
  });

  it("refuses a command line longer than cmdline_size", () => {
    const kernel = buildSyntheticBzImage({ payload, cmdlineSize: 16 });
    expect(() => loadLinuxKernel({ ram: new ArrayBuffer(16 * MiB), kernel, commandLine: "console=ttyS0,115200" })).toThrow(
      "command line is 20 bytes; this kernel accepts at most 16",
    );
    expect(() => loadLinuxKernel({ ram: new ArrayBuffer(16 * MiB), kernel, commandLine: "console=ttyS0" })).not.toThrow();
  });

  it("starts the kernel: the CPU enters at code32_start with ESI at boot_params and the selectors usable", () => {
    const code = assemble(`
      bits 32
      org 0x100000
        xor eax, eax
        mov ax, cs
        out 0xec, eax
        mov ax, ds
        out 0xec, eax
        mov ax, ss
        out 0xec, eax
        mov eax, esi
        out 0xec, eax
        mov eax, [esi + 0x202]
        out 0xec, eax
        mov ebx, [esi + 0x228]
        movzx eax, byte [ebx]
        out 0xec, eax
        mov ebx, [esi + 0x218]
        mov eax, [ebx]
        out 0xec, eax
        movzx eax, byte [esi + 0x1e8]
        out 0xec, eax
        pushfd
        pop eax
        and eax, 0x600
        out 0xec, eax
        mov eax, cr0
        out 0xec, eax
        mov ax, 0x18
        mov es, ax
        jmp 0x10:reloaded
      reloaded:
        mov eax, 0x600d
        out 0xec, eax
        hlt
    `);
    const bus = new RecordingBus(32 * MiB);
    const boot = loadLinuxKernel({
      ram: bus.ram,
      kernel: buildSyntheticBzImage({ payload: code }),
      initrd: new Uint8Array([0x78, 0x56, 0x34, 0x12]),
      commandLine: "root=/dev/ram0",
    });
    const cpu = new Cpu(bus);
    applyInitialCpuState(cpu, boot.cpu);
    for (let i = 0; i < 100 && !cpu.halted; i++) runInstructions(cpu, 1000);
    const values = bus.events.filter((e) => e.kind === "value").map((e) => e.value);
    expect(values).toEqual([0x10, 0x18, 0x18, BootMemory.BootParams, 0x53726448, "r".charCodeAt(0), 0x12345678, 3, 0, 0x11, 0x600d]);
  });
});

const cacheDir = process.env.VMK_CACHE ?? join(homedir(), ".cache", "vmk", "guest");
const debianKernel = join(cacheDir, "vmlinuz");

describe.skipIf(!existsSync(debianKernel))("Debian's i386 kernel (from scripts/fetch-guest-images.mjs)", () => {
  it("parses as a relocatable bzImage of protocol 2.15 and loads with an initrd", () => {
    const kernel = new Uint8Array(readFileSync(debianKernel));
    const header = parseSetupHeader(kernel);
    expect(header.version).toBeGreaterThanOrEqual(0x020a);
    expect(header.relocatable).toBe(true);
    expect(header.kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-686/);
    expect(header.initSize).toBeGreaterThan(header.protectedModeSize);
    const boot = loadLinuxKernel({ ram: new ArrayBuffer(256 * MiB), kernel, initrd: new Uint8Array(2 * MiB), commandLine: "console=ttyS0" });
    expect(boot.layout.initrd!.start).toBeGreaterThanOrEqual(boot.layout.runtime.end);
  });
});
