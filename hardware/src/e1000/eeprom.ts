import {
  EECD_CS,
  EECD_DI,
  EECD_DO,
  EECD_GNT,
  EECD_PRES,
  EECD_REQ,
  EECD_SK,
  EECD_WRITABLE,
  EERD_ADDR_SHIFT,
  EERD_DATA_SHIFT,
  EERD_DONE,
  EERD_START,
} from "./registers.js";
import { EEPROM_WORDS } from "./state.js";
import type { E1000Variant } from "./variants.js";

/** Word 3Fh makes the 16-bit sum of words 00h..3Fh equal this (SDM 5.6.1). */
export const EEPROM_CHECKSUM_TARGET = 0xbaba;
export const EEPROM_CHECKSUM_WORD = 0x3f;
/** The 64-word part has 6 address bits (a 93C46-class Microwire EEPROM). */
const ADDRESS_BITS = 6;
const ADDRESS_MASK = (1 << ADDRESS_BITS) - 1;

// Word map (SDM table 5-2 / EEPROM map of the 82540/82545).
const WORD_COMPATIBILITY = 0x03;
const WORD_LED_SETTINGS = 0x04;
const WORD_IMAGE_VERSION = 0x05;
const WORD_PBA_HIGH = 0x08;
const WORD_PBA_LOW = 0x09;
const WORD_INIT_CONTROL_1 = 0x0a;
const WORD_SUBSYSTEM_ID = 0x0b;
const WORD_SUBSYSTEM_VENDOR_ID = 0x0c;
const WORD_DEVICE_ID = 0x0d;
const WORD_VENDOR_ID = 0x0e;
const WORD_INIT_CONTROL_2 = 0x0f;
const WORD_INIT_CONTROL_3_PORT_A = 0x24;
const WORD_PXE_SETUP = 0x30;
const WORD_PXE_VERSION = 0x31;
const WORD_PXE_CAPABILITIES = 0x32;

/** Init control 1: signature 01b in bits 15:14, load subsystem IDs (bit 1) and vendor/device IDs (bit 0). */
const INIT_CONTROL_1 = 0x4000 | 0x0002 | 0x0001;
/** Init control 2: PAUSE and ASM_DIR advertised (bits 13:12), as on boards shipped with flow control. */
const INIT_CONTROL_2 = 0x3000;
/** Init control 3: APM (wake) disabled, no SWDPIO settings. */
const INIT_CONTROL_3 = 0x0000;

/** The EEPROM image a board ships with: MAC, PCI identity, init-control words and the checksum. */
export function buildEepromImage(mac: Uint8Array, variant: E1000Variant): Uint16Array {
  const words = new Uint16Array(EEPROM_WORDS).fill(0xffff);
  for (let i = 0; i < 3; i++) words[i] = mac[2 * i]! | (mac[2 * i + 1]! << 8);
  words[WORD_COMPATIBILITY] = 0x0000;
  words[WORD_LED_SETTINGS] = 0xffff;
  words[WORD_IMAGE_VERSION] = variant.eepromImageVersion;
  words[WORD_PBA_HIGH] = variant.pbaNumber >>> 16;
  words[WORD_PBA_LOW] = variant.pbaNumber & 0xffff;
  words[WORD_INIT_CONTROL_1] = INIT_CONTROL_1;
  words[WORD_SUBSYSTEM_ID] = variant.subsystemId;
  words[WORD_SUBSYSTEM_VENDOR_ID] = variant.subsystemVendorId;
  words[WORD_DEVICE_ID] = variant.deviceId;
  words[WORD_VENDOR_ID] = variant.vendorId;
  words[WORD_INIT_CONTROL_2] = INIT_CONTROL_2;
  words[WORD_INIT_CONTROL_3_PORT_A] = INIT_CONTROL_3;
  // No boot agent in the flash: the PXE words say "not present".
  words[WORD_PXE_SETUP] = 0xffff;
  words[WORD_PXE_VERSION] = 0xffff;
  words[WORD_PXE_CAPABILITIES] = 0xffff;
  words[EEPROM_CHECKSUM_WORD] = 0;
  words[EEPROM_CHECKSUM_WORD] = (EEPROM_CHECKSUM_TARGET - eepromSum(words)) & 0xffff;
  return words;
}

export function eepromSum(words: Uint16Array): number {
  let sum = 0;
  for (let i = 0; i <= EEPROM_CHECKSUM_WORD; i++) sum = (sum + words[i]!) & 0xffff;
  return sum;
}

export function macFromEeprom(words: Uint16Array): Uint8Array {
  const mac = new Uint8Array(6);
  for (let i = 0; i < 3; i++) {
    mac[2 * i] = words[i]! & 0xff;
    mac[2 * i + 1] = words[i]! >>> 8;
  }
  return mac;
}

// ---- Microwire serial interface behind EECD (SDM 5.6 and the 93C46 protocol) ----

export enum MicrowirePhase {
  /** CS high, waiting for the start bit (DO shows ready). */
  Standby = 0,
  /** Shifting in opcode and address bits. */
  Command = 1,
  /** Shifting data out, D15 first, on each rising SK. */
  Read = 2,
  /** Shifting in 16 data bits for WRITE or WRAL. */
  WriteData = 3,
}

export interface MicrowireState {
  selected: boolean;
  clock: boolean;
  phase: MicrowirePhase;
  bitCount: number;
  shift: number;
  /** Word being read (sequential reads continue to the next word). */
  address: number;
  /** Data bits already presented in the current word. */
  bitIndex: number;
  /** Level on DO. */
  dataOut: boolean;
  writeEnabled: boolean;
  /** Opcode and address of a pending WRITE/WRAL waiting for its data. */
  pendingOpcode: number;
  pendingAddress: number;
}

export function createMicrowireState(): MicrowireState {
  return {
    selected: false,
    clock: false,
    phase: MicrowirePhase.Standby,
    bitCount: 0,
    shift: 0,
    address: 0,
    bitIndex: 0,
    dataOut: false,
    writeEnabled: false,
    pendingOpcode: 0,
    pendingAddress: 0,
  };
}

const OP_EXTENDED = 0b00;
const OP_WRITE = 0b01;
const OP_READ = 0b10;
const OP_ERASE = 0b11;
// Extended opcodes, told apart by the top two address bits.
const EXT_EWDS = 0b00;
const EXT_WRAL = 0b01;
const EXT_ERAL = 0b10;
const EXT_EWEN = 0b11;

/**
 * The EEPROM as software reaches it: EECD bit-banging (after the EE_REQ/EE_GNT handshake) and the
 * EERD read register. Writes and erases complete at once, so DO reads ready as soon as CS is raised again.
 */
export class Eeprom {
  constructor(
    private readonly words: Uint16Array,
    private readonly wire: MicrowireState,
  ) {}

  /** EECD as read: the stored control bits, GNT following REQ, DO from the part, PRES set, SIZE 0 (64 words). */
  readEecd(stored: number): number {
    let value = (stored & EECD_WRITABLE) | EECD_PRES;
    if (stored & EECD_REQ) value |= EECD_GNT;
    if (this.wire.dataOut) value |= EECD_DO;
    return value;
  }

  /** Returns the value to store. The pins only reach the part while software holds the grant. */
  writeEecd(value: number): number {
    const stored = value & EECD_WRITABLE;
    if (stored & EECD_REQ) this.drivePins((stored & EECD_CS) !== 0, (stored & EECD_SK) !== 0, (stored & EECD_DI) !== 0);
    return stored;
  }

  /** EERD write: a read with START completes at once with DONE and the data. */
  writeEerd(value: number): number {
    if (!(value & EERD_START)) return value & ~EERD_DONE & 0xffff;
    const address = (value >>> EERD_ADDR_SHIFT) & 0xff;
    const data = address < this.words.length ? this.words[address]! : 0xffff;
    return ((data << EERD_DATA_SHIFT) | (address << EERD_ADDR_SHIFT) | EERD_DONE) >>> 0;
  }

  private drivePins(cs: boolean, sk: boolean, di: boolean): void {
    const wire = this.wire;
    if (!cs) {
      wire.selected = false;
      wire.clock = sk;
      wire.phase = MicrowirePhase.Standby;
      wire.dataOut = false;
      return;
    }
    if (!wire.selected) {
      wire.selected = true;
      wire.phase = MicrowirePhase.Standby;
      wire.bitCount = 0;
      wire.dataOut = true;
    }
    const rising = sk && !wire.clock;
    wire.clock = sk;
    if (rising) this.clockEdge(di ? 1 : 0);
  }

  private clockEdge(bit: number): void {
    const wire = this.wire;
    switch (wire.phase) {
      case MicrowirePhase.Standby:
        if (bit === 1) {
          wire.phase = MicrowirePhase.Command;
          wire.bitCount = 0;
          wire.shift = 0;
        }
        return;
      case MicrowirePhase.Command:
        wire.shift = (wire.shift << 1) | bit;
        if (++wire.bitCount === 2 + ADDRESS_BITS) this.decode(wire.shift >>> ADDRESS_BITS, wire.shift & ADDRESS_MASK);
        return;
      case MicrowirePhase.Read: {
        const word = this.words[wire.address]!;
        wire.dataOut = ((word >>> (15 - wire.bitIndex)) & 1) === 1;
        if (++wire.bitIndex === 16) {
          wire.bitIndex = 0;
          wire.address = (wire.address + 1) & ADDRESS_MASK;
        }
        return;
      }
      case MicrowirePhase.WriteData:
        wire.shift = ((wire.shift << 1) | bit) & 0xffff;
        if (++wire.bitCount === 16) {
          if (wire.writeEnabled) {
            if (wire.pendingOpcode === OP_WRITE) this.words[wire.pendingAddress] = wire.shift;
            else this.words.fill(wire.shift);
          }
          this.finish();
        }
        return;
    }
  }

  private decode(opcode: number, address: number): void {
    const wire = this.wire;
    switch (opcode) {
      case OP_READ:
        wire.phase = MicrowirePhase.Read;
        wire.address = address;
        wire.bitIndex = 0;
        // The part drives a dummy 0 before D15.
        wire.dataOut = false;
        return;
      case OP_WRITE:
        this.expectData(OP_WRITE, address);
        return;
      case OP_ERASE:
        if (wire.writeEnabled) this.words[address] = 0xffff;
        this.finish();
        return;
      case OP_EXTENDED:
        switch (address >>> (ADDRESS_BITS - 2)) {
          case EXT_EWEN:
            wire.writeEnabled = true;
            break;
          case EXT_EWDS:
            wire.writeEnabled = false;
            break;
          case EXT_ERAL:
            if (wire.writeEnabled) this.words.fill(0xffff);
            break;
          case EXT_WRAL:
            this.expectData(EXT_WRAL, 0);
            return;
        }
        this.finish();
    }
  }

  private expectData(opcode: number, address: number): void {
    const wire = this.wire;
    wire.phase = MicrowirePhase.WriteData;
    wire.pendingOpcode = opcode === OP_WRITE ? OP_WRITE : -1;
    wire.pendingAddress = address;
    wire.bitCount = 0;
    wire.shift = 0;
  }

  /** The instruction is done; the part is ready (DO high) and waits for CS to drop. */
  private finish(): void {
    this.wire.phase = MicrowirePhase.Standby;
    this.wire.dataOut = true;
  }
}
