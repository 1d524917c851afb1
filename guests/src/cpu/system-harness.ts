/**
 * Runs the nasm system-test programs (guests/test-programs) on a CPU over RAM with a port bus
 * that records what the programs report: vectors (0xE9), error codes (0xEA), checkpoints (0xEB).
 */
import type { CpuBus, InterruptSource } from "./bus.js";
import { Cpu } from "./cpu.js";
import { GuestMemory } from "./guest-memory.js";
import { Seg } from "./constants.js";
import { runInstructions } from "./interpreter.js";
import { applyTestEngine, assembleProgram } from "./test-support.js";

export interface ProgramEvent {
  kind: "vector" | "error" | "checkpoint" | "value";
  value: number;
}

export class RecordingBus implements CpuBus {
  readonly memory: GuestMemory;
  readonly events: ProgramEvent[] = [];
  constructor(ramBytes: number) {
    this.memory = new GuestMemory(ramBytes);
  }
  get ram(): Uint8Array {
    return this.memory.ram;
  }
  mmioRead(_address: number, size: 1 | 2 | 4): number {
    return size === 4 ? -1 : (1 << (size * 8)) - 1;
  }
  mmioWrite(): void {}
  portIn(_port: number, size: 1 | 2 | 4): number {
    return size === 4 ? -1 : (1 << (size * 8)) - 1;
  }
  portOut(port: number, _size: 1 | 2 | 4, value: number): void {
    const kind = port === 0xe9 ? "vector" : port === 0xea ? "error" : port === 0xeb ? "checkpoint" : port === 0xec ? "value" : null;
    if (kind !== null) this.events.push({ kind, value: value >>> 0 });
  }
}

export interface ProgramRun {
  cpu: Cpu;
  bus: RecordingBus;
  /** Vectors taken, each paired with the error code the stub reported. */
  exceptions: Array<[number, number]>;
  checkpoints: number[];
  values: number[];
  tripleFaults: number;
}

/** A timer that requests vector 0x20 on every `period`-th poll, like a PIT behind a PIC. */
export class PeriodicInterrupt implements InterruptSource {
  private polls = 0;
  private pending = false;
  acknowledged = 0;
  constructor(private readonly period: number, private readonly vector = 0x20) {}
  hasPending(): boolean {
    if (!this.pending && ++this.polls % this.period === 0) this.pending = true;
    return this.pending;
  }
  acknowledge(): number {
    this.pending = false;
    this.acknowledged++;
    return this.vector;
  }
}

/** Boots `name` at 0000:7C00 in real mode and runs it until it halts (or the budget runs out). */
export function runProgram(name: string, budget = 2_000_000, ramBytes = 8 << 20, interrupts: InterruptSource | null = null): ProgramRun {
  const bus = new RecordingBus(ramBytes);
  const cpu = applyTestEngine(new Cpu(bus));
  cpu.interruptSource = interrupts;
  let tripleFaults = 0;
  cpu.onTripleFault = () => {
    tripleFaults++;
    cpu.halted = true;
  };
  const image = assembleProgram(name);
  cpu.ram8.set(image, 0x7c00);
  cpu.setSegmentCache(Seg.CS, 0, 0, 0xffff, 0x9b);
  cpu.eip = 0x7c00;
  let executed = 0;
  // A halted CPU with interrupts enabled is idle, not finished: keep polling the source.
  for (let idle = 0; executed < budget && idle < 10000; ) {
    const ran = runInstructions(cpu, Math.min(10000, budget - executed));
    executed += ran;
    if (!cpu.halted) continue;
    if ((cpu.eflags & 0x200) === 0 || interrupts === null) break;
    if (ran === 0) idle++;
  }
  const exceptions: Array<[number, number]> = [];
  const checkpoints: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < bus.events.length; i++) {
    const e = bus.events[i];
    if (e.kind === "vector") exceptions.push([e.value, bus.events[i + 1]?.kind === "error" ? bus.events[i + 1].value : -1]);
    else if (e.kind === "checkpoint") checkpoints.push(e.value);
    else if (e.kind === "value") values.push(e.value);
  }
  return { cpu, bus, exceptions, checkpoints, values, tripleFaults };
}
