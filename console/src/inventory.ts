import type { ManagementApi } from "@vmk/kernel";
import { renderDhcpLeases, renderDhcpServers, renderPortTable, renderVmList, renderVmNicDevices, renderVmNics } from "./format/network-tables.js";
import { formatBytes, hex4, renderTable } from "./format/table.js";

/** Everything `vmk host inventory` reports, as plain data (the --json form). */
export function collectInventory(api: ManagementApi) {
  const network = api.network();
  return {
    host: api.hostInfo(),
    pci: api.pciDevices(),
    modules: api.modules().map(({ dir: _dir, origin: _origin, ...rest }) => rest),
    network: { vswitches: network.vswitches, uplinks: network.uplinks, vmknics: network.vmknics, ports: api.ports(), dhcp: api.dhcpServers() },
    storage: api.storage(),
    vms: api.vms(),
    vmNics: api.vmNics(),
  };
}

export type Inventory = ReturnType<typeof collectInventory>;

export function renderInventory(inventory: Inventory): string {
  const { host, pci, modules, network, storage, vms, vmNics } = inventory;
  const sections: string[] = [];
  sections.push(
    `Host ${host.name}: vmk ${host.release} (kernel API ${host.kernelApi}), ${formatBytes(host.memory.totalBytes)} machine memory, ${host.clock} clock, ${host.state}`,
  );
  sections.push(
    "PCI devices\n" +
      renderTable(
        ["Address", "Vendor:Dev", "SubVen:Sub", "Class", "IRQ", "Driver", "Module", "Name"],
        pci.map((d) => [
          d.address,
          `${hex4(d.vendorId)}:${hex4(d.deviceId)}`,
          `${hex4(d.subsystemVendorId)}:${hex4(d.subsystemId)}`,
          d.className,
          d.msiEnabled ? "msi" : d.interrupt ? `${d.interrupt.line}` : "-",
          d.driver ?? (d.probeFailure ? "(probe failed)" : "-"),
          d.module ?? "-",
          d.model,
        ]),
      ),
  );
  sections.push(
    "Modules\n" +
      renderTable(
        ["Name", "Version", "Kind", "State", "Devices", "Reason"],
        modules.map((m) => [m.name, m.version, m.kind ?? "-", m.state, m.devices.join(",") || "-", m.reason ?? ""]),
      ),
  );
  sections.push(
    "Physical NICs\n" +
      renderTable(
        ["Name", "PCI", "Driver", "Link", "Speed", "Duplex", "MAC Address", "MTU", "vSwitch", "Role"],
        network.uplinks.map((u) => [
          u.name,
          u.busAddress || "-",
          u.driver || "-",
          u.present ? (u.linkUp ? "Up" : "Down") : "Absent",
          u.linkUp ? `${u.speedMbps}Mbps` : "-",
          u.linkUp ? (u.fullDuplex ? "Full" : "Half") : "-",
          u.mac || "-",
          String(u.mtu),
          u.vswitch ?? "-",
          u.role,
        ]),
      ),
  );
  sections.push(
    "Virtual switches\n" +
      renderTable(
        ["Switch", "Port Group", "VLAN", "Clients", "Active Uplink", "Uplinks"],
        network.vswitches.flatMap((s) =>
          s.portGroups.map((g) => [s.name, g.name, String(g.vlanId), String(g.activeClients), g.activeUplink ?? "-", s.uplinks.join(",") || "-"]),
        ),
      ),
  );
  if (network.ports.length > 0) sections.push("vSwitch ports\n" + renderPortTable(network.ports));
  if (network.vmknics.length > 0) {
    sections.push(
      "VMkernel NICs\n" +
        renderTable(
          ["Name", "Port Group", "IPv4 Address", "Netmask", "MAC Address", "MTU"],
          network.vmknics.map((v) => [v.name, v.portGroup, v.ipAddress, v.netmask, v.mac, String(v.mtu)]),
        ),
    );
  }
  if (network.dhcp.length > 0) {
    sections.push("DHCP servers\n" + renderDhcpServers(network.dhcp));
    const leases = network.dhcp.flatMap((server) => server.leases.map((lease) => ({ portGroup: server.portGroup, ...lease })));
    if (leases.length > 0) sections.push("DHCP leases\n" + renderDhcpLeases(leases));
  }
  if (vms.length > 0) {
    sections.push("Virtual machines\n" + renderVmList(vms, vmNics));
    if (vmNics.length > 0) sections.push("VM NICs\n" + renderVmNics(vmNics));
    if (vmNics.some((n) => n.device !== undefined)) sections.push("VM NIC devices\n" + renderVmNicDevices(vmNics));
  }
  if (storage.adapters.length > 0) {
    sections.push(
      "Storage adapters\n" +
        renderTable(
          ["Name", "Driver", "PCI", "State", "Paths", "Model"],
          storage.adapters.map((a) => [a.name, a.driver, a.busAddress, a.state, String(a.paths), a.model]),
        ),
    );
    sections.push(
      "Storage devices\n" +
        renderTable(
          ["Device", "Vendor", "Model", "Size", "Policy", "Status"],
          storage.devices.map((d) => [d.name, d.vendor, d.model, formatBytes(d.sizeBytes), d.policy.name, d.status]),
        ),
    );
    sections.push(
      "Storage paths\n" +
        renderTable(
          ["Runtime Name", "Device", "State", "Preferred", "Working"],
          storage.paths.map((p) => [p.runtimeName, p.device, p.state, p.preferred ? "yes" : "", p.working ? "yes" : ""]),
        ),
    );
  }
  return sections.join("\n\n");
}
