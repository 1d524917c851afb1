import { renderDhcpLeases, renderDhcpServers, renderPortTable } from "../format/network-tables.js";
import { bootHost, shutdownHost, type HostCommandOptions } from "./host.js";

/** `vmk network ports` (`vmk network vswitch ports`): every vSwitch port with its client and counters. */
export async function networkPorts(options: HostCommandOptions): Promise<void> {
  const host = await bootHost(options, false);
  try {
    const ports = host.management.ports();
    options.out(options.json ? JSON.stringify(ports, null, 2) : renderPortTable(ports));
  } finally {
    await shutdownHost(host);
  }
}

/** `vmk network dhcp` (`... dhcp leases`): the port groups' DHCP servers and their leases. */
export async function networkDhcp(options: HostCommandOptions, leasesOnly: boolean): Promise<void> {
  const host = await bootHost(options, false);
  try {
    const api = host.management;
    const servers = api.dhcpServers();
    const leases = api.dhcpLeases();
    if (options.json) options.out(JSON.stringify(leasesOnly ? leases : servers, null, 2));
    else if (servers.length === 0) options.out("No DHCP servers configured.");
    else {
      const sections = leasesOnly ? [] : ["DHCP servers\n" + renderDhcpServers(servers)];
      sections.push(leases.length > 0 ? "DHCP leases\n" + renderDhcpLeases(leases) : "No DHCP leases.");
      options.out(sections.join("\n\n"));
    }
  } finally {
    await shutdownHost(host);
  }
}
