import type { ManagementApi } from "@vmk/kernel";
import { formatBytes, hex4, renderTable } from "./format/table.js";

/** Everything `vmk host inventory` reports, as plain data (the --json form). */
export function collectInventory(api: ManagementApi) {
  const network = api.network();
  return {
    host: api.hostInfo(),
    pci: api.pciDevices(),
    modules: api.modules().map(({ dir: _dir, origin: _origin, ...rest }) => rest),
    network: { vswitches: network.vswitches, uplinks: network.uplinks, vmknics: network.vmknics, ports: network.ports },
    storage: api.storage(),
  };
}

export type Inventory = ReturnType<typeof collectInventory>;

export function renderInventory(inventory: Inventory): string {
  const { host, pci, modules, network, storage } = inventory;
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
  if (network.ports.length > 0) {
    sections.push(
      "vSwitch ports\n" +
        renderTable(
          ["Port", "vSwitch", "Port Group", "Client", "Type", "MAC Address", "VLAN", "Uplink", "Rx Pkts", "Tx Pkts", "Drops"],
          network.ports.map((p) => [
            String(p.portId),
            p.vswitch,
            p.portGroup,
            p.clientName,
            p.clientType,
            p.mac,
            String(p.vlanId),
            p.activeUplink ?? "-",
            String(p.stats.rxPackets),
            String(p.stats.txPackets),
            String(p.stats.rxDrops + p.stats.txDrops),
          ]),
        ),
    );
  }
  if (network.vmknics.length > 0) {
    sections.push(
      "VMkernel NICs\n" +
        renderTable(
          ["Name", "Port Group", "IPv4 Address", "Netmask", "MAC Address", "MTU"],
          network.vmknics.map((v) => [v.name, v.portGroup, v.ipAddress, v.netmask, v.mac, String(v.mtu)]),
        ),
    );
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
