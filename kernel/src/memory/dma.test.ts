import { describe, expect, it } from "vitest";
import { VirtualClock } from "../clock/virtual-clock.js";
import { FaultRecord } from "../io/fault-record.js";
import { DmaAllocator, DmaMappingError } from "./dma-allocator.js";
import { DmaDirection, DmaDomain } from "./dma.js";
import { MachineMemory, PAGE_SIZE } from "./machine-memory.js";

function setup() {
  const memory = new MachineMemory(64 * PAGE_SIZE);
  const faults = new FaultRecord(new VirtualClock());
  const domain = new DmaDomain("0000:00:03.0", memory, faults);
  return { memory, faults, domain, dma: new DmaAllocator(memory, domain, "drv") };
}

describe("machine memory and DMA", () => {
  it("allocates zeroed contiguous page runs, never page 0, and frees them", () => {
    const memory = new MachineMemory(8 * PAGE_SIZE);
    const a = memory.allocPages(3, "a");
    expect(a.address).toBe(PAGE_SIZE);
    memory.bytes.fill(7, a.address, a.address + 3 * PAGE_SIZE);
    const b = memory.allocPages(4, "b");
    expect(() => memory.allocPages(1, "c")).toThrow(/out of machine memory/);
    memory.freeRun(a.address);
    const c = memory.allocPages(2, "c");
    expect(memory.bytes[c.address]).toBe(0);
    expect(memory.freeOwner("b")).toBe(4);
    expect(memory.isAllocated(b.address)).toBe(false);
    expect(() => memory.freeRun(12345)).toThrow(/not the start/);
  });

  it("gives coherent buffers a CPU view and a bus address the device can reach both ways", () => {
    const { dma, domain, memory } = setup();
    const buffer = dma.allocCoherent(6000);
    expect(buffer.bytes.length).toBe(6000);
    buffer.view.setUint32(0, 0xcafebabe, true);
    expect(domain.readU32(buffer.busAddress)).toBe(0xcafebabe);
    expect(domain.write(buffer.busAddress + 100, Uint8Array.of(9, 8, 7))).toBe(true);
    expect(Array.from(buffer.bytes.subarray(100, 103))).toEqual([9, 8, 7]);
    expect(domain.mappedPages()).toBe(2);
    buffer.free();
    expect(domain.mappedPages()).toBe(0);
    expect(memory.isAllocated(buffer.machineAddress)).toBe(false);
    expect(() => buffer.free()).toThrow(DmaMappingError);
  });

  it("enforces streaming mapping directions and revokes them on unmap", () => {
    const { dma, domain, memory, faults } = setup();
    const page = memory.allocPages(1, "skb");
    const bus = dma.mapSingle(page.address + 64, 1500, DmaDirection.ToDevice);
    const scratch = new Uint8Array(16);
    expect(domain.read(bus, scratch)).toBe(true);
    expect(domain.write(bus, scratch)).toBe(false);
    expect(faults.entries("dma-blocked")[0]).toMatchObject({ write: true, address: bus });
    dma.unmapSingle(bus, 1500, DmaDirection.ToDevice);
    expect(domain.read(bus, scratch)).toBe(false);
    expect(Array.from(scratch)).toEqual(new Array(16).fill(0xff));
    expect(() => dma.unmapSingle(bus, 1500, DmaDirection.ToDevice)).toThrow(/no mapping/);
  });

  it("refuses to map unallocated memory or memory above the DMA mask", () => {
    const { dma, memory } = setup();
    expect(() => dma.mapSingle(10 * PAGE_SIZE, 100, DmaDirection.FromDevice)).toThrow(/not allocated/);
    const high = memory.allocPages(1, "x");
    dma.mask = high.address - 1;
    expect(() => dma.mapSingle(high.address, 10, DmaDirection.FromDevice)).toThrow(/DMA mask/);
  });

  it("keeps a page reachable while any mapping of it remains, and releases everything at once", () => {
    const { dma, domain, memory } = setup();
    const page = memory.allocPages(1, "skb");
    const first = dma.mapSingle(page.address, 100, DmaDirection.FromDevice);
    dma.mapSingle(page.address + 200, 100, DmaDirection.FromDevice);
    dma.unmapSingle(first, 100, DmaDirection.FromDevice);
    expect(domain.isMapped(page.address + 200, 10, DmaDirection.FromDevice)).toBe(true);
    dma.allocCoherent(10);
    dma.releaseAll();
    expect(dma.outstanding()).toEqual({ coherent: 0, streaming: 0 });
    expect(domain.mappedPages()).toBe(0);
  });

  it("keeps every mapping of one address: each unmap must match one, in any order", () => {
    const { dma, domain, memory } = setup();
    const page = memory.allocPages(1, "skb");
    dma.mapSingle(page.address, 100, DmaDirection.FromDevice);
    dma.mapSingle(page.address, 60, DmaDirection.ToDevice);
    dma.mapSingle(page.address, 100, DmaDirection.FromDevice);
    expect(dma.outstanding().streaming).toBe(3);
    expect(() => dma.unmapSingle(page.address, 60, DmaDirection.FromDevice)).toThrow(/no mapping of 60 bytes/);
    dma.unmapSingle(page.address, 100, DmaDirection.FromDevice);
    expect(domain.isMapped(page.address, 100, DmaDirection.FromDevice)).toBe(true);
    dma.unmapSingle(page.address, 60, DmaDirection.ToDevice);
    expect(domain.isMapped(page.address, 60, DmaDirection.ToDevice)).toBe(false);
    dma.unmapSingle(page.address, 100, DmaDirection.FromDevice);
    expect(dma.outstanding().streaming).toBe(0);
    expect(domain.mappedPages()).toBe(0);
    expect(() => dma.unmapSingle(page.address, 100, DmaDirection.FromDevice)).toThrow(/no mapping/);
  });

  it("copies short and long transfers exactly, across a page boundary", () => {
    const { dma, domain } = setup();
    const buffer = dma.allocCoherent(3 * PAGE_SIZE);
    for (const length of [1, 8, 16, 31, 32, 33, 60, 1514]) {
      const at = buffer.busAddress + PAGE_SIZE - 7;
      const data = Uint8Array.from({ length }, (_, i) => (i * 13 + length) & 0xff);
      expect(domain.write(at, data)).toBe(true);
      expect(Array.from(buffer.bytes.subarray(PAGE_SIZE - 7, PAGE_SIZE - 7 + length))).toEqual(Array.from(data));
      const back = new Uint8Array(length);
      expect(domain.read(at, back)).toBe(true);
      expect(Array.from(back)).toEqual(Array.from(data));
    }
  });

  it("reads the bus master bit from its gate at every access", () => {
    const memory = new MachineMemory(64 * PAGE_SIZE);
    const faults = new FaultRecord(new VirtualClock());
    const gate = { busMasterEnabled: true };
    const domain = new DmaDomain("0000:00:04.0", memory, faults, gate);
    const buffer = new DmaAllocator(memory, domain, "drv").allocCoherent(64);
    const into = new Uint8Array(16);
    expect(domain.read(buffer.busAddress, into)).toBe(true);
    gate.busMasterEnabled = false;
    expect(domain.read(buffer.busAddress, into)).toBe(false);
    expect(domain.write(buffer.busAddress, into)).toBe(false);
    expect(faults.entries("dma-bus-master-disabled")).toHaveLength(2);
    gate.busMasterEnabled = true;
    expect(domain.write(buffer.busAddress, into)).toBe(true);
  });

  it("never lets a hostile bus address through: negative, fractional, wrapping or huge", () => {
    const { domain } = setup();
    const into = new Uint8Array(4);
    for (const address of [-4096, 0.5, 2 ** 53, Number.NaN, 64 * PAGE_SIZE - 2]) {
      expect(domain.read(address, into)).toBe(false);
      expect(domain.write(address, into)).toBe(false);
    }
  });
});
