import { describe, expect, it } from "vitest";
import { LogicalUnit } from "../scsi/logical-unit.js";
import { MemoryLunStore } from "../scsi/memory-lun-store.js";
import { decodeFixedSense } from "../scsi/sense.js";
import { MegaRaidRig, type SglPiece } from "./test-rig.js";
import { ScsiTaskAbortedError, type ScsiCommandTarget } from "../scsi/scsi-command.js";
import { Header, MfiCommand, MfiStatus } from "./mfi-frames.js";
import * as R from "./registers.js";
import type { MegaRaidVariantName } from "./variants.js";

function memoryDrive(name: string, blocks: number): { unit: LogicalUnit; store: MemoryLunStore } {
  const store = new MemoryLunStore(blocks * 512);
  return { unit: new LogicalUnit({ identity: { name }, store }), store };
}

function pattern(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 13 + seed * 7 + (i >> 9)) & 0xff);
}

async function controller(variant: MegaRaidVariantName = "sas1078", blocks = 4096, extra: ConstructorParameters<typeof MegaRaidRig>[0] = {}) {
  const drive = memoryDrive("ld0", blocks);
  const rig = new MegaRaidRig({ variant, logicalDrives: [drive.unit], ...extra });
  await rig.bringUp();
  rig.clearInterrupt();
  return { rig, drive };
}

const cdb = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

describe("block I/O on logical drives", () => {
  it.each(["sas1078", "perc5"] as const)("%s: LD_WRITE then LD_READ round-trips through the LUN, with 64-bit SGLs spanning chained frames", async (variant) => {
    const { rig, drive } = await controller(variant);
    const payload = pattern(8 * 512, 3);
    const out = rig.data.busAddress;
    rig.data.bytes.set(payload, 0);
    // Four elements of 1 KiB: the SGL runs past the first 64-byte frame.
    const pieces: SglPiece[] = [0, 1, 2, 3].map((i) => ({ address: out + i * 1024, length: 1024 }));
    rig.blockIo(1, true, 0, 100, 8, pieces);
    rig.fireSlot(1, 2);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.OK);
    expect(drive.store.contents.slice(100 * 512, 108 * 512)).toEqual(payload);

    const back = rig.data.busAddress + 64 * 1024;
    rig.blockIo(2, false, 0, 100, 8, [{ address: back, length: 4096 }]);
    rig.fireSlot(2);
    await rig.settle();
    expect(rig.status(2)).toBe(MfiStatus.OK);
    expect(rig.data.bytes.slice(64 * 1024, 64 * 1024 + 4096)).toEqual(drive.store.contents.slice(100 * 512, 108 * 512));
    expect(rig.takeReplies()).toEqual([1001, 1002]);
  });

  it("keeps commands in flight together apart: each write lands its own data, each read gets its own blocks", async () => {
    const { rig, drive } = await controller();
    const commands = 8;
    const bytes = 4096;
    const slots = Array.from({ length: commands }, (_, i) => i + 1);
    for (const slot of slots) {
      rig.data.bytes.set(pattern(bytes, slot), slot * bytes);
      rig.blockIo(slot, true, 0, slot * 16, 8, [{ address: rig.data.busAddress + slot * bytes, length: bytes }]);
    }
    for (const slot of slots) rig.fireSlot(slot);
    await rig.settle();
    for (const slot of slots) {
      expect(rig.status(slot)).toBe(MfiStatus.OK);
      expect(drive.store.contents.slice(slot * 16 * 512, slot * 16 * 512 + bytes)).toEqual(pattern(bytes, slot));
    }
    rig.takeReplies();

    const readBase = 64 * 1024;
    for (const slot of slots) rig.blockIo(slot, false, 0, slot * 16, 8, [{ address: rig.data.busAddress + readBase + slot * bytes, length: bytes }]);
    for (const slot of slots) rig.fireSlot(slot);
    await rig.settle();
    for (const slot of slots) {
      expect(rig.status(slot)).toBe(MfiStatus.OK);
      expect(rig.data.bytes.slice(readBase + slot * bytes, readBase + (slot + 1) * bytes)).toEqual(pattern(bytes, slot));
    }
  });

  it("learns the geometry of a drive it has not asked yet before its first block I/O", async () => {
    const { rig } = await controller();
    const added = memoryDrive("ld1", 256);
    rig.model.attachLogicalDrive(1, added.unit);
    expect(rig.model.state.geometry[1]).toBeUndefined();
    rig.data.bytes.set(pattern(1024, 5), 0);
    rig.blockIo(1, true, 1, 10, 2, [{ address: rig.data.busAddress, length: 1024 }]);
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.OK);
    expect(rig.model.state.geometry[1]).toEqual({ blockSize: 512, blocks: 256 });
    expect(added.store.contents.slice(10 * 512, 12 * 512)).toEqual(pattern(1024, 5));
  });

  it("fails LD_READ beyond the end of the drive with CHECK CONDITION and sense in the frame's buffer", async () => {
    const { rig } = await controller("sas1078", 1024);
    rig.blockIo(1, false, 0, 1024, 1, [{ address: rig.data.busAddress, length: 512 }]);
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.SCSI_DONE_WITH_ERROR);
    expect(rig.frame(1).getUint8(Header.SCSI_STATUS)).toBe(0x02);
    expect(rig.frame(1).getUint8(Header.SENSE_LENGTH)).toBe(18);
    const sense = decodeFixedSense(rig.senseOf(1));
    expect([sense.key, sense.asc]).toEqual([0x5, 0x21]);
  });

  it("answers an unknown target with DEVICE_NOT_FOUND", async () => {
    const { rig } = await controller();
    rig.blockIo(1, false, 7, 0, 1, [{ address: rig.data.busAddress, length: 512 }]);
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.DEVICE_NOT_FOUND);
  });
});

describe("SCSI pass-through", () => {
  it("LD_SCSI_IO carries INQUIRY and READ CAPACITY to the LUN and reports the bytes moved", async () => {
    const { rig } = await controller("sas1078", 4096);
    rig.passThrough(1, true, 0, cdb(0x12, 0, 0, 0, 96, 0), 96, "in");
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.OK);
    expect(new TextDecoder().decode(rig.data.bytes.slice(8, 16)).trim()).toBe("VMK");
    expect(rig.frame(1).getUint32(Header.DATA_LENGTH, true)).toBeLessThanOrEqual(96);

    rig.passThrough(2, true, 0, cdb(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 8, "in");
    rig.fireSlot(2);
    await rig.settle();
    expect(rig.status(2)).toBe(MfiStatus.OK);
    const capacity = new DataView(rig.data.bytes.buffer, rig.data.bytes.byteOffset, 8);
    expect([capacity.getUint32(0), capacity.getUint32(4)]).toEqual([4095, 512]);
    expect(rig.frame(2).getUint32(Header.DATA_LENGTH, true)).toBe(8);
  });

  it("delivers sense data for an out-of-range READ(10)", async () => {
    const { rig } = await controller("perc5", 1024);
    rig.passThrough(3, true, 0, cdb(0x28, 0, 0, 0, 0x04, 0x00, 0, 0, 1, 0), 512, "in", undefined, true);
    rig.fireSlot(3);
    await rig.settle();
    expect(rig.status(3)).toBe(MfiStatus.SCSI_DONE_WITH_ERROR);
    expect(rig.frame(3).getUint8(Header.SCSI_STATUS)).toBe(0x02);
    const sense = decodeFixedSense(rig.senseOf(3));
    expect([sense.key, sense.asc, sense.ascq]).toEqual([0x5, 0x21, 0x00]);
  });

  it("PD_SCSI_IO reaches pass-through drives, whose unit attentions reach the host", async () => {
    const pd = memoryDrive("pd8", 512);
    const rig = new MegaRaidRig({ physicalDrives: [{ target: pd.unit, deviceId: 8 }] });
    await rig.bringUp();
    rig.passThrough(1, false, 8, cdb(0, 0, 0, 0, 0, 0), 0, "none");
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.SCSI_DONE_WITH_ERROR);
    expect(decodeFixedSense(rig.senseOf(1)).key).toBe(0x6);
    rig.passThrough(2, false, 8, cdb(0, 0, 0, 0, 0, 0), 0, "none");
    rig.fireSlot(2);
    await rig.settle();
    expect(rig.status(2)).toBe(MfiStatus.OK);
  });
});

describe("ABORT", () => {
  it("stops a command waiting at a logical unit: the aborted frame is posted with its status untouched", async () => {
    const waiting: ScsiCommandTarget = {
      execute: (command) =>
        new Promise((_, reject) => command.signal?.addEventListener("abort", () => reject(new ScsiTaskAbortedError("abort-task")))),
    };
    const rig = new MegaRaidRig({ logicalDrives: [waiting] });
    await rig.bringUp();
    rig.passThrough(1, true, 0, cdb(0, 0, 0, 0, 0, 0), 0, "none");
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.model.state.inFlight).toHaveLength(1);
    const abort = rig.header(2, MfiCommand.ABORT, 0, 0, 0);
    abort.setUint32(24, 1001, true);
    abort.setUint32(32, rig.slotAddress(1), true);
    rig.fireSlot(2);
    await rig.settle();
    expect(rig.status(2)).toBe(MfiStatus.OK);
    expect(rig.status(1)).toBe(MfiStatus.INVALID_STATUS);
    expect(rig.takeReplies().sort()).toEqual([1001, 1002]);
    expect(rig.model.state.inFlight).toHaveLength(0);
  });
});

describe("DMA faults and malformed frames", () => {
  it("drops a frame outside the DMA mapping, counts it, and keeps working", async () => {
    const { rig } = await controller();
    const blockedBefore = rig.fn.dma.blocked;
    rig.fire(20 << 20);
    await rig.settle();
    expect(rig.model.diagnostics.framesDropped).toBe(1);
    expect(rig.model.diagnostics.dmaErrors).toBe(1);
    expect(rig.fn.dma.blocked).toBeGreaterThan(blockedBefore);
    expect(rig.producer).toBe(0);
    expect(rig.host.faults.count("dma-blocked")).toBeGreaterThan(0);

    rig.passThrough(1, true, 0, cdb(0, 0, 0, 0, 0, 0), 0, "none");
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.OK);
  });

  it("fails a command whose 64-bit SGL points above the mapped memory with PCI_ERRORS_DETECTED", async () => {
    const { rig, drive } = await controller();
    drive.store.contents.fill(0x5a, 0, 512);
    rig.blockIo(1, false, 0, 0, 1, [{ address: 2 ** 32 + rig.data.busAddress, length: 512 }]);
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.PCI_ERRORS_DETECTED);
    expect(rig.model.diagnostics.dmaErrors).toBe(1);
    expect(rig.takeReplies()).toEqual([1001]);
  });

  it("rejects malformed frames with the proper status", async () => {
    const { rig } = await controller("sas1078", 4096, { maxSge: 16 });
    const cases: [string, () => void, number][] = [
      ["SGE count over the limit", () => rig.blockIo(1, false, 0, 0, 1, Array.from({ length: 17 }, () => ({ address: rig.data.busAddress, length: 512 }))), MfiStatus.INVALID_SGL],
      ["SGL shorter than the transfer", () => rig.blockIo(1, false, 0, 0, 8, [{ address: rig.data.busAddress, length: 512 }]), MfiStatus.INVALID_PARAMETER],
      ["unknown command", () => rig.header(1, 0x0f, 0, 0, 0), MfiStatus.INVALID_CMD],
      ["CDB length 0", () => rig.passThrough(1, true, 0, new Uint8Array(0), 0, "none"), MfiStatus.INVALID_PARAMETER],
      ["data without a direction", () => rig.passThrough(1, true, 0, cdb(0x12, 0, 0, 0, 36, 0), 36, "none"), MfiStatus.INVALID_PARAMETER],
    ];
    for (const [name, build, status] of cases) {
      build();
      rig.fireSlot(1);
      await rig.settle();
      expect(rig.status(1), name).toBe(status);
    }
    expect(rig.model.diagnostics.framesRejected).toBe(cases.length);
  });
});

describe("interrupts and the reply queue", () => {
  it.each(["sas1078", "sas1064r"] as const)("%s raises its interrupt on a reply and drops it when the cause is cleared", async (variant) => {
    const { rig } = await controller(variant);
    expect(rig.interruptAsserted).toBe(false);
    rig.passThrough(1, true, 0, cdb(0, 0, 0, 0, 0, 0), 0, "none");
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.interruptAsserted).toBe(true);
    const replyBit = variant === "sas1078" ? R.PPC_REPLY_INTERRUPT : R.XSCALE_REPLY_INTERRUPT;
    expect((rig.read(R.OUTBOUND_INTR_STATUS) & replyBit) >>> 0).toBe(replyBit >>> 0);
    expect(rig.takeReplies()).toEqual([1001]);
    rig.clearInterrupt();
    expect(rig.interruptAsserted).toBe(false);
    expect(rig.read(R.OUTBOUND_INTR_STATUS)).toBe(0);
  });

  it("keeps the line low while the reply interrupt is masked, the cause still visible", async () => {
    const { rig } = await controller("sas1078");
    rig.write(R.OUTBOUND_INTR_MASK, 0xffffffff);
    rig.passThrough(1, true, 0, cdb(0, 0, 0, 0, 0, 0), 0, "none");
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.interruptAsserted).toBe(false);
    expect(rig.read(R.OUTBOUND_DOORBELL_0)).toBe(R.PPC_REPLY_INTERRUPT >>> 0);
    rig.write(R.OUTBOUND_INTR_MASK, ~R.PPC_REPLY_INTERRUPT);
    expect(rig.interruptAsserted).toBe(true);
  });

  it("wraps the reply ring and holds replies while it is full", async () => {
    const drive = memoryDrive("ld0", 256);
    const rig = new MegaRaidRig({ logicalDrives: [drive.unit] });
    await rig.bootToReady();
    await rig.init(4);
    for (let slot = 1; slot <= 5; slot++) {
      rig.passThrough(slot, true, 0, cdb(0, 0, 0, 0, 0, 0), 0, "none");
      rig.fireSlot(slot);
    }
    await rig.settle();
    // A ring of 4 holds 3: the other two wait in the firmware until the consumer index moves.
    const first = rig.takeReplies();
    expect(first).toHaveLength(3);
    expect(rig.model.diagnostics.replyQueueStalls).toBeGreaterThan(0);
    rig.clearInterrupt();
    const rest = rig.takeReplies();
    expect([...first, ...rest].sort()).toEqual([1001, 1002, 1003, 1004, 1005]);
    expect(rig.producer).toBe(1);
  });
});
