import type { ManagementApi } from "@vmk/kernel";
import { formatBytes, hex4, renderTable } from "./format/table.js";

/** Everything `vmk host inventory` reports, as plain data (the --json form). */
export function collectInventory(api: ManagementApi) {
  return {
    host: api.hostInfo(),
    pci: api.pciDevices(),
    modules: api.modules().map(({ dir: _dir, origin: _origin, ...rest }) => rest),
  };
}

export type Inventory = ReturnType<typeof collectInventory>;

export function renderInventory(inventory: Inventory): string {
  const { host, pci, modules } = inventory;
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
  return sections.join("\n\n");
}
