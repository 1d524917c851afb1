import type { AccessWidth, IoRegionHandler } from "@vmk/kernel";
import { CONFIG_ADDRESS_WRITABLE, decodeConfigAddress } from "./config-address.js";
import type { GuestPciBus } from "./guest-pci-bus.js";

export const CONFIG_ADDRESS_PORT = 0xcf8;
export const CONFIG_DATA_PORT = 0xcfc;

const ALL_ONES: Record<AccessWidth, number> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };

/**
 * PCI configuration mechanism #1 as the i440FX decodes it. Only a dword access at 0xCF8 reaches
 * CONFIG_ADDRESS; narrower accesses to 0xCF8-0xCFB are ordinary I/O cycles, of which the PIIX3 claims
 * the byte at 0xCF9 (its reset control register). A data-port access at 0xCFC+k reaches register
 * (CONFIG_ADDRESS[7:2] << 2) + k of the addressed function, with the access's own width. With the
 * enable bit clear, or for any bus but 0 (no PCI-to-PCI bridge here), the cycle master-aborts.
 */
export class ConfigMechanism1 {
  private configAddress = 0;

  /** The window at 0xCF8-0xCFB. */
  readonly addressPorts: IoRegionHandler;
  /** The window at 0xCFC-0xCFF. */
  readonly dataPorts: IoRegionHandler;

  constructor(
    private readonly bus: GuestPciBus,
    /** The byte register at 0xCF9 (PIIX3 reset control), if the board has one. */
    private readonly port0xCF9?: { read(): number; write(value: number): void },
  ) {
    this.addressPorts = {
      read: (offset, width) => this.readAddressWindow(offset, width),
      write: (offset, width, value) => this.writeAddressWindow(offset, width, value),
    };
    this.dataPorts = {
      read: (offset, width) => this.readData(offset, width),
      write: (offset, width, value) => this.writeData(offset, width, value),
    };
  }

  get address(): number {
    return this.configAddress;
  }

  set address(value: number) {
    this.configAddress = (value & CONFIG_ADDRESS_WRITABLE) >>> 0;
  }

  reset(): void {
    this.configAddress = 0;
  }

  private readAddressWindow(offset: number, width: AccessWidth): number {
    if (offset === 0 && width === 4) return this.configAddress;
    if (offset === 1 && width === 1 && this.port0xCF9) return this.port0xCF9.read() & 0xff;
    return ALL_ONES[width];
  }

  private writeAddressWindow(offset: number, width: AccessWidth, value: number): void {
    if (offset === 0 && width === 4) this.address = value;
    else if (offset === 1 && width === 1) this.port0xCF9?.write(value & 0xff);
  }

  private readData(offset: number, width: AccessWidth): number {
    const target = this.target();
    if (!target) return ALL_ONES[width];
    return this.bus.configRead(target.device, target.function, target.register + offset, width);
  }

  private writeData(offset: number, width: AccessWidth, value: number): void {
    const target = this.target();
    if (target) this.bus.configWrite(target.device, target.function, target.register + offset, width, value);
  }

  private target() {
    const decoded = decodeConfigAddress(this.configAddress);
    return decoded.enabled && decoded.bus === 0 ? decoded : undefined;
  }
}
