/** Bits of CONFIG_ADDRESS (port 0xCF8) in configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2). */
export const CONFIG_ADDRESS_ENABLE = 0x8000_0000;
/** Bits the register stores: enable, bus, device, function, dword register; 30:24 and 1:0 read as zero. */
export const CONFIG_ADDRESS_WRITABLE = 0x80ff_fffc;

export interface DecodedConfigAddress {
  enabled: boolean;
  bus: number;
  device: number;
  function: number;
  /** Dword-aligned register offset (bits 7:2). */
  register: number;
}

export function decodeConfigAddress(value: number): DecodedConfigAddress {
  return {
    enabled: (value & CONFIG_ADDRESS_ENABLE) !== 0,
    bus: (value >>> 16) & 0xff,
    device: (value >>> 11) & 0x1f,
    function: (value >>> 8) & 0x7,
    register: value & 0xfc,
  };
}

export function encodeConfigAddress(bus: number, device: number, func: number, register: number): number {
  return (CONFIG_ADDRESS_ENABLE | ((bus & 0xff) << 16) | ((device & 0x1f) << 11) | ((func & 7) << 8) | (register & 0xfc)) >>> 0;
}
