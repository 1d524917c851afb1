/**
 * MAC addresses. The switching fast path keys tables by two unsigned integers (the high 16 and low 32
 * bits) read straight from the frame, so no string or object is made per frame.
 */
export const MAC_LENGTH = 6;

export const BROADCAST_MAC: Readonly<Uint8Array> = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Bits 47..32 of the address at `offset`. */
export function macHigh(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

/** Bits 31..0 of the address at `offset`, unsigned. */
export function macLow(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 2]! << 24) | (bytes[offset + 3]! << 16) | (bytes[offset + 4]! << 8) | bytes[offset + 5]!) >>> 0;
}

/** The I/G bit: group (broadcast or multicast) addresses are flooded, never learned. */
export function isGroupMac(bytes: Uint8Array, offset = 0): boolean {
  return (bytes[offset]! & 1) !== 0;
}

export function isBroadcastMac(bytes: Uint8Array, offset = 0): boolean {
  return macHigh(bytes, offset) === 0xffff && macLow(bytes, offset) === 0xffffffff;
}

export function macEquals(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): boolean {
  for (let i = 0; i < MAC_LENGTH; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  return true;
}

export function formatMac(bytes: Uint8Array, offset = 0): string {
  let text = "";
  for (let i = 0; i < MAC_LENGTH; i++) {
    if (i > 0) text += ":";
    text += bytes[offset + i]!.toString(16).padStart(2, "0");
  }
  return text;
}

/** Accepts "00:50:56:aa:bb:cc" or "00-50-56-AA-BB-CC". */
export function parseMac(text: string): Uint8Array {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== MAC_LENGTH || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new Error(`invalid MAC address "${text}"`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function copyMac(mac: Uint8Array): Uint8Array {
  if (mac.length !== MAC_LENGTH) throw new Error(`a MAC address has 6 bytes, got ${mac.length}`);
  return Uint8Array.from(mac);
}
