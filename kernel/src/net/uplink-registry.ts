import type { Clock } from "../clock/clock.js";
import { describeError } from "../exec/execution-domain.js";
import type { KernelLog } from "../log/kernel-log.js";
import { formatMac } from "./packets/mac-address.js";
import { UplinkHandle } from "./uplink-handle.js";
import type { NetUplink, RegisteredUplink, UplinkLinkState, UplinkRegistry } from "./uplink.js";

const LOG_SOURCE = "net";

/** Told when uplinks come and go, so the vSwitch configured with a vmnic name can claim it. */
export interface UplinkRegistryListener {
  uplinkRegistered(handle: UplinkHandle): void;
  uplinkUnregistered(handle: UplinkHandle): void;
  uplinkLinkChanged(handle: UplinkHandle, previous: UplinkLinkState): void;
}

/**
 * Names network devices vmnic0, vmnic1, ... in registration order. As ESX keeps the name of a PCI
 * function in esx.conf, a device that registers again at the same bus address (its driver reloaded
 * after a quarantine) gets its old name back, so vSwitch configuration keeps pointing at it.
 *
 * Registered uplinks are opened right after the registering call returns (never inside the driver's
 * probe), so their link state is known even before any vSwitch uses them.
 */
export class NetUplinkRegistry implements UplinkRegistry {
  private readonly handles = new Map<string, UplinkHandle>();
  private readonly namesByBusAddress = new Map<string, string>();
  private nextIndex = 0;
  private listener: UplinkRegistryListener | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly log: KernelLog,
  ) {}

  setListener(listener: UplinkRegistryListener): void {
    this.listener = listener;
  }

  register(uplink: NetUplink): RegisteredUplink {
    const handle = new UplinkHandle(this.nameFor(uplink.busAddress), uplink, (h, previous) => this.linkChanged(h, previous));
    this.handles.set(handle.name, handle);
    this.log.info(LOG_SOURCE, `${handle.name}: ${uplink.driver} ${uplink.busAddress} ${formatMac(uplink.macAddress)} registered (MTU ${uplink.mtu})`);
    this.clock.setTimer(0, () => this.open(handle), { label: `${handle.name} open` });
    this.listener?.uplinkRegistered(handle);
    return handle;
  }

  unregister(registered: RegisteredUplink): void {
    const handle = this.handles.get(registered.name);
    if (handle === undefined || handle !== registered) throw new Error(`${registered.name} is not a registered uplink`);
    handle.registered = false;
    this.handles.delete(handle.name);
    this.log.info(LOG_SOURCE, `${handle.name}: ${handle.uplink.driver} ${handle.uplink.busAddress} unregistered`);
    this.listener?.uplinkUnregistered(handle);
  }

  get(name: string): UplinkHandle | undefined {
    return this.handles.get(name);
  }

  /** Registered uplinks in vmnic number order. */
  list(): UplinkHandle[] {
    return [...this.handles.values()].sort((a, b) => vmnicNumber(a.name) - vmnicNumber(b.name));
  }

  /** The view handed to modules under Tokens.NetUplinks: only register and unregister. */
  forModules(): UplinkRegistry {
    return Object.freeze({
      register: (uplink: NetUplink) => this.register(uplink),
      unregister: (registered: RegisteredUplink) => this.unregister(registered),
    });
  }

  private nameFor(busAddress: string): string {
    const remembered = this.namesByBusAddress.get(busAddress);
    if (remembered !== undefined && !this.handles.has(remembered)) return remembered;
    const name = `vmnic${this.nextIndex++}`;
    if (remembered === undefined && busAddress !== "") this.namesByBusAddress.set(busAddress, name);
    return name;
  }

  private open(handle: UplinkHandle): void {
    if (!handle.registered) return;
    if (handle.uplink.isOpen) {
      this.opened(handle);
      return;
    }
    const failed = (error: unknown) => this.log.error(LOG_SOURCE, `${handle.name}: open failed: ${describeError(error)}`);
    try {
      const opening = handle.uplink.open();
      if (opening instanceof Promise) opening.then(() => this.opened(handle), failed);
      else this.opened(handle);
    } catch (error) {
      failed(error);
    }
  }

  /** An open device can carry traffic even if its link never changed, so consumers re-evaluate. */
  private opened(handle: UplinkHandle): void {
    if (!handle.registered) return;
    const before = handle.link;
    handle.refreshLink();
    if (handle.link === before) this.listener?.uplinkLinkChanged(handle, before);
  }

  private linkChanged(handle: UplinkHandle, previous: UplinkLinkState): void {
    const link = handle.link;
    if (link.up !== previous.up) {
      if (link.up) this.log.info(LOG_SOURCE, `${handle.name}: link up, ${link.speedMbps} Mbps, ${link.fullDuplex ? "full" : "half"} duplex`);
      else this.log.warn(LOG_SOURCE, `${handle.name}: link down`);
    }
    this.listener?.uplinkLinkChanged(handle, previous);
  }
}

function vmnicNumber(name: string): number {
  return Number(name.slice("vmnic".length));
}
