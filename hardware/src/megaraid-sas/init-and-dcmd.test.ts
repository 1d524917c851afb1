import { describe, expect, it } from "vitest";
import { LogicalUnit } from "../scsi/logical-unit.js";
import { MemoryLunStore } from "../scsi/memory-lun-store.js";
import { MegaRaidRig } from "./test-rig.js";
import { DcmdOpcode, FrameFlags, Header, MfiCommand, MfiStatus, PdQueryType } from "./mfi-frames.js";
import { EventCode, EventLocale, EVENT_DETAIL_SIZE } from "./events.js";
import * as R from "./registers.js";

function memoryDrive(name: string, blocks: number, blockSize: 512 | 4096 = 512): { unit: LogicalUnit; store: MemoryLunStore } {
  const store = new MemoryLunStore(blocks * blockSize);
  return { unit: new LogicalUnit({ identity: { name }, store, blockSize }), store };
}

const text = (bytes: Uint8Array, offset: number, length: number): string => new TextDecoder().decode(bytes.subarray(offset, offset + length)).replace(/\0+$/, "");

describe("INIT frame", () => {
  it("sets up the reply queue and moves READY → OPERATIONAL", async () => {
    const rig = new MegaRaidRig();
    await rig.bootToReady();
    expect(await rig.init(64)).toBe(MfiStatus.OK);
    expect((rig.statusWord() & R.MFI_STATE_MASK) >>> 0).toBe(R.MfiState.OPERATIONAL);
    expect(rig.model.state.replyQueue).toMatchObject({ entries: 64, address: rig.replyQueue.busAddress, producer: 0, context64: false });
    // Polled (DONT_POST_IN_REPLY_QUEUE): nothing in the reply queue.
    expect(rig.producer).toBe(0);
  });

  it("rejects malformed queue descriptions with INVALID_PARAMETER and stays READY", async () => {
    const rig = new MegaRaidRig({ maxCommands: 128 });
    await rig.bootToReady();
    expect(await rig.init(129)).toBe(MfiStatus.INVALID_PARAMETER);
    expect(await rig.init(1)).toBe(MfiStatus.INVALID_PARAMETER);
    expect(await rig.init(64, 0, 0, 64)).toBe(MfiStatus.INVALID_PARAMETER);
    expect((rig.statusWord() & R.MFI_STATE_MASK) >>> 0).toBe(R.MfiState.READY);
    expect(rig.model.diagnostics.framesRejected).toBe(3);
    expect(await rig.init(64)).toBe(MfiStatus.OK);
  });

  it("refuses a short queue-info length, an unmapped queue info, and commands other than INIT while READY", async () => {
    const rig = new MegaRaidRig();
    await rig.bootToReady();
    const frame = rig.clearSlot(0);
    frame.setUint8(Header.COMMAND, MfiCommand.INIT);
    frame.setUint16(Header.FLAGS, FrameFlags.DONT_POST_IN_REPLY_QUEUE, true);
    frame.setUint32(Header.DATA_LENGTH, 16, true);
    frame.setUint32(24, rig.slotAddress(0) + 64, true);
    rig.fireSlot(0);
    await rig.settle();
    expect(rig.status(0)).toBe(MfiStatus.INVALID_PARAMETER);

    frame.setUint32(Header.DATA_LENGTH, 32, true);
    frame.setUint32(24, 30 << 20, true);
    rig.fireSlot(0);
    await rig.settle();
    expect(rig.status(0)).toBe(MfiStatus.PCI_ERRORS_DETECTED);
    expect(rig.model.diagnostics.dmaErrors).toBe(1);

    rig.dcmd(1, DcmdOpcode.CTRL_GET_INFO, 2048);
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.WRONG_STATE);
  });
});

describe("DCMDs", () => {
  async function operational(options: ConstructorParameters<typeof MegaRaidRig>[0] = {}): Promise<MegaRaidRig> {
    const rig = new MegaRaidRig(options);
    await rig.bringUp();
    return rig;
  }

  it("CTRL_GET_INFO describes the controller honestly", async () => {
    const rig = await operational({ variant: "sas1078", maxCommands: 1008, maxSge: 80, logicalDrives: [memoryDrive("ld0", 2048).unit] });
    rig.dcmd(1, DcmdOpcode.CTRL_GET_INFO, 2048, [1]);
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.OK);
    const info = rig.data.bytes.slice(0, 2048);
    const view = new DataView(info.buffer);
    expect(view.getUint16(0, true)).toBe(0x1000);
    expect(view.getUint16(2, true)).toBe(0x0060);
    expect(view.getUint16(6, true)).toBe(0x1013);
    expect(text(info, 0x540, 80)).toBe("MegaRAID SAS 8708EM2");
    expect(text(info, 0x590, 32)).toBe("TESTSERIAL01");
    expect(text(info, 0x640, 0x60)).toBe("vmk-1.0.0");
    expect(text(info, 0xb8, 8)).toBe("APP");
    expect(view.getUint16(0x5b8, true)).toBe(1008);
    expect(view.getUint16(0x5ba, true)).toBe(80);
    expect(view.getUint32(0x5bc, true)).toBe(640);
    expect(view.getUint16(0x5c0, true)).toBe(1);
    expect(view.getUint16(0x5da, true)).toBe(40);
    expect(info[0x5e8]).toBe(4);
    expect(view.getUint32(0x5e0, true)).toBe(0);
    expect(rig.takeReplies()).toEqual([1001]);
  });

  it("LD_GET_LIST and LD_LIST_QUERY list the logical drives with their sizes", async () => {
    const rig = await operational({ logicalDrives: [memoryDrive("ld0", 4096).unit, memoryDrive("ld1", 512, 4096).unit] });
    rig.dcmd(1, DcmdOpcode.LD_GET_LIST, 1032);
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.OK);
    const view = rig.data.view;
    expect(view.getUint32(0, true)).toBe(2);
    expect([view.getUint8(8), view.getUint8(12), view.getUint32(16, true)]).toEqual([0, 3, 4096]);
    expect([view.getUint8(24), view.getUint8(28), view.getUint32(32, true)]).toEqual([1, 3, 512]);

    rig.dcmd(2, DcmdOpcode.LD_LIST_QUERY, 267, [1]);
    rig.fireSlot(2);
    await rig.settle();
    expect(rig.status(2)).toBe(MfiStatus.OK);
    expect(view.getUint32(4, true)).toBe(2);
    expect([view.getUint8(11), view.getUint8(12)]).toEqual([0, 1]);
  });

  it("PD_LIST_QUERY lists pass-through drives as system drives", async () => {
    const rig = await operational({ physicalDrives: [{ target: memoryDrive("pd", 1024).unit, deviceId: 8, slot: 3 }] });
    rig.dcmd(1, DcmdOpcode.PD_LIST_QUERY, 8 + 24 * 16, [PdQueryType.EXPOSED_TO_HOST]);
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.OK);
    const view = rig.data.view;
    expect(view.getUint32(4, true)).toBe(1);
    expect(view.getUint16(8, true)).toBe(8);
    expect(view.getUint16(10, true)).toBe(0xffff);
    expect(view.getUint8(13)).toBe(3);
    expect(view.getUint8(14)).toBe(0);

    rig.dcmd(2, DcmdOpcode.PD_GET_INFO, 512, [8, 0]);
    rig.fireSlot(2);
    await rig.settle();
    expect(rig.status(2)).toBe(MfiStatus.OK);
    expect(view.getUint16(184, true)).toBe(0x40);
    expect(text(rig.data.bytes, 4 + 8, 8).trim()).toBe("VMK");
    expect(view.getUint32(232, true)).toBe(1024);
  });

  it("answers unknown opcodes with INVALID_DCMD", async () => {
    const rig = await operational();
    rig.dcmd(1, 0x05010000, 64);
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.INVALID_DCMD);
  });

  it("CTRL_CACHE_FLUSH and CTRL_SHUTDOWN flush the drives; shutdown is logged", async () => {
    const drive = memoryDrive("ld0", 1024);
    const rig = await operational({ logicalDrives: [drive.unit] });
    rig.dcmd(1, DcmdOpcode.CTRL_CACHE_FLUSH, 0, [0x03]);
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.OK);
    expect(drive.store.flushes).toBe(1);
    rig.dcmd(2, DcmdOpcode.CTRL_SHUTDOWN, 0);
    rig.fireSlot(2);
    await rig.settle();
    expect(rig.status(2)).toBe(MfiStatus.OK);
    expect(drive.store.flushes).toBe(2);
    rig.dcmd(3, DcmdOpcode.CTRL_EVENT_GET_INFO, 20);
    rig.fireSlot(3);
    await rig.settle();
    expect(rig.data.view.getUint32(0, true)).toBe(1);
    expect(rig.data.view.getUint32(12, true)).toBe(1);
  });

  it("CTRL_EVENT_WAIT pends until an event, then delivers its detail and a reply", async () => {
    const rig = await operational();
    rig.dcmd(1, DcmdOpcode.CTRL_EVENT_GET_INFO, 20);
    rig.fireSlot(1);
    await rig.settle();
    const newest = rig.data.view.getUint32(0, true);
    rig.takeReplies();
    rig.clearInterrupt();

    const classLocale = (0xfe << 24) | EventLocale.ALL;
    const mailbox = [...le32(newest + 1), ...le32(classLocale)];
    rig.dcmd(2, DcmdOpcode.CTRL_EVENT_WAIT, EVENT_DETAIL_SIZE, mailbox, { pieces: [{ address: rig.data.busAddress + 4096, length: EVENT_DETAIL_SIZE }] });
    rig.fireSlot(2);
    await rig.settle();
    expect(rig.status(2)).toBe(MfiStatus.INVALID_STATUS);
    expect(rig.takeReplies()).toEqual([]);

    rig.model.attachLogicalDrive(5, memoryDrive("hot", 256).unit);
    await rig.settle();
    expect(rig.status(2)).toBe(MfiStatus.OK);
    expect(rig.takeReplies()).toEqual([1002]);
    expect(rig.interruptAsserted).toBe(true);
    const detail = new DataView(rig.data.bytes.buffer, rig.data.bytes.byteOffset + 4096, EVENT_DETAIL_SIZE);
    expect(detail.getUint32(0, true)).toBe(newest + 1);
    expect(detail.getUint32(8, true)).toBe(EventCode.LD_CREATED);
    expect(detail.getUint16(12, true)).toBe(EventLocale.LD);
    expect(detail.getUint8(32)).toBe(5);
  });

  it("ABORT of a pending event wait posts it, then the abort", async () => {
    const rig = await operational();
    rig.dcmd(1, DcmdOpcode.CTRL_EVENT_WAIT, EVENT_DETAIL_SIZE, [...le32(100), ...le32(0xffff)]);
    rig.fireSlot(1);
    await rig.settle();
    const abort = rig.header(2, MfiCommand.ABORT, 0, 0, 0);
    abort.setUint32(24, 1001, true);
    abort.setUint32(32, rig.slotAddress(1), true);
    rig.fireSlot(2);
    await rig.settle();
    expect(rig.status(2)).toBe(MfiStatus.OK);
    expect(rig.status(1)).toBe(MfiStatus.INVALID_STATUS);
    expect(rig.takeReplies()).toEqual([1001, 1002]);

    rig.fireSlot(2);
    await rig.settle();
    expect(rig.status(2)).toBe(MfiStatus.NOT_FOUND);
  });
});

function le32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

