import { VirtualClock, NS_PER_MS } from "@vmk/kernel";
import { describe, expect, it } from "vitest";
import { ScsiStatus, ScsiTaskAbortedError, ScsiTransportError, type ScsiResponse } from "./scsi-command.js";
import { ScsiTarget } from "./scsi-target.js";
import { Asc, SenseKey } from "./sense.js";
import { attach, Cdb, expectGood, expectSense, memoryUnit } from "./test-support.js";

const A = "hba0:host-a";
const B = "hba1:host-a";

/** Lets pending promise callbacks run (the memory store completes on microtasks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function track(promise: Promise<ScsiResponse>): { done: boolean; result?: ScsiResponse; error?: unknown } {
  const state: { done: boolean; result?: ScsiResponse; error?: unknown } = { done: false };
  promise.then(
    (result) => Object.assign(state, { done: true, result }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

describe("fault injection", () => {
  it("MEDIUM ERROR on an LBA range, with the first bad LBA in the information field", async () => {
    const { unit } = memoryUnit(256);
    await attach(unit, A);
    const id = unit.faults.inject({ kind: "medium-error", firstLba: 50, blockCount: 10 });
    const read = expectSense(await unit.execute({ cdb: Cdb.read10(45, 8), initiator: A }), SenseKey.MEDIUM_ERROR, Asc.UNRECOVERED_READ_ERROR);
    expect(read.information).toBe(50);
    const write = expectSense(await unit.execute({ cdb: Cdb.write10(58, 4), initiator: A, dataOut: new Uint8Array(2048) }), SenseKey.MEDIUM_ERROR, Asc.WRITE_ERROR);
    expect(write.information).toBe(58);
    expectGood(await unit.execute({ cdb: Cdb.read10(60, 4), initiator: A }));
    expect(unit.statistics.mediumErrors).toBe(2);
    unit.faults.clear(id);
    expectGood(await unit.execute({ cdb: Cdb.read10(45, 8), initiator: A }));
  });

  it("a read-only medium error spares writes, and a per-initiator one spares other paths", async () => {
    const { unit } = memoryUnit(256);
    await attach(unit, A, B);
    unit.faults.inject({ kind: "medium-error", firstLba: 0, blockCount: 1, access: "read", initiator: A });
    expectGood(await unit.execute({ cdb: Cdb.write10(0, 1), initiator: A, dataOut: new Uint8Array(512) }));
    expectSense(await unit.execute({ cdb: Cdb.read10(0, 1), initiator: A }), SenseKey.MEDIUM_ERROR, Asc.UNRECOVERED_READ_ERROR);
    expectGood(await unit.execute({ cdb: Cdb.read10(0, 1), initiator: B }));
  });

  it("a backend I/O error becomes MEDIUM ERROR", async () => {
    const { unit, store } = memoryUnit(16);
    await attach(unit, A);
    store.read = () => Promise.reject(Object.assign(new Error("EIO"), { code: "EIO" }));
    store.write = () => Promise.reject(Object.assign(new Error("ENOSPC"), { code: "ENOSPC" }));
    expectSense(await unit.execute({ cdb: Cdb.read10(3, 1), initiator: A }), SenseKey.MEDIUM_ERROR, Asc.UNRECOVERED_READ_ERROR);
    expectSense(await unit.execute({ cdb: Cdb.write10(3, 1), initiator: A, dataOut: new Uint8Array(512) }), SenseKey.DATA_PROTECT, Asc.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
  });

  it("a delay holds commands on the clock", async () => {
    const clock = new VirtualClock();
    const { unit } = memoryUnit(16, { clock });
    await attach(unit, A);
    unit.faults.inject({ kind: "delay", delayNs: 5 * NS_PER_MS });
    const pending = track(unit.execute({ cdb: Cdb.read10(0, 1), initiator: A }));
    await settle();
    clock.advance(4 * NS_PER_MS);
    await settle();
    expect(pending.done).toBe(false);
    clock.advance(NS_PER_MS);
    await settle();
    expect(pending.done).toBe(true);
    expectGood(pending.result!);
  });

  it("a hang (timeout) holds commands until it is cleared", async () => {
    const { unit } = memoryUnit(16);
    await attach(unit, A, B);
    const id = unit.faults.inject({ kind: "hang", initiator: A });
    const hung = track(unit.execute({ cdb: Cdb.read10(0, 1), initiator: A }));
    expectGood(await unit.execute({ cdb: Cdb.read10(0, 1), initiator: B }));
    await settle();
    expect(hung.done).toBe(false);
    unit.faults.clear(id);
    await settle();
    expect(hung.done).toBe(true);
    expectGood(hung.result!);
  });

  it("a hung command is aborted by ABORT TASK (its signal) or a logical unit reset", async () => {
    const { unit } = memoryUnit(16);
    await attach(unit, A);
    unit.faults.inject({ kind: "hang" });
    const controller = new AbortController();
    const aborted = unit.execute({ cdb: Cdb.read10(0, 1), initiator: A, signal: controller.signal });
    const reset = unit.execute({ cdb: Cdb.read10(0, 1), initiator: A });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: "ScsiTaskAbortedError", abortedBy: "abort-task" });
    unit.reset();
    await expect(reset).rejects.toBeInstanceOf(ScsiTaskAbortedError);
  });

  it("path loss fails commands from that initiator with a transport error, held ones included", async () => {
    const { unit } = memoryUnit(16);
    await attach(unit, A, B);
    unit.faults.inject({ kind: "hang", initiator: A });
    const held = unit.execute({ cdb: Cdb.read10(0, 1), initiator: A });
    const id = unit.faults.inject({ kind: "path-loss", initiator: A });
    await expect(held).rejects.toBeInstanceOf(ScsiTransportError);
    await expect(unit.execute({ cdb: Cdb.testUnitReady(), initiator: A })).rejects.toMatchObject({ initiator: A, reason: "path-lost" });
    unit.faults.clear(id);
    unit.faults.clearAll();
    expectGood(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: A }));
    expectGood(await unit.execute({ cdb: Cdb.testUnitReady(), initiator: B }));
  });

  it("a BUSY fault completes commands at once with that status", async () => {
    const { unit } = memoryUnit(16);
    await attach(unit, A);
    unit.faults.inject({ kind: "status", status: ScsiStatus.BUSY });
    const response = await unit.execute({ cdb: Cdb.read10(0, 1), initiator: A, dataInLength: 512 });
    expect(response).toEqual({ status: ScsiStatus.BUSY, residual: 512 });
  });

  it("a target-level path loss cuts every LUN behind the port for one initiator", async () => {
    const target = new ScsiTarget("spa-port0");
    const { unit } = memoryUnit(16);
    target.map(0, unit);
    await attach(unit, A, B);
    target.setPathLost(A, true);
    await expect(target.execute(0, { cdb: Cdb.reportLuns(), initiator: A })).rejects.toBeInstanceOf(ScsiTransportError);
    expectGood(await target.execute(0, { cdb: Cdb.read10(0, 1), initiator: B }));
    target.setPathLost(A, false);
    expectGood(await target.execute(0, { cdb: Cdb.read10(0, 1), initiator: A }));
  });

  it("a delay fault without a clock is refused", () => {
    const { unit } = memoryUnit(16);
    expect(() => unit.faults.inject({ kind: "delay", delayNs: 1 })).toThrow(/clock/);
  });
});
