import { FaultRecord, PortSpace, type AccessWidth, type Clock, type IoRegionHandler } from "@vmk/kernel";
import type { InterruptSource, PortHandler } from "../cpu/bus.js";
import { A20Gate, type A20GateState } from "./a20/a20-gate.js";
import { AcpiPm, PM1_CONTROL_BLOCK_BYTES, PM1_EVENT_BLOCK_BYTES, PM_TIMER_BLOCK_BYTES, type AcpiPmState } from "./acpi/acpi-pm.js";
import { writeAcpiTables, type AcpiBoardDescription } from "./acpi/acpi-tables.js";
import { CmosOffset } from "./rtc/cmos-layout.js";
import type { ByteSink } from "./byte-sink.js";
import { DEBUG_CONSOLE_PORT, DebugConsole } from "./debug-console/debug-console.js";
import { DEBUG_EXIT_PORT, IsaDebugExit } from "./exit-port/isa-debug-exit.js";
import { I8042, type I8042State } from "./i8042/keyboard-controller.js";
import { UNCONNECTED_IRQ } from "./irq-line.js";
import { PicPair, type PicPairState } from "./pic/pic-pair.js";
import { Pit, type PitState } from "./pit/pit.js";
import { TimerTickCatchUp, type TimerTickCatchUpState } from "./pit/timer-tick-catch-up.js";
import { POST_CODE_PORT, PostCodePort } from "./post-code-port/post-code-port.js";
import { Rtc, type RtcState } from "./rtc/rtc.js";
import { SystemControlPortA, type SystemControlPortAState } from "./system-control-port-a/system-control-port-a.js";
import { SystemControlPortB, type SystemControlPortBState } from "./system-control-port-b/system-control-port-b.js";
import type { SerialBackend } from "./uart/serial-backend.js";
import { Uart16550, type UartState, type UartTransmitPacing } from "./uart/uart-16550.js";

export const PC_PLATFORM_STATE_VERSION = 1;

/** ISA interrupt assignments of the PC/AT. */
export const IsaIrq = { Timer: 0, Keyboard: 1, Com2: 3, Com1: 4, Rtc: 8, AcpiSci: 9, Mouse: 12 } as const;

/** Where the legacy devices decode, as on every PC since the AT. */
export const LegacyPort = {
  PicMaster: 0x20,
  Pit: 0x40,
  KeyboardData: 0x60,
  SystemControlB: 0x61,
  KeyboardCommand: 0x64,
  Rtc: 0x70,
  PostCode: POST_CODE_PORT,
  SystemControlA: 0x92,
  PicSlave: 0xa0,
  DebugConsole: DEBUG_CONSOLE_PORT,
  DebugExit: DEBUG_EXIT_PORT,
  Com2: 0x2f8,
  Com1: 0x3f8,
  Elcr: 0x4d0,
  /** The ACPI fixed-hardware blocks, where QEMU's PIIX4 PM function puts them. */
  AcpiPm1Event: 0x600,
  AcpiPm1Control: 0x604,
  AcpiPmTimer: 0x608,
} as const;

/** Unix time used when a virtual-time VM is given no start time: runs stay reproducible. */
export const VIRTUAL_TIME_DEFAULT_START = Date.UTC(2000, 0, 1);

export interface PcPlatformOptions {
  clock: Clock;
  /** Guest RAM in bytes, for the CMOS memory-size bytes. */
  ramBytes: number;
  /** The date the RTC shows at creation (ms since 1970). Defaults to the host's time on a real clock. */
  rtcStartTime?: number;
  com1?: SerialBackend;
  com2?: SerialBackend;
  /** How the UARTs' transmitters pace characters: "line-rate" (default, a physical port) or "immediate". */
  uartTransmitPacing?: UartTransmitPacing;
  /** Where port 0xE9 output goes; without a sink the port is not decoded. */
  debugConsole?: ByteSink;
  /** What sits on the i8042 auxiliary port. */
  aux?: "mouse" | "absent";
  /** The guest wrote the isa-debug-exit port: the VM should stop with this status. */
  onExit?: (exitCode: number) => void;
  /** The keyboard controller or port 0x92 pulsed the CPU's reset line. */
  onCpuReset?: () => void;
  /** The OS entered ACPI S5 (soft off) through PM1_CNT: the board removes power. */
  onSoftOff?: () => void;
  /** Where unclaimed port accesses are recorded; a fresh record by default. */
  faults?: FaultRecord;
}

export interface PcPlatformState {
  version: typeof PC_PLATFORM_STATE_VERSION;
  pic: PicPairState;
  pit: PitState;
  systemControlA: SystemControlPortAState;
  systemControlB: SystemControlPortBState;
  rtc: RtcState;
  i8042: I8042State;
  a20: A20GateState;
  com1: UartState;
  com2: UartState;
  /** Timer ticks owed to the guest (absent in states saved before tick catch-up existed). */
  timerCatchUp?: TimerTickCatchUpState;
  /** The ACPI PM registers (absent in states saved before the board had ACPI). */
  acpiPm?: AcpiPmState;
}

/**
 * The legacy half of an i440FX/PIIX3 PC: the devices every PC has at fixed ISA ports, wired to the
 * cascaded PICs as the AT wired them. The CPU reaches the guest's port space through `PortHandler`
 * (ports nobody decodes read all-ones and are recorded as faults) and takes interrupts through
 * `InterruptSource`. The PCI host bridge, PIIX3 functions and firmware tables come on top of this.
 */
export class PcPlatform implements PortHandler, InterruptSource {
  readonly faults: FaultRecord;
  readonly ports: PortSpace;
  readonly pic = new PicPair();
  readonly a20 = new A20Gate();
  readonly pit: Pit;
  /** IRQ0 as the PIT drives it, with lost periodic ticks caught up. */
  readonly timerCatchUp: TimerTickCatchUp;
  readonly systemControlA: SystemControlPortA;
  readonly systemControlB: SystemControlPortB;
  readonly rtc: Rtc;
  readonly i8042: I8042;
  readonly com1: Uart16550;
  readonly com2: Uart16550;
  readonly acpiPm: AcpiPm;
  readonly postCode = new PostCodePort();
  readonly debugConsole: DebugConsole | undefined;
  readonly debugExit: IsaDebugExit | undefined;

  constructor(options: PcPlatformOptions) {
    const clock = options.clock;
    const requestCpuReset = () => options.onCpuReset?.();
    this.faults = options.faults ?? new FaultRecord(clock);
    this.ports = new PortSpace(this.faults);
    this.timerCatchUp = new TimerTickCatchUp(this.pic, IsaIrq.Timer);
    this.pit = new Pit({ clock, outputs: [this.timerCatchUp, UNCONNECTED_IRQ, UNCONNECTED_IRQ] });
    this.timerCatchUp.drivenBy(this.pit.counters[0]!);
    this.pic.onAcknowledge = (irq) => this.timerCatchUp.acknowledged(irq);
    this.systemControlA = new SystemControlPortA({ a20: this.a20, requestCpuReset });
    this.systemControlB = new SystemControlPortB({ clock, pit: this.pit });
    this.rtc = new Rtc({
      clock,
      irq: this.pic.line(IsaIrq.Rtc),
      ramBytes: options.ramBytes,
      startTime: options.rtcStartTime ?? (clock.kind === "real" ? Date.now() : VIRTUAL_TIME_DEFAULT_START),
    });
    this.i8042 = new I8042({
      keyboardIrq: this.pic.line(IsaIrq.Keyboard),
      auxIrq: this.pic.line(IsaIrq.Mouse),
      a20: this.a20,
      requestCpuReset,
      aux: options.aux ?? "absent",
    });
    const transmitPacing = options.uartTransmitPacing;
    this.com1 = new Uart16550({ clock, irq: this.pic.line(IsaIrq.Com1), backend: options.com1, name: "COM1", transmitPacing });
    this.com2 = new Uart16550({ clock, irq: this.pic.line(IsaIrq.Com2), backend: options.com2, name: "COM2", transmitPacing });
    this.acpiPm = new AcpiPm({ clock, sci: this.pic.line(IsaIrq.AcpiSci), onSoftOff: () => options.onSoftOff?.() });
    if (options.debugConsole) this.debugConsole = new DebugConsole(options.debugConsole);
    if (options.onExit) this.debugExit = new IsaDebugExit(options.onExit);

    const place = (name: string, base: number, size: number, handler: IoRegionHandler) => this.ports.map(name, base, size, handler);
    place("8259A master", LegacyPort.PicMaster, 2, this.pic.masterPorts);
    place("8259A slave", LegacyPort.PicSlave, 2, this.pic.slavePorts);
    place("ELCR", LegacyPort.Elcr, 2, this.pic.elcrPorts);
    place("8254 PIT", LegacyPort.Pit, 4, this.pit.ports);
    place("i8042 data", LegacyPort.KeyboardData, 1, this.i8042.dataPort);
    place("NMI status and control", LegacyPort.SystemControlB, 1, this.systemControlB.ports);
    place("i8042 status/command", LegacyPort.KeyboardCommand, 1, this.i8042.commandPort);
    place("MC146818 RTC", LegacyPort.Rtc, 2, this.rtc.ports);
    place("POST code", LegacyPort.PostCode, 1, this.postCode.ports);
    place("system control port A", LegacyPort.SystemControlA, 1, this.systemControlA.ports);
    place("COM1 16550A", LegacyPort.Com1, 8, this.com1.ports);
    place("COM2 16550A", LegacyPort.Com2, 8, this.com2.ports);
    place("ACPI PM1a event block", LegacyPort.AcpiPm1Event, PM1_EVENT_BLOCK_BYTES, this.acpiPm.eventPorts);
    place("ACPI PM1a control block", LegacyPort.AcpiPm1Control, PM1_CONTROL_BLOCK_BYTES, this.acpiPm.controlPorts);
    place("ACPI PM timer", LegacyPort.AcpiPmTimer, PM_TIMER_BLOCK_BYTES, this.acpiPm.timerPorts);
    if (this.debugConsole) place("debug console", LegacyPort.DebugConsole, 1, this.debugConsole.ports);
    if (this.debugExit) place("isa-debug-exit", LegacyPort.DebugExit, 1, this.debugExit.ports);
  }

  portIn(port: number, size: AccessWidth): number {
    return this.ports.read(port, size);
  }

  portOut(port: number, size: AccessWidth, value: number): void {
    this.ports.write(port, size, value);
  }

  hasPending(): boolean {
    return this.pic.hasPending();
  }

  acknowledge(): number {
    return this.pic.acknowledge();
  }

  /** A platform reset (power-on or PCI reset): every device to its reset state; the RTC keeps time. */
  reset(): void {
    this.timerCatchUp.backlog = 0;
    this.pic.reset();
    this.pit.reset();
    this.systemControlA.reset();
    this.systemControlB.reset();
    this.rtc.reset();
    this.i8042.reset();
    this.com1.reset();
    this.com2.reset();
    this.acpiPm.reset();
  }

  /**
   * Leaves the ACPI tables that describe this board in the BIOS area of `ram`, as firmware would:
   * `pci` says where the PCI memory window is and which IRQs the firmware steered PIRQA..D to.
   */
  writeAcpiTables(ram: Uint8Array, pci: Pick<AcpiBoardDescription, "pirqIrqs" | "pciMemoryBase" | "pciMemoryLimit">) {
    return writeAcpiTables(ram, {
      ...pci,
      pm1EventPort: LegacyPort.AcpiPm1Event,
      pm1ControlPort: LegacyPort.AcpiPm1Control,
      pmTimerPort: LegacyPort.AcpiPmTimer,
      sciIrq: IsaIrq.AcpiSci,
      cmosCentury: CmosOffset.Century,
    });
  }

  saveState(): PcPlatformState {
    return {
      version: PC_PLATFORM_STATE_VERSION,
      pic: this.pic.saveState(),
      pit: this.pit.saveState(),
      systemControlA: this.systemControlA.saveState(),
      systemControlB: this.systemControlB.saveState(),
      rtc: this.rtc.saveState(),
      i8042: this.i8042.saveState(),
      a20: this.a20.saveState(),
      com1: this.com1.saveState(),
      com2: this.com2.saveState(),
      timerCatchUp: this.timerCatchUp.saveState(),
      acpiPm: this.acpiPm.saveState(),
    };
  }

  restoreState(state: PcPlatformState): void {
    if (state.version !== PC_PLATFORM_STATE_VERSION) throw new Error(`PC platform state version ${state.version} is not ${PC_PLATFORM_STATE_VERSION}`);
    // Devices drive the PIC's inputs as they restore, so the PIC comes last and keeps the saved levels.
    this.pit.restoreState(state.pit);
    this.systemControlA.restoreState(state.systemControlA);
    this.systemControlB.restoreState(state.systemControlB);
    this.rtc.restoreState(state.rtc);
    this.i8042.restoreState(state.i8042);
    this.a20.restoreState(state.a20);
    this.com1.restoreState(state.com1);
    this.com2.restoreState(state.com2);
    if (state.acpiPm) this.acpiPm.restoreState(state.acpiPm);
    else this.acpiPm.reset();
    this.pic.restoreState(state.pic);
    this.timerCatchUp.restoreState(state.timerCatchUp);
  }
}
