import { VirtualClock } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { RecordingIrqLine } from "../test-support.js";
import { AcpiPm, Pm1Event, PM_TIMER_HZ } from "./acpi-pm.js";
import { ACPI_TABLES_BASE, buildDsdt, checksum, eisaId, writeAcpiTables, type AcpiBoardDescription } from "./acpi-tables.js";

const BOARD: AcpiBoardDescription = {
  pm1EventPort: 0x600,
  pm1ControlPort: 0x604,
  pmTimerPort: 0x608,
  sciIrq: 9,
  pirqIrqs: [10, 10, 11, 11],
  pciMemoryBase: 0xe000_0000,
  pciMemoryLimit: 0xfec0_0000,
  cmosCentury: 0x32,
};

const u32 = (ram: Uint8Array, at: number) => (ram[at]! | (ram[at + 1]! << 8) | (ram[at + 2]! << 16) | (ram[at + 3]! << 24)) >>> 0;
const u16 = (ram: Uint8Array, at: number) => ram[at]! | (ram[at + 1]! << 8);
const text = (ram: Uint8Array, at: number, length: number) => String.fromCharCode(...ram.subarray(at, at + length));
const sumsToZero = (bytes: Uint8Array) => bytes.reduce((sum, byte) => (sum + byte) & 0xff, 0) === 0;

describe("ACPI tables", () => {
  it("chain RSDP → RSDT → FADT → DSDT/FACS where an OS's BIOS-area scan finds them, every checksum right", () => {
    const ram = new Uint8Array(0x100000);
    const at = writeAcpiTables(ram, BOARD);
    // The RSDP sits on a 16-byte boundary in 0xE0000–0xFFFFF and its 20 bytes sum to zero.
    expect(at.rsdp % 16).toBe(0);
    expect(at.rsdp).toBeGreaterThanOrEqual(ACPI_TABLES_BASE);
    expect(text(ram, at.rsdp, 8)).toBe("RSD PTR ");
    expect(sumsToZero(ram.subarray(at.rsdp, at.rsdp + 20))).toBe(true);
    expect(u32(ram, at.rsdp + 16)).toBe(at.rsdt);
    const tableAt = (address: number, signature: string) => {
      expect(text(ram, address, 4)).toBe(signature);
      const length = u32(ram, address + 4);
      expect(sumsToZero(ram.subarray(address, address + length))).toBe(true);
      return length;
    };
    expect(tableAt(at.rsdt, "RSDT")).toBe(40);
    expect(u32(ram, at.rsdt + 36)).toBe(at.fadt);
    expect(tableAt(at.fadt, "FACP")).toBe(116);
    expect(u32(ram, at.fadt + 36)).toBe(at.facs);
    expect(u32(ram, at.fadt + 40)).toBe(at.dsdt);
    expect(u16(ram, at.fadt + 46)).toBe(9); // SCI_INT
    expect(u32(ram, at.fadt + 48)).toBe(0); // no SMI_CMD: always in ACPI mode
    expect([u32(ram, at.fadt + 56), u32(ram, at.fadt + 64), u32(ram, at.fadt + 76)]).toEqual([0x600, 0x604, 0x608]);
    expect([...ram.subarray(at.fadt + 88, at.fadt + 92)]).toEqual([4, 2, 0, 4]);
    expect(at.facs % 64).toBe(0);
    expect(text(ram, at.facs, 4)).toBe("FACS");
    tableAt(at.dsdt, "DSDT");
  });

  it("encodes the DSDT's names in AML: \\_SB.PCI0 (PNP0A03) with _CRS windows and a _PRT per slot and pin, and \\_S5", () => {
    const dsdt = buildDsdt(BOARD);
    const aml = dsdt.subarray(36);
    const find = (bytes: number[]) => {
      outer: for (let i = 0; i + bytes.length <= aml.length; i++) {
        for (let j = 0; j < bytes.length; j++) if (aml[i + j] !== bytes[j]) continue outer;
        return i;
      }
      return -1;
    };
    const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
    expect(eisaId("PNP0A03")).toBe(0x030ad041);
    // ScopeOp, a two-byte PkgLength, \_SB_
    expect(aml[0]).toBe(0x10);
    expect(aml[1]! >> 6).toBe(1);
    const scopeLength = (aml[1]! & 0x0f) | (aml[2]! << 4);
    expect([...aml.subarray(3, 8)]).toEqual([0x5c, ...ascii("_SB_")]);
    // The scope covers the device; \_S5_ follows it at the root.
    expect(find([0x08, ...ascii("_S5_"), 0x12, 0x06, 0x04, 0, 0, 0, 0])).toBe(1 + scopeLength);
    expect(1 + scopeLength + 12).toBe(aml.length);
    expect(find([0x5b, 0x82])).toBeGreaterThan(0);
    expect(find([0x08, ...ascii("_HID"), 0x0c, 0x41, 0xd0, 0x0a, 0x03])).toBeGreaterThan(0);
    // _PRT: 31 slots × 4 pins; slot 3's INTA# is on PIRQC, steered to IRQ 11.
    const prt = find([0x08, ...ascii("_PRT"), 0x12]);
    expect(prt).toBeGreaterThan(0);
    const countAt = prt + 6 + (aml[prt + 6]! >> 6) + 1;
    expect(aml[countAt]).toBe(124);
    expect(find([0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x03, 0x00, 0x00, 0x00, 0x0a, 11])).toBeGreaterThan(prt);
    // _CRS ends with the end tag, and carries the bus range and the PCI memory window.
    expect(find([0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 1])).toBeGreaterThan(0);
    expect(find([0x87, 0x17, 0x00, 0x00, 0x0c, 0x03, 0, 0, 0, 0, 0, 0, 0, 0xe0, 0xff, 0xff, 0xbf, 0xfe])).toBeGreaterThan(0);
    expect(checksum(dsdt)).toBe(0);
  });
});

describe("ACPI PM registers", () => {
  function setup() {
    const clock = new VirtualClock();
    const sci = new RecordingIrqLine(clock);
    let softOffs = 0;
    const pm = new AcpiPm({ clock, sci, onSoftOff: () => softOffs++ });
    return { clock, sci, pm, softOffs: () => softOffs };
  }

  it("counts the PM timer at 3.579545 MHz in 24 bits", () => {
    const { clock, pm } = setup();
    expect(pm.timerPorts.read(0, 4)).toBe(0);
    clock.runUntil(1e9);
    expect(pm.timerPorts.read(0, 4)).toBe(PM_TIMER_HZ);
    clock.runUntil(5e9);
    expect(pm.timerPorts.read(0, 4)).toBe((5 * PM_TIMER_HZ) % 2 ** 24);
  });

  it("reads SCI_EN set (no legacy mode) and powers off on SLP_EN with \\_S5's type, not on other types", () => {
    const { pm, softOffs } = setup();
    expect(pm.controlPorts.read(0, 2) & 1).toBe(1);
    pm.controlPorts.write(0, 2, (1 << 10) | (1 << 13)); // S1's type: not offered, nothing happens
    expect(softOffs()).toBe(0);
    pm.controlPorts.write(0, 2, 1 << 10); // type alone, no SLP_EN
    expect(softOffs()).toBe(0);
    expect(pm.controlPorts.read(0, 2) & (1 << 13)).toBe(0); // SLP_EN reads back zero
    pm.controlPorts.write(0, 2, (0 << 10) | (1 << 13));
    expect(softOffs()).toBe(1);
  });

  it("sets TMR_STS when bit 23 carries, raises the SCI while TMR_EN is set, and clears it write-one", () => {
    const { clock, sci, pm } = setup();
    const carryNs = Math.ceil((2 ** 23 * 1e9) / PM_TIMER_HZ);
    pm.eventPorts.write(2, 2, Pm1Event.Timer);
    clock.runUntil(carryNs - 1000);
    expect(sci.level).toBe(false);
    clock.runUntil(carryNs + 1000);
    expect(sci.level).toBe(true);
    expect(pm.eventPorts.read(0, 2) & Pm1Event.Timer).toBe(Pm1Event.Timer);
    pm.eventPorts.write(0, 2, Pm1Event.Timer);
    expect(sci.level).toBe(false);
    expect(pm.eventPorts.read(0, 4) >>> 16).toBe(Pm1Event.Timer);
  });
});
