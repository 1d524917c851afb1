/** Offsets and bits of the PCI type-0 configuration header (PCI Local Bus Specification 3.0, ch. 6). */
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BIST = 0x0f;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_CARDBUS_CIS = 0x28;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
export const PCI_MIN_GNT = 0x3e;
export const PCI_MAX_LAT = 0x3f;
/** First byte available to capabilities and device-specific registers. */
export const PCI_CONFIG_HEADER_END = 0x40;
export const PCI_CONFIG_SPACE_SIZE = 0x100;

export const PCI_COMMAND_IO = 1 << 0;
export const PCI_COMMAND_MEMORY = 1 << 1;
export const PCI_COMMAND_MASTER = 1 << 2;
export const PCI_COMMAND_SPECIAL = 1 << 3;
export const PCI_COMMAND_INVALIDATE = 1 << 4;
export const PCI_COMMAND_PARITY = 1 << 6;
export const PCI_COMMAND_SERR = 1 << 8;
export const PCI_COMMAND_INTX_DISABLE = 1 << 10;

export const PCI_STATUS_INTERRUPT = 1 << 3;
export const PCI_STATUS_CAP_LIST = 1 << 4;
export const PCI_STATUS_66MHZ = 1 << 5;
export const PCI_STATUS_FAST_BACK = 1 << 7;
export const PCI_STATUS_PARITY = 1 << 8;
export const PCI_STATUS_DEVSEL_MEDIUM = 1 << 9;
export const PCI_STATUS_SIG_TARGET_ABORT = 1 << 11;
export const PCI_STATUS_REC_TARGET_ABORT = 1 << 12;
export const PCI_STATUS_REC_MASTER_ABORT = 1 << 13;
export const PCI_STATUS_SIG_SYSTEM_ERROR = 1 << 14;
export const PCI_STATUS_DETECTED_PARITY = 1 << 15;
/** Status bits that software clears by writing 1. */
export const PCI_STATUS_WRITE_ONE_TO_CLEAR = 0xf900;

export const PCI_BASE_ADDRESS_SPACE_IO = 0x01;
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x04;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08;

export const PCI_CAP_ID_PM = 0x01;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_PCIX = 0x07;
export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;

/** MSI capability (offsets from the capability start). */
export const PCI_MSI_FLAGS = 0x02;
export const PCI_MSI_ADDRESS_LO = 0x04;
export const PCI_MSI_FLAGS_ENABLE = 1 << 0;
export const PCI_MSI_FLAGS_QMASK = 0x0e;
export const PCI_MSI_FLAGS_QSIZE = 0x70;
export const PCI_MSI_FLAGS_64BIT = 1 << 7;
export const PCI_MSI_FLAGS_MASKBIT = 1 << 8;

/** Base-class names for inventories (class code byte 2). */
export const PCI_CLASS_NAMES: Readonly<Record<number, string>> = {
  0x00: "Unclassified device",
  0x01: "Mass storage controller",
  0x02: "Network controller",
  0x03: "Display controller",
  0x04: "Multimedia controller",
  0x05: "Memory controller",
  0x06: "Bridge",
  0x07: "Communication controller",
  0x08: "Generic system peripheral",
  0x0c: "Serial bus controller",
  0x0d: "Wireless controller",
};

/** Sub-class names the inventory uses for common devices (class code bytes 2..1). */
export const PCI_SUBCLASS_NAMES: Readonly<Record<number, string>> = {
  0x0100: "SCSI storage controller",
  0x0101: "IDE interface",
  0x0104: "RAID bus controller",
  0x0106: "SATA controller",
  0x0107: "Serial Attached SCSI controller",
  0x0200: "Ethernet controller",
  0x0c04: "Fibre Channel",
  0x0600: "Host bridge",
  0x0601: "ISA bridge",
  0x0604: "PCI bridge",
  0x0680: "Bridge",
  0x0300: "VGA compatible controller",
};

export function pciClassName(classCode: number): string {
  return PCI_SUBCLASS_NAMES[classCode >>> 8] ?? PCI_CLASS_NAMES[classCode >>> 16] ?? "Unknown class";
}
