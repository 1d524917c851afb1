import * as R from "./config-registers.js";
import type { AccessWidth } from "../io/address-space.js";

export type BarKind = "memory" | "io";

export interface BarSpec {
  index: number;
  kind: BarKind;
  /** Bytes decoded; a power of two (at least 16 for memory, 4 for I/O). */
  size: number;
  /** Memory BARs only: a 64-bit BAR also occupies the next BAR slot. */
  is64?: boolean;
  prefetchable?: boolean;
}

export interface PciHeaderSpec {
  vendorId: number;
  deviceId: number;
  revisionId?: number;
  /** 24-bit class code: base class, sub-class, programming interface. */
  classCode: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** 0 = none, 1..4 = INTA#..INTD#. */
  interruptPin?: number;
  /** Bit 7 set for a multi-function device. */
  multiFunction?: boolean;
  bars?: BarSpec[];
  minGrant?: number;
  maxLatency?: number;
  /** Status bits the device reports besides the capability-list bit (66 MHz, fast back-to-back, DEVSEL timing). */
  status?: number;
}

export interface MsiCapabilitySpec {
  /** log2 of the number of vectors requested (0..5). */
  multipleMessageCapable?: number;
  is64?: boolean;
  perVectorMasking?: boolean;
}

export interface MsiState {
  enabled: boolean;
  address: number;
  data: number;
  /** Number of vectors the OS granted (power of two). */
  vectors: number;
  maskBits: number;
}

export type ConfigWriteListener = (offset: number, width: AccessWidth) => void;

export interface PciConfigSnapshot {
  version: 1;
  bytes: number[];
}

/**
 * Type-0 configuration space of one PCI function, byte-exact: read-only identity fields, writable
 * command/BAR/interrupt-line bytes, write-one-to-clear status bits, the BAR sizing protocol (all-ones
 * reads back the size mask and type bits) and a capability list.
 */
export class PciConfigSpace {
  readonly bytes = new Uint8Array(R.PCI_CONFIG_SPACE_SIZE);
  private readonly writeMask = new Uint8Array(R.PCI_CONFIG_SPACE_SIZE);
  private readonly clearMask = new Uint8Array(R.PCI_CONFIG_SPACE_SIZE);
  private readonly listeners: ConfigWriteListener[] = [];
  readonly bars: readonly (BarSpec | undefined)[];
  private lastCapability = 0;
  private nextCapabilityOffset = R.PCI_CONFIG_HEADER_END;
  private msiOffset = -1;
  private msiSpec: Required<MsiCapabilitySpec> | undefined;

  constructor(readonly header: PciHeaderSpec) {
    const bars: (BarSpec | undefined)[] = new Array(6).fill(undefined);
    this.set16(R.PCI_VENDOR_ID, header.vendorId);
    this.set16(R.PCI_DEVICE_ID, header.deviceId);
    this.bytes[R.PCI_REVISION_ID] = header.revisionId ?? 0;
    this.bytes[R.PCI_CLASS_PROG] = header.classCode & 0xff;
    this.set16(R.PCI_CLASS_DEVICE, header.classCode >>> 8);
    this.bytes[R.PCI_HEADER_TYPE] = header.multiFunction ? 0x80 : 0x00;
    this.set16(R.PCI_SUBSYSTEM_VENDOR_ID, header.subsystemVendorId ?? 0);
    this.set16(R.PCI_SUBSYSTEM_ID, header.subsystemId ?? 0);
    this.bytes[R.PCI_INTERRUPT_PIN] = header.interruptPin ?? 0;
    this.bytes[R.PCI_MIN_GNT] = header.minGrant ?? 0;
    this.bytes[R.PCI_MAX_LAT] = header.maxLatency ?? 0;
    this.set16(R.PCI_STATUS, header.status ?? R.PCI_STATUS_DEVSEL_MEDIUM);

    this.setMask(R.PCI_COMMAND, 2, 0x0557);
    this.clearMask[R.PCI_STATUS + 1] = R.PCI_STATUS_WRITE_ONE_TO_CLEAR >>> 8;
    this.writeMask[R.PCI_CACHE_LINE_SIZE] = 0xff;
    this.writeMask[R.PCI_LATENCY_TIMER] = 0xff;
    this.writeMask[R.PCI_INTERRUPT_LINE] = 0xff;

    for (const bar of header.bars ?? []) {
      validateBar(bar, bars);
      bars[bar.index] = bar;
      const offset = R.PCI_BASE_ADDRESS_0 + bar.index * 4;
      if (bar.kind === "io") {
        this.set32(offset, R.PCI_BASE_ADDRESS_SPACE_IO);
        this.setMask(offset, 4, ~(bar.size - 1) & 0xfffffffc);
      } else {
        const flags = (bar.is64 ? R.PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (bar.prefetchable ? R.PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
        this.set32(offset, flags);
        this.setMask(offset, 4, ~(bar.size - 1) & 0xfffffff0);
        if (bar.is64) this.setMask(offset + 4, 4, 0xffffffff);
      }
    }
    this.bars = bars;
  }

  // ---- identity ----
  get vendorId(): number {
    return this.get16(R.PCI_VENDOR_ID);
  }
  get deviceId(): number {
    return this.get16(R.PCI_DEVICE_ID);
  }
  get classCode(): number {
    return (this.get16(R.PCI_CLASS_DEVICE) << 8) | this.bytes[R.PCI_CLASS_PROG]!;
  }
  get subsystemVendorId(): number {
    return this.get16(R.PCI_SUBSYSTEM_VENDOR_ID);
  }
  get subsystemId(): number {
    return this.get16(R.PCI_SUBSYSTEM_ID);
  }
  get revisionId(): number {
    return this.bytes[R.PCI_REVISION_ID]!;
  }
  get command(): number {
    return this.get16(R.PCI_COMMAND);
  }
  get status(): number {
    return this.get16(R.PCI_STATUS);
  }
  get interruptPin(): number {
    return this.bytes[R.PCI_INTERRUPT_PIN]!;
  }
  get interruptLine(): number {
    return this.bytes[R.PCI_INTERRUPT_LINE]!;
  }

  get memorySpaceEnabled(): boolean {
    return (this.command & R.PCI_COMMAND_MEMORY) !== 0;
  }
  get ioSpaceEnabled(): boolean {
    return (this.command & R.PCI_COMMAND_IO) !== 0;
  }
  /** Read at every DMA access: straight from the command register's low byte, where the bit lives. */
  get busMasterEnabled(): boolean {
    return (this.bytes[R.PCI_COMMAND]! & R.PCI_COMMAND_MASTER) !== 0;
  }
  get intxDisabled(): boolean {
    return (this.command & R.PCI_COMMAND_INTX_DISABLE) !== 0;
  }

  /** Current address a BAR decodes (its writable bits), or 0 when unassigned. */
  barAddress(index: number): number {
    const bar = this.bars[index];
    if (!bar) return 0;
    const offset = R.PCI_BASE_ADDRESS_0 + index * 4;
    const low = this.get32(offset) & (bar.kind === "io" ? 0xfffffffc : 0xfffffff0);
    const high = bar.is64 ? this.get32(offset + 4) : 0;
    return high * 2 ** 32 + (low >>> 0);
  }

  // ---- device-side hooks ----
  /** The device reports its interrupt status bit (read-only to software). */
  setInterruptStatus(asserted: boolean): void {
    const status = this.get16(R.PCI_STATUS);
    this.set16(R.PCI_STATUS, asserted ? status | R.PCI_STATUS_INTERRUPT : status & ~R.PCI_STATUS_INTERRUPT);
  }

  /** The device latches an error condition in the status register (cleared by software writing 1). */
  raiseStatus(bits: number): void {
    this.set16(R.PCI_STATUS, this.get16(R.PCI_STATUS) | (bits & R.PCI_STATUS_WRITE_ONE_TO_CLEAR));
  }

  onWrite(listener: ConfigWriteListener): void {
    this.listeners.push(listener);
  }

  /**
   * Appends a capability to the list and returns its offset. `writeMask` gives the bytes software may
   * change, relative to the capability start (the id/next bytes are always read-only).
   */
  addCapability(id: number, length: number, writeMask: readonly number[] = []): number {
    const offset = this.nextCapabilityOffset;
    if (length < 2 || offset + length > R.PCI_CONFIG_SPACE_SIZE) throw new RangeError(`no room for capability 0x${id.toString(16)} (${length} bytes)`);
    this.bytes[offset] = id;
    this.bytes[offset + 1] = 0;
    for (let i = 2; i < length; i++) this.writeMask[offset + i] = writeMask[i] ?? 0;
    if (this.lastCapability === 0) this.bytes[R.PCI_CAPABILITY_LIST] = offset;
    else this.bytes[this.lastCapability + 1] = offset;
    this.lastCapability = offset;
    this.nextCapabilityOffset = (offset + length + 3) & ~3;
    this.set16(R.PCI_STATUS, this.get16(R.PCI_STATUS) | R.PCI_STATUS_CAP_LIST);
    return offset;
  }

  /** Adds an MSI capability (PCI 3.0 §6.8.1). */
  addMsiCapability(spec: MsiCapabilitySpec = {}): number {
    const full: Required<MsiCapabilitySpec> = {
      multipleMessageCapable: spec.multipleMessageCapable ?? 0,
      is64: spec.is64 ?? true,
      perVectorMasking: spec.perVectorMasking ?? false,
    };
    const length = 10 + (full.is64 ? 4 : 0) + (full.perVectorMasking ? 10 : 0);
    const dataOffset = full.is64 ? 0x0c : 0x08;
    const mask: number[] = new Array(length).fill(0);
    mask[2] = R.PCI_MSI_FLAGS_ENABLE | R.PCI_MSI_FLAGS_QSIZE;
    mask[4] = 0xfc;
    mask[5] = mask[6] = mask[7] = 0xff;
    if (full.is64) mask[8] = mask[9] = mask[10] = mask[11] = 0xff;
    mask[dataOffset] = mask[dataOffset + 1] = 0xff;
    if (full.perVectorMasking) {
      const vectors = 1 << full.multipleMessageCapable;
      const maskBits = vectors >= 32 ? 0xffffffff : (1 << vectors) - 1;
      for (let i = 0; i < 4; i++) mask[dataOffset + 4 + i] = (maskBits >>> (8 * i)) & 0xff;
    }
    const offset = this.addCapability(R.PCI_CAP_ID_MSI, length, mask);
    const flags =
      (full.multipleMessageCapable << 1) | (full.is64 ? R.PCI_MSI_FLAGS_64BIT : 0) | (full.perVectorMasking ? R.PCI_MSI_FLAGS_MASKBIT : 0);
    this.set16(offset + R.PCI_MSI_FLAGS, flags);
    this.msiOffset = offset;
    this.msiSpec = full;
    return offset;
  }

  /** Offsets of every capability with this id, following the list as software would. */
  findCapabilities(id: number): number[] {
    const found: number[] = [];
    let offset = this.bytes[R.PCI_CAPABILITY_LIST]! & 0xfc;
    for (let guard = 0; offset !== 0 && guard < 48; guard++) {
      if (this.bytes[offset] === id) found.push(offset);
      offset = this.bytes[offset + 1]! & 0xfc;
    }
    return found;
  }

  /** MSI is present and enabled: read straight from the flags, for paths that run on every interrupt edge. */
  get msiEnabled(): boolean {
    return this.msiOffset >= 0 && (this.bytes[this.msiOffset + R.PCI_MSI_FLAGS]! & R.PCI_MSI_FLAGS_ENABLE) !== 0;
  }

  /** The MSI message the OS programmed, or undefined if the function has no MSI capability. */
  msi(): MsiState | undefined {
    if (this.msiOffset < 0 || !this.msiSpec) return undefined;
    const base = this.msiOffset;
    const flags = this.get16(base + R.PCI_MSI_FLAGS);
    const low = this.get32(base + R.PCI_MSI_ADDRESS_LO) >>> 0;
    const high = this.msiSpec.is64 ? this.get32(base + 8) >>> 0 : 0;
    const dataOffset = base + (this.msiSpec.is64 ? 0x0c : 0x08);
    const granted = Math.min((flags & R.PCI_MSI_FLAGS_QSIZE) >> 4, this.msiSpec.multipleMessageCapable);
    return {
      enabled: (flags & R.PCI_MSI_FLAGS_ENABLE) !== 0,
      address: high * 2 ** 32 + low,
      data: this.get16(dataOffset),
      vectors: 1 << granted,
      maskBits: this.msiSpec.perVectorMasking ? this.get32(dataOffset + 4) >>> 0 : 0,
    };
  }

  /** Sets or clears a pending bit of a per-vector-masked MSI capability. */
  setMsiPending(vector: number, pending: boolean): void {
    if (this.msiOffset < 0 || !this.msiSpec?.perVectorMasking) return;
    const offset = this.msiOffset + (this.msiSpec.is64 ? 0x0c : 0x08) + 8;
    const bits = this.get32(offset);
    this.set32(offset, pending ? bits | (1 << vector) : bits & ~(1 << vector));
  }

  // ---- software (configuration cycle) access ----
  read(offset: number, width: AccessWidth): number {
    if (!isAlignedAccess(offset, width)) return width === 4 ? 0xffffffff : (1 << (8 * width)) - 1;
    let value = 0;
    for (let i = width - 1; i >= 0; i--) value = (value << 8) | this.bytes[offset + i]!;
    return value >>> 0;
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (!isAlignedAccess(offset, width)) return;
    for (let i = 0; i < width; i++) {
      const at = offset + i;
      const byte = (value >>> (8 * i)) & 0xff;
      const writable = this.writeMask[at]!;
      const clearable = this.clearMask[at]!;
      const old = this.bytes[at]!;
      this.bytes[at] = (old & ~writable & ~(byte & clearable)) | (byte & writable);
    }
    for (const listener of this.listeners) listener(offset, width);
  }

  snapshot(): PciConfigSnapshot {
    return { version: 1, bytes: Array.from(this.bytes) };
  }

  restore(snapshot: PciConfigSnapshot): void {
    if (snapshot.version !== 1 || snapshot.bytes.length !== R.PCI_CONFIG_SPACE_SIZE) throw new Error("PciConfigSpace: unsupported snapshot");
    this.bytes.set(snapshot.bytes);
    // Whoever decodes this function (a bus) must follow the restored command register and BARs.
    for (const listener of this.listeners) listener(R.PCI_COMMAND, 2);
  }

  /** Back to power-on state: software-writable fields cleared, identity and capabilities kept. */
  reset(): void {
    this.set16(R.PCI_COMMAND, 0);
    this.set16(R.PCI_STATUS, this.get16(R.PCI_STATUS) & ~(R.PCI_STATUS_WRITE_ONE_TO_CLEAR | R.PCI_STATUS_INTERRUPT));
    this.bytes[R.PCI_CACHE_LINE_SIZE] = 0;
    this.bytes[R.PCI_LATENCY_TIMER] = 0;
    this.bytes[R.PCI_INTERRUPT_LINE] = 0;
    for (const bar of this.bars) {
      if (!bar) continue;
      const offset = R.PCI_BASE_ADDRESS_0 + bar.index * 4;
      this.set32(offset, this.get32(offset) & ~this.mask32(offset));
      if (bar.is64) this.set32(offset + 4, 0);
    }
    if (this.msiOffset >= 0) {
      const flagsAt = this.msiOffset + R.PCI_MSI_FLAGS;
      this.set16(flagsAt, this.get16(flagsAt) & ~(R.PCI_MSI_FLAGS_ENABLE | R.PCI_MSI_FLAGS_QSIZE));
    }
  }

  get16(offset: number): number {
    return this.bytes[offset]! | (this.bytes[offset + 1]! << 8);
  }
  get32(offset: number): number {
    return (this.bytes[offset]! | (this.bytes[offset + 1]! << 8) | (this.bytes[offset + 2]! << 16) | (this.bytes[offset + 3]! << 24)) >>> 0;
  }
  private set16(offset: number, value: number): void {
    this.bytes[offset] = value & 0xff;
    this.bytes[offset + 1] = (value >>> 8) & 0xff;
  }
  private set32(offset: number, value: number): void {
    for (let i = 0; i < 4; i++) this.bytes[offset + i] = (value >>> (8 * i)) & 0xff;
  }
  private setMask(offset: number, width: number, mask: number): void {
    for (let i = 0; i < width; i++) this.writeMask[offset + i] = (mask >>> (8 * i)) & 0xff;
  }
  private mask32(offset: number): number {
    return (this.writeMask[offset]! | (this.writeMask[offset + 1]! << 8) | (this.writeMask[offset + 2]! << 16) | (this.writeMask[offset + 3]! << 24)) >>> 0;
  }
}

function isAlignedAccess(offset: number, width: AccessWidth): boolean {
  return offset >= 0 && offset + width <= R.PCI_CONFIG_SPACE_SIZE && (offset & (width - 1)) === 0;
}

function validateBar(bar: BarSpec, taken: readonly (BarSpec | undefined)[]): void {
  const minimum = bar.kind === "io" ? 4 : 16;
  if (!Number.isInteger(bar.index) || bar.index < 0 || bar.index > 5) throw new RangeError(`BAR index ${bar.index} out of range`);
  if (bar.size < minimum || (bar.size & (bar.size - 1)) !== 0 || bar.size > 2 ** 31) {
    throw new RangeError(`BAR${bar.index}: size ${bar.size} must be a power of two of at least ${minimum} bytes`);
  }
  if (bar.kind === "io" && (bar.is64 || bar.prefetchable)) throw new Error(`BAR${bar.index}: an I/O BAR cannot be 64-bit or prefetchable`);
  if (bar.is64 && bar.index === 5) throw new Error("BAR5 cannot be 64-bit: there is no BAR6 for the upper half");
  const previous = bar.index > 0 ? taken[bar.index - 1] : undefined;
  if (taken[bar.index] || previous?.is64) throw new Error(`BAR${bar.index} is already in use`);
}
