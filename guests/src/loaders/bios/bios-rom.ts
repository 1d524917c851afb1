import type { AccessWidth, IoRegionHandler } from "@vmk/kernel";

/** The ISA BIOS window: the top 128 KiB below 1 MiB (0xE0000–0xFFFFF), where real-mode code finds the BIOS. */
export const ISA_BIOS_WINDOW_BYTES = 128 * 1024;
const ONE_MIB = 0x100000;
const FOUR_GIB = 2 ** 32;
/** Flash parts come in 64 KiB sectors; QEMU's PC refuses other sizes too. */
const ROM_GRANULE = 64 * 1024;
/** The most a PC's firmware hub decodes below 4 GiB. */
const MAX_ROM_BYTES = 16 * 1024 * 1024;

/** Where a firmware image appears in the guest's physical address space. */
export interface BiosRomLayout {
  romBytes: number;
  /** The whole image, ending at 4 GiB: the reset vector is its last 16 bytes (0xFFFFFFF0). */
  highBase: number;
  /** Its last min(size, 128 KiB) also end at 1 MiB, where the BIOS runs after the first far jump. */
  isaBase: number;
  isaBytes: number;
}

/**
 * Where a PC's firmware image goes, as the i440FX board decodes it: the whole ROM at the top of the
 * 32-bit address space (the processor starts at F000:FFF0 with CS base 0xFFFF0000, i.e. 16 bytes below
 * 4 GiB) and its tail aliased at the top of the ISA area, ending at 1 MiB.
 */
export function biosRomLayout(romBytes: number): BiosRomLayout {
  if (romBytes <= 0 || romBytes % ROM_GRANULE !== 0 || romBytes > MAX_ROM_BYTES) {
    throw new Error(`a BIOS image must be a multiple of 64 KiB and at most 16 MiB; this one is ${romBytes} bytes`);
  }
  const isaBytes = Math.min(romBytes, ISA_BIOS_WINDOW_BYTES);
  return { romBytes, highBase: FOUR_GIB - romBytes, isaBase: ONE_MIB - isaBytes, isaBytes };
}

/**
 * Puts a firmware image in place for a power-on: its ISA-window tail is copied into guest RAM below
 * 1 MiB, as if the chipset's PAM registers already mapped shadow RAM there read-write (the window is
 * RAM the BIOS may write, which is what SeaBIOS arranges first anyway), and the returned handler is
 * the read-only ROM at the top of 4 GiB, to be mapped at `layout.highBase`.
 */
export function loadBiosRom(ram: Uint8Array, rom: Uint8Array): { layout: BiosRomLayout; highRom: IoRegionHandler } {
  const layout = biosRomLayout(rom.length);
  if (ram.length < ONE_MIB) throw new Error(`the BIOS needs at least 1 MiB of guest RAM for its ISA window; the VM has ${ram.length} bytes`);
  ram.set(rom.subarray(rom.length - layout.isaBytes), layout.isaBase);
  const image = rom.slice();
  const highRom: IoRegionHandler = {
    read(offset: number, width: AccessWidth): number {
      let value = 0;
      for (let i = width - 1; i >= 0; i--) value = value * 256 + image[offset + i]!;
      return value;
    },
    // Flash without its command protocol: writes are dropped, as on a ROM.
    write(): void {},
  };
  return { layout, highRom };
}
