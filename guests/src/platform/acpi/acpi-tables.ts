/**
 * The ACPI tables a PC's firmware leaves in its BIOS area (ACPI 6.5 chapter 5), for this board: an
 * RSDP (ACPI 1.0 form) found by the OS's scan of 0xE0000–0xFFFFF, an RSDT listing the FADT, the FADT
 * describing the fixed hardware of AcpiPm (PM1a event and control blocks, PM timer, SCI on IRQ 9, no
 * SMI_CMD: always in ACPI mode), a FACS, and a DSDT. The DSDT, in AML, declares the PCI root bridge
 * (bus 0, its I/O and memory windows, and a _PRT giving each slot's INTA#..INTD# the ISA IRQ the
 * firmware steered its PIRQ line to, as SeaBIOS's does for the i440FX) and \_S5 for soft off.
 * Without a _PRT and windows an ACPI OS finds no PCI devices, since it enumerates PCI from the DSDT.
 */
import { i440fxPirqForSlot } from "../../pci-host/pci-interrupt-router.js";

/** Where the tables go: the start of the BIOS area's E segment, reserved in the e820 map. */
export const ACPI_TABLES_BASE = 0xe0000;
export const ACPI_TABLES_LIMIT = 0x100000;

export interface AcpiBoardDescription {
  /** PM1a event block (4 bytes), PM1a control block (2 bytes), PM timer (4 bytes). */
  pm1EventPort: number;
  pm1ControlPort: number;
  pmTimerPort: number;
  sciIrq: number;
  /** The ISA IRQs PIRQA..D are steered to. */
  pirqIrqs: readonly [number, number, number, number];
  /** The 32-bit PCI memory window [base, limit). */
  pciMemoryBase: number;
  pciMemoryLimit: number;
  /** The RTC's CMOS century register, or 0 for none. */
  cmosCentury: number;
}

const OEM_ID = "VMK   ";
const OEM_TABLE_ID = "VMKPC   ";
const CREATOR_ID = "VMK ";
const FADT_V1_LENGTH = 116;
const FACS_LENGTH = 64;
const FADT_FLAGS = {
  WbInvd: 1 << 0,
  ProcessorC1: 1 << 2,
  /** Set: no fixed-feature power button (none is modelled). */
  NoFixedPowerButton: 1 << 4,
  NoFixedSleepButton: 1 << 5,
} as const;
/** P_LVL2_LAT/P_LVL3_LAT above 100/1000 µs mean "no C2/C3". */
const NO_C2_LATENCY = 0x0fff;

// ---- AML (ACPI 6.5 chapter 20) ----

const enum Aml {
  Zero = 0x00,
  One = 0x01,
  Name = 0x08,
  BytePrefix = 0x0a,
  WordPrefix = 0x0b,
  DWordPrefix = 0x0c,
  Scope = 0x10,
  Buffer = 0x11,
  Package = 0x12,
  ExtPrefix = 0x5b,
  Device = 0x82,
  RootChar = 0x5c,
}

/** PkgLength: the length of what follows the opcode, itself included, in 1–4 bytes. */
function pkgLength(bodyLength: number): number[] {
  for (let extra = 0; extra < 4; extra++) {
    const total = bodyLength + 1 + extra;
    if (extra === 0 && total < 0x40) return [total];
    if (extra > 0 && total < 2 ** (4 + 8 * extra)) {
      const bytes = [(extra << 6) | (total & 0x0f)];
      for (let i = 0; i < extra; i++) bytes.push((total >>> (4 + 8 * i)) & 0xff);
      return bytes;
    }
  }
  throw new RangeError(`AML package of ${bodyLength} bytes is too long`);
}

function amlInteger(value: number): number[] {
  if (value === 0) return [Aml.Zero];
  if (value === 1) return [Aml.One];
  if (value <= 0xff) return [Aml.BytePrefix, value];
  if (value <= 0xffff) return [Aml.WordPrefix, value & 0xff, value >>> 8];
  return [Aml.DWordPrefix, ...le32(value)];
}

function nameSeg(name: string): number[] {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(name)) throw new Error(`bad AML name segment ${name}`);
  return [...name.padEnd(4, "_")].map((c) => c.charCodeAt(0));
}

function amlName(name: string, value: number[]): number[] {
  return [Aml.Name, ...nameSeg(name), ...value];
}

function amlPackage(elements: number[][]): number[] {
  const body = [elements.length, ...elements.flat()];
  return [Aml.Package, ...pkgLength(body.length), ...body];
}

function amlBuffer(bytes: number[]): number[] {
  const body = [...amlInteger(bytes.length), ...bytes];
  return [Aml.Buffer, ...pkgLength(body.length), ...body];
}

function amlScope(path: number[], terms: number[]): number[] {
  const body = [...path, ...terms];
  return [Aml.Scope, ...pkgLength(body.length), ...body];
}

function amlDevice(name: string, terms: number[]): number[] {
  const body = [...nameSeg(name), ...terms];
  return [Aml.ExtPrefix, Aml.Device, ...pkgLength(body.length), ...body];
}

/** A compressed EISA ID ("PNP0A03") as the 32-bit integer AML carries. */
export function eisaId(id: string): number {
  const letters = [0, 1, 2].map((i) => id.charCodeAt(i) - 0x40);
  const product = parseInt(id.slice(3), 16);
  const vendor = (letters[0]! << 10) | (letters[1]! << 5) | letters[2]!;
  // Stored big-endian within the little-endian integer: vendor bytes first, then the product's.
  return (((vendor >> 8) & 0xff) | ((vendor & 0xff) << 8) | (((product >> 8) & 0xff) << 16) | ((product & 0xff) << 24)) >>> 0;
}

// ---- resource descriptors (ACPI 6.5 §6.4) ----

const enum AddressSpace {
  Memory = 0,
  Io = 1,
  BusNumber = 2,
}
/** Producer (a bridge's window), positive decode, minimum and maximum fixed. */
const WINDOW_FLAGS = 0x0c;

function wordAddress(type: AddressSpace, typeFlags: number, min: number, max: number): number[] {
  return [0x88, 0x0d, 0x00, type, WINDOW_FLAGS, typeFlags, ...le16(0), ...le16(min), ...le16(max), ...le16(0), ...le16(max - min + 1)];
}

function dwordMemory(min: number, max: number): number[] {
  // Type-specific flags: read/write, cacheable.
  return [0x87, 0x17, 0x00, AddressSpace.Memory, WINDOW_FLAGS, 0x03, ...le32(0), ...le32(min), ...le32(max), ...le32(0), ...le32(max - min + 1)];
}

const END_TAG = [0x79, 0x00];

// ---- tables ----

function le16(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff];
}

function le32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

/** A system description table: the 36-byte header (checksum fixed below) and the body. */
function table(signature: string, revision: number, body: number[]): Uint8Array {
  const length = 36 + body.length;
  const bytes = Uint8Array.from([
    ...ascii(signature), ...le32(length), revision, 0, ...ascii(OEM_ID), ...ascii(OEM_TABLE_ID), ...le32(1), ...ascii(CREATOR_ID), ...le32(1), ...body,
  ]);
  bytes[9] = checksum(bytes);
  return bytes;
}

/** The byte that makes the sum of `bytes` zero modulo 256. */
export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const byte of bytes) sum += byte;
  return (256 - (sum & 0xff)) & 0xff;
}

export function buildDsdt(board: AcpiBoardDescription): Uint8Array {
  const routes: number[][] = [];
  for (let slot = 1; slot < 32; slot++) {
    for (let pin = 0; pin < 4; pin++) {
      const irq = board.pirqIrqs[i440fxPirqForSlot(slot, pin + 1)]!;
      // Source Zero: the entry names a global interrupt (in PIC mode an ISA IRQ) directly.
      routes.push(amlPackage([amlInteger(((slot << 16) | 0xffff) >>> 0), amlInteger(pin), amlInteger(0), amlInteger(irq)]));
    }
  }
  const resources = [
    ...wordAddress(AddressSpace.BusNumber, 0, 0x00, 0xff),
    // The I/O window excludes the configuration ports 0xCF8–0xCFF, which the bridge claims.
    ...wordAddress(AddressSpace.Io, 0x03, 0x0000, 0x0cf7),
    ...wordAddress(AddressSpace.Io, 0x03, 0x0d00, 0xffff),
    ...dwordMemory(0x000a0000, 0x000bffff),
    ...dwordMemory(board.pciMemoryBase, board.pciMemoryLimit - 1),
    ...END_TAG,
  ];
  const pci0 = amlDevice("PCI0", [
    ...amlName("_HID", amlInteger(eisaId("PNP0A03"))),
    ...amlName("_ADR", amlInteger(0)),
    ...amlName("_UID", amlInteger(0)),
    ...amlName("_BBN", amlInteger(0)),
    ...amlName("_CRS", amlBuffer(resources)),
    ...amlName("_PRT", amlPackage(routes)),
  ]);
  const aml = [
    ...amlScope([Aml.RootChar, ...nameSeg("_SB_")], pci0),
    // \_S5: SLP_TYPa, SLP_TYPb (and two reserved) for soft off.
    ...amlName("_S5_", amlPackage([amlInteger(0), amlInteger(0), amlInteger(0), amlInteger(0)])),
  ];
  return table("DSDT", 1, aml);
}

function buildFadt(board: AcpiBoardDescription, facs: number, dsdt: number): Uint8Array {
  const body = [
    ...le32(facs), ...le32(dsdt),
    0, // INT_MODEL (ACPI 1.0): dual PIC
    0, // reserved
    ...le16(board.sciIrq),
    ...le32(0), // SMI_CMD: none, the board is always in ACPI mode
    0, 0, 0, 0, // ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ, reserved
    ...le32(board.pm1EventPort), ...le32(0),
    ...le32(board.pm1ControlPort), ...le32(0),
    ...le32(0), // PM2_CNT_BLK
    ...le32(board.pmTimerPort),
    ...le32(0), ...le32(0), // GPE0_BLK, GPE1_BLK
    4, 2, 0, 4, // PM1_EVT_LEN, PM1_CNT_LEN, PM2_CNT_LEN, PM_TMR_LEN
    0, 0, 0, 0, // GPE0_BLK_LEN, GPE1_BLK_LEN, GPE1_BASE, reserved
    ...le16(NO_C2_LATENCY), ...le16(NO_C2_LATENCY),
    ...le16(0), ...le16(0), // FLUSH_SIZE, FLUSH_STRIDE
    0, 0, // DUTY_OFFSET, DUTY_WIDTH
    0, 0, board.cmosCentury, // DAY_ALRM, MON_ALRM, CENTURY
    0, 0, 0, // reserved
    ...le32(FADT_FLAGS.WbInvd | FADT_FLAGS.ProcessorC1 | FADT_FLAGS.NoFixedPowerButton | FADT_FLAGS.NoFixedSleepButton),
  ];
  const fadt = table("FACP", 1, body);
  if (fadt.length !== FADT_V1_LENGTH) throw new Error(`FADT is ${fadt.length} bytes, not ${FADT_V1_LENGTH}`);
  return fadt;
}

function buildFacs(): Uint8Array {
  const bytes = new Uint8Array(FACS_LENGTH);
  bytes.set(ascii("FACS"), 0);
  bytes.set(le32(FACS_LENGTH), 4);
  return bytes;
}

function buildRsdp(rsdt: number): Uint8Array {
  const bytes = Uint8Array.from([...ascii("RSD PTR "), 0, ...ascii(OEM_ID), 0, ...le32(rsdt)]);
  bytes[8] = checksum(bytes);
  return bytes;
}

/**
 * Writes the tables into guest memory from ACPI_TABLES_BASE (the RSDP first, on the 16-byte boundary
 * the OS scans) and returns where each one is.
 */
export function writeAcpiTables(ram: Uint8Array, board: AcpiBoardDescription): Record<"rsdp" | "rsdt" | "fadt" | "facs" | "dsdt", number> {
  const align = (value: number, to: number) => Math.ceil(value / to) * to;
  const rsdp = ACPI_TABLES_BASE;
  const facs = align(rsdp + 20, 64);
  const rsdt = facs + FACS_LENGTH;
  const fadt = align(rsdt + 36 + 4, 16);
  const dsdt = align(fadt + FADT_V1_LENGTH, 16);
  const dsdtBytes = buildDsdt(board);
  if (dsdt + dsdtBytes.length > ACPI_TABLES_LIMIT) throw new RangeError("ACPI tables do not fit in the BIOS area");
  ram.set(buildRsdp(rsdt), rsdp);
  ram.set(buildFacs(), facs);
  ram.set(table("RSDT", 1, le32(fadt)), rsdt);
  ram.set(buildFadt(board, facs, dsdt), fadt);
  ram.set(dsdtBytes, dsdt);
  return { rsdp, rsdt, fadt, facs, dsdt };
}
