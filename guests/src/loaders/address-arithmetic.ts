/** Small address helpers the loaders share (internal: not part of the package's exports). */
export const PAGE_SIZE = 4096;

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

export function alignDown(value: number, alignment: number): number {
  return Math.floor(value / alignment) * alignment;
}

export function hex(value: number): string {
  return "0x" + value.toString(16);
}

export function mebibytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}
