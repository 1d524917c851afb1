import { describe, expect, it } from "vitest";
import { PCI_CAP_ID_MSI, PCI_CAP_ID_PM } from "@vmk/kernel";
import { MegaRaidRig } from "./test-rig.js";
import * as R from "./registers.js";
import { MfiStatus } from "./mfi-frames.js";
import type { MegaRaidVariantName } from "./variants.js";

const stateOf = (word: number): number => (word & R.MFI_STATE_MASK) >>> 0;

describe("MegaRAID SAS PCI function", () => {
  it.each([
    ["sas1078", 0x1000, 0x0060, 0x1000, 0x1013, [0, 2, 3]],
    ["perc5", 0x1028, 0x0015, 0x1028, 0x1f03, [0, 1, 2]],
    ["sas1064r", 0x1000, 0x0411, 0x1000, 0x1001, [0, 1, 2]],
  ] as const)("%s has the board's identity, RAID class, BARs, PM and MSI", (variant, vendor, device, subvendor, subdevice, bars) => {
    const rig = new MegaRaidRig({ variant: variant as MegaRaidVariantName });
    expect(rig.handle.vendorId).toBe(vendor);
    expect(rig.handle.deviceId).toBe(device);
    expect(rig.handle.subsystemVendorId).toBe(subvendor);
    expect(rig.handle.subsystemId).toBe(subdevice);
    expect(rig.handle.classCode).toBe(0x010400);
    expect(rig.handle.bars().map((bar) => bar.index)).toEqual(bars);
    expect(rig.handle.bars().every((bar) => bar.address !== 0)).toBe(true);
    expect(rig.model.config.findCapabilities(PCI_CAP_ID_PM)).toHaveLength(1);
    expect(rig.model.config.findCapabilities(PCI_CAP_ID_MSI)).toHaveLength(1);
  });

  it("mirrors the register set in the I/O BAR", async () => {
    const rig = new MegaRaidRig({ variant: "perc5" });
    await rig.bootToReady();
    const io = rig.handle.mapBar(1);
    expect(io.read32(R.OUTBOUND_MSG_0)).toBe(rig.read(R.OUTBOUND_MSG_0));
    io.write32(R.INBOUND_MSG_0, 0x1234);
    expect(rig.read(R.INBOUND_MSG_0)).toBe(0x1234);
  });
});

describe("firmware state handshake", () => {
  it("boots UNDEFINED → FW_INIT → WAIT_HANDSHAKE and answers CLEAR_HANDSHAKE with READY and its limits (1078: scratch pad 0)", async () => {
    const rig = new MegaRaidRig({ variant: "sas1078", maxCommands: 1008, maxSge: 80 });
    expect(stateOf(rig.statusWord())).toBe(R.MfiState.UNDEFINED);
    rig.clock.advance(2_000_000);
    expect(stateOf(rig.statusWord())).toBe(R.MfiState.FW_INIT);
    rig.clock.advance(30_000_000);
    expect(stateOf(rig.statusWord())).toBe(R.MfiState.WAIT_HANDSHAKE);
    expect(rig.statusWord() & 0x00ffffff).toBe(0);
    rig.write(R.INBOUND_DOORBELL, R.MfiDoorbell.CLEAR_HANDSHAKE | R.MfiDoorbell.HOTPLUG);
    expect(rig.statusWord()).toBe((R.MfiState.READY | (80 << 16) | 1008) >>> 0);
    expect(rig.read(R.OUTBOUND_MSG_0)).toBe(rig.statusWord());
    expect(rig.read(R.INBOUND_DOORBELL)).toBe(0);
  });

  it("xscale parts report the state in outbound message 0", async () => {
    const rig = new MegaRaidRig({ variant: "sas1064r", maxCommands: 256, maxSge: 33 });
    await rig.bootToReady();
    expect(rig.read(R.OUTBOUND_MSG_0)).toBe((R.MfiState.READY | (33 << 16) | 256) >>> 0);
    expect(rig.read(R.OUTBOUND_SCRATCH_PAD_0)).toBe(0);
    expect(rig.read(R.OUTBOUND_QUEUE_PORT)).toBe(R.OUTBOUND_QUEUE_EMPTY);
  });

  it("comes up READY without a handshake when an option ROM already ran", async () => {
    const rig = new MegaRaidRig({ waitForHandshake: false });
    await rig.settle(2);
    expect(stateOf(rig.statusWord())).toBe(R.MfiState.READY);
  });

  it("takes OPERATIONAL back to READY on MFI_INIT_READY | MFIMODE | ABORT, forgetting the reply queue", async () => {
    const rig = new MegaRaidRig();
    await rig.bringUp();
    expect(stateOf(rig.statusWord())).toBe(R.MfiState.OPERATIONAL);
    rig.write(R.INBOUND_DOORBELL, R.MfiDoorbell.READY | R.MfiDoorbell.MFI_MODE | R.MfiDoorbell.ABORT);
    expect(stateOf(rig.statusWord())).toBe(R.MfiState.READY);
    expect(rig.model.state.replyQueue).toBeNull();
    expect(await rig.init()).toBe(MfiStatus.OK);
  });

  it("faults on STOP_ADAPTER and reboots on ADAPTER_RESET", async () => {
    const rig = new MegaRaidRig({ variant: "perc5" });
    await rig.bringUp();
    rig.clearInterrupt();
    rig.write(R.INBOUND_DOORBELL, R.MfiDoorbell.STOP_ADAPTER);
    expect(stateOf(rig.statusWord())).toBe(R.MfiState.FAULT);
    // The xscale firmware signals its own state changes with the outbound message 0 interrupt.
    expect(rig.read(R.OUTBOUND_INTR_STATUS) & R.XSCALE_STATE_CHANGE_INTERRUPT).not.toBe(0);
    expect(rig.interruptAsserted).toBe(true);
    rig.clearInterrupt();
    rig.write(R.INBOUND_DOORBELL, R.MfiDoorbell.ADAPTER_RESET);
    expect(stateOf(rig.statusWord())).toBe(R.MfiState.UNDEFINED);
    await rig.bootToReady();
    expect(stateOf(rig.statusWord())).toBe(R.MfiState.READY);
  });

  it("drops frames posted before the firmware is READY and counts them", async () => {
    const rig = new MegaRaidRig();
    rig.header(1, 0x05, 0, 0, 0);
    rig.fireSlot(1);
    await rig.settle();
    expect(rig.status(1)).toBe(MfiStatus.INVALID_STATUS);
    expect(rig.model.diagnostics.framesDropped).toBe(1);
  });
});
