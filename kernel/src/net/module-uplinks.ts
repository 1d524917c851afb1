import { runInDomain, type ExecutionDomain } from "../exec/execution-domain.js";
import type { ModuleScope, ModuleServiceProvider } from "../module/module-api.js";
import { Tokens } from "../tokens.js";
import type { NetUplinkRegistry } from "./uplink-registry.js";
import { emptyUplinkStats, type NetUplink, type RegisteredUplink, type UplinkRegistry } from "./uplink.js";

/**
 * Calls from the kernel into a driver's uplink run in the driver's fault domain: a throw from
 * ndo_open or ndo_start_xmit quarantines the driver instead of unwinding the vSwitch.
 */
function guardUplink(uplink: NetUplink, domain: ExecutionDomain): NetUplink {
  const name = `${uplink.driver} ${uplink.busAddress}`;
  const transmitActivity = `${name} transmit`;
  return {
    driver: uplink.driver,
    busAddress: uplink.busAddress,
    macAddress: uplink.macAddress,
    get mtu() {
      return uplink.mtu;
    },
    get isOpen() {
      return uplink.isOpen;
    },
    link: () => runInDomain(domain, `${name} link`, () => uplink.link()) ?? { up: false, speedMbps: 0, fullDuplex: false },
    open: () => runInDomain(domain, `${name} open`, () => uplink.open()),
    close: () => runInDomain(domain, `${name} close`, () => uplink.close()),
    // The packet path: runInDomain's semantics, written out so that a frame costs no closure or string.
    transmit: (frame) => {
      if (!domain.alive) return false;
      try {
        return uplink.transmit(frame);
      } catch (error) {
        domain.fault(error, transmitActivity);
        return false;
      }
    },
    setPromiscuous: (on) => void runInDomain(domain, `${name} set promiscuous`, () => uplink.setPromiscuous(on)),
    setMulticastList: (addresses) => void runInDomain(domain, `${name} set multicast list`, () => uplink.setMulticastList(addresses)),
    stats: () => runInDomain(domain, `${name} stats`, () => uplink.stats()) ?? emptyUplinkStats(),
  };
}

/** Tokens.NetUplinks for one module: what it registers runs in its domain and is unregistered with it. */
export function netUplinksProvider(registry: NetUplinkRegistry): ModuleServiceProvider {
  return {
    token: Tokens.NetUplinks,
    create(scope: ModuleScope): UplinkRegistry {
      const registered = new Set<RegisteredUplink>();
      scope.onRelease(() => {
        for (const uplink of registered) registry.unregister(uplink);
        registered.clear();
      });
      return {
        register(uplink) {
          const handle = registry.register(guardUplink(uplink, scope.domain));
          registered.add(handle);
          return handle;
        },
        unregister(handle) {
          if (!registered.delete(handle)) throw new Error(`${scope.name}: ${handle.name} was not registered by this module`);
          registry.unregister(handle);
        },
      };
    },
  };
}
