import { Host, PciDeviceHandle, type CoherentBuffer, type IoMapping, type PciFunction, type VirtualClock } from "@vmk/kernel";
import type { EthernetMedium } from "../net/ethernet.js";
import { E1000Model, type E1000Options } from "./e1000-model.js";
import * as R from "./registers.js";

/** The far end of the cable in tests: keeps what the card transmits. */
export class RecordingMedium implements EthernetMedium {
  readonly frames: Uint8Array[] = [];
  carrier = true;
  transmitFrame(frame: Uint8Array): void {
    this.frames.push(frame);
  }
}

export interface RingSetup {
  descriptors: number;
  bufferSize: number;
}

/**
 * A host with one 8254x in slot 3 driven the way a driver does: through the PCI handle, the mapped
 * BAR and coherent DMA memory, on virtual time. Test-only scaffolding.
 */
export class E1000Rig {
  readonly host = new Host({ memoryBytes: 32 << 20 });
  readonly model: E1000Model;
  readonly fn: PciFunction;
  readonly handle: PciDeviceHandle;
  readonly regs: IoMapping;
  readonly medium = new RecordingMedium();
  rxRing: CoherentBuffer | undefined;
  rxBuffers: CoherentBuffer | undefined;
  rxBufferSize = 2048;
  txRing: CoherentBuffer | undefined;
  txBuffers: CoherentBuffer | undefined;

  constructor(options: E1000Options = {}) {
    this.model = new E1000Model({ mac: "00:1b:21:aa:bb:cc", ...options });
    this.fn = this.host.pci.attach({ device: 3 }, this.model);
    this.host.pci.assignResources();
    this.handle = new PciDeviceHandle(this.fn, this.host.pci, this.host.interrupts, this.host.memory, "test");
    this.handle.enable();
    this.handle.setMaster(true);
    this.regs = this.handle.mapBar(0);
  }

  get clock(): VirtualClock {
    return this.host.clock as VirtualClock;
  }

  read(offset: number): number {
    return this.regs.read32(offset);
  }

  write(offset: number, value: number): void {
    this.regs.write32(offset, value >>> 0);
  }

  get interruptAsserted(): boolean {
    return this.host.interrupts.isLineAsserted(this.fn.gsi!);
  }

  advance(ns: number): void {
    this.clock.advance(ns);
  }

  phyRead(register: number): number {
    this.write(R.MDIC, (R.MDIC_OP_READ << R.MDIC_OP_SHIFT) | (1 << R.MDIC_PHY_SHIFT) | (register << R.MDIC_REG_SHIFT));
    return this.read(R.MDIC) & 0xffff;
  }

  phyWrite(register: number, value: number): void {
    this.write(R.MDIC, (R.MDIC_OP_WRITE << R.MDIC_OP_SHIFT) | (1 << R.MDIC_PHY_SHIFT) | (register << R.MDIC_REG_SHIFT) | value);
  }

  /** Cable in, SLU set, autonegotiation run to completion; causes cleared. */
  bringLinkUp(): void {
    this.model.connect(this.medium);
    this.write(R.CTRL, this.read(R.CTRL) | R.CTRL_SLU | R.CTRL_ASDE);
    this.advance(1_000_000_000);
    this.read(R.ICR);
  }

  setupRx(descriptors = 8, rctlExtra = 0, bufferSize = 2048): void {
    this.rxRing = this.handle.dma.allocCoherent(descriptors * 16);
    this.rxBuffers = this.handle.dma.allocCoherent(descriptors * bufferSize);
    this.rxBufferSize = bufferSize;
    for (let i = 0; i < descriptors; i++) this.rxRing.view.setUint32(i * 16, this.rxBuffers.busAddress + i * bufferSize, true);
    this.write(R.RDBAL, this.rxRing.busAddress);
    this.write(R.RDBAH, 0);
    this.write(R.RDLEN, descriptors * 16);
    this.write(R.RDH, 0);
    this.write(R.RDT, descriptors - 1);
    const bsize = { 2048: 0, 1024: 1, 512: 2, 256: 3 }[bufferSize as 2048] ?? 0;
    this.write(R.RCTL, R.RCTL_EN | R.RCTL_BAM | R.RCTL_SECRC | (bsize << R.RCTL_BSIZE_SHIFT) | rctlExtra);
  }

  /** Legacy receive descriptor i as written back. */
  rxDescriptor(i: number): { length: number; checksum: number; status: number; errors: number; special: number; data: Uint8Array } {
    const view = this.rxRing!.view;
    const base = i * 16;
    const length = view.getUint16(base + 8, true);
    const offset = i * this.rxBufferSize;
    return {
      length,
      checksum: view.getUint16(base + 10, true),
      status: view.getUint8(base + 12),
      errors: view.getUint8(base + 13),
      special: view.getUint16(base + 14, true),
      data: this.rxBuffers!.bytes.slice(offset, offset + length),
    };
  }

  setupTx(descriptors = 8, bufferSize = 4096): void {
    this.txRing = this.handle.dma.allocCoherent(descriptors * 16);
    this.txBuffers = this.handle.dma.allocCoherent(descriptors * bufferSize);
    this.write(R.TDBAL, this.txRing.busAddress);
    this.write(R.TDBAH, 0);
    this.write(R.TDLEN, descriptors * 16);
    this.write(R.TDH, 0);
    this.write(R.TDT, 0);
    this.write(R.TCTL, R.TCTL_EN | R.TCTL_PSP | (0x0f << 4) | (0x40 << 12));
  }

  /** Writes a legacy transmit descriptor with its buffer copied to the slot's buffer area. */
  legacyTx(slot: number, data: Uint8Array, command: number, checksumOffset = 0, checksumStart = 0, special = 0): void {
    const address = this.txBuffers!.busAddress + slot * 4096;
    this.txBuffers!.bytes.set(data, slot * 4096);
    const view = this.txRing!.view;
    const base = slot * 16;
    view.setUint32(base, address, true);
    view.setUint32(base + 4, 0, true);
    view.setUint32(base + 8, data.length | (checksumOffset << 16) | (command << 24), true);
    view.setUint32(base + 12, (checksumStart << 8) | (special << 16), true);
  }

  contextTx(
    slot: number,
    fields: { ipcss?: number; ipcso?: number; ipcse?: number; tucss?: number; tucso?: number; tucse?: number; paylen?: number; tucmd?: number; hdrlen?: number; mss?: number },
  ): void {
    const view = this.txRing!.view;
    const base = slot * 16;
    view.setUint32(base, (fields.ipcss ?? 0) | ((fields.ipcso ?? 0) << 8) | ((fields.ipcse ?? 0) << 16), true);
    view.setUint32(base + 4, (fields.tucss ?? 0) | ((fields.tucso ?? 0) << 8) | ((fields.tucse ?? 0) << 16), true);
    view.setUint32(base + 8, ((fields.paylen ?? 0) & 0xfffff) | (R.TXD_DTYP_CONTEXT << 20) | (((fields.tucmd ?? 0) | R.TXD_CMD_DEXT) << 24), true);
    view.setUint32(base + 12, ((fields.hdrlen ?? 0) << 8) | ((fields.mss ?? 0) << 16), true);
  }

  dataTx(slot: number, data: Uint8Array, dcmd: number, popts: number, special = 0): void {
    const address = this.txBuffers!.busAddress + slot * 4096;
    this.txBuffers!.bytes.set(data, slot * 4096);
    const view = this.txRing!.view;
    const base = slot * 16;
    view.setUint32(base, address, true);
    view.setUint32(base + 4, 0, true);
    view.setUint32(base + 8, (data.length & 0xfffff) | (R.TXD_DTYP_DATA << 20) | ((dcmd | R.TXD_CMD_DEXT) << 24), true);
    view.setUint32(base + 12, (popts << 8) | (special << 16), true);
  }

  txStatus(slot: number): number {
    return this.txRing!.view.getUint8(slot * 16 + 12);
  }
}

/** A minimal Ethernet frame: destination, source, EtherType and payload (padded by nobody). */
export function ethernetFrame(destination: string, source: string, etherType: number, payload: Uint8Array | number): Uint8Array {
  const body = typeof payload === "number" ? Uint8Array.from({ length: payload }, (_, i) => (i * 7 + 3) & 0xff) : payload;
  const frame = new Uint8Array(14 + body.length);
  frame.set(macBytes(destination), 0);
  frame.set(macBytes(source), 6);
  frame[12] = etherType >>> 8;
  frame[13] = etherType & 0xff;
  frame.set(body, 14);
  return frame;
}

export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(":").map((p) => parseInt(p, 16)));
}
