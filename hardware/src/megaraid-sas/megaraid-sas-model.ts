import {
  PCI_CAP_ID_PM,
  PciConfigSpace,
  type AccessWidth,
  type DmaPort,
  type PciDeviceModel,
  type PciDevicePort,
  type TimerHandle,
} from "@vmk/kernel";
import type { ScsiCommandTarget } from "../scsi/scsi-command.js";
import { CommandProcessor } from "./command-processor.js";
import { defaultProperties, STRIPE_SIZE_MIN, type ControllerIdentity, type ControllerLimits } from "./controller-info.js";
import { DcmdProcessor } from "./dcmd.js";
import type { PhysicalDriveEntry } from "./drive-info.js";
import { DriveSet, type PhysicalDrive, type PhysicalDriveConfig } from "./drives.js";
import { EventArgs, EventClass, EventCode, EventLocale, EventLog, logicalDriveArgs, physicalDriveArgs } from "./events.js";
import { Firmware } from "./firmware.js";
import { OutboundInterrupts } from "./interrupts.js";
import { megaRaidRegisterMap, RegisterFile, type MegaRaidRegisterHandlers } from "./register-map.js";
import type { MfiState } from "./registers.js";
import { ReplyQueue } from "./reply-queue.js";
import { ScsiIo } from "./scsi-io.js";
import { restoreSnapshot, takeSnapshot, type MegaRaidSnapshot } from "./snapshot.js";
import { createState, type DriveGeometry, type MegaRaidDiagnostics, type MegaRaidState } from "./state.js";
import { MEGARAID_VARIANTS, type MegaRaidVariant, type MegaRaidVariantName } from "./variants.js";

export interface MegaRaidOptions {
  variant?: MegaRaidVariantName;
  /** Logical drives, one LUN each; the index is the target ID. */
  logicalDrives?: ScsiCommandTarget[];
  /** Drives passed through to the host as system (JBOD) drives. */
  physicalDrives?: PhysicalDriveConfig[];
  /** Commands the firmware accepts at once (status word bits 0..15); 1008 as LSI firmware reports. */
  maxCommands?: number;
  /** Scatter-gather elements per command (status word bits 16..23). */
  maxSge?: number;
  /** Controller serial number; a unique one when omitted. */
  serial?: string;
  /** Time from power-on to the end of firmware initialization (default 20 ms). */
  bootNs?: number;
  /**
   * Whether the firmware stops in WAIT_HANDSHAKE after boot (no option ROM ran, the cold-boot case
   * the host driver handles with CLEAR_HANDSHAKE); otherwise it comes up READY. Default true.
   */
  waitForHandshake?: boolean;
}

const DEFAULT_MAX_COMMANDS = 1008;
const DEFAULT_MAX_SGE = 80;
const DEFAULT_BOOT_NS = 20_000_000;
const PAGE_SECTORS = 8;
const CLASS_RAID = 0x010400;

let nextSerial = 1;

/**
 * LSI MegaRAID SAS controller speaking MFI: the PCI function and its register BARs, the firmware
 * state machine, the reply queue and the frame engine. Logical and pass-through drives are
 * `ScsiCommandTarget`s (LUN backends).
 */
export class MegaRaidSasModel implements PciDeviceModel {
  readonly modelName: string;
  readonly config: PciConfigSpace;
  readonly variant: MegaRaidVariant;
  readonly state: MegaRaidState;
  readonly identity: ControllerIdentity;
  private readonly drives: DriveSet;
  private readonly registers: RegisterFile;
  private readonly interrupts: OutboundInterrupts;
  private readonly firmware: Firmware;
  private readonly replies: ReplyQueue;
  private readonly events: EventLog;
  private readonly processor: CommandProcessor;
  private port: PciDevicePort | undefined;

  constructor(options: MegaRaidOptions = {}) {
    const variant = MEGARAID_VARIANTS[options.variant ?? "sas1078"];
    if (!variant) throw new RangeError(`unknown MegaRAID variant ${String(options.variant)}`);
    this.variant = variant;
    this.modelName = variant.modelName;
    const maxCommands = options.maxCommands ?? DEFAULT_MAX_COMMANDS;
    const maxSge = options.maxSge ?? DEFAULT_MAX_SGE;
    if (!Number.isInteger(maxCommands) || maxCommands < 2 || maxCommands > 0xffff) throw new RangeError(`maxCommands ${maxCommands} out of range 2..65535`);
    if (!Number.isInteger(maxSge) || maxSge < 1 || maxSge > 0xff) throw new RangeError(`maxSge ${maxSge} out of range 1..255`);

    this.config = new PciConfigSpace({
      vendorId: variant.vendorId,
      deviceId: variant.deviceId,
      revisionId: variant.revisionId,
      classCode: CLASS_RAID,
      subsystemVendorId: variant.subsystemVendorId,
      subsystemId: variant.subsystemId,
      interruptPin: 1,
      bars: [...variant.bars],
    });
    // Power management (D0/D3hot; PMCSR power state writable), then MSI, as the boards list them.
    const pm = this.config.addCapability(PCI_CAP_ID_PM, 8, [0, 0, 0, 0, 0x03, 0, 0, 0]);
    this.config.bytes[pm + 2] = 0x02;
    this.config.addMsiCapability({ is64: true, multipleMessageCapable: variant.msiMultipleMessage });

    const serialNumber = nextSerial++;
    this.identity = {
      serial: options.serial ?? `VMK${variant.deviceId.toString(16).padStart(4, "0")}${serialNumber.toString().padStart(6, "0")}`,
      // NAA 5 with LSI's OUI (00:06:05:b?), one address per controller, ports numbered from it.
      sasAddress: [0x500605b0, (0x00100000 + serialNumber * 0x10) >>> 0],
    };
    const initiator = `megaraid-sas:${this.identity.sasAddress.map((half) => half.toString(16).padStart(8, "0")).join("")}`;
    this.drives = new DriveSet(initiator);
    options.logicalDrives?.forEach((target, targetId) => this.drives.addLogical(targetId, target));
    for (const drive of options.physicalDrives ?? []) this.drives.addPhysical(drive);

    const maxRequestSectors = maxSge * PAGE_SECTORS;
    const limits: ControllerLimits = {
      maxCommands,
      maxSge,
      maxRequestSectors,
      maxStripsPerIo: Math.ceil(maxRequestSectors / (1 << STRIPE_SIZE_MIN)),
    };
    this.state = createState(defaultProperties());
    const model = this;
    const schedule = (delay: number, callback: () => void, label: string): TimerHandle | undefined =>
      model.port?.clock.setTimer(delay, callback, { label: `${model.port.address} ${label}` });
    const now = (): number => model.port?.clock.now() ?? 0;
    const reportError = (detail: string): void => model.port?.reportError(detail);

    this.interrupts = new OutboundInterrupts(this.state, variant.flavour, (asserted) => model.port?.setInterrupt(asserted));
    this.replies = new ReplyQueue(this.state, {
      get dma(): DmaPort | undefined {
        return model.port?.dma;
      },
      replyPosted: () => this.interrupts.raise(this.interrupts.replyBit),
      reportError,
    });
    this.firmware = new Firmware(
      this.state,
      { maxCommands, maxSge, bootNs: options.bootNs ?? DEFAULT_BOOT_NS, waitForHandshake: options.waitForHandshake ?? true },
      {
        now,
        schedule,
        abandonCommands: () => this.processor.abandon(),
        forgetReplyQueue: () => {
          this.replies.reset();
          this.state.frameAddressHigh = 0;
          this.interrupts.clear(this.interrupts.replyBit);
        },
        announceStateChange: () => this.interrupts.raise(this.interrupts.stateChangeBit),
        bootCompleted: () => this.events.markBoot(),
      },
    );
    this.events = new EventLog(this.state, { now, deliver: (waiter, detail) => this.processor.deliverEvent(waiter, detail) });
    const dcmd = new DcmdProcessor({
      state: this.state,
      variant,
      drives: this.drives,
      events: this.events,
      identity: this.identity,
      limits,
      refreshGeometry: (targetId) => this.refreshGeometry(targetId),
      physicalEntry: (drive) => this.physicalEntry(drive),
      reportError,
    });
    const io = new ScsiIo({
      state: this.state,
      drives: this.drives,
      get dma(): DmaPort | undefined {
        return model.port?.dma;
      },
      maxSge,
      knownGeometry: (targetId) => this.state.geometry[targetId],
      geometry: (targetId) => this.geometry(targetId),
      reportError,
    });
    this.processor = new CommandProcessor(this.state, { maxCommands, maxSge }, this.firmware, this.replies, dcmd, io, {
      get dma(): DmaPort | undefined {
        return model.port?.dma;
      },
      schedule,
      reportError,
    });
    this.registers = new RegisterFile(megaRaidRegisterMap(this.registerHandlers(), variant.flavour));
    this.firmware.powerOn();
  }

  get diagnostics(): Readonly<MegaRaidDiagnostics> {
    return this.state.diagnostics;
  }

  get firmwareState(): MfiState {
    return this.state.firmwareState;
  }

  get initiator(): string {
    return this.drives.initiator;
  }

  // ---- PciDeviceModel ----

  attach(port: PciDevicePort): void {
    this.port = port;
    this.firmware.sync();
    this.processor.sync();
  }

  detach(): void {
    this.firmware.release();
    this.processor.release();
    this.port = undefined;
  }

  /** Function-level reset: the firmware reboots; NVRAM contents (event log, properties) survive. */
  reset(): void {
    this.state.epoch++;
    this.state.inboundMessages = [0, 0];
    this.state.inboundInterruptMask = 0;
    this.state.outboundInterruptMask = 0xffffffff;
    this.interrupts.reset();
    this.firmware.powerOn();
  }

  barAccessWidths(): AccessWidth[] {
    return [4];
  }

  barRead(bar: number, offset: number): number {
    if (bar === this.variant.registerBar || bar === this.variant.ioBar) return this.registers.read(offset);
    return 0;
  }

  barWrite(bar: number, offset: number, _width: AccessWidth, value: number): void {
    if (bar === this.variant.registerBar || bar === this.variant.ioBar) this.registers.write(offset, value);
  }

  /** A register read through the same path as the BAR, for tests and the console. */
  readRegister(offset: number): number {
    return this.registers.read(offset);
  }

  registerName(offset: number): string | undefined {
    return this.registers.nameOf(offset);
  }

  // ---- drive hot-plug (each logged as the firmware's configuration events) ----

  attachLogicalDrive(targetId: number, target: ScsiCommandTarget): void {
    this.drives.addLogical(targetId, target);
    delete this.state.geometry[targetId];
    this.events.record(EventCode.LD_CREATED, EventLocale.LD, EventClass.INFO, EventArgs.LD, logicalDriveArgs(targetId), `Created VD ${targetId}`);
  }

  detachLogicalDrive(targetId: number): void {
    if (!this.drives.logical.delete(targetId)) throw new Error(`no logical drive ${targetId}`);
    delete this.state.geometry[targetId];
    this.events.record(EventCode.LD_DELETED, EventLocale.LD, EventClass.INFO, EventArgs.LD, logicalDriveArgs(targetId), `Deleted VD ${targetId}`);
  }

  attachPhysicalDrive(config: PhysicalDriveConfig): number {
    const drive = this.drives.addPhysical(config);
    this.events.record(EventCode.PD_INSERTED, EventLocale.PD, EventClass.INFO, EventArgs.PD, physicalDriveArgs(drive.deviceId, drive.slot), `Inserted: PD ${drive.deviceId}`);
    return drive.deviceId;
  }

  detachPhysicalDrive(deviceId: number): void {
    const drive = this.drives.physical.get(deviceId);
    if (!drive) throw new Error(`no physical drive ${deviceId}`);
    this.drives.physical.delete(deviceId);
    this.events.record(EventCode.PD_REMOVED, EventLocale.PD, EventClass.INFO, EventArgs.PD, physicalDriveArgs(drive.deviceId, drive.slot), `Removed: PD ${drive.deviceId}`);
  }

  // ---- snapshots ----

  saveState(): MegaRaidSnapshot {
    return takeSnapshot(this.state, this.config, this.variant.name, this.driveLayout(), this.port?.clock.now() ?? 0);
  }

  restoreState(snapshot: MegaRaidSnapshot): void {
    if (snapshot.variant !== this.variant.name) throw new Error(`megaraid-sas: a ${snapshot.variant} snapshot cannot restore into a ${this.variant.name}`);
    this.firmware.release();
    this.processor.release();
    this.processor.abandon();
    restoreSnapshot(this.state, this.config, snapshot, this.driveLayout(), this.port?.clock.now() ?? 0);
    this.firmware.sync();
    this.processor.sync();
    this.interrupts.resync();
  }

  // ---- internals ----

  private driveLayout(): { logicalDriveIds: number[]; physicalDriveIds: number[] } {
    return { logicalDriveIds: this.drives.logicalIds(), physicalDriveIds: this.drives.physicalIds() };
  }

  private async refreshGeometry(targetId: number): Promise<DriveGeometry | undefined> {
    const target = this.drives.logical.get(targetId);
    const geometry = target ? await this.drives.geometry(target).catch(() => undefined) : undefined;
    if (geometry) this.state.geometry[targetId] = geometry;
    else delete this.state.geometry[targetId];
    return geometry;
  }

  private geometry(targetId: number): Promise<DriveGeometry | undefined> {
    const cached = this.state.geometry[targetId];
    return cached ? Promise.resolve(cached) : this.refreshGeometry(targetId);
  }

  private async physicalEntry(drive: PhysicalDrive): Promise<PhysicalDriveEntry> {
    const inquiry = await this.drives.inquiry(drive.target, 36).catch(() => undefined);
    return {
      deviceId: drive.deviceId,
      slot: drive.slot,
      deviceType: inquiry ? inquiry[0]! & 0x1f : 0,
      // Drives get addresses in the controller's block, after its ports.
      sasAddress: [this.identity.sasAddress[0], (this.identity.sasAddress[1] + 0x8 + drive.deviceId) >>> 0],
    };
  }

  private registerHandlers(): MegaRaidRegisterHandlers {
    const state = this.state;
    return {
      readInboundMessage: (index) => state.inboundMessages[index],
      writeInboundMessage: (index, value) => (state.inboundMessages[index] = value),
      readStatusWord: () => this.firmware.statusWord(),
      writeInboundDoorbell: (value) => {
        this.firmware.writeDoorbell(value);
        this.replies.flush();
      },
      readInboundInterruptMask: () => state.inboundInterruptMask,
      writeInboundInterruptMask: (value) => (state.inboundInterruptMask = value),
      readInterruptCauses: () => this.interrupts.causes,
      clearInterruptCauses: (value) => {
        this.interrupts.clear(value);
        // The driver has been through the reply queue: room may have appeared for stalled replies.
        this.replies.flush();
      },
      readOutboundInterruptMask: () => state.outboundInterruptMask,
      writeOutboundInterruptMask: (value) => this.interrupts.setMask(value),
      writeInboundQueuePort: (value) => {
        if (this.variant.flavour === "xscale") this.processor.post(((value & 0xfffffff8) >>> 0) * 8, value & 0x7);
        else this.processor.post((value & 0xffffffe0) >>> 0, (value >>> 1) & 0xf);
      },
      writeLowQueuePort: (value) => {
        const address = state.frameAddressHigh * 2 ** 32 + ((value & 0xffffffe0) >>> 0);
        state.frameAddressHigh = 0;
        this.processor.post(address, (value >>> 1) & 0xf);
      },
      writeHighQueuePort: (value) => (state.frameAddressHigh = value),
    };
  }
}
