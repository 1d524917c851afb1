import type { DhcpLeaseEntry, DhcpServerView, PortTableRow, VmNicView, VmView } from "@vmk/kernel";
import { formatBytes, renderTable } from "./table.js";

/** The tables `vmk network ...`, `vmk vm ...` and the inventory share, laid out as esxcli and net-stats do. */

export function renderPortTable(ports: PortTableRow[]): string {
  return renderTable(
    ["Port ID", "vSwitch", "Port Group", "Client", "Type", "MAC Address", "VLAN", "Uplink", "Tx Pkts", "Tx Bytes", "Tx Drops", "Rx Pkts", "Rx Bytes", "Rx Drops"],
    ports.map((p) => [
      String(p.portId),
      p.vswitch,
      p.portGroup || "-",
      p.clientName,
      p.clientType,
      p.mac,
      String(p.vlanId),
      p.activeUplink ?? "-",
      String(p.stats.txPackets),
      String(p.stats.txBytes),
      String(p.stats.txDrops),
      String(p.stats.rxPackets),
      String(p.stats.rxBytes),
      String(p.stats.rxDrops),
    ]),
  );
}

export function renderVmList(vms: VmView[], nics: VmNicView[]): string {
  return renderTable(
    ["Vmid", "Name", "Power", "Guest OS", "Memory", "vCPUs", "NICs", "IP Address"],
    vms.map((vm) => {
      const addresses = nics.filter((n) => n.vmId === vm.id && n.ipAddress !== undefined).map((n) => n.ipAddress!);
      return [String(vm.id), vm.name, vm.powerState, vm.guestOS, formatBytes(vm.memoryBytes), String(vm.numVcpus), String(vm.nics.length), addresses.join(",") || "-"];
    }),
  );
}

/** The vSwitch side of each virtual NIC: where it is plugged and what crossed its port. */
export function renderVmNics(nics: VmNicView[]): string {
  return renderTable(
    ["VM", "NIC", "MAC Address", "Port Group", "VLAN", "Port ID", "Connected", "IP Address", "Tx Pkts", "Tx Bytes", "Tx Drops", "Rx Pkts", "Rx Bytes", "Rx Drops"],
    nics.map((n) => [
      n.vm,
      n.nic,
      n.mac,
      n.portGroup,
      n.vlanId === undefined ? "-" : String(n.vlanId),
      n.portId === undefined ? "-" : String(n.portId),
      n.connected ? "yes" : "no",
      n.ipAddress ?? "-",
      count(n.port?.txPackets),
      count(n.port?.txBytes),
      count(n.port?.txDrops),
      count(n.port?.rxPackets),
      count(n.port?.rxBytes),
      count(n.port?.rxDrops),
    ]),
  );
}

/**
 * The device side, while the VM runs: frames through the virtual e1000 and its statistics registers
 * (good packets transmitted and received, missed packets, receive-no-buffer).
 */
export function renderVmNicDevices(nics: VmNicView[]): string {
  const running = nics.filter((n) => n.device !== undefined);
  return renderTable(
    ["VM", "NIC", "From Guest", "To Guest", "Tx Drops", "DMA Blocked", "GPTC", "GPRC", "MPC", "RNBC"],
    running.map((n) => {
      const d = n.device!;
      const register = (name: string) => count(d.counters?.registers[name]);
      return [n.vm, n.nic, String(d.framesFromGuest), String(d.framesToGuest), String(d.transmitDrops), String(d.dmaBlocked), register("GPTC"), register("GPRC"), register("MPC"), register("RNBC")];
    }),
  );
}

export function renderDhcpServers(servers: DhcpServerView[]): string {
  return renderTable(
    ["Port Group", "vSwitch", "VLAN", "Server", "MAC Address", "Range", "Netmask", "Router", "DNS", "Lease", "Leases", "Offers", "Acks", "Naks", "Malformed"],
    servers.map((s) => [
      s.portGroup,
      s.vswitch,
      String(s.vlanId),
      s.serverAddress,
      s.mac,
      `${s.rangeStart}-${s.rangeEnd}`,
      s.netmask,
      s.router ?? "-",
      s.dnsServers.join(",") || "-",
      `${s.leaseTimeS}s`,
      String(s.leases.filter((l) => l.state === "bound").length),
      String(s.counters.offers),
      String(s.counters.acks),
      String(s.counters.naks),
      String(s.counters.malformed),
    ]),
  );
}

export function renderDhcpLeases(leases: DhcpLeaseEntry[]): string {
  return renderTable(
    ["Port Group", "IP Address", "MAC Address", "Host Name", "State", "Expires In", "Client ID"],
    leases.map((l) => [l.portGroup, l.ipAddress, l.mac, l.hostName ?? "-", l.state, l.state === "bound" || l.state === "offered" ? `${l.remainingS}s` : "-", l.clientId ?? "-"]),
  );
}

function count(value: number | undefined): string {
  return value === undefined ? "-" : String(value);
}
