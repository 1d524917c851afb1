import type { PortStatsView } from "./port-statistics.js";
import type { TeamingPolicy, TeamingRole } from "./teaming-policy.js";
import type { RemoteMacEntry } from "./virtual-switch.js";
import type { PortClientType } from "./virtual-port.js";
import type { UplinkStats } from "./uplink.js";

/** Plain, JSON-serialisable views of the network configuration and state, for the console. */

export interface PortGroupView {
  name: string;
  vlanId: number;
  /** Ports connected to the group. */
  activeClients: number;
  /** The group's own failover order, when it overrides the vSwitch's. */
  teamingOverride?: TeamingPolicy;
  /** The uplink carrying the group's traffic now, if any. */
  activeUplink?: string;
}

export interface VirtualSwitchView {
  name: string;
  mtu: number;
  numPorts: number;
  usedPorts: number;
  uplinks: string[];
  teaming: TeamingPolicy;
  portGroups: PortGroupView[];
  remoteMacs: RemoteMacEntry[];
}

export interface UplinkView {
  name: string;
  driver: string;
  busAddress: string;
  mac: string;
  mtu: number;
  /** False for an uplink configured on a vSwitch whose device is not registered. */
  present: boolean;
  open: boolean;
  linkUp: boolean;
  speedMbps: number;
  fullDuplex: boolean;
  vswitch?: string;
  /** Role in the vSwitch's failover order. */
  role: TeamingRole;
  /** Port groups whose traffic it carries now. */
  carrying: string[];
  /** The driver's own counters. */
  deviceStats?: UplinkStats;
  /** The vSwitch uplink port's counters, seen from the wire. */
  portStats?: PortStatsView;
  standbyIgnored: number;
  unknownUnicast: number;
  loopDrops: number;
}

export interface PortView {
  portId: number;
  vswitch: string;
  portGroup: string;
  clientName: string;
  clientType: PortClientType | "uplink";
  mac: string;
  /** 0 untagged, 1-4094 the group's VLAN, 4095 trunk (guest tagging). */
  vlanId: number;
  activeUplink?: string;
  stats: PortStatsView;
}

export interface VmknicView {
  name: string;
  portGroup: string;
  vswitch: string;
  portId?: number;
  mac: string;
  mtu: number;
  ipAddress: string;
  netmask: string;
  gateway?: string;
  counters: Record<string, number>;
}

export interface NeighborView {
  vmknic: string;
  ipAddress: string;
  mac: string;
  ageNs: number;
}

export interface NetworkView {
  vswitches: VirtualSwitchView[];
  uplinks: UplinkView[];
  ports: PortView[];
  vmknics: VmknicView[];
  neighbors: NeighborView[];
}
