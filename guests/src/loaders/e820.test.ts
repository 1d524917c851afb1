import { describe, expect, it } from "vitest";
import { buildE820Map, E820Type, isUsableRam, legacyMemorySizes, usableRamEndBelow4G, writeE820Entries } from "./e820.js";

describe("e820 memory map", () => {
  it("lays out conventional RAM, the reserved legacy hole and RAM from 1 MiB", () => {
    expect(buildE820Map({ ramBytes: 128 << 20 })).toEqual([
      { address: 0, size: 0x9fc00, type: E820Type.Ram },
      { address: 0x9fc00, size: 0x100000 - 0x9fc00, type: E820Type.Reserved },
      { address: 0x100000, size: (128 << 20) - 0x100000, type: E820Type.Ram },
    ]);
  });

  it("reserves from 640 KiB without an EBDA, and the firmware ROM below 4 GiB when there is one", () => {
    const map = buildE820Map({ ramBytes: 64 << 20, ebdaBytes: 0, firmwareRomBytes: 256 << 10 });
    expect(map[0]).toEqual({ address: 0, size: 0xa0000, type: E820Type.Ram });
    expect(map[1]).toEqual({ address: 0xa0000, size: 0x60000, type: E820Type.Reserved });
    expect(map[3]).toEqual({ address: 0xfffc0000, size: 0x40000, type: E820Type.Reserved });
  });

  it("refuses RAM that does not end between 1 MiB and the PCI hole", () => {
    expect(() => buildE820Map({ ramBytes: 1 << 20 })).toThrow(/too small/);
    expect(() => buildE820Map({ ramBytes: 0xe0001000 })).toThrow(/does not fit below the PCI hole at 0xe0000000/);
    expect(buildE820Map({ ramBytes: 0xe0000000 })[2]!.size).toBe(0xe0000000 - 0x100000);
  });

  it("writes 20-byte entries: u64 address, u64 size, u32 type", () => {
    const view = new DataView(new ArrayBuffer(60));
    expect(writeE820Entries(view, 0, buildE820Map({ ramBytes: 32 << 20, firmwareRomBytes: 0x40000 }).slice(2))).toBe(2);
    expect([view.getUint32(0, true), view.getUint32(4, true), view.getUint32(8, true), view.getUint32(12, true), view.getUint32(16, true)]).toEqual([
      0x100000, 0, (32 << 20) - 0x100000, 0, 1,
    ]);
    expect([view.getUint32(20, true), view.getUint32(28, true), view.getUint32(36, true)]).toEqual([0xfffc0000, 0x40000, 2]);
  });

  it("answers the questions loaders ask of it", () => {
    const map = buildE820Map({ ramBytes: 32 << 20 });
    expect(usableRamEndBelow4G(map)).toBe(32 << 20);
    expect(legacyMemorySizes(map)).toEqual({ lowerKiB: 639, upperKiB: 31 * 1024 });
    expect(isUsableRam(map, 0x100000, 0x1000)).toBe(true);
    expect(isUsableRam(map, 0x9f000, 0x1000)).toBe(false);
    expect(isUsableRam(map, (32 << 20) - 0x800, 0x1000)).toBe(false);
  });
});
