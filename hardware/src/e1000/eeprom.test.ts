import { describe, expect, it } from "vitest";
import { E1000Rig } from "./test-rig.js";
import * as R from "./registers.js";

/** Reads one word the way the Linux e1000 driver does on 82540/82545: Microwire through EECD. */
function microwireRead(rig: E1000Rig, address: number): number {
  let eecd = rig.read(R.EECD);
  const write = (value: number) => {
    eecd = value;
    rig.write(R.EECD, value);
  };
  const clock = () => {
    write(eecd | R.EECD_SK);
    const sampled = rig.read(R.EECD);
    write(eecd & ~R.EECD_SK);
    return sampled;
  };
  write((eecd & ~(R.EECD_SK | R.EECD_DI)) | R.EECD_CS);
  const shiftOut = (value: number, bits: number) => {
    for (let bit = bits - 1; bit >= 0; bit--) {
      write(((value >>> bit) & 1 ? eecd | R.EECD_DI : eecd & ~R.EECD_DI) >>> 0);
      clock();
    }
    write(eecd & ~R.EECD_DI);
  };
  shiftOut(0b110, 3);
  shiftOut(address, 6);
  let data = 0;
  for (let i = 0; i < 16; i++) data = (data << 1) | (clock() & R.EECD_DO ? 1 : 0);
  write(eecd & ~(R.EECD_CS | R.EECD_SK));
  return data;
}

function microwireCommand(rig: E1000Rig, bits: number, count: number): void {
  let eecd = rig.read(R.EECD) | R.EECD_CS;
  rig.write(R.EECD, eecd);
  for (let bit = count - 1; bit >= 0; bit--) {
    eecd = (bits >>> bit) & 1 ? eecd | R.EECD_DI : eecd & ~R.EECD_DI;
    rig.write(R.EECD, eecd);
    rig.write(R.EECD, eecd | R.EECD_SK);
    rig.write(R.EECD, eecd);
  }
  rig.write(R.EECD, eecd & ~(R.EECD_CS | R.EECD_DI));
}

function eerdRead(rig: E1000Rig, address: number): number {
  rig.write(R.EERD, (address << R.EERD_ADDR_SHIFT) | R.EERD_START);
  const value = rig.read(R.EERD);
  expect(value & R.EERD_DONE).toBeTruthy();
  return value >>> R.EERD_DATA_SHIFT;
}

describe("8254x EEPROM", () => {
  it("reports a present 64-word Microwire part and grants access on request", () => {
    const rig = new E1000Rig();
    const eecd = rig.read(R.EECD);
    expect(eecd & R.EECD_PRES).toBeTruthy();
    expect(eecd & R.EECD_SIZE).toBe(0);
    expect(eecd & R.EECD_GNT).toBe(0);
    rig.write(R.EECD, eecd | R.EECD_REQ);
    expect(rig.read(R.EECD) & R.EECD_GNT).toBeTruthy();
  });

  it("bit-banged and EERD reads agree, the image sums to BABAh and holds MAC and PCI IDs", () => {
    const rig = new E1000Rig({ variant: "82545EM" });
    rig.write(R.EECD, rig.read(R.EECD) | R.EECD_REQ);
    const banged: number[] = [];
    const direct: number[] = [];
    for (let word = 0; word < 64; word++) {
      banged.push(microwireRead(rig, word));
      direct.push(eerdRead(rig, word));
    }
    expect(banged).toEqual(direct);
    expect(banged.reduce((sum, w) => (sum + w) & 0xffff, 0)).toBe(0xbaba);
    expect(banged.slice(0, 3)).toEqual([0x1b00, 0xaa21, 0xccbb]);
    expect(banged[0x0b]).toBe(0x1001);
    expect(banged[0x0c]).toBe(0x8086);
    expect(banged[0x0d]).toBe(0x100f);
    expect(banged[0x0e]).toBe(0x8086);
    expect(banged[0x0a]! >>> 14).toBe(0b01);
  });

  it("ignores the pins without the grant", () => {
    const rig = new E1000Rig();
    expect(microwireRead(rig, 0)).toBe(0);
    rig.write(R.EECD, R.EECD_REQ);
    expect(microwireRead(rig, 0)).toBe(0x1b00);
  });

  it("writes a word after EWEN and reports ready on DO", () => {
    const rig = new E1000Rig();
    rig.write(R.EECD, rig.read(R.EECD) | R.EECD_REQ);
    // WRITE without EWEN is ignored.
    microwireCommand(rig, (0b101 << 22) | (0x20 << 16) | 0xbeef, 3 + 6 + 16);
    expect(eerdRead(rig, 0x20)).toBe(0xffff);
    microwireCommand(rig, (0b100 << 6) | 0b110000, 9);
    microwireCommand(rig, (0b101 << 22) | (0x20 << 16) | 0xbeef, 3 + 6 + 16);
    rig.write(R.EECD, rig.read(R.EECD) | R.EECD_CS);
    expect(rig.read(R.EECD) & R.EECD_DO).toBeTruthy();
    rig.write(R.EECD, rig.read(R.EECD) & ~R.EECD_CS);
    expect(eerdRead(rig, 0x20)).toBe(0xbeef);
    expect(microwireRead(rig, 0x20)).toBe(0xbeef);
  });

  it("CTRL_EXT.EE_RST reloads the station address from the EEPROM", () => {
    const rig = new E1000Rig();
    rig.write(R.RA, 0x12345678);
    rig.write(R.CTRL_EXT, R.CTRL_EXT_EE_RST);
    expect(rig.read(R.RA)).toBe(0xaa211b00);
    expect(rig.read(R.CTRL_EXT) & R.CTRL_EXT_EE_RST).toBe(0);
  });
});
