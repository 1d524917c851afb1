import type { ByteSink } from "../platform/byte-sink.js";
import type { UartTransmitPacing } from "../platform/uart/uart-16550.js";
import { createWriteStream, type WriteStream } from "node:fs";
import type { VmConfig, VmResetCause, VmRuntime, VmRuntimeEvent, VmRuntimePowerState, VmRuntimeServices, VmRuntimeStats, VmStopReason } from "@vmk/kernel";
import { E1000Model } from "@vmk/hardware";
import type { BootImages } from "./boot-image.js";
import { readBootImages } from "./boot-image-files.js";
import { PcMachine } from "./pc-machine.js";
import { RealTimeVcpuLoop } from "./real-time-vcpu-loop.js";
import { SerialConsoleLine } from "./serial-console-line.js";
import type { VcpuLoop, VcpuLoopHost } from "./vcpu-loop.js";
import { VirtualNicBackend } from "./virtual-nic-backend.js";
import { enableWasmBranchHints } from "./wasm-branch-hints.js";
import { isSteppedClock, VirtualTimeVcpuLoop } from "./virtual-time-vcpu-loop.js";

/** ethernet0 sits at 00:03.0, ethernet1 at 00:04.0, ... (slots 0 and 1 are the i440FX and PIIX3). */
export const FIRST_NIC_PCI_DEVICE = 3;
/** The PC's two UARTs: COM1 and COM2. */
const SERIAL_PORTS = 2;

export interface PcVmRuntimeOptions {
  config: VmConfig;
  services: VmRuntimeServices;
  /** What to boot; by default the files the configuration names, read at each power-on. */
  images?: BootImages;
  /**
   * What a reset from inside the guest (triple fault, keyboard controller, 0xCF9) does: boot the kernel
   * again, as QEMU's -kernel does, or power off (QEMU's -no-reboot), which tests want.
   */
  guestReset?: "reboot" | "powerOff";
  /** The RTC's date at power-on (ms since 1970). */
  rtcStartTime?: number;
  /** Where bytes written to the debug port 0xE9 go (QEMU's -debugcon); the port is not decoded without one. */
  debugConsole?: ByteSink;
  /** Translate hot guest code to JavaScript (default); false runs everything in the interpreter. */
  jit?: boolean;
  /**
   * A firmware ROM image (QEMU's -bios): the VM starts at the reset vector with it mapped below 1 MiB
   * and 4 GiB, and no kernel is loaded. Resets start the firmware again.
   */
  firmware?: Uint8Array;
  /** Sees every byte the guest writes to the POST code port 0x80. */
  postCodes?: (code: number) => void;
  /** The debug console's port instead of 0xE9 (0x402 for SeaBIOS's log). */
  debugConsolePort?: number;
  /**
   * How COM1/COM2 transmit. "immediate" (default), as the serial ports of other hypervisors do: the host
   * ends (console, files) take characters as fast as they come, so a guest printing on its console does
   * not busy-wait through every character's bit times. "line-rate" paces them like a physical port.
   */
  serialTransmit?: UartTransmitPacing;
}

interface VirtualNic {
  model: E1000Model;
  backend: VirtualNicBackend;
}

/**
 * One VM's PC while it exists: the machine, its NICs on vSwitch ports, its serial lines, and the vCPU
 * loop that fits the host clock (virtual time in tests, real time for users).
 */
export class PcVmRuntime implements VmRuntime, VcpuLoopHost {
  readonly machine: PcMachine;
  readonly nics: VirtualNic[] = [];
  private readonly lines: SerialConsoleLine[] = [];
  private readonly serialFiles: Array<{ file: WriteStream; detach: () => void }> = [];
  private readonly listeners = new Set<(event: VmRuntimeEvent) => void>();
  private state: VmRuntimePowerState = "poweredOff";
  private loop: VcpuLoop | undefined;
  private images: BootImages | undefined;
  private status: number | undefined;
  private startedAt = 0;
  private stoppedAt: number | undefined;
  private resetCount = 0;

  constructor(private readonly options: PcVmRuntimeOptions) {
    const { config, services } = options;
    enableWasmBranchHints();
    for (let index = 0; index < SERIAL_PORTS; index++) this.lines.push(new SerialConsoleLine());
    this.machine = new PcMachine({
      clock: services.clock,
      memoryBytes: config.memoryBytes,
      com1: this.lines[0],
      com2: this.lines[1],
      uartTransmitPacing: options.serialTransmit ?? "immediate",
      rtcStartTime: options.rtcStartTime,
      debugConsole: options.debugConsole,
      postCodes: options.postCodes,
      debugConsolePort: options.debugConsolePort,
    });
    this.machine.cpu.jit.enabled = options.jit ?? true;
    for (const nicConfig of config.nics) {
      // VMware's e1000 virtual device is the 82545EM (PCI-X, 64-bit BARs, MSI capability).
      const model = new E1000Model({ variant: "82545EM", mac: nicConfig.mac });
      const fn = this.machine.attachPciDevice(FIRST_NIC_PCI_DEVICE + nicConfig.index, model);
      const backend = new VirtualNicBackend({ nic: model, name: `${config.displayName}.ethernet${nicConfig.index}`, mac: nicConfig.mac, portGroup: nicConfig.networkName, dma: fn.dma });
      this.nics.push({ model, backend });
    }
  }

  get config(): VmConfig {
    return this.options.config;
  }

  get powerState(): VmRuntimePowerState {
    return this.state;
  }

  get exitCode(): number | undefined {
    return this.status;
  }

  get powerOnTime(): number {
    return this.startedAt;
  }

  powerOn(): void {
    if (this.state === "poweredOn") throw new Error(`${this.config.displayName} is already powered on`);
    const clock = this.options.services.clock;
    try {
      if (this.options.firmware) {
        const rom = this.machine.bootFirmware(this.options.firmware);
        this.log("info", `starting the firmware at F000:FFF0 (${rom.romBytes / 1024} KiB ROM at 0x${rom.highBase.toString(16)}, its last ${rom.isaBytes / 1024} KiB at 0x${rom.isaBase.toString(16)})`);
      } else {
        this.images = this.options.images ?? readBootImages(this.config.boot);
        const loaded = this.machine.boot(this.images);
        this.log("info", `booting ${loaded.description}`);
        for (const warning of loaded.warnings) this.log("warn", warning);
      }
    } catch (error) {
      this.emit({ kind: "poweredOff", time: clock.now(), reason: "error", detail: (error as Error).message });
      throw error;
    }
    this.status = undefined;
    this.startedAt = clock.now();
    this.stoppedAt = undefined;
    this.plugNics();
    this.openSerialFiles();
    this.state = "poweredOn";
    this.loop = isSteppedClock(clock) ? new VirtualTimeVcpuLoop(this, clock) : new RealTimeVcpuLoop(this, clock);
    this.emit({ kind: "poweredOn", time: clock.now() });
    this.loop.start();
  }

  powerOff(): void {
    if (this.state !== "poweredOn") throw new Error(`${this.config.displayName} is already powered off`);
    this.stop("requested");
  }

  reset(): void {
    if (this.state !== "poweredOn") throw new Error(`${this.config.displayName} is powered off; only a running VM can be reset`);
    this.reboot("requested");
  }

  serial(index: number): SerialConsoleLine | undefined {
    return this.lines[index];
  }

  stats(): VmRuntimeStats {
    const now = this.stoppedAt ?? this.options.services.clock.now();
    return {
      instructions: this.machine.instructions,
      guestTimeNs: this.state === "poweredOn" || this.stoppedAt !== undefined ? now - this.startedAt : 0,
      haltedNs: this.loop?.stats.haltedNs ?? 0,
      stalledNs: this.machine.stalledNs,
      slices: this.loop?.stats.slices ?? 0,
      resets: this.resetCount,
      nics: this.nics.map((nic) => nic.backend.stats()),
    };
  }

  onEvent(listener: (event: VmRuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Settles with the power-off event the next time this VM stops. */
  whenPoweredOff(): Promise<Extract<VmRuntimeEvent, { kind: "poweredOff" }>> {
    return new Promise((resolve) => {
      const unsubscribe = this.onEvent((event) => {
        if (event.kind !== "poweredOff") return;
        unsubscribe();
        resolve(event);
      });
    });
  }

  // ---- VcpuLoopHost ----

  afterSlice(): boolean {
    const request = this.machine.takeRequest();
    if (request === undefined) return true;
    if (request.kind === "exit") {
      this.stop("guest-exit", request.exitCode);
      return false;
    }
    if (request.kind === "powerOff") {
      this.stop("guest-power-off", undefined, "the guest powered the machine off (ACPI S5)");
      return false;
    }
    if (this.options.guestReset === "powerOff") {
      this.stop("guest-reset", undefined, `the guest reset the machine (${request.cause})`);
      return false;
    }
    this.reboot(request.cause);
    return true;
  }

  failed(error: unknown): void {
    const cpu = this.machine.cpu;
    const detail = `${error instanceof Error ? error.message : String(error)} at EIP 0x${(cpu.eip >>> 0).toString(16)}`;
    this.log("error", `the virtual machine monitor failed: ${detail}${error instanceof Error && error.stack ? `\n${error.stack}` : ""}`);
    if (this.state === "poweredOn") this.stop("error", undefined, detail);
  }

  // ---- internals ----

  private reboot(cause: VmResetCause): void {
    this.resetCount++;
    if (this.options.firmware) this.machine.bootFirmware(this.options.firmware);
    else this.machine.boot(this.images!);
    this.emit({ kind: "reset", time: this.options.services.clock.now(), cause });
  }

  private stop(reason: VmStopReason, exitCode?: number, detail?: string): void {
    this.loop?.stop();
    this.state = "poweredOff";
    this.stoppedAt = this.options.services.clock.now();
    if (exitCode !== undefined) this.status = exitCode;
    for (const nic of this.nics) nic.backend.unplug();
    this.machine.powerDown();
    for (const line of this.lines) line.flush();
    for (const { file, detach } of this.serialFiles.splice(0)) {
      detach();
      file.end();
    }
    this.emit({
      kind: "poweredOff",
      time: this.stoppedAt,
      reason,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(detail !== undefined ? { detail } : {}),
    });
  }

  private plugNics(): void {
    const network = this.options.services.network;
    this.config.nics.forEach((nicConfig, index) => {
      const { backend } = this.nics[index]!;
      const name = `ethernet${nicConfig.index}`;
      if (!nicConfig.startConnected) return;
      if (!network) {
        this.log("warn", `${name}: no host network; the NIC stays unplugged`);
        return;
      }
      try {
        const port = backend.plugInto(network);
        this.log("info", `${name}: e1000 at 00:${(FIRST_NIC_PCI_DEVICE + nicConfig.index).toString(16).padStart(2, "0")}.0 on "${nicConfig.networkName}", port ${port.id}, MAC ${port.macText}`);
      } catch (error) {
        this.log("warn", `${name}: not connected: ${(error as Error).message}`);
      }
    });
  }

  private openSerialFiles(): void {
    for (const serial of this.config.serials) {
      const line = this.lines[serial.index];
      if (!line) {
        this.log("warn", `serial${serial.index}: this PC has COM1 and COM2 only`);
        continue;
      }
      const backend = serial.backend;
      if (backend.kind === "file") {
        const file = createWriteStream(backend.path, { flags: "a" });
        file.on("error", (error) => this.log("warn", `serial${serial.index}: ${backend.path}: ${error.message}`));
        this.serialFiles.push({ file, detach: line.onOutput((bytes) => file.write(bytes)) });
      } else if (backend.kind === "pipe") {
        this.log("warn", `serial${serial.index}: named pipes are not supported yet; the port is on the console only`);
      }
    }
  }

  private log(level: "error" | "warn" | "info" | "debug", message: string): void {
    this.options.services.log(level, message);
  }

  private emit(event: VmRuntimeEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}
