import { describe, expect, it } from "vitest";
import { LogicalUnit } from "./logical-unit.js";
import { MemoryLunStore } from "./memory-lun-store.js";
import { ScsiTaskAbortedError } from "./scsi-command.js";
import { TaskAbort } from "./task-abort.js";

describe("TaskAbort", () => {
  it("runs its listeners once, in the order added, when aborted", () => {
    const abort = new TaskAbort();
    const calls: string[] = [];
    abort.addEventListener("abort", () => calls.push("first"));
    abort.addEventListener("abort", () => calls.push("second"));
    expect(abort.aborted).toBe(false);
    abort.abort();
    abort.abort();
    expect(abort.aborted).toBe(true);
    expect(calls).toEqual(["first", "second"]);
  });

  it("forgets removed listeners, counts a listener added twice once, and never runs one added after the abort", () => {
    const abort = new TaskAbort();
    let removed = 0;
    let twice = 0;
    let late = 0;
    const removedListener = () => removed++;
    const twiceListener = () => twice++;
    abort.addEventListener("abort", removedListener);
    abort.addEventListener("abort", twiceListener);
    abort.addEventListener("abort", twiceListener);
    abort.removeEventListener("abort", removedListener);
    abort.abort();
    abort.addEventListener("abort", () => late++);
    expect([removed, twice, late]).toEqual([0, 1, 0]);
  });

  it("aborts a command a logical unit holds, as an AbortSignal does", async () => {
    const unit = new LogicalUnit({ identity: { name: "held" }, store: new MemoryLunStore(16 * 512) });
    const initiator = "host-a";
    // The first command of a nexus reports the power-on unit attention.
    await unit.execute({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0), initiator });
    unit.faults.inject({ kind: "hang" });
    const abort = new TaskAbort();
    const held = unit.execute({ cdb: Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0), initiator, dataInLength: 512, signal: abort });
    abort.abort();
    await expect(held).rejects.toMatchObject({ name: "ScsiTaskAbortedError", abortedBy: "abort-task" });
    const already = new TaskAbort();
    already.abort();
    await expect(unit.execute({ cdb: Uint8Array.of(0, 0, 0, 0, 0, 0), initiator, signal: already })).rejects.toBeInstanceOf(ScsiTaskAbortedError);
  });
});
