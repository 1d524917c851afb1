import {
  PCI_CAP_ID_PM,
  PCI_STATUS_66MHZ,
  PCI_STATUS_DEVSEL_MEDIUM,
  PciConfigSpace,
  type AccessWidth,
  type DmaPort,
  type PciDeviceModel,
  type PciDevicePort,
  type TimerHandle,
} from "@vmk/kernel";
import type { EthernetMedium, EthernetPort } from "../net/ethernet.js";
import * as R from "./registers.js";
import { Eeprom, MicrowirePhase, buildEepromImage, createMicrowireState } from "./eeprom.js";
import { Interrupts, type InterruptHost } from "./interrupts.js";
import { PHY_ADDRESS, Phy, createPhyState, type PhyHost } from "./phy.js";
import { RegisterFile, e1000RegisterMap, type E1000RegisterHandlers } from "./register-map.js";
import { Receiver } from "./rx.js";
import { readStatistic } from "./stats.js";
import { DeadlineTimer } from "./timers.js";
import { Transmitter, type TransmitHost } from "./tx.js";
import { E1000_VARIANTS, variantBars, type E1000Variant, type E1000VariantName } from "./variants.js";
import { createState, type E1000Diagnostics, type E1000State } from "./state.js";
import { restoreSnapshot, takeSnapshot, type E1000Snapshot } from "./snapshot.js";

export interface E1000Options {
  variant?: E1000VariantName;
  /** Station address burnt into the EEPROM: 6 bytes or "52:54:00:12:34:56". A unique Intel-OUI address when omitted. */
  mac?: Uint8Array | string;
  /** Time autonegotiation takes once a partner is present (default 100 ms). */
  autonegotiationNs?: number;
}

const CTRL_INDEX = R.reg(R.CTRL);
const RCTL_INDEX = R.reg(R.RCTL);
const RA_INDEX = R.reg(R.RA);
/** Packet buffer of the 82540/82545: 64 KB split between receive (PBA.RXA) and transmit. */
const PACKET_BUFFER_KB = 64;
const DEFAULT_AUTONEG_NS = 100_000_000;

let nextDefaultMac = 1;

export function parseMac(mac: Uint8Array | string): Uint8Array {
  if (typeof mac !== "string") {
    if (mac.length !== 6) throw new RangeError(`MAC address must be 6 bytes (got ${mac.length})`);
    return Uint8Array.from(mac);
  }
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new RangeError(`malformed MAC address "${mac}"`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/**
 * Intel 8254x (82540EM / 82545EM) gigabit Ethernet controller: PCI function on one side, Ethernet
 * port on the other. Register behaviour lives in the components (EEPROM, PHY, interrupts, receive,
 * transmit, statistics); this class is the transport (BARs) and the glue.
 */
export class E1000Model implements PciDeviceModel, EthernetPort {
  readonly modelName: string;
  readonly config: PciConfigSpace;
  readonly variant: E1000Variant;
  readonly state: E1000State;
  private readonly registers: RegisterFile;
  private readonly eeprom: Eeprom;
  private readonly phy: Phy;
  private readonly phyLinkTimer: DeadlineTimer;
  private readonly interrupts: Interrupts;
  private readonly receiver: Receiver;
  private readonly transmitter: Transmitter;
  private readonly regs: Uint32Array;
  private port: PciDevicePort | undefined;
  private medium: EthernetMedium | undefined;

  constructor(options: E1000Options = {}) {
    this.variant = E1000_VARIANTS[options.variant ?? "82540EM"];
    if (!this.variant) throw new RangeError(`unknown 8254x variant ${String(options.variant)}`);
    this.modelName = this.variant.modelName;
    const mac = options.mac !== undefined ? parseMac(options.mac) : defaultMac();
    this.config = new PciConfigSpace({
      vendorId: this.variant.vendorId,
      deviceId: this.variant.deviceId,
      revisionId: this.variant.revisionId,
      classCode: 0x020000,
      subsystemVendorId: this.variant.subsystemVendorId,
      subsystemId: this.variant.subsystemId,
      interruptPin: 1,
      bars: variantBars(this.variant),
      minGrant: 0xff,
      maxLatency: 0x00,
      status: PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_66MHZ,
    });
    // Power management (PCI PM 1.1): D0/D3hot, PME from D3; PMCSR power state and PME_En writable.
    const pm = this.config.addCapability(PCI_CAP_ID_PM, 8, [0, 0, 0, 0, 0x03, 0x01, 0, 0]);
    this.config.bytes[pm + 2] = 0x22;
    this.config.bytes[pm + 3] = 0xc8;
    if (this.variant.msi) this.config.addMsiCapability({ is64: true });

    const phyState = createPhyState();
    this.state = createState(createMicrowireState(), phyState);
    this.regs = this.state.regs;
    this.state.eeprom.set(buildEepromImage(mac, this.variant));
    this.eeprom = new Eeprom(this.state.eeprom, this.state.microwire);

    const model = this;
    const timerHost: InterruptHost = {
      now: () => model.port?.clock.now() ?? 0,
      schedule: (delay: number, callback: () => void, label: string): TimerHandle | undefined =>
        model.port?.clock.setTimer(delay, callback, { label: `${model.port.address} ${label}` }),
      setInterruptLine: (asserted: boolean) => model.port?.setInterrupt(asserted),
    };
    const phyHost: PhyHost = {
      get carrier() {
        return model.state.carrier;
      },
      now: timerHost.now,
      linkTimerChanged: () => model.phyLinkTimer.sync(),
      linkChanged: () => model.updateLinkStatus(),
    };
    this.phy = new Phy(phyState, phyHost, options.autonegotiationNs ?? DEFAULT_AUTONEG_NS);
    this.phyLinkTimer = new DeadlineTimer(
      timerHost,
      "e1000 PHY link",
      () => phyState.linkDeadline,
      (deadline) => (phyState.linkDeadline = deadline),
      () => this.phy.linkTimerExpired(),
    );
    this.interrupts = new Interrupts(this.state, timerHost);
    const transmitHost: TransmitHost = {
      get dma(): DmaPort | undefined {
        return model.port?.dma;
      },
      reportError: (detail) => model.port?.reportError(`e1000: ${detail}`),
      emitFrame: (frame) => model.emitFrame(frame),
    };
    this.receiver = new Receiver(this.state, this.interrupts, transmitHost);
    this.transmitter = new Transmitter(this.state, this.interrupts, transmitHost);
    this.registers = new RegisterFile(this.regs, e1000RegisterMap(this.registerHandlers()));
    this.powerOn();
  }

  /** The station address in the EEPROM (what RAL0/RAH0 load at reset). */
  get macAddress(): Uint8Array {
    const words = this.state.eeprom;
    return Uint8Array.from([words[0]! & 0xff, words[0]! >>> 8, words[1]! & 0xff, words[1]! >>> 8, words[2]! & 0xff, words[2]! >>> 8]);
  }

  get diagnostics(): Readonly<E1000Diagnostics> {
    return this.state.diagnostics;
  }

  /** STATUS.LU as the driver would read it. */
  get linkUp(): boolean {
    return this.state.macLinkUp;
  }

  // ---- PciDeviceModel ----

  attach(port: PciDevicePort): void {
    this.port = port;
    this.phyLinkTimer.sync();
    this.interrupts.resyncTimers();
  }

  detach(): void {
    this.phyLinkTimer.release();
    this.interrupts.release();
    this.port = undefined;
  }

  /** Power-on / function-level reset: MAC and PHY to their reset state, EEPROM contents kept. */
  reset(): void {
    this.powerOn();
  }

  barAccessWidths(): AccessWidth[] {
    // Registers are 32-bit only (SDM 13.1); the I/O window takes dword writes and any read size.
    return [4];
  }

  barRead(bar: number, offset: number): number {
    if (bar === this.variant.registerBar) return this.registers.read(offset);
    if (bar === this.variant.ioBar) {
      if ((offset & ~3) === R.IOADDR) return this.state.ioAddress;
      const target = this.state.ioAddress;
      return target < R.MMIO_SIZE ? this.registers.read(target) : 0;
    }
    return 0xffffffff;
  }

  barWrite(bar: number, offset: number, _width: AccessWidth, value: number): void {
    if (bar === this.variant.registerBar) {
      this.registers.write(offset, value);
      return;
    }
    if (bar === this.variant.ioBar) {
      if ((offset & ~3) === R.IOADDR) {
        this.state.ioAddress = value & R.IOADDR_MASK;
        return;
      }
      const target = this.state.ioAddress;
      if (target < R.MMIO_SIZE) this.registers.write(target, value);
    }
  }

  /** Register access by name of offset, for tests and the console (same path as the BAR). */
  readRegister(offset: number): number {
    return this.registers.read(offset);
  }

  /**
   * The statistics registers as they stand, read without clearing them (a driver's read clears them,
   * so these count since the guest last read), and the model's internal drop counters (totals).
   */
  deviceCounters(): { registers: Record<string, number>; internal: Record<string, number> } {
    const regs = this.regs;
    const pair = (low: number) => regs[R.reg(low)]! + regs[R.reg(low) + 1]! * 0x100000000;
    return {
      registers: {
        GPRC: regs[R.reg(R.GPRC)]!,
        GPTC: regs[R.reg(R.GPTC)]!,
        GORC: pair(R.GORCL),
        GOTC: pair(R.GOTCL),
        BPRC: regs[R.reg(R.BPRC)]!,
        MPRC: regs[R.reg(R.MPRC)]!,
        BPTC: regs[R.reg(R.BPTC)]!,
        MPTC: regs[R.reg(R.MPTC)]!,
        TPR: regs[R.reg(R.TPR)]!,
        TPT: regs[R.reg(R.TPT)]!,
        MPC: regs[R.reg(R.MPC)]!,
        RNBC: regs[R.reg(R.RNBC)]!,
        ROC: regs[R.reg(R.ROC)]!,
        RUC: regs[R.reg(R.RUC)]!,
      },
      internal: { ...this.state.diagnostics },
    };
  }

  registerName(offset: number): string | undefined {
    return this.registers.nameOf(offset);
  }

  // ---- EthernetPort ----

  receiveFrame(frame: Uint8Array): void {
    if (!this.state.macLinkUp || this.inLoopback()) {
      this.state.diagnostics.rxDisabledDrops++;
      return;
    }
    this.receiver.receive(frame);
  }

  carrierChanged(up: boolean): void {
    if (this.state.carrier === up) return;
    this.state.carrier = up;
    this.phy.evaluate();
  }

  connect(medium: EthernetMedium | undefined): void {
    this.medium = medium;
    this.carrierChanged(medium?.carrier ?? false);
  }

  // ---- snapshots ----

  saveState(): E1000Snapshot {
    return takeSnapshot(this.state, this.config, this.variant.name, this.port?.clock.now() ?? 0);
  }

  restoreState(snapshot: E1000Snapshot): void {
    if (snapshot.variant !== this.variant.name) throw new Error(`e1000: snapshot of an ${snapshot.variant} cannot restore into an ${this.variant.name}`);
    this.phyLinkTimer.release();
    this.interrupts.release();
    restoreSnapshot(this.state, this.config, snapshot, this.port?.clock.now() ?? 0);
    this.phyLinkTimer.sync();
    this.interrupts.resyncTimers();
    this.port?.setInterrupt(this.state.interruptAsserted);
  }

  // ---- internals ----

  private powerOn(): void {
    this.state.microwire.selected = false;
    this.state.microwire.phase = MicrowirePhase.Standby;
    this.state.microwire.dataOut = false;
    this.state.microwire.writeEnabled = false;
    this.state.phy.heldInReset = false;
    this.macReset();
    this.phy.reset();
  }

  /** CTRL.RST (SDM 13.4.1): every MAC register to its reset value and the EEPROM words reloaded; the PHY keeps going. */
  private macReset(): void {
    this.interrupts.reset();
    this.registers.reset();
    this.transmitter.reset();
    const state = this.state;
    state.ioAddress = 0;
    state.interruptAsserted = false;
    this.loadFromEeprom();
    this.interrupts.reset();
    state.macLinkUp = false;
    this.updateLinkStatus();
  }

  /** What the chip loads from the EEPROM after reset: the station address into RAL0/RAH0. */
  private loadFromEeprom(): void {
    const words = this.state.eeprom;
    this.regs[RA_INDEX] = (words[0]! | (words[1]! << 16)) >>> 0;
    this.regs[RA_INDEX + 1] = (words[2]! | R.RAH_AV) >>> 0;
  }

  /** STATUS.LU follows the PHY once software sets CTRL.SLU; every change raises LSC. */
  private updateLinkStatus(): void {
    const up = this.phy.linkUp && (this.regs[CTRL_INDEX]! & R.CTRL_SLU) !== 0;
    if (up === this.state.macLinkUp) return;
    this.state.macLinkUp = up;
    this.interrupts.raise(R.ICR_LSC);
  }

  private inLoopback(): boolean {
    return (this.regs[RCTL_INDEX]! & R.RCTL_LBM_MASK) !== 0 || this.phy.loopback;
  }

  private emitFrame(frame: Uint8Array): boolean {
    if (this.inLoopback()) {
      this.receiver.receive(frame);
      return true;
    }
    if (!this.state.macLinkUp || !this.medium) return false;
    this.medium.transmitFrame(frame);
    return true;
  }

  private readStatus(): number {
    const ctrl = this.regs[CTRL_INDEX]!;
    const fullDuplex = ctrl & R.CTRL_FRCDPLX ? (ctrl & R.CTRL_FD) !== 0 : this.phy.fullDuplex;
    const speed = ctrl & R.CTRL_FRCSPD ? (ctrl & R.CTRL_SPEED_MASK) >>> R.CTRL_SPEED_SHIFT : this.phy.speedCode;
    return (fullDuplex ? R.STATUS_FD : 0) | (this.state.macLinkUp ? R.STATUS_LU : 0) | (speed << R.STATUS_SPEED_SHIFT);
  }

  private writeControl(index: number, value: number): void {
    if (value & R.CTRL_RST) {
      this.macReset();
      return;
    }
    this.registers.store(index, value);
    this.phy.setHeldInReset((value & R.CTRL_PHY_RST) !== 0);
    this.updateLinkStatus();
  }

  private writeMdiControl(index: number, value: number): void {
    const register = (value >>> R.MDIC_REG_SHIFT) & 0x1f;
    const phyAddress = (value >>> R.MDIC_PHY_SHIFT) & 0x1f;
    const opcode = (value >>> R.MDIC_OP_SHIFT) & 3;
    let data = value & R.MDIC_DATA_MASK;
    let error = false;
    if (phyAddress !== PHY_ADDRESS || (opcode !== R.MDIC_OP_READ && opcode !== R.MDIC_OP_WRITE)) error = true;
    else if (opcode === R.MDIC_OP_READ) data = this.phy.read(register);
    else this.phy.write(register, data);
    this.regs[index] = ((value & ~(R.MDIC_DATA_MASK | R.MDIC_ERROR)) | data | R.MDIC_READY | (error ? R.MDIC_ERROR : 0)) >>> 0;
    if (value & R.MDIC_INT_EN) this.interrupts.raise(R.ICR_MDAC);
  }

  private registerHandlers(): E1000RegisterHandlers {
    const regs = this.regs;
    const interrupts = this.interrupts;
    return {
      writeControl: (index, value) => this.writeControl(index, value),
      readStatus: () => this.readStatus(),
      readEepromControl: (index) => this.eeprom.readEecd(regs[index]!),
      writeEepromControl: (index, value) => (regs[index] = this.eeprom.writeEecd(value)),
      writeEepromRead: (index, value) => (regs[index] = this.eeprom.writeEerd(value)),
      writeExtendedControl: (index, value) => {
        this.registers.store(index, value);
        if (value & R.CTRL_EXT_EE_RST) this.loadFromEeprom();
      },
      writeMdiControl: (index, value) => this.writeMdiControl(index, value),
      readInterruptCause: () => interrupts.readCauses(),
      writeInterruptCause: (_index, value) => interrupts.clearCauses(value),
      writeInterruptCauseSet: (_index, value) => interrupts.raise(value),
      writeInterruptMaskSet: (_index, value) => interrupts.setMask(value),
      writeInterruptMaskClear: (_index, value) => interrupts.clearMask(value),
      writeInterruptThrottle: (index, value) => {
        this.registers.store(index, value);
        interrupts.update();
      },
      writeReceiveControl: (index, value) => this.registers.store(index, value),
      writeReceiveDelayTimer: (index, value) => {
        this.registers.store(index, value);
        if (value & R.RDTR_FPD) interrupts.flushReceiveTimers();
      },
      writeTransmitControl: (index, value) => {
        this.registers.store(index, value);
        if (value & R.TCTL_EN) this.transmitter.process();
      },
      writeTransmitTail: (index, value) => {
        this.registers.store(index, value);
        this.transmitter.process();
      },
      readPacketBufferAllocation: (index) => {
        const receiveKb = regs[index]! & 0x7f;
        return ((Math.max(0, PACKET_BUFFER_KB - receiveKb) << 16) | receiveKb) >>> 0;
      },
      readStatistic: (index) => readStatistic(regs, index),
    };
  }
}

function defaultMac(): Uint8Array {
  // Intel's 00:1B:21 OUI with a per-process serial, so cards created without an address still differ.
  const serial = nextDefaultMac++;
  return Uint8Array.from([0x00, 0x1b, 0x21, (serial >>> 16) & 0xff, (serial >>> 8) & 0xff, serial & 0xff]);
}
