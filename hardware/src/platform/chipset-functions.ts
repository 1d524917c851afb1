import { PciConfigSpace, type AccessWidth, type PciDeviceModel, type PciDevicePort, type PciHeaderSpec } from "@vmk/kernel";

/**
 * A chipset function that software only meets through its configuration header: a host bridge or an
 * ISA bridge on the host platform. It claims its slot, identifies itself and decodes no BAR.
 */
export class ConfigOnlyFunction implements PciDeviceModel {
  readonly config: PciConfigSpace;

  constructor(
    readonly modelName: string,
    header: PciHeaderSpec,
  ) {
    this.config = new PciConfigSpace(header);
  }

  barRead(_bar: number, _offset: number, width: AccessWidth): number {
    return width === 4 ? 0xffffffff : (1 << (8 * width)) - 1;
  }

  barWrite(): void {}

  attach(_port: PciDevicePort): void {}

  reset(): void {
    this.config.reset();
  }
}

/** Intel 82443BX host bridge, the chipset of the ESX-era reference servers (and of VMware's virtual hardware). */
export function createHostBridge440BX(): ConfigOnlyFunction {
  return new ConfigOnlyFunction("Intel 440BX/ZX/DX - 82443BX/ZX/DX Host bridge", {
    vendorId: 0x8086,
    deviceId: 0x7190,
    revisionId: 0x01,
    classCode: 0x060000,
    subsystemVendorId: 0x15ad,
    subsystemId: 0x1976,
  });
}

/** Intel 82371AB PIIX4 ISA bridge (function 0 of the multi-function south bridge). */
export function createPiix4IsaBridge(): ConfigOnlyFunction {
  return new ConfigOnlyFunction("Intel 82371AB/EB/MB PIIX4 ISA", {
    vendorId: 0x8086,
    deviceId: 0x7110,
    revisionId: 0x08,
    classCode: 0x060100,
    subsystemVendorId: 0x15ad,
    subsystemId: 0x1976,
    multiFunction: true,
  });
}
