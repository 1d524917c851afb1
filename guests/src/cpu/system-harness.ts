/**
 * Runs the nasm system-test programs (guests/test-programs) on a CPU over RAM with a port bus
 * that records what the programs report: vectors (0xE9), error codes (0xEA), checkpoints (0xEB).
 */
import type { CpuBus } from "./bus.js";
import { Cpu } from "./cpu.js";
import { Seg } from "./constants.js";
import { runInstructions } from "./interpreter.js";
import { assembleProgram } from "./test-support.js";

export interface ProgramEvent {
  kind: "vector" | "error" | "checkpoint" | "value";
  value: number;
}

export class RecordingBus implements CpuBus {
  readonly ram: ArrayBuffer;
  readonly events: ProgramEvent[] = [];
  constructor(ramBytes: number) {
    this.ram = new ArrayBuffer(ramBytes);
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

/** Boots `name` at 0000:7C00 in real mode and runs it until it halts (or the budget runs out). */
export function runProgram(name: string, budget = 2_000_000, ramBytes = 8 << 20): ProgramRun {
  const bus = new RecordingBus(ramBytes);
  const cpu = new Cpu(bus);
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
  while (executed < budget && !cpu.halted) executed += runInstructions(cpu, Math.min(10000, budget - executed));
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
