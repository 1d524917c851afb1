import { hex } from "./address-arithmetic.js";

/**
 * Bounds-checked writes into guest RAM for loaders: a kernel image that reaches past the end of RAM is
 * a loader error with the offending range, never a silently truncated copy.
 */
export class GuestRamWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(ram: ArrayBuffer | Uint8Array) {
    this.bytes = ram instanceof Uint8Array ? ram : new Uint8Array(ram);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  get size(): number {
    return this.bytes.length;
  }

  write(address: number, data: Uint8Array): void {
    this.check(address, data.length);
    this.bytes.set(data, address);
  }

  fill(address: number, length: number, value: number): void {
    this.check(address, length);
    this.bytes.fill(value, address, address + length);
  }

  writeU8(address: number, value: number): void {
    this.check(address, 1);
    this.view.setUint8(address, value);
  }

  writeU16(address: number, value: number): void {
    this.check(address, 2);
    this.view.setUint16(address, value, true);
  }

  writeU32(address: number, value: number): void {
    this.check(address, 4);
    this.view.setUint32(address, value >>> 0, true);
  }

  /** A NUL-terminated string; returns the bytes written including the NUL. */
  writeCString(address: number, text: string): number {
    const encoded = new TextEncoder().encode(text);
    this.write(address, encoded);
    this.writeU8(address + encoded.length, 0);
    return encoded.length + 1;
  }

  /** A DataView over [address, address + length) after checking the range. */
  viewAt(address: number, length: number): DataView {
    this.check(address, length);
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + address, length);
  }

  private check(address: number, length: number): void {
    if (!Number.isInteger(address) || !Number.isInteger(length) || address < 0 || length < 0 || address + length > this.bytes.length) {
      throw new RangeError(`guest RAM write [${hex(address)}, ${hex(address + length)}) is outside guest RAM (${hex(this.bytes.length)} bytes)`);
    }
  }
}
