import { inject, injectable } from "tsyringe";
import type { Clock } from "../clock/clock.js";
import type { KernelLog } from "../log/kernel-log.js";
import { KernelTokens, Tokens } from "../tokens.js";
import type { NetworkView, NeighborView, PortView, UplinkView, VirtualSwitchView, VmknicView } from "./network-views.js";
import { formatIpv4 } from "./packets/ipv4-address.js";
import { formatMac, macHigh, macLow } from "./packets/mac-address.js";
import type { PortGroup } from "./port-group.js";
import { copyTeamingPolicy, teamingRole, type TeamingPolicy } from "./teaming-policy.js";
import type { UplinkHandle } from "./uplink-handle.js";
import { NetUplinkRegistry, type UplinkRegistryListener } from "./uplink-registry.js";
import type { PortClient, PortClientType, VirtualPort } from "./virtual-port.js";
import { VirtualSwitch } from "./virtual-switch.js";
import { VmkernelNic, type VmknicAddressing } from "./vmkernel-nic.js";
import { vmknicMac } from "./vmknic-mac.js";

const LOG_SOURCE = "net";

/** The part of the host configuration the network needs: its name seeds the vmknic MACs. */
export interface NetworkHostIdentity {
  readonly name: string;
}

export interface VirtualSwitchSpec {
  /** Defaults to the first free vSwitchN. */
  name?: string;
  mtu?: number;
  numPorts?: number;
}

export interface PortConnectSpec {
  portGroup: string;
  /** Shown in the port table ("web01.eth0"). */
  clientName: string;
  mac: Uint8Array;
  client: PortClient;
  clientType?: PortClientType;
}

export interface VmknicSpec extends VmknicAddressing {
  portGroup: string;
  /** Defaults to a MAC derived from the host and interface names. */
  mac?: Uint8Array;
  mtu?: number;
}

export interface DefaultNetworkSpec {
  /** Uplink of vSwitch0 (default vmnic0; it may register later). */
  uplink?: string;
  /** Addressing for vmk0 on "Management Network"; without it no vmknic is made. */
  management?: VmknicAddressing;
}

/**
 * The vmkernel's networking: standard vSwitches with port groups and uplinks, virtual ports for VMs
 * and vmkernel NICs, and the registry where drivers turn their net devices into vmnics.
 */
@injectable()
export class NetworkStack implements UplinkRegistryListener {
  readonly uplinks: NetUplinkRegistry;
  private readonly switches = new Map<string, VirtualSwitch>();
  private readonly vmknics = new Map<string, VmkernelNic>();
  private nextSwitchIndex = 0;

  constructor(
    @inject(Tokens.Clock) private readonly clock: Clock,
    @inject(KernelTokens.KernelLog) private readonly log: KernelLog,
    @inject(KernelTokens.HostConfig) private readonly host: NetworkHostIdentity,
  ) {
    this.uplinks = new NetUplinkRegistry(clock, log);
    this.uplinks.setListener(this);
  }

  // ---- vSwitches, port groups, uplinks ----

  addVirtualSwitch(spec: VirtualSwitchSpec = {}): VirtualSwitch {
    const name = spec.name ?? firstFree("vSwitch", (n) => this.switches.has(n));
    if (this.switches.has(name)) throw new Error(`vSwitch ${name} already exists`);
    const vswitch = new VirtualSwitch({ name, index: this.nextSwitchIndex++, ...(spec.mtu !== undefined ? { mtu: spec.mtu } : {}), ...(spec.numPorts !== undefined ? { numPorts: spec.numPorts } : {}) }, this.clock, this.log);
    this.switches.set(name, vswitch);
    this.log.info(LOG_SOURCE, `${name} created (MTU ${vswitch.mtu}, ${vswitch.numPorts} ports)`);
    return vswitch;
  }

  removeVirtualSwitch(name: string): void {
    const vswitch = this.virtualSwitch(name);
    const ports = vswitch.connectedPorts();
    if (ports.length > 0) throw new Error(`${name} has connected ports: ${ports.map((p) => p.clientName).join(", ")}`);
    for (const uplink of [...vswitch.uplinks]) vswitch.removeUplink(uplink.name);
    this.switches.delete(name);
    this.log.info(LOG_SOURCE, `${name} removed`);
  }

  virtualSwitch(name: string): VirtualSwitch {
    const vswitch = this.switches.get(name);
    if (!vswitch) throw new Error(`no vSwitch ${name}`);
    return vswitch;
  }

  virtualSwitches(): VirtualSwitch[] {
    return [...this.switches.values()];
  }

  /** Port group names are unique on the host: VMs and vmknics name their network by it. */
  addPortGroup(vswitchName: string, name: string, vlanId = 0): PortGroup {
    if (this.findPortGroup(name)) throw new Error(`port group "${name}" already exists`);
    return this.virtualSwitch(vswitchName).addPortGroup(name, vlanId);
  }

  removePortGroup(name: string): void {
    this.portGroupHome(name).vswitch.removePortGroup(name);
  }

  setPortGroupVlan(name: string, vlanId: number): void {
    this.portGroupHome(name).vswitch.setPortGroupVlan(name, vlanId);
  }

  addUplink(vswitchName: string, vmnic: string): void {
    const vswitch = this.virtualSwitch(vswitchName);
    const owner = this.switchWithUplink(vmnic);
    if (owner) throw new Error(`${vmnic} is already an uplink of ${owner.name}`);
    vswitch.addUplink(vmnic, this.uplinks.get(vmnic));
  }

  removeUplink(vswitchName: string, vmnic: string): void {
    this.virtualSwitch(vswitchName).removeUplink(vmnic);
  }

  /** Fields left out keep their current value. */
  setTeaming(vswitchName: string, policy: Partial<TeamingPolicy>): void {
    const vswitch = this.virtualSwitch(vswitchName);
    vswitch.setTeaming({ ...vswitch.teaming, ...policy });
  }

  /** Gives a port group its own failover order; undefined returns it to the vSwitch's. */
  setPortGroupTeaming(name: string, policy: Partial<TeamingPolicy> | undefined): void {
    const { vswitch, group } = this.portGroupHome(name);
    vswitch.setPortGroupTeaming(name, policy === undefined ? undefined : { ...(group.teamingOverride ?? vswitch.teaming), ...policy });
  }

  // ---- ports and vmknics ----

  connectPort(spec: PortConnectSpec): VirtualPort {
    return this.portGroupHome(spec.portGroup).vswitch.connectPort(spec.portGroup, spec.clientName, spec.clientType ?? "vm", spec.mac, spec.client);
  }

  addVmknic(spec: VmknicSpec): VmkernelNic {
    const { vswitch } = this.portGroupHome(spec.portGroup);
    const name = firstFree("vmk", (n) => this.vmknics.has(n));
    const mac = spec.mac ?? this.freshVmknicMac(name);
    const nic = new VmkernelNic(name, spec.portGroup, mac, spec, spec.mtu ?? vswitch.mtu, this.clock, this.log);
    nic.attach(vswitch.connectPort(spec.portGroup, name, "vmknic", mac, nic));
    this.vmknics.set(name, nic);
    this.log.info(LOG_SOURCE, `${name}: ${nic.ipAddress}/${nic.netmask} on "${spec.portGroup}" (${vswitch.name}), MAC ${nic.macText}`);
    return nic;
  }

  removeVmknic(name: string): void {
    const nic = this.vmknic(name);
    nic.virtualPort?.disconnect();
    nic.detach();
    this.vmknics.delete(name);
    this.log.info(LOG_SOURCE, `${name} removed`);
  }

  vmknic(name: string): VmkernelNic {
    const nic = this.vmknics.get(name);
    if (!nic) throw new Error(`no vmknic ${name}`);
    return nic;
  }

  /** ESX's installed layout: vSwitch0 with "VM Network" and "Management Network" (and vmk0). */
  configureDefaults(spec: DefaultNetworkSpec = {}): VirtualSwitch {
    const vswitch = this.addVirtualSwitch({ name: "vSwitch0" });
    this.addUplink(vswitch.name, spec.uplink ?? "vmnic0");
    this.addPortGroup(vswitch.name, "VM Network");
    this.addPortGroup(vswitch.name, "Management Network");
    if (spec.management) this.addVmknic({ portGroup: "Management Network", ...spec.management });
    return vswitch;
  }

  // ---- the uplink registry's notifications ----

  uplinkRegistered(handle: UplinkHandle): void {
    const vswitch = this.switchWithUplink(handle.name);
    if (vswitch) vswitch.claim(vswitch.uplinkNamed(handle.name), handle);
  }

  uplinkUnregistered(handle: UplinkHandle): void {
    const vswitch = this.switchWithUplink(handle.name);
    if (vswitch) vswitch.release(vswitch.uplinkNamed(handle.name), false);
  }

  uplinkLinkChanged(handle: UplinkHandle): void {
    this.switchWithUplink(handle.name)?.refreshTeams(`${handle.name} link ${handle.link.up ? "up" : "down"}`);
  }

  // ---- management views ----

  listVirtualSwitches(): VirtualSwitchView[] {
    return this.virtualSwitches().map((vswitch) => ({
      name: vswitch.name,
      mtu: vswitch.mtu,
      numPorts: vswitch.numPorts,
      usedPorts: vswitch.usedPorts,
      uplinks: vswitch.uplinks.map((u) => u.name),
      teaming: vswitch.teaming,
      portGroups: [...vswitch.portGroups.values()].map((group) => ({
        name: group.name,
        vlanId: group.vlanId,
        activeClients: vswitch.connectedPorts().filter((p) => p.portGroup === group).length,
        ...(group.teamingOverride ? { teamingOverride: copyTeamingPolicy(group.teamingOverride) } : {}),
        ...(group.activeUplink ? { activeUplink: group.activeUplink.name } : {}),
      })),
      remoteMacs: vswitch.remoteMacTable(),
    }));
  }

  /** Every registered uplink, plus uplinks configured on a vSwitch whose device is absent. */
  listUplinks(): UplinkView[] {
    const views: UplinkView[] = [];
    const seen = new Set<string>();
    for (const handle of this.uplinks.list()) {
      seen.add(handle.name);
      views.push(this.uplinkView(handle.name, handle));
    }
    for (const vswitch of this.switches.values()) for (const uplink of vswitch.uplinks) if (!seen.has(uplink.name)) views.push(this.uplinkView(uplink.name, undefined));
    return views.sort((a, b) => vmnicOrder(a.name) - vmnicOrder(b.name));
  }

  /** The port table of every vSwitch: uplink ports first, then client ports, by port ID. */
  listPorts(): PortView[] {
    const views: PortView[] = [];
    for (const vswitch of this.switches.values()) {
      for (const uplink of vswitch.uplinks) {
        const device = uplink.handle?.uplink;
        views.push({
          portId: vswitch.portId(uplink.slot),
          vswitch: vswitch.name,
          portGroup: "",
          clientName: uplink.name,
          clientType: "uplink",
          mac: device ? formatMac(device.macAddress) : "00:00:00:00:00:00",
          vlanId: 0,
          stats: uplink.stats.snapshot(),
        });
      }
      for (const port of vswitch.connectedPorts()) {
        views.push({
          portId: port.id,
          vswitch: vswitch.name,
          portGroup: port.portGroup.name,
          clientName: port.clientName,
          clientType: port.clientType,
          mac: port.macText,
          vlanId: port.portGroup.vlanId,
          ...(port.portGroup.activeUplink ? { activeUplink: port.portGroup.activeUplink.name } : {}),
          stats: port.stats.snapshot(),
        });
      }
    }
    return views.sort((a, b) => a.portId - b.portId);
  }

  listVmknics(): VmknicView[] {
    return [...this.vmknics.values()].map((nic) => ({
      name: nic.name,
      portGroup: nic.portGroup,
      vswitch: this.portGroupHome(nic.portGroup).vswitch.name,
      ...(nic.virtualPort ? { portId: nic.virtualPort.id } : {}),
      mac: nic.macText,
      mtu: nic.mtu,
      ipAddress: nic.ipAddress,
      netmask: nic.netmask,
      ...(nic.gateway !== undefined ? { gateway: nic.gateway } : {}),
      counters: { ...nic.counters },
    }));
  }

  /** The ARP caches of every vmknic (esxcli network ip neighbor list). */
  listNeighbors(): NeighborView[] {
    const now = this.clock.now();
    return [...this.vmknics.values()].flatMap((nic) => nic.arpCache.list().map((entry) => ({ vmknic: nic.name, ipAddress: formatIpv4(entry.ip), mac: formatMac(entry.mac), ageNs: now - entry.updatedAt })));
  }

  describe(): NetworkView {
    return { vswitches: this.listVirtualSwitches(), uplinks: this.listUplinks(), ports: this.listPorts(), vmknics: this.listVmknics(), neighbors: this.listNeighbors() };
  }

  // ---- helpers ----

  private uplinkView(name: string, handle: UplinkHandle | undefined): UplinkView {
    const vswitch = this.switchWithUplink(name);
    const onSwitch = vswitch?.uplinkNamed(name);
    const device = handle?.uplink;
    const link = handle?.link;
    return {
      name,
      driver: device?.driver ?? "",
      busAddress: device?.busAddress ?? "",
      mac: device ? formatMac(device.macAddress) : "00:00:00:00:00:00",
      mtu: device?.mtu ?? 0,
      present: handle !== undefined,
      open: device?.isOpen ?? false,
      linkUp: link?.up ?? false,
      speedMbps: link?.speedMbps ?? 0,
      fullDuplex: link?.fullDuplex ?? false,
      ...(vswitch ? { vswitch: vswitch.name } : {}),
      role: vswitch ? teamingRole(vswitch.teaming, name) : "unused",
      carrying: vswitch ? [...vswitch.portGroups.values()].filter((g) => g.activeUplink === onSwitch).map((g) => g.name) : [],
      ...(device ? { deviceStats: device.stats() } : {}),
      ...(onSwitch ? { portStats: onSwitch.stats.snapshot() } : {}),
      standbyIgnored: onSwitch?.standbyIgnored ?? 0,
      unknownUnicast: onSwitch?.unknownUnicast ?? 0,
      loopDrops: onSwitch?.loopDrops ?? 0,
    };
  }

  private findPortGroup(name: string): { vswitch: VirtualSwitch; group: PortGroup } | undefined {
    for (const vswitch of this.switches.values()) {
      const group = vswitch.portGroups.get(name);
      if (group) return { vswitch, group };
    }
    return undefined;
  }

  private portGroupHome(name: string): { vswitch: VirtualSwitch; group: PortGroup } {
    const found = this.findPortGroup(name);
    if (!found) throw new Error(`no port group "${name}"`);
    return found;
  }

  private switchWithUplink(vmnic: string): VirtualSwitch | undefined {
    for (const vswitch of this.switches.values()) if (vswitch.hasUplink(vmnic)) return vswitch;
    return undefined;
  }

  private freshVmknicMac(name: string): Uint8Array {
    for (let salt = 0; ; salt++) {
      const mac = vmknicMac(this.host.name, name, salt);
      const taken = this.virtualSwitches().some((s) => s.connectedPorts().some((p) => p.macHigh === macHigh(mac, 0) && p.macLow === macLow(mac, 0)));
      if (!taken) return mac;
    }
  }
}

function firstFree(prefix: string, taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) if (!taken(`${prefix}${i}`)) return `${prefix}${i}`;
}

function vmnicOrder(name: string): number {
  const n = Number(name.replace(/^\D+/, ""));
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}
