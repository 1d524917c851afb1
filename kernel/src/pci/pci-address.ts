export interface PciSlot {
  segment?: number;
  bus?: number;
  device: number;
  function?: number;
}

export interface PciAddress {
  readonly segment: number;
  readonly bus: number;
  readonly device: number;
  readonly function: number;
}

export function toPciAddress(slot: PciSlot): PciAddress {
  const address = { segment: slot.segment ?? 0, bus: slot.bus ?? 0, device: slot.device, function: slot.function ?? 0 };
  if (!inRange(address.bus, 255) || !inRange(address.device, 31) || !inRange(address.function, 7) || !inRange(address.segment, 0xffff)) {
    throw new RangeError(`invalid PCI slot ${JSON.stringify(slot)}: bus 0-255, device 0-31, function 0-7`);
  }
  return address;
}

/** Linux's "ssss:bb:dd.f" notation, which ESX also prints. */
export function formatPciAddress(a: PciAddress): string {
  return `${hex(a.segment, 4)}:${hex(a.bus, 2)}:${hex(a.device, 2)}.${a.function}`;
}

export function parsePciAddress(text: string): PciAddress {
  const match = /^(?:([0-9a-f]{1,4}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a PCI address (expected ssss:bb:dd.f)`);
  return toPciAddress({
    segment: parseInt(match[1] ?? "0", 16),
    bus: parseInt(match[2]!, 16),
    device: parseInt(match[3]!, 16),
    function: parseInt(match[4]!, 10),
  });
}

function inRange(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max;
}

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, "0");
}
