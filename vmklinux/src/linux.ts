import { describeError, IrqReturn, Tokens, type BarInfo, type IoMapping, type ModuleContext, type PciDeviceHandle, type PciDriver, type TimerHandle, type UplinkRegistry } from "@vmk/kernel";
import type { device } from "./device.js";
import { EBUSY, EEXIST, EINVAL, ENODEV } from "./errno.js";
import { IRQ_NONE, IRQF_SHARED, type irq_handler_t } from "./interrupt.js";
import { iomem } from "./io.js";
import { NAPI_STATE_DISABLE, NAPI_STATE_LISTED, NAPI_STATE_SCHED, type napi_struct } from "./napi.js";
import { dev_close, net_device } from "./netdevice.js";
import { pci_dev, to_kernel_id, type pci_device_id, type pci_driver } from "./pci.js";
import { kernelLogLevel, printk_get_level, vsprintf } from "./printk.js";
import { __alloc_skb, NET_SKB_PAD, skb_reserve, type sk_buff } from "./skbuff.js";
import { kmem_slab } from "./slab.js";
import { HZ, NSEC_PER_JIFFY, type timer_list } from "./time.js";
import { NetdevUplink } from "./uplink.js";
import { schedule_work, type delayed_work, type work_struct } from "./workqueue.js";

interface IrqRegistration {
  readonly irq: number;
  readonly dev_id: unknown;
  readonly name: string;
  readonly release: () => void;
}

interface PortRegion {
  readonly pdev: pci_dev;
  readonly index: number;
  readonly base: number;
  readonly size: number;
  readonly mapping: IoMapping;
}

/**
 * One Linux "kernel" per module load on one host: what Linux drivers reach as globals (jiffies,
 * printk, timers, workqueues, request_irq, port I/O, alloc_etherdev, pci_register_driver). Drivers get
 * it in their module init and find it again through any object vmklinux gave them (`pdev.linux`,
 * `netdev.linux`, `skb.linux`), so several hosts in one process never share state.
 *
 * Every call into driver code passes a fault fence: if the driver throws, its devices are cut off from
 * the kernel (uplinks reported down and unregistered, interrupts freed, timers and polls no longer run)
 * and the error is rethrown to the kernel's domain wrapper, which quarantines the module.
 */
export class Linux {
  readonly name: string;
  readonly HZ = HZ;
  readonly slab: kmem_slab;
  /** Freed sk_buff objects kept for reuse. */
  readonly skb_cache: sk_buff[] = [];
  /** Busy-waits and sleeps requested by the driver; they return at once (see time.ts). */
  readonly delays = { count: 0, requested_ns: 0 };
  /** Packets a NET_RX softirq may process before yielding (net.core.netdev_budget). */
  netdev_budget = 300;
  dead = false;
  fault_reason: string | undefined;

  private readonly poll_list: napi_struct[] = [];
  private softirq: TimerHandle | null = null;
  private readonly pci_devs = new Map<PciDeviceHandle, pci_dev>();
  private readonly drivers = new Map<pci_driver, PciDriver>();
  private readonly irqs: IrqRegistration[] = [];
  private readonly ports: PortRegion[] = [];
  private readonly netdevs = new Set<net_device>();
  private registry: UplinkRegistry | null | undefined;
  private unnamed = 0;

  constructor(readonly context: ModuleContext) {
    this.name = context.name;
    this.slab = new kmem_slab(context.pages);
  }

  get jiffies(): number {
    return Math.floor(this.context.clock.now() / NSEC_PER_JIFFY);
  }

  // ---- printk ----

  log_line(level: number, text: string): void {
    const line = text.endsWith("\n") ? text.slice(0, -1) : text;
    this.context.log[kernelLogLevel(level)](line);
  }
  printk(format: string, ...args: unknown[]): void {
    const [level, rest] = printk_get_level(format);
    this.log_line(level, vsprintf(rest, args));
  }
  pr_emerg(format: string, ...args: unknown[]): void {
    this.log_line(0, vsprintf(format, args));
  }
  pr_alert(format: string, ...args: unknown[]): void {
    this.log_line(1, vsprintf(format, args));
  }
  pr_crit(format: string, ...args: unknown[]): void {
    this.log_line(2, vsprintf(format, args));
  }
  pr_err(format: string, ...args: unknown[]): void {
    this.log_line(3, vsprintf(format, args));
  }
  pr_warn(format: string, ...args: unknown[]): void {
    this.log_line(4, vsprintf(format, args));
  }
  pr_notice(format: string, ...args: unknown[]): void {
    this.log_line(5, vsprintf(format, args));
  }
  pr_info(format: string, ...args: unknown[]): void {
    this.log_line(6, vsprintf(format, args));
  }
  pr_debug(format: string, ...args: unknown[]): void {
    this.log_line(7, vsprintf(format, args));
  }

  // ---- delays: recorded, never waited for (time.ts explains why) ----

  ndelay(ns: number): void {
    this.delays.count++;
    this.delays.requested_ns += ns;
  }
  udelay(us: number): void {
    this.ndelay(us * 1_000);
  }
  mdelay(ms: number): void {
    this.ndelay(ms * 1_000_000);
  }
  msleep(ms: number): void {
    this.ndelay(ms * 1_000_000);
  }
  msleep_interruptible(ms: number): number {
    this.msleep(ms);
    return 0;
  }
  usleep_range(min_us: number, _max_us: number): void {
    this.udelay(min_us);
  }

  // ---- timers and workqueues ----

  timer_setup(timer: timer_list, callback: (timer: timer_list) => void, flags: number): void {
    timer.function = callback;
    timer.flags = flags;
    timer.linux = this;
  }

  /** Schedules the timer's callback for when jiffies reach `expires`. */
  arm_timer(timer: timer_list, expires: number): TimerHandle {
    const delay = Math.max(0, expires * NSEC_PER_JIFFY - this.context.clock.now());
    return this.context.clock.setTimer(delay, timer.fire, { label: "timer" });
  }

  run_timer(timer: timer_list): void {
    if (this.dead || !timer.function) return;
    try {
      timer.function(timer);
    } catch (error) {
      throw this.driver_fault(error, "a timer callback");
    }
  }

  INIT_WORK(work: work_struct, func: (work: work_struct) => void): void {
    work.func = func;
    work.linux = this;
  }

  INIT_DELAYED_WORK(dwork: delayed_work, func: (work: work_struct) => void): void {
    this.INIT_WORK(dwork.work, func);
    this.timer_setup(dwork.timer, () => schedule_work(dwork.work), 0);
  }

  queue_work_now(work: work_struct): TimerHandle {
    return this.context.clock.setTimer(0, work.fire, { label: "work" });
  }

  run_work(work: work_struct): void {
    if (this.dead || !work.func) return;
    work.running = true;
    try {
      work.func(work);
    } catch (error) {
      throw this.driver_fault(error, "a work item");
    } finally {
      work.running = false;
    }
  }

  // ---- interrupts ----

  /** Returns 0, or -EBUSY when the line is held without sharing, -EINVAL for a vector that is not routed. */
  request_irq(irq: number, handler: irq_handler_t, flags: number, name: string, dev_id: unknown): number {
    if (this.dead) return -ENODEV;
    if (!irq) return -EINVAL;
    const call = (): IrqReturn => {
      if (this.dead) return IrqReturn.None;
      let result: number;
      try {
        result = handler(irq, dev_id);
      } catch (error) {
        throw this.driver_fault(error, `interrupt handler ${name}`);
      }
      return result === IRQ_NONE ? IrqReturn.None : IrqReturn.Handled;
    };
    let release: () => void;
    try {
      release = this.context.interrupts.requestIrq(irq, call, { name, shared: (flags & IRQF_SHARED) !== 0 });
    } catch (error) {
      this.log_line(3, `request_irq ${irq} for ${name} failed: ${describeError(error)}`);
      return /not routed/.test(describeError(error)) ? -EINVAL : -EBUSY;
    }
    this.irqs.push({ irq, dev_id, name, release });
    return 0;
  }

  free_irq(irq: number, dev_id: unknown): void {
    const index = this.irqs.findIndex((r) => r.irq === irq && r.dev_id === dev_id);
    if (index < 0) {
      this.log_line(4, `Trying to free already-free IRQ ${irq}`);
      return;
    }
    const [registration] = this.irqs.splice(index, 1);
    registration!.release();
  }

  disable_irq(irq: number): void {
    this.context.interrupts.mask(irq);
  }
  enable_irq(irq: number): void {
    this.context.interrupts.unmask(irq);
  }
  /** Handlers never run concurrently with the driver here, so there is nothing in flight to wait for. */
  synchronize_irq(_irq: number): void {}

  // ---- port I/O: only the I/O BARs this module requested ----

  claim_ports(pdev: pci_dev, bar: BarInfo): void {
    this.ports.push({ pdev, index: bar.index, base: bar.address, size: bar.size, mapping: pdev.handle.mapBar(bar.index) });
  }
  release_ports(pdev: pci_dev, index: number): void {
    const at = this.ports.findIndex((p) => p.pdev === pdev && p.index === index);
    if (at >= 0) this.ports.splice(at, 1);
  }
  private port(port: number, width: number): PortRegion | undefined {
    for (const region of this.ports) if (port >= region.base && port + width <= region.base + region.size) return region;
    this.log_line(4, `port access at 0x${port.toString(16)} outside the I/O regions requested by ${this.name}`);
    return undefined;
  }
  inb(port: number): number {
    const r = this.port(port, 1);
    return r ? r.mapping.read(port - r.base, 1) : 0xff;
  }
  inw(port: number): number {
    const r = this.port(port, 2);
    return r ? r.mapping.read(port - r.base, 2) : 0xffff;
  }
  inl(port: number): number {
    const r = this.port(port, 4);
    return r ? r.mapping.read(port - r.base, 4) >>> 0 : 0xffffffff;
  }
  outb(value: number, port: number): void {
    const r = this.port(port, 1);
    r?.mapping.write(port - r.base, 1, value & 0xff);
  }
  outw(value: number, port: number): void {
    const r = this.port(port, 2);
    r?.mapping.write(port - r.base, 2, value & 0xffff);
  }
  outl(value: number, port: number): void {
    const r = this.port(port, 4);
    r?.mapping.write(port - r.base, 4, value >>> 0);
  }

  /** Maps a bus address range inside a memory BAR of a device bound to this module; null otherwise. */
  ioremap(phys_addr: number, size: number): iomem | null {
    for (const pdev of this.pci_devs.values()) {
      for (const bar of pdev.handle.bars()) {
        if (bar.kind !== "memory" || bar.address === 0) continue;
        if (phys_addr >= bar.address && phys_addr + size <= bar.address + bar.size) {
          const io = new iomem(pdev.handle.mapBar(bar.index), phys_addr - bar.address, size);
          pdev.iomaps.add(io);
          return io;
        }
      }
    }
    return null;
  }

  // ---- memory ----

  alloc_skb(size: number, _gfp = 0): sk_buff | null {
    return __alloc_skb(this, size);
  }
  dev_alloc_skb(length: number): sk_buff | null {
    const skb = __alloc_skb(this, length + NET_SKB_PAD);
    if (skb) skb_reserve(skb, NET_SKB_PAD);
    return skb;
  }

  // ---- network devices ----

  /** alloc_etherdev(sizeof(struct priv)): the private struct is a fresh `new priv()`. */
  alloc_etherdev<P>(priv: new () => P): net_device<P> {
    return new net_device<P>(this, new priv());
  }
  alloc_etherdev_mq<P>(priv: new () => P, _queues: number): net_device<P> {
    return this.alloc_etherdev(priv);
  }

  /** Makes the device a kernel uplink (vmnicN). Without a network stack on the host it stays local (ethN). */
  register_netdev(dev: net_device): number {
    if (this.dead) return -ENODEV;
    if (dev.reg_state === "registered") return -EEXIST;
    if (dev.reg_state === "released") return -EINVAL;
    const parent = dev.dev.parent;
    const uplink = new NetdevUplink(dev, parent?.driver_name || this.name, parent?.name ?? "");
    dev.uplink = uplink;
    dev.reg_state = "registered";
    this.netdevs.add(dev);
    const registry = this.uplink_registry();
    if (registry) {
      try {
        uplink.registration = registry.register(uplink);
      } catch (error) {
        dev.reg_state = "unregistered";
        dev.uplink = null;
        this.netdevs.delete(dev);
        this.log_line(3, `register_netdev: the kernel refused the uplink: ${describeError(error)}`);
        return -EBUSY;
      }
      dev.name = uplink.registration.name;
    } else {
      dev.name = dev.name.replace("%d", String(this.unnamed++));
      this.log_line(4, `${dev.name}: no network stack on this host (${String(Tokens.NetUplinks.description)} not registered); the device is not an uplink`);
    }
    dev.dev.name = dev.name;
    return 0;
  }

  unregister_netdev(dev: net_device): void {
    if (dev.reg_state !== "registered") return;
    dev_close(dev);
    this.detach_uplink(dev);
    dev.reg_state = "unregistered";
    this.netdevs.delete(dev);
  }

  private uplink_registry(): UplinkRegistry | null {
    if (this.registry === undefined) {
      const container = this.context.container;
      this.registry = container.isRegistered(Tokens.NetUplinks, true) ? container.resolve<UplinkRegistry>(Tokens.NetUplinks) : null;
    }
    return this.registry;
  }

  private detach_uplink(dev: net_device): void {
    const uplink = dev.uplink;
    const registration = uplink?.registration;
    if (!uplink || !registration) return;
    uplink.report_link();
    uplink.registration = null;
    try {
      this.uplink_registry()?.unregister(registration);
    } catch (error) {
      this.log_line(3, `${dev.name}: the kernel failed to unregister the uplink: ${describeError(error)}`);
    }
  }

  // ---- NAPI: the NET_RX softirq ----

  napi_list_add(napi: napi_struct): void {
    if (napi.state & NAPI_STATE_LISTED) return;
    napi.state |= NAPI_STATE_LISTED;
    this.poll_list.push(napi);
    if (this.softirq === null && !this.dead) this.softirq = this.context.clock.setTimer(0, this.net_rx_action, { label: "NET_RX softirq" });
  }

  napi_unlist(napi: napi_struct): void {
    napi.state &= ~NAPI_STATE_LISTED;
    const at = this.poll_list.indexOf(napi);
    if (at >= 0) this.poll_list.splice(at, 1);
  }

  napi_del(napi: napi_struct): void {
    this.napi_unlist(napi);
    const list = napi.dev?.napi_list;
    const at = list ? list.indexOf(napi) : -1;
    if (at >= 0) list!.splice(at, 1);
  }

  private readonly net_rx_action = (): void => {
    this.softirq = null;
    if (this.dead) return;
    const list = this.poll_list;
    let budget = this.netdev_budget;
    while (list.length > 0 && budget > 0) {
      const napi = list.shift()!;
      napi.state &= ~NAPI_STATE_LISTED;
      const weight = napi.weight;
      let work: number;
      try {
        work = napi.poll!(napi, weight);
      } catch (error) {
        throw this.driver_fault(error, `NAPI poll of ${napi.dev.name}`);
      }
      if (work > weight) this.log_line(4, `${napi.dev.name}: NAPI poll returned ${work}, more than its weight ${weight}`);
      budget -= work;
      // A poll that used its whole weight has more to do: it stays scheduled, at the back of the list.
      if (work >= weight && napi.state & NAPI_STATE_SCHED && !(napi.state & (NAPI_STATE_DISABLE | NAPI_STATE_LISTED))) {
        napi.state |= NAPI_STATE_LISTED;
        list.push(napi);
      }
    }
    if (list.length > 0 && !this.dead) this.softirq = this.context.clock.setTimer(0, this.net_rx_action, { label: "NET_RX softirq" });
  };

  // ---- PCI drivers ----

  pci_register_driver(drv: pci_driver): number {
    if (this.drivers.has(drv)) return -EBUSY;
    const kernelIds = drv.id_table.map(to_kernel_id);
    const kernelDriver: PciDriver = {
      name: drv.name,
      idTable: kernelIds,
      probe: (handle, id) => this.probe(drv, handle, drv.id_table[kernelIds.indexOf(id)] ?? drv.id_table[0]!),
      remove: (handle) => this.remove(drv, handle),
    };
    this.drivers.set(drv, kernelDriver);
    this.context.pciDrivers.register(kernelDriver);
    return 0;
  }

  pci_unregister_driver(drv: pci_driver): void {
    const kernelDriver = this.drivers.get(drv);
    if (!kernelDriver) return;
    this.drivers.delete(drv);
    this.context.pciDrivers.unregister(kernelDriver);
  }

  pci_dev_of(dev: device): pci_dev | undefined {
    for (const pdev of this.pci_devs.values()) if (pdev.dev === dev) return pdev;
    return undefined;
  }

  private async probe(drv: pci_driver, handle: PciDeviceHandle, ent: pci_device_id): Promise<number> {
    if (this.dead) return -ENODEV;
    const pdev = new pci_dev(this, handle);
    pdev.driver = drv;
    pdev.dev.driver_name = drv.name;
    this.pci_devs.set(handle, pdev);
    let rc: number;
    try {
      rc = await drv.probe(pdev, ent);
    } catch (error) {
      this.forget(pdev);
      throw this.driver_fault(error, `probe of ${handle.address}`);
    }
    if (typeof rc === "number" && rc < 0) this.forget(pdev);
    return rc;
  }

  private async remove(drv: pci_driver, handle: PciDeviceHandle): Promise<void> {
    const pdev = this.pci_devs.get(handle);
    if (!pdev || this.dead) return;
    try {
      await drv.remove(pdev);
    } catch (error) {
      throw this.driver_fault(error, `remove of ${handle.address}`);
    } finally {
      this.forget(pdev);
    }
  }

  private forget(pdev: pci_dev): void {
    for (const index of [...pdev.regions.keys()]) this.release_ports(pdev, index);
    pdev.regions.clear();
    for (const io of pdev.iomaps) io.unmapped = true;
    pdev.iomaps.clear();
    this.pci_devs.delete(pdev.handle);
  }

  // ---- faults and teardown ----

  /**
   * The driver threw: cut its devices off from the kernel and hand the error back for rethrowing, so
   * the kernel's domain wrapper quarantines the module. Returns the error unchanged.
   */
  driver_fault(error: unknown, activity: string): unknown {
    if (this.dead) return error;
    this.dead = true;
    this.fault_reason = `${activity} threw: ${describeError(error)}`;
    this.log_line(3, `vmklinux: ${this.fault_reason}; cutting the module's devices off`);
    for (const dev of this.netdevs) {
      this.detach_uplink(dev);
      dev.running = false;
    }
    this.poll_list.length = 0;
    this.softirq?.cancel();
    this.softirq = null;
    for (const registration of this.irqs.splice(0)) registration.release();
    return error;
  }

  /** Module exit: whatever the driver left behind is reported and released. */
  shutdown(): void {
    for (const dev of [...this.netdevs]) {
      this.log_line(4, `${dev.name} still registered at module exit; unregistering`);
      this.unregister_netdev(dev);
    }
    for (const registration of this.irqs.splice(0)) {
      this.log_line(4, `irq ${registration.irq} (${registration.name}) still requested at module exit; freeing`);
      registration.release();
    }
    this.softirq?.cancel();
    this.softirq = null;
    this.poll_list.length = 0;
    if (this.slab.in_use > 0) this.log_line(4, `${this.slab.in_use} kmalloc/sk_buff buffers still allocated at module exit`);
    this.slab.destroy();
    this.skb_cache.length = 0;
  }
}
