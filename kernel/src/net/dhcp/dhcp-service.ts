import { inject, injectable } from "tsyringe";
import type { Clock } from "../../clock/clock.js";
import type { KernelLog } from "../../log/kernel-log.js";
import { KernelTokens, Tokens } from "../../tokens.js";
import type { NetworkHostIdentity, NetworkStack } from "../network-stack.js";
import { formatIpv4 } from "../packets/ipv4-address.js";
import { macHigh, macLow } from "../packets/mac-address.js";
import { vmknicMac } from "../vmknic-mac.js";
import { DhcpServer, type DhcpServerCounters } from "./dhcp-server.js";
import { validateDhcpSettings, type DhcpSettings } from "./dhcp-settings.js";
import type { LeaseView } from "./lease-table.js";

const LOG_SOURCE = "dhcp";
/** The vSwitch port table names the server's port so. */
export const DHCP_PORT_CLIENT_NAME = "dhcp";

export interface DhcpServerView {
  portGroup: string;
  vswitch: string;
  vlanId: number;
  portId?: number;
  mac: string;
  serverAddress: string;
  subnet: string;
  netmask: string;
  rangeStart: string;
  rangeEnd: string;
  router?: string;
  dnsServers: string[];
  domainName?: string;
  leaseTimeS: number;
  counters: DhcpServerCounters;
  lastMalformed?: string;
  leases: LeaseView[];
}

export interface DhcpLeaseEntry extends LeaseView {
  portGroup: string;
}

/**
 * The host's DHCP servers, at most one per port group. A server is a station on its port group's
 * vSwitch, so it serves exactly the VLAN that port group carries; names it hands out come from the
 * reservations, else from the VM whose NIC holds the client's MAC.
 */
@injectable()
export class DhcpService {
  private readonly servers = new Map<string, DhcpServer>();

  constructor(
    @inject(Tokens.Clock) private readonly clock: Clock,
    @inject(KernelTokens.KernelLog) private readonly log: KernelLog,
    @inject(KernelTokens.Network) private readonly network: NetworkStack,
    @inject(KernelTokens.HostConfig) private readonly host: NetworkHostIdentity,
  ) {}

  /** Starts a server on the settings' port group; a server already there is replaced (its leases are dropped). */
  configure(settings: DhcpSettings): DhcpServer {
    const pool = validateDhcpSettings(settings);
    const home = this.network.virtualSwitches().find((s) => s.portGroups.has(settings.portGroup));
    if (!home) throw new Error(`no port group "${settings.portGroup}"`);
    if (this.servers.has(settings.portGroup)) this.remove(settings.portGroup);
    const mac = pool.mac ?? this.freshMac(settings.portGroup);
    const server = new DhcpServer({ pool, mac, clock: this.clock, log: this.log, hostNameFor: (m) => this.vmNameOf(m) });
    server.attach(this.network.connectPort({ portGroup: settings.portGroup, clientName: DHCP_PORT_CLIENT_NAME, clientType: "dhcp", mac, client: server }));
    this.servers.set(settings.portGroup, server);
    this.log.info(
      LOG_SOURCE,
      `"${settings.portGroup}" (${home.name}): DHCP server ${formatIpv4(pool.serverAddress)} (${server.macText}) leasing ${formatIpv4(pool.rangeStart)}-${formatIpv4(pool.rangeEnd)}/${formatIpv4(pool.netmask)} for ${pool.leaseTimeS} s`,
    );
    return server;
  }

  remove(portGroup: string): void {
    const server = this.server(portGroup);
    server.virtualPort?.disconnect();
    server.detach();
    this.servers.delete(portGroup);
    this.log.info(LOG_SOURCE, `"${portGroup}": DHCP server removed`);
  }

  server(portGroup: string): DhcpServer {
    const server = this.servers.get(portGroup);
    if (!server) throw new Error(`no DHCP server on "${portGroup}"`);
    return server;
  }

  list(): DhcpServer[] {
    return [...this.servers.values()];
  }

  views(): DhcpServerView[] {
    return this.list().map((server) => {
      const pool = server.pool;
      const port = server.virtualPort;
      const vswitch = this.network.virtualSwitches().find((s) => s.portGroups.has(pool.portGroup));
      return {
        portGroup: pool.portGroup,
        vswitch: vswitch?.name ?? "",
        vlanId: vswitch?.portGroups.get(pool.portGroup)?.vlanId ?? 0,
        ...(port?.connected ? { portId: port.id } : {}),
        mac: server.macText,
        serverAddress: formatIpv4(pool.serverAddress),
        subnet: formatIpv4(pool.subnet),
        netmask: formatIpv4(pool.netmask),
        rangeStart: formatIpv4(pool.rangeStart),
        rangeEnd: formatIpv4(pool.rangeEnd),
        ...(pool.router !== undefined ? { router: formatIpv4(pool.router) } : {}),
        dnsServers: pool.dnsServers.map(formatIpv4),
        ...(pool.domainName !== undefined ? { domainName: pool.domainName } : {}),
        leaseTimeS: pool.leaseTimeS,
        counters: { ...server.counters },
        ...(server.lastMalformed !== undefined ? { lastMalformed: server.lastMalformed } : {}),
        leases: server.leaseList(),
      };
    });
  }

  /** Every server's leases and offers, by port group then address. */
  leases(portGroup?: string): DhcpLeaseEntry[] {
    const servers = portGroup === undefined ? this.list() : [this.server(portGroup)];
    return servers.flatMap((server) => server.leaseList().map((lease) => ({ portGroup: server.pool.portGroup, ...lease })));
  }

  /** "web01.ethernet0" → "web01": the VM that owns the vSwitch port with this MAC. */
  private vmNameOf(mac: string): string | undefined {
    for (const vswitch of this.network.virtualSwitches()) {
      for (const port of vswitch.connectedPorts()) {
        if (port.clientType === "vm" && port.macText === mac) return port.clientName.replace(/\.ethernet\d+$/, "");
      }
    }
    return undefined;
  }

  private freshMac(portGroup: string): Uint8Array {
    for (let salt = 0; ; salt++) {
      const mac = vmknicMac(this.host.name, `dhcp/${portGroup}`, salt);
      const taken = this.network.virtualSwitches().some((s) => s.connectedPorts().some((p) => p.macHigh === macHigh(mac, 0) && p.macLow === macLow(mac, 0)));
      if (!taken) return mac;
    }
  }
}
