import { describe, expect, it } from "vitest";
import { biosRomLayout, loadBiosRom } from "./bios-rom.js";

/** A ROM whose every 64 KiB sector starts with its number, so a mapping shows which part went where. */
function rom(kib: number): Uint8Array {
  const image = new Uint8Array(kib * 1024);
  for (let sector = 0; sector < kib / 64; sector++) image[sector * 0x10000] = 0xa0 + sector;
  image[image.length - 16] = 0xea; // the reset vector's far jump
  return image;
}

describe("a firmware ROM's place in the address space", () => {
  it("ends the whole image at 4 GiB and its last 128 KiB (at most) at 1 MiB, as QEMU's PC maps -bios", () => {
    expect(biosRomLayout(64 * 1024)).toEqual({ romBytes: 0x10000, highBase: 0xffff0000, isaBase: 0xf0000, isaBytes: 0x10000 });
    expect(biosRomLayout(128 * 1024)).toEqual({ romBytes: 0x20000, highBase: 0xfffe0000, isaBase: 0xe0000, isaBytes: 0x20000 });
    expect(biosRomLayout(256 * 1024)).toEqual({ romBytes: 0x40000, highBase: 0xfffc0000, isaBase: 0xe0000, isaBytes: 0x20000 });
  });

  it("copies the tail into RAM below 1 MiB and serves the whole image, read-only, from the top of 4 GiB", () => {
    const ram = new Uint8Array(2 << 20);
    const image = rom(256);
    const { layout, highRom } = loadBiosRom(ram, image);
    // Sectors 2 and 3 of 0..3 are the last 128 KiB: they land at 0xE0000 and 0xF0000.
    expect(ram[0xe0000]).toBe(0xa2);
    expect(ram[0xf0000]).toBe(0xa3);
    expect(ram[0xffff0]).toBe(0xea);
    expect(ram[0xdffff]).toBe(0);
    expect(highRom.read(0, 1)).toBe(0xa0);
    expect(highRom.read(layout.romBytes - 16, 1)).toBe(0xea);
    expect(highRom.read(0x30000, 4)).toBe(0xa3);
    highRom.write(0, 1, 0x55);
    expect(highRom.read(0, 1)).toBe(0xa0);
    // The image is the ROM's own copy: changing the caller's buffer afterwards changes nothing.
    image[0] = 0x11;
    expect(highRom.read(0, 1)).toBe(0xa0);
  });

  it("refuses images no PC board decodes and guests without the RAM under the ISA window", () => {
    expect(() => biosRomLayout(1000)).toThrow(/multiple of 64 KiB/);
    expect(() => biosRomLayout(0)).toThrow(/multiple of 64 KiB/);
    expect(() => biosRomLayout(32 * 1024 * 1024)).toThrow(/at most 16 MiB/);
    expect(() => loadBiosRom(new Uint8Array(512 * 1024), rom(64))).toThrow(/at least 1 MiB/);
  });
});
