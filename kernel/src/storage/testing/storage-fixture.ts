import { VirtualClock } from "../../clock/virtual-clock.js";
import type { ExecutionDomain } from "../../exec/execution-domain.js";
import { KernelLog } from "../../log/kernel-log.js";
import type { ScsiDevice } from "../scsi-device.js";
import { StorageStack } from "../storage-stack.js";
import type { StorageSettings } from "../storage-settings.js";
import { FakeScsiAdapter, type FakeAdapterOptions } from "./fake-scsi-adapter.js";
import { MemoryLun } from "./memory-lun.js";

/** A StorageStack on a virtual clock, without a Host. */
export function makeStorage(settings: Partial<StorageSettings> = {}) {
  const clock = new VirtualClock();
  const log = new KernelLog(clock);
  const stack = new StorageStack(clock, log, settings);
  return { clock, log, stack };
}

/** An NAA 6 designator in VMware's OUI, distinct per `n`. */
export function testNaa(n: number): string {
  return `6000c29${n.toString(16).padStart(25, "0")}`;
}

export function makeLun(n: number, blocks = 2048): MemoryLun {
  return new MemoryLun({ naa: testNaa(n), vendor: "VMK", product: `Test LUN ${n}`, revision: "1.0", blocks });
}

/**
 * Runs the virtual clock, deadline by deadline, until `promise` settles: timers complete commands,
 * promise continuations (scans, error handling) run between them.
 */
export async function drive<T>(clock: VirtualClock, promise: Promise<T>, limitNs = 3_600e9): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (;;) {
    await flushMicrotasks();
    if (settled) return promise;
    const next = clock.nextDeadline();
    if (next === undefined) throw new Error(`nothing scheduled and the promise is still pending at ${clock.now()} ns`);
    if (next > limitNs) throw new Error(`still pending at the ${limitNs} ns limit`);
    clock.runUntil(next);
  }
}

/** Advances the clock by `deltaNs`, letting promise continuations run between timers. */
export async function advance(clock: VirtualClock, deltaNs: number): Promise<void> {
  const end = clock.now() + deltaNs;
  for (;;) {
    await flushMicrotasks();
    const next = clock.nextDeadline();
    if (next === undefined || next > end) break;
    clock.runUntil(next);
  }
  clock.runUntil(end);
  await flushMicrotasks();
}

function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Two adapters, each with one target holding LUN 0 and LUN 1: two devices, four paths. */
export async function twoAdaptersTwoLuns(settings: Partial<StorageSettings> = {}, options: FakeAdapterOptions = {}) {
  const fixture = makeStorage(settings);
  const luns = [makeLun(1), makeLun(2)];
  const adapters = [new FakeScsiAdapter("0000:03:00.0", fixture.clock, options), new FakeScsiAdapter("0000:04:00.0", fixture.clock, options)];
  for (const adapter of adapters) {
    adapter.attach(0, 0, luns[0]!);
    adapter.attach(0, 1, luns[1]!);
  }
  const registered = adapters.map((adapter) => fixture.stack.adapters.register(adapter));
  await drive(fixture.clock, fixture.stack.scansComplete());
  const devices = luns.map((lun) => fixture.stack.device(`naa.${lun.options.naa}`) as ScsiDevice);
  return { ...fixture, luns, adapters, registered, devices };
}

/** A fault domain that records faults and dies at the first, as a quarantined module does. */
export class RecordingDomain implements ExecutionDomain {
  alive = true;
  readonly faults: string[] = [];
  constructor(readonly name: string) {}
  fault(error: unknown, activity: string): void {
    this.alive = false;
    this.faults.push(`${activity}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A recognisable pattern for `blocks` blocks starting at `lba`. */
export function pattern(lba: number, blocks: number, blockSize = 512, seed = 0): Uint8Array {
  const data = new Uint8Array(blocks * blockSize);
  for (let i = 0; i < data.length; i++) data[i] = (lba * 31 + i * 7 + seed) & 0xff;
  return data;
}
