import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import {
  DmaAllocator,
  DmaDomain,
  FaultRecord,
  MachineMemory,
  Tokens,
  VirtualClock,
  type AdapterRegistry,
  type ModuleContext,
  type RegisteredScsiAdapter,
  type ScsiAdapter,
  type ScsiAdapterCommand,
  type ScsiCompletion,
} from "@vmk/kernel";
import {
  complete,
  completion,
  device,
  DID_OK,
  DID_TIME_OUT,
  FAILED,
  Linux,
  MEDIUM_ERROR,
  SAM_STAT_CHECK_CONDITION,
  schedule_timeout_uninterruptible,
  scsi_add_host,
  scsi_build_sense,
  scsi_bufflen,
  scsi_dma_map,
  scsi_dma_unmap,
  scsi_done,
  scsi_host_alloc,
  SCSI_MLQUEUE_HOST_BUSY,
  scsi_remove_host,
  scsi_set_resid,
  scsi_sg_count,
  scsi_sglist,
  sg_dma_address,
  sg_dma_len,
  sg_virt,
  SUCCESS,
  tasklet_init,
  tasklet_schedule,
  tasklet_struct,
  wait_for_completion_timeout,
  type scsi_cmnd,
  type Scsi_Host,
  type scsi_host_template,
} from "../index.js";

function fakeHost() {
  const clock = new VirtualClock();
  const memory = new MachineMemory(4 << 20);
  const lines: string[] = [];
  const registered: RegisteredScsiAdapter[] = [];
  const registry: AdapterRegistry = {
    register(adapter: ScsiAdapter) {
      const handle = { name: `vmhba${registered.length}`, adapter, rescan: async () => {} };
      registered.push(handle);
      return handle;
    },
    unregister(handle) {
      registered.splice(registered.indexOf(handle), 1);
    },
  };
  const moduleContainer = container.createChildContainer();
  moduleContainer.registerInstance(Tokens.ScsiAdapters, registry);
  const context: ModuleContext = {
    name: "test-hba",
    version: "1.0.0",
    kernelApiVersion: "1.0.0",
    container: moduleContainer,
    log: { error: (m) => lines.push(`error ${m}`), warn: (m) => lines.push(`warn ${m}`), info: (m) => lines.push(`info ${m}`), debug: (m) => lines.push(`debug ${m}`) },
    clock,
    interrupts: { requestIrq: () => () => undefined, mask: () => undefined, unmask: () => undefined },
    pciDrivers: { register: () => undefined, unregister: () => undefined },
    pages: {
      alloc: (count, limit) => {
        const run = memory.allocPages(count, "test-hba", limit);
        return { address: run.address, pages: run.pages, bytes: memory.bytes.subarray(run.address, run.address + run.pages * 4096) };
      },
      free: (address) => memory.freeRun(address),
    },
  };
  const linux = new Linux(context);
  const domain = new DmaDomain("0000:00:05.0", memory, new FaultRecord(clock));
  const dev = new device(linux, "0000:00:05.0", new DmaAllocator(memory, domain, "test-hba"));
  return { clock, memory, lines, registered, linux, dev, domain };
}

class hba_priv {
  queued: scsi_cmnd[] = [];
  busy = false;
  explode = false;
}

const template: scsi_host_template = {
  name: "test hba",
  proc_name: "testhba",
  info: () => "Test HBA 9000",
  queuecommand(shost: Scsi_Host, cmd: scsi_cmnd) {
    const priv = shost.hostdata as hba_priv;
    if (priv.explode) throw new TypeError("cannot read properties of null (reading 'ring')");
    if (priv.busy) return SCSI_MLQUEUE_HOST_BUSY;
    priv.queued.push(cmd);
    return 0;
  },
  eh_abort_handler: () => SUCCESS,
  eh_device_reset_handler: () => Promise.resolve(FAILED),
  can_queue: 16,
  this_id: 7,
  sg_tablesize: 4,
  max_sectors: 256,
  cmd_per_lun: 4,
};

function addHost() {
  const fixture = fakeHost();
  const shost = scsi_host_alloc(template, hba_priv);
  shost.max_id = 8;
  shost.max_lun = 2;
  expect(scsi_add_host(shost, fixture.dev)).toBe(0);
  const adapter = fixture.registered[0]!.adapter;
  return { ...fixture, shost, priv: shost.hostdata, adapter };
}

function command(data: Uint8Array[], direction: ScsiAdapterCommand["direction"], cdb = [0x28, 0, 0, 0, 0, 8, 0, 0, 8, 0]): ScsiAdapterCommand {
  return { target: 2, lun: 1, cdb: Uint8Array.from(cdb), direction, data, transferLength: data.reduce((n, d) => n + d.length, 0), timeoutNs: 30e9 };
}

describe("vmklinux SCSI hosts", () => {
  it("registers a Scsi_Host as a kernel adapter with the host's limits and scan range", () => {
    const { adapter, shost } = addHost();
    expect(shost.host_no).toBe(0);
    expect(adapter).toMatchObject({
      driver: "testhba",
      busAddress: "0000:00:05.0",
      model: "Test HBA 9000",
      limits: { canQueue: 16, cmdPerLun: 4, sgTablesize: 4, maxSectors: 256 },
      scan: { maxTargetId: 7, maxLun: 1, initiatorId: 7 },
    });
  });

  it("bounces a buffer outside machine memory, maps it for DMA and copies back only what arrived", () => {
    const { adapter, priv, memory, domain } = addHost();
    const buffer = new Uint8Array(4096).fill(0xee);
    const completions: ScsiCompletion[] = [];
    expect(adapter.queueCommand(command([buffer], "fromDevice"), (c) => completions.push(c))).toBe(true);
    const cmd = priv.queued[0]!;
    expect(cmd.device).toMatchObject({ id: 2, lun: 1, channel: 0 });
    expect(scsi_bufflen(cmd)).toBe(4096);
    expect(scsi_sg_count(cmd)).toBe(1);
    expect(scsi_dma_map(cmd)).toBe(1);
    const sg = scsi_sglist(cmd)[0]!;
    expect(sg_virt(sg).buffer).toBe(memory.buffer);
    expect(sg_dma_len(sg)).toBe(4096);
    // The device may write it now: the mapping passes the IOMMU.
    expect(domain.write(sg_dma_address(sg), new Uint8Array(3584).fill(0x11))).toBe(true);
    scsi_set_resid(cmd, 512);
    scsi_dma_unmap(cmd);
    cmd.result = DID_OK << 16;
    scsi_done(cmd);
    expect(completions).toEqual([{ hostStatus: 0, scsiStatus: 0, sense: undefined, residual: 512 }]);
    expect(buffer.subarray(0, 3584).every((b) => b === 0x11)).toBe(true);
    expect(buffer.subarray(3584).every((b) => b === 0xee)).toBe(true);
  });

  it("hands machine-memory segments to the driver as they are, without a bounce", () => {
    const { adapter, priv, memory } = addHost();
    const run = memory.allocPages(2, "kernel");
    const segments = [memory.bytes.subarray(run.address, run.address + 4096), memory.bytes.subarray(run.address + 4096, run.address + 6144)];
    segments[0]!.fill(0x42);
    adapter.queueCommand(command(segments, "toDevice", [0x2a, 0, 0, 0, 0, 8, 0, 0, 12, 0]), () => undefined);
    const sgl = scsi_sglist(priv.queued[0]!);
    expect(sgl.map((sg) => [sg.phys, sg.length])).toEqual([
      [run.address, 4096],
      [run.address + 4096, 2048],
    ]);
  });

  it("returns CHECK CONDITION with the sense the driver built", () => {
    const { adapter, priv } = addHost();
    const completions: ScsiCompletion[] = [];
    adapter.queueCommand(command([new Uint8Array(512)], "fromDevice"), (c) => completions.push(c));
    const cmd = priv.queued[0]!;
    scsi_build_sense(cmd, 0, MEDIUM_ERROR, 0x11, 0x00);
    scsi_done(cmd);
    expect(completions[0]).toMatchObject({ hostStatus: 0, scsiStatus: SAM_STAT_CHECK_CONDITION });
    expect([...completions[0]!.sense!]).toEqual([0x70, 0, 3, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x11, 0, 0, 0, 0, 0]);
  });

  it("gives a busy command back to the midlayer without completing it", () => {
    const { adapter, priv } = addHost();
    priv.busy = true;
    let called = false;
    expect(adapter.queueCommand(command([new Uint8Array(512)], "fromDevice"), () => (called = true))).toBe(false);
    expect(called).toBe(false);
  });

  it("takes an aborted command back, ignores the driver's late completion, and reports a failed reset", async () => {
    const { adapter, priv, lines } = addHost();
    const completions: ScsiCompletion[] = [];
    const kernelCommand = command([new Uint8Array(512)], "fromDevice");
    adapter.queueCommand(kernelCommand, (c) => completions.push(c));
    expect(adapter.abort(kernelCommand)).toBe(true);
    const cmd = priv.queued[0]!;
    cmd.result = DID_TIME_OUT << 16;
    scsi_done(cmd);
    expect(completions).toEqual([]);
    expect(lines.filter((l) => l.startsWith("warn"))).toEqual([]);
    expect(await adapter.resetDevice(2, 1)).toBe(false);
  });

  it("passes a throw from queuecommand on and cuts the module off", () => {
    const { adapter, priv, linux, lines } = addHost();
    priv.explode = true;
    expect(() => adapter.queueCommand(command([], "none", [0, 0, 0, 0, 0, 0]), () => undefined)).toThrow(/reading 'ring'/);
    expect(linux.dead).toBe(true);
    expect(lines.some((l) => l.includes("vmklinux: queuecommand of test hba threw"))).toBe(true);
    let result: ScsiCompletion | undefined;
    adapter.queueCommand(command([], "none", [0, 0, 0, 0, 0, 0]), (c) => (result = c));
    expect(result?.hostStatus).toBe(0x01);
  });

  it("unregisters on scsi_remove_host", () => {
    const { shost, registered } = addHost();
    scsi_remove_host(shost);
    expect(registered).toEqual([]);
  });
});

describe("sleeping, completions and tasklets on the host clock", () => {
  it("wakes a waiter on complete() with time left, or with 0 at the timeout", async () => {
    const { linux, clock } = fakeHost();
    const x = new completion();
    const woken = wait_for_completion_timeout(linux, x, 10);
    clock.advance(8e6);
    complete(x);
    expect(await woken).toBe(8);
    const timedOut = wait_for_completion_timeout(linux, x, 5);
    clock.advance(20e6);
    expect(await timedOut).toBe(0);
    let slept = false;
    void schedule_timeout_uninterruptible(linux, 2).then(() => (slept = true));
    clock.advance(4e6);
    await Promise.resolve();
    expect(slept).toBe(false);
    clock.advance(4e6);
    await Promise.resolve();
    expect(slept).toBe(true);
  });

  it("runs a tasklet once however often it was scheduled, and fences a throw", () => {
    const { linux, clock } = fakeHost();
    const t = new tasklet_struct();
    let runs = 0;
    tasklet_init(linux, t, (n: number) => (runs += n), 1);
    tasklet_schedule(t);
    tasklet_schedule(t);
    clock.runUntilIdle();
    expect(runs).toBe(1);
    tasklet_init(linux, t, () => {
      throw new Error("dpc bug");
    }, 0);
    tasklet_schedule(t);
    expect(() => clock.runUntilIdle()).toThrow(/dpc bug/);
    expect(linux.dead).toBe(true);
  });
});
