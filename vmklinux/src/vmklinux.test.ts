import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import {
  DmaAllocator,
  DmaDomain,
  FaultRecord,
  MachineMemory,
  Tokens,
  VirtualClock,
  type ModuleContext,
  type NetUplink,
  type RegisteredUplink,
  type UplinkLinkState,
  type UplinkRegistry,
} from "@vmk/kernel";
import {
  CHECKSUM_PARTIAL,
  DMA_FROM_DEVICE,
  DMA_MAPPING_ERROR,
  dma_map_single,
  dma_mapping_error,
  dma_unmap_single,
  dev_kfree_skb_any,
  device,
  eth_type_trans,
  ETH_P_IP,
  htons,
  Linux,
  mod_timer,
  napi_complete_done,
  napi_enable,
  napi_schedule,
  napi_struct,
  NETDEV_TX_OK,
  netdev_alloc_skb_ip_align,
  netif_carrier_off,
  netif_carrier_on,
  netif_napi_add,
  netif_receive_skb,
  NET_IP_ALIGN,
  NET_SKB_PAD,
  PACKET_BROADCAST,
  register_netdev,
  schedule_work,
  skb_checksum_help,
  skb_pull,
  skb_push,
  skb_put,
  skb_put_data,
  timer_list,
  unregister_netdev,
  vsprintf,
  work_struct,
  type net_device,
  type sk_buff,
} from "./index.js";

/** A module's context on a bare virtual clock and machine memory, with the log kept for checks. */
function fakeContext(withRegistry = true) {
  const clock = new VirtualClock();
  const memory = new MachineMemory(4 << 20);
  const lines: string[] = [];
  const runs = new Set<number>();
  const registry = new RecordingRegistry();
  const moduleContainer = container.createChildContainer();
  if (withRegistry) moduleContainer.registerInstance(Tokens.NetUplinks, registry);
  const context: ModuleContext = {
    name: "test-driver",
    version: "1.0.0",
    kernelApiVersion: "1.0.0",
    container: moduleContainer,
    log: {
      error: (m) => lines.push(`error ${m}`),
      warn: (m) => lines.push(`warn ${m}`),
      info: (m) => lines.push(`info ${m}`),
      debug: (m) => lines.push(`debug ${m}`),
    },
    clock,
    interrupts: { requestIrq: () => () => undefined, mask: () => undefined, unmask: () => undefined },
    pciDrivers: { register: () => undefined, unregister: () => undefined },
    pages: {
      alloc: (count, limit) => {
        const run = memory.allocPages(count, "test-driver", limit);
        runs.add(run.address);
        return { address: run.address, pages: run.pages, bytes: memory.bytes.subarray(run.address, run.address + run.pages * 4096) };
      },
      free: (address) => {
        runs.delete(address);
        memory.freeRun(address);
      },
    },
  };
  const linux = new Linux(context);
  return { linux, clock, memory, lines, registry, runs };
}

class RecordingRegistry implements UplinkRegistry {
  readonly active: RegisteredUplink[] = [];
  readonly received: Uint8Array[] = [];
  readonly links: UplinkLinkState[] = [];
  register(uplink: NetUplink): RegisteredUplink {
    const registered = { name: `vmnic${this.active.length}`, uplink, events: { receive: (f: Uint8Array) => this.received.push(f), linkChanged: (s: UplinkLinkState) => this.links.push(s) } };
    this.active.push(registered);
    return registered;
  }
  unregister(registered: RegisteredUplink): void {
    this.active.splice(this.active.indexOf(registered), 1);
  }
}

class priv {
  sent: sk_buff[] = [];
  opened = 0;
}

function loopbackNetdev(linux: Linux): net_device<priv> {
  const dev = linux.alloc_etherdev(priv);
  dev.dev_addr.set([2, 0, 0, 0, 0, 1]);
  dev.perm_addr.set(dev.dev_addr);
  dev.netdev_ops = {
    ndo_open: (d) => {
      (d.priv as priv).opened++;
      return 0;
    },
    ndo_stop: () => 0,
    ndo_start_xmit: (skb, d) => {
      (d.priv as priv).sent.push(skb);
      return NETDEV_TX_OK;
    },
  };
  return dev;
}

describe("printk formatting", () => {
  it("formats the conversions drivers use", () => {
    expect(vsprintf("%d %5d|%-4s|%08x %X %u %s %%", [-3, 42, "ab", 0xbeef, 255, -1, "x"])).toBe("-3    42|ab  |0000beef FF 4294967295 x %");
    expect(vsprintf("MAC %pM", [Uint8Array.from([0, 0x1b, 0x21, 0xaa, 0xbb, 0xcc])])).toBe("MAC 00:1b:21:aa:bb:cc");
    expect(vsprintf("%#x %lu %zu", [16, 7, 8])).toBe("0x10 7 8");
  });

  it("logs under the module with the level of the KERN_ prefix", () => {
    const { linux, lines } = fakeContext();
    linux.printk("\x013boom %d\n", 1);
    linux.pr_info("hello\n");
    expect(lines).toEqual(["error boom 1", "info hello"]);
  });
});

describe("sk_buff", () => {
  it("lives in machine memory and moves its data pointers like Linux", () => {
    const { linux, memory } = fakeContext();
    const dev = loopbackNetdev(linux);
    const skb = netdev_alloc_skb_ip_align(dev, 1500)!;
    expect(skb.data - skb.head).toBe(NET_SKB_PAD + NET_IP_ALIGN);
    expect(memory.isAllocated(skb.data, 1500)).toBe(true);
    skb_put_data(skb, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 9, 0x08, 0x00, 0x45]));
    expect(memory.bytes[skb.data + 14]).toBe(0x45);
    expect(eth_type_trans(skb, dev)).toBe(htons(ETH_P_IP));
    expect(skb.pkt_type).toBe(PACKET_BROADCAST);
    expect(skb.len).toBe(1);
    expect(skb_pull(skb, 2)).toBeNull();
    skb_push(skb, 14);
    expect(skb.len).toBe(15);
    expect(() => skb_put(skb, 10_000)).toThrow(/skb_over_panic/);
    dev_kfree_skb_any(skb);
    expect(() => dev_kfree_skb_any(skb)).toThrow(/twice/);
  });

  it("reuses buffers and objects once freed", () => {
    const { linux } = fakeContext();
    const dev = loopbackNetdev(linux);
    const first = netdev_alloc_skb_ip_align(dev, 60)!;
    const head = first.head;
    dev_kfree_skb_any(first);
    const second = netdev_alloc_skb_ip_align(dev, 60)!;
    expect(second).toBe(first);
    expect(second.head).toBe(head);
    expect(linux.slab.in_use).toBe(1);
  });

  it("completes a CHECKSUM_PARTIAL checksum in software", () => {
    const { linux } = fakeContext();
    const skb = linux.alloc_skb(64)!;
    const payload = Uint8Array.from([0x45, 0x00, 0x00, 0x1c, 0, 0, 0, 0, 0x40, 0x11, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    skb_put_data(skb, payload);
    skb.ip_summed = CHECKSUM_PARTIAL;
    skb.csum_start = skb.data - skb.head;
    skb.csum_offset = 10;
    expect(skb_checksum_help(skb)).toBe(0);
    const bytes = skb.bytes.subarray(skb.data - skb.head, skb.data - skb.head + 20);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(sum).toBe(0xffff);
  });
});

describe("DMA", () => {
  it("maps sk_buff data for the device and reports failures as values", () => {
    const { linux, memory } = fakeContext();
    const domain = new DmaDomain("test", memory, new FaultRecord(new VirtualClock()));
    const dev = new device(linux, "0000:00:03.0", new DmaAllocator(memory, domain, "test"));
    const skb = linux.alloc_skb(2048)!;
    const dma = dma_map_single(dev, skb.data, 2048, DMA_FROM_DEVICE);
    expect(dma_mapping_error(dev, dma)).toBe(0);
    expect(domain.isMapped(skb.data, 2048, 2)).toBe(true);
    dma_unmap_single(dev, dma, 2048, DMA_FROM_DEVICE);
    expect(domain.isMapped(skb.data, 2048, 2)).toBe(false);
    const bad = dma_map_single(dev, memory.size - 4096, 64, DMA_FROM_DEVICE);
    expect(bad).toBe(DMA_MAPPING_ERROR);
    expect(dma_mapping_error(dev, bad)).toBe(1);
  });
});

describe("time", () => {
  it("runs timers and works on the module's clock in jiffies", () => {
    const { linux, clock } = fakeContext();
    const fired: number[] = [];
    const timer = new timer_list();
    linux.timer_setup(timer, () => fired.push(linux.jiffies), 0);
    mod_timer(timer, linux.jiffies + linux.HZ);
    const work = new work_struct();
    linux.INIT_WORK(work, () => fired.push(-1));
    expect(schedule_work(work)).toBe(true);
    expect(schedule_work(work)).toBe(false);
    clock.advance(2e9);
    expect(fired).toEqual([-1, linux.HZ]);
  });

  it("records delays instead of waiting", () => {
    const { linux, clock } = fakeContext();
    linux.msleep(10);
    linux.udelay(50);
    expect(clock.now()).toBe(0);
    expect(linux.delays).toEqual({ count: 2, requested_ns: 10_050_000 });
  });
});

describe("NAPI", () => {
  it("polls from the softirq within the weight and stops when completed", () => {
    const { linux, clock } = fakeContext();
    const dev = loopbackNetdev(linux);
    const napi = new napi_struct();
    let backlog = 100;
    const polls: number[] = [];
    netif_napi_add(dev, napi, (n, budget) => {
      const done = Math.min(budget, backlog);
      backlog -= done;
      polls.push(done);
      if (done < budget) napi_complete_done(n, done);
      return done;
    });
    expect(napi_schedule(napi)).toBe(false);
    napi_enable(napi);
    expect(napi_schedule(napi)).toBe(true);
    expect(napi_schedule(napi)).toBe(false);
    clock.runUntilIdle();
    // The schedule that found it already scheduled is not lost: it earns one more poll (NAPI_STATE_MISSED).
    expect(polls).toEqual([64, 36, 0]);
    expect(napi.state).toBe(0);
  });
});

describe("net_device as an uplink", () => {
  it("registers as vmnicN, transmits through ndo_start_xmit and delivers received frames", () => {
    const { linux, registry } = fakeContext();
    const dev = loopbackNetdev(linux);
    expect(register_netdev(dev)).toBe(0);
    expect(dev.name).toBe("vmnic0");
    const uplink = registry.active[0]!.uplink;
    uplink.open();
    expect(dev.priv.opened).toBe(1);
    expect(registry.links).toEqual([{ up: true, speedMbps: 0, fullDuplex: false }]);
    const out = Uint8Array.from({ length: 60 }, (_, i) => i);
    expect(uplink.transmit(out)).toBe(true);
    const skb = dev.priv.sent[0]!;
    expect(Array.from(skb.bytes.subarray(skb.data - skb.head, skb.data - skb.head + skb.len))).toEqual(Array.from(out));
    dev_kfree_skb_any(skb);
    const rx = netdev_alloc_skb_ip_align(dev, 1500)!;
    skb_put_data(rx, out);
    rx.protocol = eth_type_trans(rx, dev);
    netif_receive_skb(rx);
    expect(Array.from(registry.received[0]!)).toEqual(Array.from(out));
    netif_carrier_off(dev);
    expect(uplink.transmit(out)).toBe(false);
    netif_carrier_on(dev);
    expect(registry.links.map((l) => l.up)).toEqual([true, false, true]);
    unregister_netdev(dev);
    expect(registry.active).toHaveLength(0);
  });

  it("cuts the module's devices off when the driver throws, and rethrows", () => {
    const { linux, registry } = fakeContext();
    const dev = loopbackNetdev(linux);
    dev.netdev_ops.ndo_start_xmit = () => {
      throw new Error("driver bug");
    };
    register_netdev(dev);
    const uplink = registry.active[0]!.uplink;
    uplink.open();
    expect(() => uplink.transmit(new Uint8Array(60))).toThrow("driver bug");
    expect(linux.dead).toBe(true);
    expect(linux.fault_reason).toMatch(/ndo_start_xmit of vmnic0 threw: driver bug/);
    expect(registry.active).toHaveLength(0);
    expect(registry.links.at(-1)).toMatchObject({ up: false });
    expect(uplink.transmit(new Uint8Array(60))).toBe(false);
  });

  it("stays a local ethN device on a host without a network stack", () => {
    const { linux, lines } = fakeContext(false);
    const dev = loopbackNetdev(linux);
    expect(register_netdev(dev)).toBe(0);
    expect(dev.name).toBe("eth0");
    expect(lines.some((l) => l.startsWith("warn eth0: no network stack"))).toBe(true);
  });
});
